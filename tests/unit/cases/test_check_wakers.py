"""A witnessed write-space call that woke a sleeper must have held the rule (no root)."""

from harness.cases.inside_ack import InsideAck
from harness.model.transient import Call
from harness.record.timeline import Timeline


def inside_with(calls, witness=object()):
    ins = object.__new__(InsideAck)
    ins.timeline, ins.witness, ins.calls = Timeline("t"), witness, calls
    return ins


def call(queued: int, woke: bool, sndbuf: int = 30000) -> Call:
    return Call(t=0.0, wmem_queued=queued, sndbuf=sndbuf, notsent=0, notsent_lowat=0, nospace=True,
                site="after the ACK's push (tcp_data_snd_check)", woke=woke)


def test_an_early_wakeup_is_a_divergence():
    # sndbuf 30000: queued 20000 leaves free 10000 >= 10000 (holds), 20800 leaves 9200 < 10400
    ins = inside_with([(5001, call(20800, woke=True))])
    ins.check_wakers(5001)
    bad = ins.timeline.first_divergence()
    assert bad is not None and bad.what == "a witnessed write-space call that woke a sleeper held the rule"


def test_a_wakeup_that_held_and_a_call_that_woke_nobody_pass():
    ins = inside_with([(5001, call(20000, woke=True)), (5001, call(20800, woke=False)),
                       (4001, call(25000, woke=True))])
    ins.check_wakers(5001)
    assert ins.timeline.first_divergence() is None and len(ins.timeline.checks) == 1


def test_without_a_witness_nothing_is_checked():
    ins = inside_with([(5001, call(20800, woke=True))], witness=None)
    ins.check_wakers(5001)
    assert ins.timeline.checks == []
