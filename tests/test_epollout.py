"""When epoll reports EPOLLOUT on a TCP socket, step by step, against the scripted peer.

The kernel's rule (net/ipv4/tcp.c tcp_poll, net/core/stream.c sk_stream_write_space,
net/ipv4/tcp_input.c tcp_check_space): a socket is writable when free >= queued/2 (and
queued < sndbuf, and unsent bytes under TCP_NOTSENT_LOWAT).  EPOLLOUT is *delivered* by a
write-space wakeup, which an ACK triggers only if the writer ran out of space before
(EAGAIN, a short write, or a poll that found the socket unwritable set SOCK_NOSPACE).
Every wait below is checked against the rule engine fed with the accounting read at that
step; each scenario also asserts its own claim directly.  poll() and select() run the same
scenarios: they have no edge mode, so they must agree with level-triggered epoll at every
step (the case checks each of their waits against an LT epoll watch of the same socket).
io_uring poll requests run them too (harness.model.uring): a multishot request completes once
per wakeup like ET, with the wakeup's key as its mask; a one-shot request that the waiter
re-arms at each wait polls when armed, and reports like LT.
"""

import pytest

from harness.cases.claims import claim_single_wakeup, first_writable_ack, record_completions, wakeup_driven
from harness.cases.verdict import claim, settle
from harness.model import masks as M
from harness.model.rules import writeable
from harness.peers.tunpeer import PeerOptions
from harness.sockets.waiters import WAITERS_AND_URING

MSS = 1000
SNDBUF = 21000  # the kernel doubles it: 42000 bytes of sndbuf, locked against autotuning
PEER = PeerOptions(mss=MSS, window=65535, wscale=0)


@pytest.fixture(params=WAITERS_AND_URING)
def waiter(request: pytest.FixtureRequest) -> str:
    """The conftest's waiters and the io_uring poll requests, one-shot and multishot."""
    return request.param


def test_first_epollout_after_accept(scripted, waiter, cc, family, record):
    """accept() + EPOLL_CTL_ADD: the ADD polls a writable socket and queues the item.

    ET reports EPOLLOUT once and then nothing; LT reports it on every wait.
    """
    c = scripted.accept(family, cc, opts=PEER, waiter=waiter)
    c.register()
    for _ in range(3):
        c.wait()
    settle(c.timeline)
    outs = [m for _, _, m in c.reports]
    record_completions(record, c)
    claim(outs[0] == M.OUT, "the first wait after ADD reports EPOLLOUT", c.timeline)
    claim(outs[1:] == ([0, 0] if wakeup_driven(waiter) else [M.OUT, M.OUT]),
          "ET: nothing after the first report; LT: EPOLLOUT on every wait", c.timeline)
    record.fact("masks", [M.name(m) for m in outs])


def test_first_epollout_after_connect(scripted, waiter, cc, family, record):
    """Non-blocking connect(), registered while SYN_SENT (tcp_poll reports nothing there).

    The SYN-ACK completes the connection; sk_state_change wakes the item: EPOLLOUT once in
    ET, on every wait in LT.
    """
    d = scripted.dial(family, cc, opts=PEER, waiter=waiter)
    c = d.case
    c.register()
    c.wait("epoll_wait while SYN_SENT")
    d.complete()
    for _ in range(3):
        c.wait()
    settle(c.timeline)
    outs = [m for _, _, m in c.reports]
    record_completions(record, c)
    claim(outs[0] == 0, "nothing is reported while the connection is in SYN_SENT", c.timeline)
    claim(outs[1] == M.OUT, "connection established: EPOLLOUT", c.timeline)
    claim(outs[2:] == ([0, 0] if wakeup_driven(waiter) else [M.OUT, M.OUT]),
          "ET: once; LT: on every wait", c.timeline)
    record.fact("masks", [M.name(m) for m in outs])


def test_small_write_then_acks(scripted, waiter, cc, family, record):
    """A write that fits never runs out of space: its ACKs wake nobody (ET silent), LT
    keeps reporting EPOLLOUT because the socket stays writable."""
    c = scripted.accept(family, cc, sndbuf=SNDBUF, opts=PEER, waiter=waiter)
    c.register()
    c.wait()
    claim(c.send(3 * MSS) == "full", "a 3000-byte write fits", c.timeline)
    c.wait("epoll_wait after the write")
    c.ack_all(MSS)
    settle(c.timeline)
    acks = c.out_reports(since_step=3)
    record_completions(record, c)
    if wakeup_driven(waiter):
        claim(acks == [], f"{waiter}: no EPOLLOUT from the ACKs of a write that fitted", c.timeline)
    else:
        claim(len(acks) == len(c.series) + 1, f"{waiter}: EPOLLOUT at every wait", c.timeline)
    record.fact("et_epollout_from_acks", len(acks) if wakeup_driven(waiter) else None)


@pytest.mark.parametrize("write,layout", [("eagain", "pinned"), ("short", "pinned"), ("eagain", "natural")],
                         ids=["fill-until-eagain", "one-short-write", "fill-until-eagain-natural-layout"])
def test_out_of_space_then_acks(scripted, waiter, cc, family, record, write, layout):
    """Run out of space (EAGAIN after filling, or a single short write), then the peer
    acknowledges one MSS at a time.  Both set SOCK_NOSPACE in tcp_sendmsg's wait_for_space,
    so the first ACK after which free >= queued/2 holds delivers EPOLLOUT.

    With the pinned layout (one MSS per skb) which ACK that is is a property of the kernel's
    accounting; the natural layout keeps the TSO chunks the pacing rate makes, so its ACK
    moves with the RTT the kernel measured (recorded with the facts)."""
    c = scripted.accept(family, cc, sndbuf=SNDBUF, opts=PEER, waiter=waiter)
    accepted = c.run_out_of_space(write)
    since = c.timeline.step
    c.ack_all(MSS)
    settle(c.timeline)
    record.series = c.series
    record.fact("bytes_before_eagain" if write == "eagain" else "bytes_accepted", accepted)
    record_wake(record, c, first_writable_ack(c))
    record.fact("observed_epollout", [label for _, label in c.out_reports(since_step=since)])
    record_completions(record, c)
    claim_single_wakeup(c, waiter, since, write)


def record_wake(record, c, ack) -> None:
    """The first ACK after which the accounting allows a wakeup, and the accounting there:
    recorded before any claim, so a failing case keeps them."""
    wake = next((s for s in c.series if s["ack"] == ack), None)
    record.fact("waking_ack", ack)
    record.fact("wmem_queued_at_wake", wake and wake["wmem_queued"])
    record.fact("sndbuf_at_wake", wake and wake["sndbuf"])


@pytest.mark.parametrize("arm", [None, "ctl-mod"], ids=["no-poll-while-full", "epoll-ctl-mod"])
def test_full_without_eagain(scripted, waiter, cc, family, record, arm):
    """Writes that all fit, until the socket is unwritable by its own accounting, but no
    EAGAIN and no short write.  If nobody polls it while unwritable, SOCK_NOSPACE is never
    set: ACKs deliver no ET EPOLLOUT even when all is acknowledged.  An EPOLL_CTL_MOD on the
    unwritable socket runs tcp_poll, which arms the wakeup.  In LT the waits after each ACK
    re-poll the item (it stays on the ready list), so the first of them arms it: LT gets
    EPOLLOUT from the first ACK that makes the socket writable, in both variants."""
    edge = wakeup_driven(waiter)
    c = scripted.accept(family, cc, sndbuf=SNDBUF, opts=PEER, waiter=waiter)
    c.register()
    c.wait()
    while writeable(c.last, wake=True):
        claim(c.send(MSS) == "full", "every write fits (no EAGAIN, no short write)", c.timeline)
    if arm == "ctl-mod":
        c.modify()
        c.wait("epoll_wait after MOD on the unwritable socket")
    since = c.timeline.step
    c.ack_all(MSS)
    settle(c.timeline)
    record.fact("bytes_written", c.accepted)
    record_completions(record, c)
    if edge and arm is None:
        claim(c.out_reports(since) == [], f"{waiter}: no EPOLLOUT when nothing armed the wakeup", c.timeline)
        record.fact("waking_ack", None)
    else:
        record_wake(record, c, first_writable_ack(c))
        claim_single_wakeup(c, waiter, since, arm or "lt-wait")


def test_data_on_writable_socket_reports_full_mask(scripted, waiter, cc, family, record):
    """Data arriving wakes the item with an EPOLLIN key, but epoll_wait re-polls and
    reports the whole current mask: EPOLLIN|EPOLLOUT, in ET too (fs/eventpoll.c).

    A multishot io_uring poll request does not re-poll: it completes with the wakeup's key
    (io_poll_wake() keeps it as the result), EPOLLIN without EPOLLOUT."""
    c = scripted.accept(family, cc, opts=PEER, waiter=waiter)
    c.register()
    c.wait()
    c.wait()
    c.peer_data(b"x" * 100)
    got = c.wait("epoll_wait after data")
    settle(c.timeline)
    record_completions(record, c)
    if waiter == "uring-multishot":
        claim(got == M.IN, "multishot poll: data on a writable socket completes with EPOLLIN, the "
              "wakeup's key, not the full mask", c.timeline)
    else:
        claim(got == M.IN | M.OUT, "data on a writable socket reports EPOLLIN|EPOLLOUT", c.timeline)
    record.fact("masks", [M.name(m) for _, _, m in c.reports])
