"""The edges of the write-space rule, each pinned by a scenario of its own.

net/core/stream.c sk_stream_write_space() wakes writers when __sk_stream_is_writeable(sk, 1)
holds (include/net/sock.h: ``sk_stream_wspace(sk) >= sk_stream_min_wspace(sk)``, i.e.
free >= queued/2, and tcp_stream_memory_free(sk, 1): notsent * 2 < TCP_NOTSENT_LOWAT);
net/ipv4/tcp_input.c tcp_check_space() calls it after an ACK while SOCK_NOSPACE is set.
Each scenario below makes one part of that rule observable, so that a model that gets that
part wrong fails here and not only in a unit test:

* the threshold itself, ``>=`` and not ``>``: the ACK at which free == queued/2 exactly;
* a window update that makes the socket writable without freeing any skb (before 5.10
  tcp_check_space() also needed SOCK_QUEUE_SHRUNK, set only when a whole skb was freed:
  "tcp: remove SOCK_QUEUE_SHRUNK", 5.10);
* TCP_NOTSENT_LOWAT with a blocking writer: sendmsg sleeps once notsent >= lowat
  (tcp_stream_memory_free(sk, 0)), but the wakeup needs notsent * 2 < lowat
  ("tcp: reduce POLLOUT events caused by TCP_NOTSENT_LOWAT", 5.0).  An ET waiter cannot
  tell: its re-poll (tcp_poll(), the half rule too since 5.10) hides an early wakeup; a
  writer asleep in sk_stream_wait_memory() shows it;
* EAGAIN with both send queues empty (TCP memory pressure: tcp_sendmsg_locked() calls
  sk->sk_write_space() itself then, "tcp: ensure epoll edge trigger wakeup when write queue
  is empty", 4.4), which needs the global net.ipv4.tcp_mem lowered: only in the suite's
  own guest kernels.
"""

import socket

import pytest

from harness.cases.blocking import ack_blocked_writer, blocked_writer
from harness.cases.inside_ack import InsideAck
from harness.cases.scenarios import record_masks
from harness.cases.scripted import FAMILIES
from harness.cases.verdict import claim, settle
from harness.model import masks as M
from harness.model.rules import threshold, writeable
from harness.peers.tunpeer import PeerOptions
from harness.plugin.pytest_plugin import require
from harness.sockets.writer import waker_runs_first
from netns.own_kernel import global_sysctl, own_kernel_reason, tcp_mem_pages

MSS = 1000
SNDBUF = 21000
WINDOW = 8000  # the peer's window, under the initial cwnd: all of it is sent at once; ACKs keep
# its right edge fixed, so they free skbs and send nothing


def _boundary_target(now, freed: list[int], below: int) -> int | None:
    """The sndbuf that makes the next ACK leave free == queued/2 - ``below``, if that ACK
    frees what the ACK before the last one freed (skbs alternate between one MSS and more:
    an ACK trims a part, the next frees the rest with its head), or None when unfit.

    sk_sndbuf is twice the SO_SNDBUF value, so only even targets are reachable; the target
    must leave the socket unwritable now, or the setsockopt itself would wake the writer.
    """
    expect = freed[-2] if len(freed) >= 2 else freed[-1]
    if expect <= 0:
        return None
    q = now.wmem_queued - expect
    target = q + (q >> 1) - below
    if target % 2 or target - now.wmem_queued >= now.wmem_queued >> 1:
        return None
    return target


@pytest.mark.parametrize("below", [0, 2], ids=["at-boundary", "just-below"])
def test_threshold_boundary(scripted, mode, family, record, below):
    """Fill until EAGAIN, then ACK one MSS at a time with the peer's right edge fixed, so
    every ACK frees queued bytes and sends nothing.  Before an ACK, SO_SNDBUF is set (from
    what the ACKs before freed, read from SO_MEMINFO) so that the coming ACK leaves
    free == queued/2 exactly, or 2 bytes short of it.  sk_stream_min_wspace() is
    ``queued >> 1`` and the test ``>=``: on the boundary the ACK wakes the writer, 2 bytes
    short it does not (the next ACK does).  The setsockopt before it, on a socket still
    unwritable, wakes nobody.  Where the kernel can be traced, every write-space call that
    woke a sleeper must have held the rule: an epoll waiter's re-poll would hide one that came
    too early."""
    c = scripted.accept(family, sndbuf=SNDBUF, opts=PeerOptions(mss=MSS, window=WINDOW, wscale=0),
                        waiter=mode)
    c.inside = InsideAck(c.sock, c.timeline, scripted.net.ns.socket, FAMILIES[family])
    c.run_out_of_space("eagain")
    since = c.timeline.step
    edge = c.conn.acked + WINDOW
    landed, tried, freed = None, [], []
    while c.conn.acked + MSS <= c.conn.received_end:
        now = c.last
        target = _boundary_target(now, freed, below) if freed and landed is None else None
        if target is not None and not writeable(now, True):
            tried.append(target)
            c.set_sndbuf(target // 2)
            claim(c.last.sndbuf == target, f"sk_sndbuf took the value asked for ({c.last.sndbuf} vs {target}: "
                  "net.core.wmem_max caps SO_SNDBUF)", c.timeline)
            c.wait(None)
        before = c.last.wmem_queued
        ack = c.conn.acked + MSS
        c.ack(ack, window=edge - ack)
        c.inside.check_wakers(ack)
        c.wait(None)
        s = c.last
        freed.append(before - s.wmem_queued)
        if landed is None and s.free == threshold(s) - below and s.wmem_queued < s.sndbuf:
            landed = ack
        if writeable(s, True):
            if landed is not None:
                break
            c.timeline.add("note", "writable before the boundary was hit: run out of space again")
            c.fill()
            c.wait("epoll_wait while out of space")
    settle(c.timeline)
    record.fact("sndbuf_tried", tried)
    record.fact("freed_per_ack", freed)
    record.series = c.series
    claim(landed is not None, f"some ACK left free == queued/2 - {below} exactly (sndbuf tried: {tried})",
          c.timeline)
    at = next(s for s in c.series if s["ack"] == landed)
    record.fact("boundary_ack", landed)
    record.fact("wmem_queued_at_boundary", at["wmem_queued"])
    record.fact("sndbuf_at_boundary", at["sndbuf"])
    outs = [int(label.split()[1]) for _, label in c.out_reports(since) if label.startswith("ACK ")]
    if below == 0:
        claim(at["wakeup_required"] and landed in outs,
              f"free == queued/2 ({at['free']} == {at['wmem_queued']}/2) wakes: EPOLLOUT at ACK {landed} "
              f"(EPOLLOUT at ACKs {outs})", c.timeline)
    else:
        claim(not at["wakeup_required"] and landed not in outs and any(a > landed for a in outs),
              f"free == queued/2 - {below} wakes nobody: no EPOLLOUT at ACK {landed}, one at a later ACK "
              f"(EPOLLOUT at ACKs {outs})", c.timeline)


LOWAT = 8000
UPDATE_WINDOW = 2000  # two segments in flight: the initial cwnd leaves room for eight more


def test_window_update_wakes_without_freeing(scripted, waiter, family, record):
    """TCP_NOTSENT_LOWAT 8000 and a 2000-byte window: fill until EAGAIN, so that the unsent
    bytes reach the limit and SOCK_NOSPACE is set.  The peer then opens its window without
    acknowledging anything (same ACK number): tcp_ack() takes the window update,
    tcp_data_snd_check() sends the unsent bytes it allows, and tcp_check_space() runs the
    write-space test although no skb was freed.  Since 5.10 that is enough (notsent * 2 <
    lowat now holds): EPOLLOUT.  The SOCK_QUEUE_SHRUNK rule of older kernels would wake
    nobody here."""
    c = scripted.accept(family, sndbuf=100000, opts=PeerOptions(mss=MSS, window=UPDATE_WINDOW, wscale=0),
                        waiter=waiter)
    c.register(M.READINESS)
    c.wait("epoll_wait after ADD")
    c.set_notsent_lowat(LOWAT)
    c.wait("epoll_wait after setting TCP_NOTSENT_LOWAT")
    c.fill(2 * MSS)
    c.wait("epoll_wait with the unsent bytes at the limit")
    before, acked = c.last, c.conn.acked
    claim(before.notsent * 2 >= LOWAT, f"the unsent bytes ({before.notsent}) are at the limit", c.timeline)
    c.conn.wait_until_sent(c.sent_end)
    in_flight = c.conn.received_end - acked
    c.ack(acked, window=in_flight + before.notsent)
    c.conn.wait_until_sent(c.sent_end)
    got = c.wait(None)
    settle(c.timeline)
    after = c.last
    claim(c.conn.acked == acked and after.info["bytes_acked"] == before.info["bytes_acked"],
          "the window update acknowledged nothing, so it freed no skb", c.timeline)
    claim(after.notsent * 2 < LOWAT, f"the unsent bytes fell under half the limit ({after.notsent})", c.timeline)
    claim(bool(got & M.OUT), "the window update alone brings EPOLLOUT", c.timeline)
    record.fact("notsent_before_after", [before.notsent, after.notsent])
    record.fact("wmem_queued_before_after", [before.wmem_queued, after.wmem_queued])
    record_masks(c, record, waiter)


LOWAT_WINDOW = 4000  # the peer's window, kept: each ACK of one MSS lets one more MSS out
LOWAT_TOTAL = 30000


def test_notsent_lowat_blocking_writer(scripted, family, record, pytestconfig):
    """TCP_NOTSENT_LOWAT 8000, window 4000, a blocking send() of 30000 bytes: the writer
    sleeps once 8000 bytes are unsent.  Each ACK of one MSS sends one more, so the unsent
    bytes fall 1000 at a time; the writer must wake at the first ACK after which
    notsent * 2 < lowat by the accounting, not at the first with notsent < lowat, and
    then write until the limit again.  The same wakeups reach an ET waiter on its socket."""
    require(pytestconfig, "sched_fifo")
    c = scripted.accept(family, sndbuf=100000, opts=PeerOptions(mss=MSS, window=LOWAT_WINDOW, wscale=0),
                        blocking=True, title=f"blocking send({LOWAT_TOTAL}) with TCP_NOTSENT_LOWAT")
    c.register(M.OUT)
    c.wait()
    c.set_notsent_lowat(LOWAT)
    c.wait("epoll_wait after setting TCP_NOTSENT_LOWAT")
    wakes: list[int] = []
    with waker_runs_first() as cpu, blocked_writer(c, LOWAT_TOTAL, cpu) as w:
        while True:
            c.conn.wait_until_sent(c.sent_end)
            if c.conn.acked >= c.conn.received_end:
                if w.done.is_set():
                    break
                raise AssertionError(f"nothing left to acknowledge while the writer sleeps\n{c.timeline.render()}")
            ack = min(c.conn.acked + MSS, c.conn.received_end)
            if ack_blocked_writer(c, w, ack, "write-space wakeup: notsent * 2 < lowat"):
                wakes.append(ack)
    w.join()
    settle(c.timeline)
    claim(w.result == LOWAT_TOTAL, f"the blocking send returned {LOWAT_TOTAL} (got {w.result!r})", c.timeline)
    claim(bool(wakes), "the writer was woken by some ACK", c.timeline)
    first = next(s for s in c.series if s["ack"] == wakes[0])
    under_limit = [s["ack"] for s in c.series if s["ack"] < wakes[0] and s["notsent"] < LOWAT]
    claim(first["notsent"] * 2 < LOWAT and bool(under_limit),
          f"the writer slept on at ACKs {under_limit} (notsent under the limit, not under half of it) and "
          f"woke at ACK {wakes[0]} with notsent {first['notsent']}", c.timeline)
    record.fact("mode", "blocking")
    record.fact("wakes", wakes)
    record.fact("notsent_at_first_wake", first["notsent"])
    record.fact("acks_under_limit_before_wake", under_limit)
    record.fact("notsent_lowat", LOWAT)
    record.series = c.series


SO_SNDBUFFORCE = 32
BALLAST = 4 << 20  # bytes queued on another connection: more than any per-cpu reserve of
# tcp_memory_allocated (SK_MEMORY_PCPU_RESERVE, 1 MB, since 6.0), so the global count moves
JUMBO = 9000  # the TUN's MTU for this case: an MSS larger than a page's forward allocation


def _sockstat_tcp_pages() -> int:
    with open("/proc/net/sockstat") as f:
        return tcp_mem_pages(f.read())


@pytest.fixture
def own_kernel():
    """Skips unless the suite owns this kernel (a guest of python -m harness.guests)."""
    reason = own_kernel_reason()
    if reason is not None:
        pytest.skip("needs the global net.ipv4.tcp_mem lowered, which the suite does only in its own guest "
                    f"kernels (python -m harness.guests), never on a shared host: {reason}")


@pytest.fixture
def jumbo_link(scripted_net):
    """The scripted peer's TUN at MTU 9000 for one test; the MTU is restored after it."""
    ipr, index = scripted_net.ns.ipr, scripted_net.link.index
    orig = ipr.get_links(index)[0].get_attr("IFLA_MTU")
    try:
        ipr.link("set", index=index, mtu=JUMBO)
        yield JUMBO
    finally:
        ipr.link("set", index=index, mtu=orig)


def test_memory_pressure_on_an_empty_socket(own_kernel, jumbo_link, scripted, waiter, family, record):
    """TCP memory past the hard limit (net.ipv4.tcp_mem lowered under what a ballast
    connection holds), then one send() on a socket with nothing queued, MSS 8960, and a
    peer window of 0, so that nothing is transmitted and no ACK comes.

    The first skb of an empty socket is always charged ("tcp: fix behavior for epoll edge
    trigger", 8e4d980ac215, 4.15).  Its payload then needs more than the page-rounded forward
    allocation left over: without "tcp: fix possible freeze in tx path under memory pressure"
    (f54755f6a11a, 5.19: tcp_wmem_schedule() charges up to tcp_wmem[0] by force) that charge
    fails, the empty skb is dropped and send() returns EAGAIN with both queues empty; then
    tcp_sendmsg_locked() calls sk_stream_write_space() itself (4.4), which finds the empty
    socket writable and wakes: EPOLLOUT with no ACK.  With it, the send makes progress (a
    short write) and, with nothing sent and nothing acknowledged, nothing wakes.  Either way
    the rule is applied to the send's observed result; the report says which one happened.
    (Debian 5.10.262 returns EAGAIN and wakes directly; Debian 6.1.192, 6.12.118 and 7.2.13 force
    progress, where the direct wakeup is unreachable by memory pressure.)  A kernel that
    forces progress never reaches the direct wakeup this scenario exists for: the forced
    progress is still checked, then the case is skipped with an ``unreached_branch`` fact,
    never counted as a pass."""
    opts = PeerOptions(mss=JUMBO - 40, window=0, wscale=0)
    c = scripted.accept(family, sndbuf=SNDBUF, opts=opts, waiter=waiter)
    c.register(M.READINESS)
    c.wait("epoll_wait after ADD")
    c.wait("epoll_wait again")
    ballast = scripted.accept(family, opts=PeerOptions(mss=MSS, window=WINDOW, wscale=0), title="ballast")
    ballast.sock.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, BALLAST)
    while True:
        try:
            ballast.sock.send(b"m" * 65536, socket.MSG_DONTWAIT)
        except BlockingIOError:
            break
    pages = _sockstat_tcp_pages()
    c.timeline.begin(f"ballast queued {ballast.snap().wmem_queued} bytes: TCP holds {pages} pages")
    claim(pages >= 2, f"the ballast made TCP hold pages ({pages})", c.timeline)
    limit = pages - 1
    with global_sysctl("net.ipv4.tcp_mem", f"{limit} {limit} {limit}") as orig:
        c.timeline.add("note", f"net.ipv4.tcp_mem {orig!r} -> '{limit} {limit} {limit}' (restored after the send)")
        before = c.snap()
        result = c.send(4 * JUMBO)
    after = c.last
    got = c.wait("epoll_wait after the send")
    settle(c.timeline)
    claim(before.wmem_queued == 0 and before.outq == 0, "both send queues were empty before the send", c.timeline)
    claim(result in ("eagain", "short"), f"memory pressure refused some of the send (got {result})", c.timeline)
    if result == "eagain":
        claim(after.wmem_queued == 0 and bool(got & M.OUT),
              "EAGAIN with both queues empty wakes at once: EPOLLOUT without any ACK", c.timeline)
        record.fact("empty_socket_under_pressure", "EAGAIN with empty queues, woken directly")
    record.fact("tcp_pages_held", pages)
    record.fact("tcp_mem_during_send", limit)
    record_masks(c, record, waiter)
    if result != "eagain":
        claim(after.wmem_queued > 0 and (waiter != "ET" or not got & M.OUT),
              "the kernel forced progress (a short write), and with nothing sent or acknowledged no "
              "wakeup follows (ET silent; the others report the writable socket)", c.timeline)
        record.fact("empty_socket_under_pressure", f"forced progress: {after.outq} bytes queued, no wakeup")
        # The scenario exists for the direct wakeup; a kernel that forces progress never
        # reaches it, and that is a finding of the run, not a pass.
        record.fact("unreached_branch", "EAGAIN with both queues empty under memory pressure "
                    "(tcp_sendmsg_locked -> sk_stream_write_space)")
        pytest.skip("memory pressure did not reach the direct wakeup of an empty socket: this kernel forces "
                    f"progress (tcp_wmem_schedule, f54755f6a11a) and queued {after.outq} bytes instead of EAGAIN")
