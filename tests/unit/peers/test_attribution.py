"""The attribution and ground-truth logic of the real-peer cases, without root or sockets."""

from harness.peers.attribution import (
    AckSample,
    CapturedAck,
    Completeness,
    advancing,
    attribute,
    first_writable,
    retransmissions,
)

ACKS = [CapturedAck(10.000, 1449, 64000, 0), CapturedAck(10.001, 2897, 64000, 1),
        CapturedAck(10.002, 2897, 65000, 2), CapturedAck(10.003, 4345, 64000, 3)]
SAMPLES = [AckSample(1449, 30000, 42000, False), AckSample(2897, 28000, 42000, True),
           AckSample(2897, 28000, 42000, True), AckSample(4345, 26000, 42000, True)]


def test_the_waking_ack_is_the_first_capture_of_the_confirmed_cumulative_ack():
    a = attribute(ACKS, 2897, wake_t=10.0015, samples=SAMPLES)
    assert a.ok and a.waking_ack == 2897 and a.captured.index == 1
    assert a.held_after is True and a.held_before is False


def test_rule_already_true_after_the_previous_ack_is_a_problem():
    samples = [AckSample(1449, 20000, 42000, True), *SAMPLES[1:]]
    a = attribute(ACKS, 2897, wake_t=10.002, samples=samples)
    assert not a.ok and a.held_before is True
    assert "already held after ACK 1449" in a.problems[0]


def test_rule_false_after_the_waking_ack_is_a_problem():
    a = attribute(ACKS, 1449, wake_t=10.002, samples=SAMPLES)
    assert not a.ok and a.held_after is False


def test_an_ack_the_capture_never_saw_cannot_be_attributed():
    a = attribute(ACKS, 9999, wake_t=10.01)
    assert not a.ok and a.captured is None and "no captured ACK" in a.problems[0]


def test_an_ack_captured_after_the_wake_cannot_have_caused_it():
    a = attribute(ACKS, 4345, wake_t=9.990, window=0.004)
    assert not a.ok and a.waking_ack is None and "captured before the wake" in a.problems[0]


def test_the_accounting_read_late_after_the_wake_names_the_ack_before_the_wake():
    """The witness thread can be preempted between epoll_wait returning (10.0000) and its
    accounting read (10.0035): the ACKs that read holds beyond the one before the wake came
    in between.  They are listed, never named, and the attribution is not exact.  An ACK
    captured after the read still cannot be the one it reports."""
    a = attribute(ACKS, 4345, wake_t=10.000, window=0.004, read_t=10.0035)
    assert a.ok and a.waking_ack == 1449 and a.read_includes == (2897, 4345) and not a.exact
    assert not attribute(ACKS, 4345, wake_t=10.000, window=0.004, read_t=10.0025).ok


def test_an_ack_after_the_wake_is_never_named_even_if_the_read_holds_it():
    """The issue's counter-example: the waking ACK arrives at 9.990, the wake is at 10.001,
    the witness thread is preempted, ACK 2449 arrives at 10.006 and the accounting is read
    at 10.010.  Named exact before: 2449, an ACK that cannot have caused the wakeup."""
    acks = [CapturedAck(9.990, 1001, 64000, 0), CapturedAck(10.006, 2449, 64000, 1)]
    a = attribute(acks, 2449, wake_t=10.001, window=0.005, read_t=10.010)
    assert a.waking_ack == 1001 and a.read_includes == (2449,)
    assert not a.exact and not (a.exact and a.waking_ack == 2449)


def test_the_clock_slack_is_a_microsecond_not_a_millisecond():
    acks = [CapturedAck(9.990, 1001, 64000, 0), CapturedAck(10.0012, 2449, 64000, 1)]
    assert attribute(acks, 2449, wake_t=10.001, read_t=10.002).waking_ack == 1001
    assert attribute(acks, 2449, wake_t=10.0011995, read_t=10.002).waking_ack == 2449


def test_a_read_at_the_wake_that_holds_a_later_ack_is_a_problem():
    acks = [CapturedAck(9.990, 1001, 64000, 0), CapturedAck(10.006, 2449, 64000, 1)]
    a = attribute(acks, 2449, wake_t=10.001)
    assert not a.ok and "captured after it" in a.problems[0]


def test_the_window_tied_to_the_delay_names_the_other_candidates():
    burst = attribute(ACKS, 4345, wake_t=10.004, window=0.004)
    assert burst.ok and burst.candidates == (1449, 2897, 4345) and not burst.exact
    alone = attribute(ACKS, 4345, wake_t=10.010, window=0.004)
    assert alone.ok and alone.candidates == (4345,) and alone.exact


def test_a_slow_harness_is_not_a_kernel_failure():
    late = attribute(ACKS, 2897, wake_t=10.500, window=0.004)
    assert late.ok and late.exact and late.candidates == (2897,)


def test_without_samples_the_rule_is_not_judged():
    a = attribute(ACKS, 2897, wake_t=10.002)
    assert a.ok and a.held_after is None and a.held_before is None
    assert not a.exact  # no samples, no window: the read may trail the wake


def test_advancing_drops_window_updates_and_duplicates():
    assert [a.index for a in advancing(ACKS)] == [0, 1, 3]


def test_first_writable_sample():
    assert first_writable(SAMPLES).ack == 2897
    assert first_writable(SAMPLES[:1]) is None


def test_completeness_shortfall_is_ground_truth_incomplete():
    assert Completeness(10, 9, 10, 9).ok
    short = Completeness(9, 9, 10, 9)
    assert not short.ok and short.message.startswith("ground truth incomplete")
    assert "captured 9 of the 10 segments the sender sent" in short.message
    extra = Completeness(10, 11, 10, 9)
    assert not extra.ok and extra.message.startswith("capture disagrees")


def test_retransmissions_are_resent_sequence_ranges():
    assert retransmissions([(1, 1448), (1449, 1448), (2897, 1448)]) == []
    assert retransmissions([(1, 1448), (1449, 1448), (1449, 1448)]) == [(1449, 1448)]
    assert retransmissions([(1, 0), (1, 1448)]) == []  # pure ACKs and window probes carry nothing
