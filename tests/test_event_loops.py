"""The readiness patterns real event loops got wrong, as scenarios: what the kernel reports,
step by step, where a loop's assumption broke.

Kernel rules (net/ipv4/tcp.c tcp_poll(), net/core/stream.c sk_stream_write_space(),
fs/eventpoll.c ep_send_events() and ep_modify()): a peer's FIN shuts only the receive side
(EPOLLIN|EPOLLRDHUP; EPOLLHUP needs both directions shut), so EPOLLOUT stays a question of
send space; epoll_wait reports the whole current mask, so data and RDHUP come in one event;
a level-triggered item stays on the ready list while its mask is non-empty, so an armed
EPOLLOUT on a writable socket, or an RDHUP, is reported by every wait; EPOLL_CTL_MOD polls
the socket and queues the item at once if the new events are ready (and, on an unwritable
socket, sets SOCK_NOSPACE, so the ACK that frees space wakes it later).

Each scenario runs edge- and level-triggered, over IPv4 and IPv6; every wait is checked
against the rule engine, and the scenario asserts its own claim on top.
"""

import socket

import pytest

from harness.cases.claims import claim_single_wakeup
from harness.cases.scenarios import run_accepted, table
from harness.cases.verdict import claim
from harness.model import masks as M
from harness.peers.tunpeer import PeerOptions

PEER = PeerOptions(mss=1000, window=65535, wscale=0)
SNDBUF = 21000       # doubled by the kernel and locked: a fill ends in EAGAIN
ACK_STEP = 2000      # bytes per ACK while the peer drains the send buffer
WAITS = 5            # waits in a row where a scenario counts reports
NO_OUT = M.READINESS & ~M.OUT


def count(masks, bit: int) -> str:
    return f"{sum(1 for m in masks if m & bit)} of {len(masks)}"


def fin_on_full_send_buffer(c, record):
    """The peer's FIN while our send buffer is full: EPOLLIN|EPOLLRDHUP, no EPOLLHUP and no
    EPOLLOUT; a write still gets EAGAIN (not EPIPE: the peer may read on), and EPOLLOUT
    comes at the first ACK that leaves free >= queued/2, once in ET.

    mio/tokio: a loop that takes RDHUP for a hang-up, or expects EPOLLOUT on a half-closed
    socket, spins on writes that never progress or closes a connection the peer still
    reads; the kernel keeps the send side open (tcp_fin() sets only RCV_SHUTDOWN)."""
    c.fill()
    c.wait("epoll_wait while full")
    c.peer_fin()
    got = c.wait("epoll_wait after FIN")
    since = c.timeline.step
    again = c.wait("epoll_wait again")
    write = c.send(1000)
    c.ack_all(ACK_STEP)
    record.fact("fin_mask", M.name(got))
    record.fact("write_after_fin", write)
    claim(got == M.IN | M.RDHUP, f"FIN on a full socket reports IN|RDHUP (got {M.name(got)})", c.timeline)
    claim(again == (0 if c.mode == "ET" else M.IN | M.RDHUP), "ET: once; LT: again", c.timeline)
    claim(write == "eagain", "a write after the FIN still gets EAGAIN, not EPIPE", c.timeline)
    claim(not any(m & M.HUP for _, _, m in c.reports), "no EPOLLHUP while our send side is open", c.timeline)
    first, _ = claim_single_wakeup(c, c.mode, since, "after the FIN")
    record.fact("waking_ack", first)


def rdhup_with_unread_data(c, record):
    """Data and FIN in one segment: one event holds EPOLLIN|EPOLLRDHUP; every byte is read
    after it, in order, before end of file.

    netty's epoll transport handled RDHUP before the IN of the same event and lost the last
    bytes the peer sent before closing; the kernel queues them ahead of the FIN."""
    payload = bytes(range(256)) * 2
    c.peer_fin(payload)
    got = c.wait("epoll_wait after data+FIN")
    parts = []
    while True:
        part = c.recv(100)
        if not isinstance(part, bytes) or not part:
            break
        parts.append(part)
        c.wait("epoll_wait between reads")
    record.fact("event", M.name(got))
    record.fact("bytes_after_rdhup", sum(map(len, parts)))
    claim(got == M.IN | M.RDHUP | M.OUT, f"one event holds IN|RDHUP (got {M.name(got)})", c.timeline)
    claim(b"".join(parts) == payload, "every byte sent before the FIN is read after the RDHUP", c.timeline)
    claim(part == b"", "then recv() returns end of file", c.timeline)


def rdhup_every_wait_until_close(c, record):
    """After the peer's FIN, level-triggered epoll reports EPOLLIN|EPOLLRDHUP at every wait,
    before and after end of file is read, until the socket is closed; edge-triggered once.

    netty looped on a level-triggered RDHUP it had already handled: the kernel never stops
    reporting it (tcp_poll() derives it from RCV_SHUTDOWN, which stays set)."""
    c.peer_fin()
    first = c.wait("epoll_wait after FIN")
    before = [c.wait(f"epoll_wait {i + 1} of {WAITS}, EOF not read") for i in range(WAITS)]
    eof = c.recv(100)
    after = [c.wait(f"epoll_wait {i + 1} of {WAITS} after reading EOF") for i in range(WAITS)]
    record.fact("rdhup_before_eof", count(before, M.RDHUP))
    record.fact("rdhup_after_eof", count(after, M.RDHUP))
    claim(first == M.IN | M.RDHUP | M.OUT, "FIN reports IN|RDHUP|OUT", c.timeline)
    claim(eof == b"", "recv() returns end of file", c.timeline)
    want = WAITS if c.mode == "LT" else 0
    claim(count(before + after, M.RDHUP) == f"{2 * want} of {2 * WAITS}",
          f"{c.mode}: RDHUP in {2 * want} of {2 * WAITS} later waits", c.timeline)


def epollout_left_armed(c, record):
    """EPOLLOUT left registered on a writable socket: level-triggered reports it at every
    wait (N of N), edge-triggered once, until something wakes the item again.

    libuv kept EPOLLOUT armed in level-triggered mode with nothing to write and ran at 100%
    CPU: every epoll_wait returned at once (the item never leaves the ready list)."""
    for i in range(WAITS):
        c.wait(f"epoll_wait {i + 2} of {WAITS + 1}, nothing written")
    masks = [m for _, _, m in c.reports]
    c.peer_data(b"d" * 100)
    data = c.wait("epoll_wait after data")
    record.fact("out_reports", count(masks, M.OUT))
    want = len(masks) if c.mode == "LT" else 1
    claim(count(masks, M.OUT) == f"{want} of {len(masks)}",
          f"{c.mode}: EPOLLOUT in {want} of {len(masks)} waits (got {count(masks, M.OUT)})", c.timeline)
    claim(data == M.IN | M.OUT, "data on the writable socket reports IN|OUT (the full mask)", c.timeline)


def mod_rearm_while_writable(c, record):
    """EPOLL_CTL_MOD drops EPOLLOUT, then adds it back while the socket is writable: the MOD
    reports EPOLLOUT at the next wait, edge-triggered too (ep_modify() polls and queues).

    pistache re-armed its sockets with EPOLL_CTL_MOD: a loop that waits for a later edge
    after re-arming misses none; this one comes at once."""
    c.modify(NO_OUT)
    dropped = c.wait("epoll_wait after MOD without OUT")
    c.modify(M.READINESS)
    back = c.wait("epoll_wait after MOD adds OUT back")
    again = c.wait("epoll_wait again")
    record.fact("after_rearm", M.name(back))
    claim(dropped == 0, "without OUT registered nothing is reported", c.timeline)
    claim(back == M.OUT, f"re-arming a writable socket reports EPOLLOUT at once (got {M.name(back)})", c.timeline)
    claim(again == (0 if c.mode == "ET" else M.OUT), "then ET is silent, LT reports again", c.timeline)


def mod_rearm_while_full(c, record):
    """EPOLL_CTL_MOD drops and re-adds EPOLLOUT while the send buffer is full: nothing at
    once, and the ACK that frees space reports EPOLLOUT (once in ET): the MOD's poll set
    SOCK_NOSPACE, so the wakeup is armed.

    pistache: a loop that re-arms this way on a full socket must not hang; the kernel keeps
    the write-space wakeup armed across the MOD."""
    c.fill()
    c.wait("epoll_wait while full")
    c.modify(NO_OUT)
    c.wait("epoll_wait after MOD without OUT")
    c.modify(M.READINESS)
    back = c.wait("epoll_wait after MOD adds OUT back, still full")
    since = c.timeline.step
    c.ack_all(ACK_STEP)
    claim(back == 0, "re-arming a full socket reports nothing yet", c.timeline)
    first, _ = claim_single_wakeup(c, c.mode, since, "after re-arming")
    record.fact("waking_ack", first)


def mod_readd_after_space_freed(c, record):
    """EPOLLOUT dropped while full, the peer's ACKs free the space while it is not
    registered (the write-space wakeup finds no matching item: nothing queued), then re-added:
    the MOD's poll reports EPOLLOUT at once.

    pistache: the wakeup a loop missed while EPOLLOUT was off is not lost for good; the MOD
    polls the socket and reports what is ready now."""
    c.fill()
    c.wait("epoll_wait while full")
    c.modify(NO_OUT)
    since = c.timeline.step
    c.ack_all(ACK_STEP)
    silent = [label for _, label in c.out_reports(since_step=since)]
    c.modify(M.READINESS)
    back = c.wait("epoll_wait after MOD adds OUT back")
    record.fact("after_rearm", M.name(back))
    claim(not silent, f"no EPOLLOUT while it is not registered (got it at {silent})", c.timeline)
    claim(back == M.OUT, f"re-adding EPOLLOUT after the space came back reports it at once (got {M.name(back)})",
          c.timeline)


def hup_when_both_sides_shut(c, record):
    """After the peer's FIN, EPOLLHUP comes only once we shut our send side too
    (sk_shutdown == SHUTDOWN_MASK); until then RDHUP is the only sign of the close.

    A loop that waits for EPOLLHUP to close a connection the peer half-closed waits for ever
    (mio/tokio distinguish read-closed from write-closed for this reason)."""
    c.peer_fin()
    fin = c.wait("epoll_wait after FIN")
    c.shutdown(socket.SHUT_WR)
    both = c.wait("epoll_wait after SHUT_WR")
    record.fact("fin_mask", M.name(fin))
    record.fact("both_shut_mask", M.name(both))
    claim(not fin & M.HUP, "no EPOLLHUP after the peer's FIN alone", c.timeline)
    claim(both == M.IN | M.OUT | M.HUP | M.RDHUP, f"both directions shut: IN|OUT|HUP|RDHUP (got {M.name(both)})",
          c.timeline)


SCENARIOS = table("event-loops", fin_on_full_send_buffer, rdhup_with_unread_data, rdhup_every_wait_until_close,
                  epollout_left_armed, mod_rearm_while_writable, mod_rearm_while_full,
                  mod_readd_after_space_freed, hup_when_both_sides_shut)


@pytest.mark.parametrize("script", SCENARIOS)
def test_event_loop_pattern(scripted, mode, family, record, script):
    """Accept (SO_SNDBUF locked so a fill ends in EAGAIN), watch every readiness event, take
    the first report, then run the pattern."""
    run_accepted(scripted, record, script, family=family, waiter=mode, sndbuf=SNDBUF, opts=PEER)
