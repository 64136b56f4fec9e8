"""The rule engine's readiness-matrix rules, fed hand-made accounting: no root, no sockets.

Each test states one kernel rule as the engine must apply it; the last ones show that a
wrong observation is caught (the check and the verdict fail)."""

import errno
import socket
from types import SimpleNamespace

import pytest

from harness.cases.verdict import settle
from harness.model import masks as M
from harness.model.rules import EpollModel, KernelRules
from harness.record.timeline import Timeline

RULES = KernelRules.for_release("6.18.0")
ALL = M.READINESS


def acct(**kw):
    base = dict(sndbuf=42000, wmem_queued=0, notsent=0, notsent_lowat=0, inq=0, rcvlowat=1,
                state="ESTABLISHED", accept_queue=0)
    base.update(kw)
    return SimpleNamespace(**base)


FULL = dict(wmem_queued=42000)  # queued == sndbuf: not writable


def model(edge=True, events=ALL, mechanism="epoll", a=None):
    m = EpollModel(RULES, edge, events, mechanism=mechanism)
    m.ctl(a or acct())
    return m


def test_fin_reports_in_rdhup_with_out_and_wakes():
    m = model()
    assert m.wait(acct()).mask == M.OUT
    m.fin(acct(state="CLOSE_WAIT"))
    assert m.wait(acct(state="CLOSE_WAIT")).mask == M.IN | M.RDHUP | M.OUT
    assert m.wait(acct(state="CLOSE_WAIT")).mask == 0  # ET: once per wakeup


def test_shut_wr_makes_out_permanent_even_when_full():
    m = model(edge=False, a=acct(**FULL))
    assert m.wait(acct(**FULL)).mask == 0
    m.shutdown(socket.SHUT_WR)
    assert m.wait(acct(**FULL, state="FIN_WAIT1")).mask == M.OUT


def test_both_directions_shut_is_hup():
    m = model(edge=False)
    m.shutdown(socket.SHUT_RDWR)
    assert m.wait(acct(state="FIN_WAIT1")).mask == M.IN | M.RDHUP | M.OUT | M.HUP


def test_reset_reports_err_hup_until_so_error():
    m = model(edge=False)
    m.done(errno.ECONNRESET, "RST")
    closed = acct(state="CLOSE")
    assert m.wait(closed).mask == M.IN | M.OUT | M.ERR | M.HUP | M.RDHUP
    m.error_read()
    assert m.wait(closed).mask == M.IN | M.OUT | M.HUP | M.RDHUP


def test_refused_connect_wakes_a_syn_sent_item_with_the_failed_mask():
    m = model(a=acct(state="SYN_SENT"))
    assert m.wait(acct(state="SYN_SENT")).mask == 0
    m.done(errno.ECONNREFUSED, "RST to SYN")
    assert m.wait(acct(state="CLOSE")).mask == M.IN | M.OUT | M.ERR | M.HUP | M.RDHUP


def test_unconnected_socket_is_out_hup_without_rdhup():
    """A fresh socket is in CLOSE with sk_shutdown 0: EPOLLHUP and EPOLLOUT only."""
    m = model(edge=False, a=acct(state="CLOSE"))
    assert m.wait(acct(state="CLOSE")).mask == M.OUT | M.HUP


def test_urgent_byte_is_pri_until_read_and_reading_wakes_nobody():
    m = model()
    m.wait(acct())
    m.urgent_arrived(acct(inq=2))
    assert m.wait(acct(inq=2)).mask == M.IN | M.PRI | M.OUT
    m.oob_read()
    assert m.wait(acct(inq=2)).mask == 0


def test_rcvlowat_gates_data_ready_and_setsockopt_rechecks():
    m = model()
    m.wait(acct())
    m.data_ready(acct(inq=100, rcvlowat=300))
    assert m.wait(acct(inq=100, rcvlowat=300)).mask == 0
    m.rcvlowat_set(acct(inq=100, rcvlowat=50))
    assert m.wait(acct(inq=100, rcvlowat=50)).mask == M.IN | M.OUT


def test_listener_in_per_queued_connection():
    m = model(events=M.IN, a=acct(state="LISTEN"))
    assert m.wait(acct(state="LISTEN")).mask == 0
    m.child_queued()
    assert m.wait(acct(state="LISTEN", accept_queue=1)).mask == M.IN
    assert m.wait(acct(state="LISTEN", accept_queue=1)).mask == 0  # ET, accept() wakes nobody
    m.child_queued()
    assert m.wait(acct(state="LISTEN", accept_queue=2)).mask == M.IN


def test_oneshot_disarms_until_mod():
    m = model(edge=False, events=ALL | M.ONESHOT)
    assert m.wait(acct()).mask == M.OUT
    m.data_ready(acct(inq=10))
    assert m.wait(acct(inq=10)).mask == 0
    m.ctl(acct(inq=10))
    assert m.wait(acct(inq=10)).mask == M.IN | M.OUT


def test_two_items_share_socket_state_not_ready_lists():
    a = model()
    b = a.sibling(True, ALL)
    b.ctl(acct())
    assert a.wait(acct()).mask == M.OUT
    assert b.wait(acct()).mask == M.OUT  # a's report did not consume b's
    a.poll(acct(**FULL))
    assert b.nospace  # SOCK_NOSPACE is the socket's
    a.data_ready(acct(inq=5))
    assert a.wait(acct(inq=5)).mask and b.wait(acct(inq=5)).mask


def test_poll_caller_sees_the_mask_without_any_wakeup():
    """poll() re-polls at every call: a limit raised without a wakeup shows at once, where a
    level-triggered item that left the ready list stays silent."""
    lt = model(edge=False, a=acct(**FULL))
    p = lt.sibling(False, ALL, mechanism="poll")
    assert lt.wait(acct(**FULL)).mask == 0 and p.wait(acct(**FULL)).mask == 0
    assert lt.wait(acct()).mask == 0  # nothing woke the item
    assert p.wait(acct()).mask == M.OUT


def test_select_view_maps_hup_err_to_readable_and_err_to_writable():
    assert M.select_view(M.IN | M.RDHUP) == M.IN
    assert M.select_view(M.HUP) == M.IN
    assert M.select_view(M.ERR) == M.IN | M.OUT
    assert M.select_view(M.PRI | M.OUT, M.IN | M.OUT) == M.OUT  # not in the except set
    s = model(edge=False, mechanism="select")
    s.done(errno.ECONNRESET, "RST")
    assert s.wait(acct(state="CLOSE")).mask == M.IN | M.OUT


def test_direct_write_space_wakes_only_a_writable_socket():
    """setsockopt(SO_SNDBUF / TCP_NOTSENT_LOWAT) calls sk_write_space() with no SOCK_NOSPACE
    test: it wakes once the socket is writable by the new value, not before."""
    m = model()
    m.wait(acct())
    at_limit = acct(notsent=8000, notsent_lowat=8000, wmem_queued=20000, sndbuf=200000)
    assert not m.write_space(at_limit, "TCP_NOTSENT_LOWAT")
    assert m.wait(at_limit).mask == 0
    raised = acct(notsent=8000, notsent_lowat=32000, wmem_queued=20000, sndbuf=200000)
    assert m.write_space(raised, "TCP_NOTSENT_LOWAT")
    assert m.wait(raised).mask == M.OUT


def test_unknown_mechanism_is_refused():
    with pytest.raises(ValueError):
        EpollModel(RULES, False, mechanism="kqueue")


def _judge(observed: int) -> Timeline:
    """A step of a FIN scenario with ``observed`` as what the kernel reported."""
    tl = Timeline("unit")
    m = model()
    m.wait(acct())
    m.fin(acct(state="CLOSE_WAIT"))
    tl.begin("epoll_wait after FIN")
    required = m.wait(acct(state="CLOSE_WAIT"))
    tl.check("epoll_wait(ET)", M.name(required.mask), M.name(observed), required.why)
    return tl


def test_right_observation_settles():
    settle(_judge(M.IN | M.RDHUP | M.OUT))


def test_wrong_observation_fails_at_its_step():
    tl = _judge(M.IN | M.OUT)  # RDHUP missing: a kernel (or a harness) that got FIN wrong
    bad = tl.first_divergence()
    assert bad is not None and bad.step == 1
    with pytest.raises(pytest.fail.Exception, match="step 1 .*required IN\\|OUT\\|RDHUP, observed IN\\|OUT"):
        settle(tl)
