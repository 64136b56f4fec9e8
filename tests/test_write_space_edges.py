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
"""

import pytest

from harness.cases.scenarios import record_masks
from harness.cases.verdict import claim, settle
from harness.model import masks as M
from harness.model.rules import threshold, writeable
from harness.peers.tunpeer import PeerOptions

MSS = 1000
SNDBUF = 21000
WINDOW = 8000  # the peer's window, under the initial cwnd: all of it is sent at once; ACKs keep
# its right edge fixed, so they free skbs and send nothing


def _boundary_target(prev, now, below: int) -> int | None:
    """The sndbuf that makes the next ACK leave free == queued/2 - ``below``, if that ACK
    frees what the previous one freed, or None when no such sndbuf is fit.

    sk_sndbuf is twice the SO_SNDBUF value, so only even targets are reachable; the target
    must leave the socket unwritable now, or the setsockopt itself would wake the writer.
    """
    freed = prev.wmem_queued - now.wmem_queued
    if freed <= 0:
        return None
    q = now.wmem_queued - freed
    target = q + (q >> 1) - below
    if target % 2 or target - now.wmem_queued >= now.wmem_queued >> 1:
        return None
    return target


@pytest.mark.parametrize("below", [0, 2], ids=["at-boundary", "just-below"])
def test_threshold_boundary(scripted, mode, family, record, below):
    """Fill until EAGAIN, then ACK one MSS at a time with the peer's right edge fixed, so
    every ACK frees queued bytes and sends nothing.  Before an ACK, SO_SNDBUF is set (from
    what the previous ACK freed, read from SO_MEMINFO) so that the coming ACK leaves
    free == queued/2 exactly, or 2 bytes short of it.  sk_stream_min_wspace() is
    ``queued >> 1`` and the test ``>=``: on the boundary the ACK wakes the writer, 2 bytes
    short it does not (the next ACK does).  The setsockopt before it, on a socket still
    unwritable, wakes nobody."""
    c = scripted.accept(family, sndbuf=SNDBUF, opts=PeerOptions(mss=MSS, window=WINDOW, wscale=0),
                        waiter=mode)
    c.run_out_of_space("eagain")
    since = c.timeline.step
    edge = c.conn.acked + WINDOW
    landed, tried, prev = None, [], None
    while c.conn.acked + MSS <= c.conn.received_end:
        now = c.last
        target = _boundary_target(prev, now, below) if prev is not None and landed is None else None
        if target is not None and not writeable(now, True):
            tried.append(target)
            c.set_sndbuf(target // 2)
            c.wait(None)
        prev = c.last
        ack = c.conn.acked + MSS
        c.ack(ack, window=edge - ack)
        c.wait(None)
        s = c.last
        if landed is None and s.free == threshold(s) - below and s.wmem_queued < s.sndbuf:
            landed = ack
        if writeable(s, True):
            if landed is not None:
                break
            c.timeline.add("note", "writable before the boundary was hit: run out of space again")
            c.fill()
            c.wait("epoll_wait while out of space")
            prev = None
    settle(c.timeline)
    record.fact("sndbuf_tried", tried)
    record.series = c.series
    claim(landed is not None, f"some ACK left free == queued/2 - {below} exactly (sndbuf tried: {tried})",
          c.timeline)
    at = next(s for s in c.series if s["ack"] == landed)
    record.fact("boundary_ack", landed)
    record.fact("wmem_queued_at_boundary", at["wmem_queued"])
    record.fact("sndbuf_at_boundary", at["sndbuf"])
    outs = [label for _, label in c.out_reports(since)]
    if below == 0:
        claim(at["wakeup_required"] and outs[:1] == [f"ACK {landed}"],
              f"free == queued/2 ({at['free']} == {at['wmem_queued']}/2) wakes: the first EPOLLOUT at "
              f"ACK {landed} (EPOLLOUT at {outs})", c.timeline)
    else:
        claim(not at["wakeup_required"] and f"ACK {landed}" not in outs and bool(outs),
              f"free == queued/2 - {below} wakes nobody: no EPOLLOUT at ACK {landed}, one at a later ACK "
              f"(EPOLLOUT at {outs})", c.timeline)


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
