"""Writers beyond the core EPOLLOUT rule: TCP_NOTSENT_LOWAT, SO_SNDBUF, autotuning.

Kernel rules (include/net/tcp.h tcp_stream_memory_free(), net/ipv4/tcp.c tcp_poll() and
do_tcp_setsockopt(), net/core/sock.c sock_setsockopt(), net/ipv4/tcp_input.c
tcp_new_space()):
* TCP_NOTSENT_LOWAT (socket option, or the namespace's tcp_notsent_lowat when the option is
  unset): sendmsg stops once the unsent bytes reach the limit; the write-space wakeup needs
  them under half of it (5.0), and tcp_poll() uses the half rule too (5.10).  Setting the
  option calls sk_write_space() at once; changing the sysctl wakes nobody.
* setsockopt(SO_SNDBUF) calls sk_write_space() whatever the value: a larger buffer wakes a
  waiting writer (epoll item or a thread asleep in sendmsg) with no ACK at all.
* Without SO_SNDBUF, tcp_new_space() may grow sk_sndbuf as ACKs arrive
  (tcp_sndbuf_expand()); the writability rule holds with the live value.
"""

import socket
import struct
import threading

import pytest

from harness.cases.claims import claim_single_wakeup
from harness.cases.scenarios import record_masks
from harness.cases.verdict import claim, settle
from harness.model import masks as M
from harness.peers.tunpeer import PeerOptions
from harness.sockets.sleeping import kernel_stack, sleeping_in, until

MSS = 1000
LOWAT = 8000
WINDOW = 4000  # the peer's window: what is beyond it stays unsent


@pytest.fixture
def notsent_sysctl(scripted_net):
    """Sets the namespace's tcp_notsent_lowat to LOWAT for one test; the original value is
    recorded and its restore registered before the change."""
    ns, name = scripted_net.ns, "net.ipv4.tcp_notsent_lowat"
    orig = ns.sysctl(name)
    try:
        ns.sysctl(name, str(LOWAT))
        yield LOWAT
    finally:
        ns.sysctl(name, orig)


def _lowat_case(scripted, family, waiter, how, request):
    c = scripted.accept(family, sndbuf=100000, opts=PeerOptions(mss=MSS, window=WINDOW, wscale=0),
                        waiter=waiter)
    c.register(M.READINESS)
    c.wait("epoll_wait after ADD")
    if how == "setsockopt":
        c.set_notsent_lowat(LOWAT)
        c.wait("epoll_wait after setting TCP_NOTSENT_LOWAT")
    else:
        c.notsent_lowat_sysctl = request.getfixturevalue("notsent_sysctl")
        c.timeline.add("note", f"namespace tcp_notsent_lowat = {LOWAT}")
    c.fill(2 * MSS)
    c.wait("epoll_wait with the unsent bytes at the limit")
    return c


@pytest.mark.parametrize("how", ["setsockopt", "sysctl"])
def test_notsent_lowat_acks(scripted, waiter, family, record, request, how):
    """Fill until EAGAIN (unsent bytes at the limit), then ACK one MSS at a time with the
    window kept at 4000: each ACK lets 1000 more bytes out.  EPOLLOUT comes at the first ACK
    after which notsent * 2 < limit holds by the socket's own accounting."""
    c = _lowat_case(scripted, family, waiter, how, request)
    since = c.timeline.step
    c.ack_all(MSS)
    settle(c.timeline)
    first, wake = claim_single_wakeup(c, c.mode, since, f"notsent_lowat by {how}")
    record.fact("waking_ack", first)
    record.fact("notsent_at_wake", next(s["notsent"] for s in c.series if s["ack"] == first))
    record.fact("notsent_lowat", LOWAT)
    record.fact("notsent_lowat_by", how)
    record_masks(c, record, waiter)
    record.series = c.series


def test_notsent_lowat_setsockopt_wakes(scripted, waiter, family, record, request):
    """At the limit, raising TCP_NOTSENT_LOWAT wakes the waiter at once, with no ACK."""
    c = _lowat_case(scripted, family, waiter, "setsockopt", request)
    acked = c.conn.acked
    c.set_notsent_lowat(4 * LOWAT)
    got = c.wait("epoll_wait after raising TCP_NOTSENT_LOWAT")
    settle(c.timeline)
    claim(c.conn.acked == acked and bool(got & M.OUT), "the setsockopt alone brings EPOLLOUT", c.timeline)
    record_masks(c, record, waiter)


def test_notsent_lowat_sysctl_no_wakeup(scripted, waiter, family, record, request):
    """At the limit, raising the namespace's tcp_notsent_lowat wakes nobody (a plain proc
    handler): ET and LT epoll stay silent, but poll() and select() call tcp_poll() and see
    EPOLLOUT.  Here poll/select and LT epoll part: the LT item left the ready list when its
    re-poll found nothing, and no wakeup puts it back."""
    c = _lowat_case(scripted, family, waiter, "sysctl", request)
    c.timeline.begin("raise the namespace's tcp_notsent_lowat")
    request.getfixturevalue("scripted_net").ns.sysctl("net.ipv4.tcp_notsent_lowat", str(4 * LOWAT))
    c.notsent_lowat_sysctl = 4 * LOWAT
    c.snap()
    got = c.wait("epoll_wait after raising the sysctl")
    settle(c.timeline)
    claim(bool(got & M.OUT) == (waiter in ("poll", "select")),
          "only poll/select see the new limit without a wakeup", c.timeline)
    record_masks(c, record, waiter)
    record.fact("poll_vs_lt_epoll", c.disagreements or None)


SNDBUF = 21000


def test_sndbuf_raise_wakes(scripted, waiter, family, record):
    """Fill until EAGAIN; setsockopt(SO_SNDBUF) to four times the size: EPOLLOUT with no ACK."""
    c = scripted.accept(family, sndbuf=SNDBUF, opts=PeerOptions(mss=MSS, window=65535, wscale=0), waiter=waiter)
    c.register(M.READINESS)
    c.wait("epoll_wait after ADD")
    c.fill()
    c.wait("epoll_wait while full")
    acked = c.conn.acked
    c.set_sndbuf(4 * SNDBUF)
    got = c.wait("epoll_wait after raising SO_SNDBUF")
    settle(c.timeline)
    claim(c.conn.acked == acked and bool(got & M.OUT), "SO_SNDBUF alone brings EPOLLOUT", c.timeline)
    record.fact("sndbuf_before_after", [SNDBUF * 2, c.last.sndbuf])
    record_masks(c, record, waiter)


def test_sndbuf_raise_wakes_blocking_writer(scripted, family, record):
    """A thread asleep in a blocking send() on a full buffer (sk_stream_wait_memory) returns
    when SO_SNDBUF is raised, with no ACK."""
    c = scripted.accept(family, sndbuf=SNDBUF, opts=PeerOptions(mss=MSS, window=65535, wscale=0), waiter="ET")
    c.register(M.READINESS)
    c.fill()
    c.sock.setblocking(True)  # the case's own calls pass MSG_DONTWAIT; the thread's send blocks
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 5, 0))  # safety net
    result: list = []
    t = threading.Thread(target=lambda: result.append(_send_one(c.sock)), daemon=True)
    t.start()
    until(lambda: sleeping_in(t.native_id, "sk_stream_wait_memory") or not t.is_alive())
    claim(t.is_alive() and sleeping_in(t.native_id, "sk_stream_wait_memory"),
          f"the writer sleeps in sk_stream_wait_memory (stack: {kernel_stack(t.native_id)!r})", c.timeline)
    acked = c.conn.acked
    c.set_sndbuf(4 * SNDBUF)
    t.join(5)
    c.timeline.add("call", f"blocking send(1) returned {result}")
    claim(result == [1] and c.conn.acked == acked, "SO_SNDBUF alone wakes the blocked writer", c.timeline)
    record.fact("mode", "blocking send")
    record.fact("blocking_send_returned", result[0] if result else None)


def _send_one(sock: socket.socket):
    try:
        return sock.send(b"x")
    except OSError as exc:
        return f"errno {exc.errno}"


def test_autotuned_sndbuf(scripted, waiter, family, record):
    """No SO_SNDBUF: fill until EAGAIN, then ACK two MSS at a time.  The sndbuf may grow as
    ACKs arrive; EPOLLOUT comes at the first ACK after which the rule holds with the live
    sndbuf read at that step."""
    c = scripted.accept(family, opts=PeerOptions(mss=MSS, window=65535, wscale=0), waiter=waiter)
    c.register(M.READINESS)
    c.wait("epoll_wait after ADD")
    start = c.last.sndbuf
    c.fill()
    c.wait("epoll_wait while full")
    since = c.timeline.step
    c.ack_all(2 * MSS)
    settle(c.timeline)
    first, wake = claim_single_wakeup(c, c.mode, since, "autotuned sndbuf")
    sizes = [s["sndbuf"] for s in c.series]
    record.fact("sndbuf_moves", [start] + [b for a, b in zip([start] + sizes, sizes) if a != b])
    record.fact("sndbuf_locked", False)
    record.fact("waking_ack", first)
    record.fact("sndbuf_at_wake", wake["sndbuf"])
    record.fact("wmem_queued_at_wake", wake["wmem_queued"])
    record_masks(c, record, waiter)
    record.series = c.series
