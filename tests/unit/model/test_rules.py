"""The rule engine on its own: no root, no sockets, accounting made up in the test."""

import pytest

from harness.model import masks as M
from harness.model.rules import CHANGES, EpollModel, KernelRules, parse_release, threshold, writeable
from tests.unit.made_up import Acct as MadeUp

NEW = KernelRules.for_release("6.12.0-test")
OLD = KernelRules.for_release("5.4.0-test")


def Acct(**fields) -> MadeUp:
    """No TCP_NOTSENT_LOWAT unless a test sets one."""
    return MadeUp(**{"notsent_lowat": 0xFFFFFFFF, **fields})


FULL = Acct(wmem_queued=44000)
HALF_FREE = Acct(wmem_queued=28000)    # free 14000 == 28000/2: writable
JUST_SHORT = Acct(wmem_queued=28002)   # free 13998 < 14001: not yet


@pytest.mark.parametrize("acct, expected", [
    pytest.param(Acct(), True, id="empty"),
    pytest.param(FULL, False, id="over-sndbuf"),
    pytest.param(HALF_FREE, True, id="free-equals-half-queued"),
    pytest.param(JUST_SHORT, False, id="free-just-below-half"),
    pytest.param(Acct(wmem_queued=1000, notsent=600, notsent_lowat=1000), False, id="lowat-half-rule"),
    pytest.param(Acct(wmem_queued=1000, notsent=400, notsent_lowat=1000), True, id="lowat-under-half"),
])
def test_writeable(acct, expected):
    assert writeable(acct, wake=True) is expected


def test_lowat_without_half_rule_for_poll_before_5_10():
    acct = Acct(wmem_queued=1000, notsent=600, notsent_lowat=1000)
    assert writeable(acct, wake=False)
    assert not writeable(acct, wake=True)


def test_threshold_is_half_of_queued():
    assert threshold(Acct(wmem_queued=28001)) == 14000


def test_release_parsing_and_rule_variants():
    assert parse_release("6.18.44-fc-v769") == (6, 18, 44)
    assert parse_release("5.10.0-33-cloud-amd64") == (5, 10, 0)
    assert NEW.poll_notsent_half and not NEW.queue_shrunk_required
    assert OLD.queue_shrunk_required and not OLD.poll_notsent_half
    assert {c["title"] for c in NEW.changes()} == {c.title for c in CHANGES}
    with pytest.raises(ValueError):
        parse_release("unknown")


def et_model(events=M.IN | M.OUT):
    m = EpollModel(NEW, edge=True, events=events)
    m.ctl(Acct())
    return m


def test_add_on_writable_socket_reports_out_once_in_et():
    m = et_model()
    assert m.wait(Acct()).mask == M.OUT
    assert m.wait(Acct()).mask == 0


def test_level_triggered_keeps_reporting():
    m = EpollModel(NEW, edge=False)
    m.ctl(Acct())
    assert [m.wait(Acct()).mask for _ in range(3)] == [M.OUT] * 3


def test_eagain_then_acks_wakes_once_at_first_writable_ack():
    m = et_model()
    m.wait(Acct())
    m.sent("eagain", FULL)
    woke = [m.acked(a, freed=True) for a in (FULL, JUST_SHORT, HALF_FREE, Acct(wmem_queued=1000))]
    assert woke == [False, False, True, False]
    assert m.wait(HALF_FREE).mask == M.OUT
    assert m.wait(HALF_FREE).mask == 0


def test_no_arming_no_wakeup():
    """Full by accounting, but no EAGAIN and nobody polled: ACKs wake nothing."""
    m = et_model()
    m.wait(Acct())
    for a in (FULL, HALF_FREE, Acct()):
        assert not m.acked(a, freed=True)
        assert m.wait(a).mask == 0


def test_ctl_mod_on_unwritable_socket_arms():
    m = et_model()
    m.wait(Acct())
    m.ctl(FULL)
    assert m.nospace
    assert m.acked(HALF_FREE, freed=True)


def test_queue_shrunk_needed_before_5_10():
    m = EpollModel(OLD, edge=True)
    m.ctl(Acct())
    m.sent("eagain", FULL)
    assert not m.acked(HALF_FREE, freed=False)
    assert m.acked(HALF_FREE, freed=True)


def test_data_on_writable_socket_reports_full_mask():
    m = et_model()
    m.wait(Acct())
    m.data_ready(Acct(inq=100))
    assert m.wait(Acct(inq=100)).mask == M.IN | M.OUT


def test_not_registered_events_do_not_queue():
    m = et_model(events=M.IN)
    m.wait(Acct())
    m.sent("eagain", FULL)
    m.acked(HALF_FREE, freed=True)
    assert m.wait(HALF_FREE).mask == 0


def test_wrong_observation_is_caught(tmp_path):
    """Fed a kernel that (wrongly) reports EPOLLOUT before the threshold, the comparison
    of the engine with the observation diverges at that step."""
    from harness.record.timeline import Timeline

    m = et_model()
    tl = Timeline("wrong kernel")
    m.wait(Acct())
    m.sent("eagain", FULL)
    for acct, observed in ((JUST_SHORT, M.OUT), (HALF_FREE, M.OUT)):
        tl.begin(f"ACK (queued {acct.wmem_queued})")
        m.acked(acct, freed=True)
        tl.check("epoll_wait(ET)", M.name(m.wait(acct).mask), M.name(observed))
    bad = tl.first_divergence()
    assert bad is not None and bad.step == 1
    assert (bad.expected, bad.observed) == ("-", "OUT")


def test_eagain_wakes_at_once_only_if_the_queues_were_empty_before_it():
    """The 4.4 direct wakeup needs both send queues empty at the EAGAIN.  A read after the
    send() that finds them empty proves nothing if the read before it did not: ACKs can have
    emptied them in between (a stalled harness), and those are an ACK step of their own."""
    stalled = et_model()
    stalled.wait(Acct())
    stalled.sent("eagain", Acct(wmem_queued=0), before=FULL)
    assert stalled.nospace and stalled.wait(Acct(wmem_queued=0)).mask == 0
    empty = et_model()
    empty.wait(Acct())
    empty.sent("eagain", Acct(wmem_queued=0), before=Acct(wmem_queued=0))
    assert not empty.nospace and empty.wait(Acct(wmem_queued=0)).mask == M.OUT
