"""Write-space tests inside one ACK: witnessed calls replayed, the bound without a witness,
and a writer woken at an arbitrary ACK judged wrong on every kernel."""

import pytest

from harness.model import masks as M
from harness.model.rules import EpollModel, KernelRules
from harness.model.transient import AckBound, Call
from tests.unit.made_up import SNDBUF, Acct

HEAD = 1280
KERNELS = ["5.4.0", "5.10.0", "5.10.262", "6.1.192", "6.18.44"]


def call(queued, site="transmit inside the ACK", nospace=True):
    return Call(0.0, queued, SNDBUF, 0, 0, nospace, site)


def blocked(release="6.1.192"):
    m = EpollModel(KernelRules.for_release(release), edge=True, events=M.OUT)
    m.ctl(Acct(0))
    m.wait(Acct(0))
    m.sent("blocked", Acct(44000))
    return m


def test_witnessed_transient_wakes_the_item_but_its_repoll_finds_nothing():
    m = blocked()
    after = Acct(28840)  # free 13160 < 14420 after the ACK: not writable
    assert m.acked(after, freed=True, calls=[call(27560), call(28840, "after the ACK's push")])
    assert m.ack_outcome.required and m.ack_outcome.call.wmem_queued == 27560
    assert not m.nospace and m.ready
    assert m.wait(after).mask == 0          # re-poll finds no EPOLLOUT
    assert m.nospace                        # and tcp_poll() set SOCK_NOSPACE again


def test_witnessed_calls_that_all_fail_wake_nobody():
    m = blocked()
    assert not m.acked(Acct(30000), freed=True, calls=[call(29500), call(30000)])
    assert not m.ack_outcome.allowed and m.nospace


def test_kernels_without_the_per_skb_check_ignore_the_calls_inside_the_ack():
    m = blocked("5.10.0")
    assert not m.acked(Acct(28840), freed=True, calls=[call(27560)])
    assert not m.ack_outcome.undecided and m.ack_outcome.required is False


def test_bound_allows_a_transient_only_where_the_rule_can_hold():
    inside = AckBound(28840, SNDBUF, 0, 0, skbs_sent=3, head_truesize=HEAD)
    assert inside.lowest_queued == 28840 - 2 * HEAD and inside.may_hold()
    assert not AckBound(28840, SNDBUF, 0, 0, skbs_sent=1, head_truesize=HEAD).may_hold()
    assert not AckBound(33000, SNDBUF, 0, 0, skbs_sent=3, head_truesize=HEAD).may_hold()
    m = blocked()
    assert not m.acked(Acct(28840), freed=True, bound=inside)
    assert m.ack_outcome.allowed and m.ack_outcome.verdict == "bounded, no kernel witness"
    assert m.ack_outcome.undecided and not m.ack_outcome.required  # allowed, not required
    m.transient_observed(True)
    assert not m.nospace


def test_bound_never_hides_a_required_wakeup():
    m = blocked()
    assert m.acked(Acct(27000), freed=True, bound=AckBound(27000, SNDBUF, 0, 0, 3, HEAD))
    assert m.ack_outcome.required and not m.ack_outcome.undecided


# One blocking write's ACKs: (accounting after the ACK, skbs sent inside it, calls a witness saw).
SERIES = [
    (Acct(40000), 1, [call(40000)]),
    (Acct(36000), 2, [call(35000), call(36000)]),
    (Acct(28840), 3, [call(27560), call(28840)]),
    (Acct(27000), 2, [call(26000), call(27000)]),
]


def judge(release: str, witness: bool, wake_at: set[int]) -> list[int]:
    """The ACKs at which a writer waking exactly at ``wake_at`` contradicts the model."""
    m = blocked(release)
    bad = []
    for i, (acct, skbs, calls) in enumerate(SERIES):
        if witness:
            m.acked(acct, freed=True, calls=calls)
        else:
            m.acked(acct, freed=True, bound=AckBound(acct.wmem_queued, SNDBUF, 0, 0, skbs, HEAD))
        woke = i in wake_at
        if not m.ack_outcome.undecided and m.ack_outcome.required != woke:
            bad.append(i)
        m.transient_observed(woke)
        if woke:
            m.sent("blocked", Acct(44000))  # the writer fills the buffer and sleeps again
    return bad


@pytest.mark.parametrize("witness", [True, False], ids=["witness", "bounded"])
@pytest.mark.parametrize("release", KERNELS)
def test_a_writer_woken_at_an_arbitrary_ack_fails_on_every_kernel(release, witness):
    assert 0 in judge(release, witness, {0, 3}), "a wakeup at an ACK after which nothing can hold"
    assert 1 in judge(release, witness, {1, 3}), "a wakeup at an ACK whose tests all fail"
    assert judge(release, witness, {0, 1, 2, 3}) == [0, 1] + ([] if KernelRules.for_release(release)
                                                             .check_space_per_skb else [2])
    # A writer never woken fails too: at the witnessed call that held, or at the last ACK.
    assert judge(release, witness, set())


@pytest.mark.parametrize("release, transient", [("5.10.0", False), ("5.10.262", True), ("6.18.44", True)])
def test_the_transient_is_accepted_only_where_the_kernel_has_the_per_skb_check(release, transient):
    assert (judge(release, True, {2, 3}) == []) is transient
    assert (judge(release, False, {2, 3}) == []) is transient
    # With a witness the transient is required: a writer that slept through the call fails.
    assert (2 in judge(release, True, {3})) is transient
    assert judge(release, False, {3}) == []


def test_the_skbs_left_in_the_queue_cap_the_splits():
    # 30 segments sent, but 31664 queued for 28000 bytes of payload leaves room for 5 skbs at most.
    b = AckBound(31664, SNDBUF, 0, 0, skbs_sent=30, head_truesize=833, outq=28000)
    assert b.splits == 4 and b.lowest_queued == 31664 - 4 * 833 and not b.may_hold()
    assert AckBound(31664, SNDBUF, 0, 0, skbs_sent=30, head_truesize=833).may_hold()


def test_a_woken_writer_goes_on_while_sk_stream_memory_free():
    m = blocked()
    assert m.writer_continues(Acct(28840))              # not writable by the rule, but queued < sndbuf
    assert not m.writer_continues(Acct(42000))
    assert not m.writer_continues(Acct(1000, notsent=900, notsent_lowat=800))


def test_the_pinned_layout_has_no_split_so_no_transient():
    """gso_max_segs 1: one MSS per skb, tso_fragment() never splits, no head comes back
    between the tests of one ACK.  The bound used to allow a transient once two segments
    went out, whatever the layout."""
    pinned = AckBound(28840, SNDBUF, 0, 0, skbs_sent=3, head_truesize=HEAD, gso_max_segs=1)
    assert pinned.splits == 0 and not pinned.may_hold()
    m = blocked()
    assert not m.acked(Acct(28840), freed=True, bound=pinned)
    assert not m.ack_outcome.allowed and not m.ack_outcome.undecided
    assert AckBound(28840, SNDBUF, 0, 0, skbs_sent=3, head_truesize=HEAD, gso_max_segs=65535).may_hold()


def test_inside_the_bound_nothing_is_required():
    """Where no witness decides, a wakeup inside the bound is allowed, not required: the
    outcome says undecided instead of echoing what the sleeper did."""
    m = blocked()
    m.acked(Acct(28840), freed=True, bound=AckBound(28840, SNDBUF, 0, 0, 3, HEAD))
    o = m.ack_outcome
    assert o.undecided and o.allowed and not o.required
    assert not hasattr(o, "expect")
