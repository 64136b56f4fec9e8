"""What a non-blocking connect() reports: established, refused, never answered.

Kernel rules (net/ipv4/tcp.c tcp_poll(), tcp_input.c tcp_rcv_synsent_state_process(),
tcp_reset(), tcp_timer.c tcp_write_err()): nothing is reported while in SYN_SENT; the
SYN-ACK makes the socket writable and sk_state_change() wakes the item (EPOLLOUT).  A RST
to the SYN runs tcp_reset(): sk_err = ECONNREFUSED, tcp_done() closes both directions, so
the mask holds EPOLLERR|EPOLLHUP *and* EPOLLIN|EPOLLRDHUP|EPOLLOUT (SEND_SHUTDOWN makes
EPOLLOUT unconditional): an event loop that takes EPOLLOUT for "connected" is wrong here.
A peer that never answers gives nothing until the SYN retries (tcp_syn_retries, pinned in
the suite's namespace) run out: tcp_write_err() with ETIMEDOUT, the same mask.
"""

import errno
import select

import pytest

from harness.cases.scenarios import record_masks, table
from harness.cases.verdict import claim, settle
from harness.model import masks as M
from harness.peers.tunpeer import PeerOptions
from harness.sockets.waiters import WAITERS

PEER = PeerOptions(mss=1000, window=65535, wscale=0)
FAILED = M.IN | M.OUT | M.ERR | M.HUP | M.RDHUP


def established(d, record):
    """SYN-ACK: EPOLLOUT, once in ET."""
    c = d.complete()
    got = c.wait("epoll_wait after the handshake")
    c.wait("epoll_wait again")
    claim(got == M.OUT, "the established connection reports EPOLLOUT", c.timeline)
    return c


def refused(d, record):
    """RST to the SYN: every bit of the failed mask, EPOLLOUT included; SO_ERROR gives
    ECONNREFUSED and takes EPOLLERR away."""
    c = d.refuse()
    got = c.wait("epoll_wait after the RST")
    again = c.wait("epoll_wait again")
    err = c.so_error()
    after = c.wait("epoll_wait after SO_ERROR")
    record.fact("so_error", errno.errorcode.get(err, err))
    record.fact("mask_after_so_error", M.name(after))
    record.fact("second_wait", M.name(again))
    # SEMANTICS section 4 lists ERR|HUP (and OUT); tcp_done() also shuts the receive side,
    # so tcp_poll() adds IN|RDHUP: the whole failed mask.
    record.fact("semantics", "refused mask also holds EPOLLIN|EPOLLRDHUP (RCV_SHUTDOWN from tcp_done())")
    claim(err == errno.ECONNREFUSED, "SO_ERROR reports ECONNREFUSED", c.timeline)
    claim(got == c.view(FAILED), f"refused connect reports {M.name(c.view(FAILED))}", c.timeline)
    return c


SCENARIOS = table("connect", established, refused, names={"refused": "refused-rst"})


@pytest.mark.parametrize("script", SCENARIOS)
def test_connect(scripted, waiter, family, record, script):
    """connect() in progress, watched while SYN_SENT (nothing), then the peer's answer."""
    d = scripted.dial(family, opts=PEER, waiter=waiter)
    d.case.register(M.READINESS)
    d.case.wait("epoll_wait while SYN_SENT")
    c = script(d, record)
    settle(c.timeline)
    claim(c.reports[0][2] == 0, "nothing is reported while SYN_SENT", c.timeline)
    record_masks(c, record, waiter)


def never_answered(scripted, record, family):
    """The peer takes the SYNs and never answers: every waiter reports nothing until the
    connection times out, then the failed mask with ETIMEDOUT.

    The timeout costs seconds (the first SYN retransmission comes after the 1 s initial
    RTO), so one connection serves all four waiters at once: two epoll instances (ET, LT),
    poll() and select().  They do not disturb each other: each epoll item is its own and
    poll/select keep no state.
    """
    retries = scripted.net.ns.sysctls.get("net.ipv4.tcp_syn_retries")
    d = scripted.dial(family, opts=PEER, waiter="ET")
    c = d.case
    c.register(M.READINESS)
    others = [c.watch_too(w, w) for w in WAITERS[1:]]
    d.ignore()

    def wait_all(label):
        c.wait(label)
        for o in others:
            c.wait_too(o, None)

    wait_all("all waiters after the first SYN")
    c.conn.expect(lambda s: bool(s.flags & 0x02), "retransmitted SYN", timeout=5)
    wait_all("all waiters after the retransmitted SYN")
    c.timeline.begin("block until the ET epoll instance has an event (deadline 15 s)")
    ready = select.select([c.watch.ep.fileno()], [], [], 15)[0]
    claim(bool(ready), "the connection timed out within the deadline", c.timeline)
    c.conn.drain()
    c.snap()
    c.model.done(errno.ETIMEDOUT, "SYN retries exhausted")
    wait_all("all waiters after the timeout")
    err = c.so_error()
    wait_all("all waiters after SO_ERROR")
    settle(c.timeline)
    claim(err == errno.ETIMEDOUT, f"SO_ERROR reports ETIMEDOUT (got {errno.errorcode.get(err, err)})", c.timeline)
    syns = sum(1 for s in c.conn.segments if s.flags & 0x02)
    record.fact("mode", "all four at once")
    record.fact("tcp_syn_retries", retries)
    # With tcp_syn_linear_timeouts (present on 6.x kernels) the SYN RTO stays at 1 s instead
    # of doubling, and tcp_write_timeout() ends the attempt by time (retransmits_timed_out()
    # with tcp_syn_retries as the boundary: 1 + 2 s): 3 SYNs in about 3 s on 6.18 with
    # retries 1, where exponential backoff alone gives 2.
    try:
        record.fact("tcp_syn_linear_timeouts", scripted.net.ns.sysctl("net.ipv4.tcp_syn_linear_timeouts"))
    except FileNotFoundError:
        record.fact("tcp_syn_linear_timeouts", None)
    record.fact("syns_sent", syns)
    record.fact("so_error", errno.errorcode.get(err, err))
    for name, reports in [("ET", c.reports)] + [(o.label, o.reports) for o in others]:
        record.fact(f"masks_{name}", [M.name(m) for _, _, m in reports])


@pytest.mark.beside_others(body=never_answered)
def test_connect_never_answered(beside, family):
    """:func:`never_answered`: its seconds of waiting on SYN retries run beside the other
    cases when this machine has two CPUs (harness.plugin.beside)."""
    beside()
