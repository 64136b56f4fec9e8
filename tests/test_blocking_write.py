"""The seed's blocking write (packetdrill tcp/blocking/blocking-write.pkt), made exact.

A peer with mss 1000, window 50000, wscale 0; SO_SNDBUF 21000 (42000 after the kernel
doubles it); a blocking send() of 61000 bytes.  The writer sleeps in sk_stream_wait_memory()
with SOCK_NOSPACE set; the peer ACKs 10001, then 30001, then one MSS at a time.  The writer
must wake at the first ACK after which the socket is writable by its own accounting
(free >= queued/2).  The same wakeup must reach an edge-triggered epoll waiter on the
writer's own socket at that ACK.  An ET waiter on a twin connection driven by the same
script must get its EPOLLOUT at the first ACK its own accounting allows; that is the
writer's ACK whenever the two connections' accounting agreed up to it.  (It need not: on
some kernels the blocking path leaves the same bytes in skbs with more truesize; the report
records both ACKs and the difference.)  Which ACK wakes depends on the kernel's skb
accounting: the report records it (``waking_ack``), the test derives it.

Since 4bfe744ff164 (5.18; stable 5.10.114) the write-space test also runs after each skb an
ACK lets the kernel send, before later tso_fragment() splits add their skb heads back: the
writer can be woken at an ACK after which the accounting says "not writable" (a transient
wakeup; it goes on writing while queued < sndbuf), while the ET item that wakeup queues
finds no EPOLLOUT on its re-poll.  A kernel witness (kprobes, inside the guests) shows each
such call and the verdict holds the kernel to it; without one the wakeup is accepted only
inside the bound the accounting allows (harness.cases.inside_ack).
"""

import pytest

from harness.cases.blocking import ack_blocked_writer, blocked_writer
from harness.cases.case import Case
from harness.cases.claims import claim_woken_as_the_model_allows, first_required, first_wakeup
from harness.cases.inside_ack import InsideAck, rt_unthrottled
from harness.cases.scripted import FAMILIES
from harness.cases.verdict import claim, flag_unexplained_wakeups, settle
from harness.model import masks as M
from harness.peers.tunpeer import PeerOptions
from harness.sockets.writer import waker_runs_first

SEED_PEER = PeerOptions(mss=1000, window=50000, wscale=0)
SEED_SNDBUF = 21000
SEED_TOTAL = 61000
SEED_FIRST_ACKS = (10001, 30001)
STEP = 1000


def seed_script(c: Case, on_ack) -> None:
    """ACK 10001, 30001, then every 1000 until all is acknowledged.

    An ACK can only cover what the kernel has sent (cwnd and pacing decide): each target is
    capped at that, and the cap is recorded on the timeline.
    """
    targets = list(SEED_FIRST_ACKS)
    while True:
        c.conn.wait_until_sent(c.sent_end)
        if c.conn.acked >= c.conn.received_end and not targets:
            if c.sock.getblocking() and not c.last.outq:
                break
            if c.last.outq == 0 and c.accepted >= SEED_TOTAL:
                break
        target = targets.pop(0) if targets else c.conn.acked + STEP
        ack = min(target, c.conn.received_end)
        if ack <= c.conn.acked:
            c.conn.wait_until_sent(c.sent_end)
            if c.conn.received_end <= c.conn.acked:
                break
            continue
        on_ack(ack)


@pytest.mark.sched_fifo
@pytest.mark.parametrize("layout", ["pinned", "natural"], ids=["pinned-layout", "natural-layout"])
def test_blocking_writer_wakes_at_first_writable_ack(scripted, cc, family, record, pytestconfig, layout):
    c = scripted.accept(family, cc, sndbuf=SEED_SNDBUF, opts=SEED_PEER, blocking=True,
                        title="blocking send(61000)")
    c.inside = InsideAck(c.sock, c.timeline, scripted.net.ns.socket, FAMILIES[family],
                         record.conditions.get("gso_max_segs"))
    c.register(M.OUT)  # an ET waiter on the writer's own socket: same wait queue, same wakeup
    c.wait()
    wakes: list[int] = []
    with rt_unthrottled(), waker_runs_first() as cpu, blocked_writer(c, SEED_TOTAL, cpu) as w:
        accepted_before_block = c.last.outq
        c.timeline.add("note", f"writer asleep in sk_stream_wait_memory after {accepted_before_block} bytes")

        def on_ack(ack: int) -> None:
            if ack_blocked_writer(c, w, ack):
                wakes.append(ack)

        seed_script(c, on_ack)
    w.join()
    flag_unexplained_wakeups(record, c.timeline, "writer woken")
    settle(c.timeline)
    first = first_wakeup(c.series)
    wake = next((s for s in c.series if s["ack"] == first), None)
    visible = first_wakeup(c.series, visible=True)
    record.fact("mode", "blocking")
    record.fact("bytes_before_block", accepted_before_block)
    record.fact("waking_ack", first)
    record.fact("wakes", wakes)
    record.fact("wmem_queued_at_wake", wake and wake["wmem_queued"])
    record.fact("sndbuf_at_wake", wake and wake["sndbuf"])
    record.fact("first_epollout_ack", visible)
    c.inside.facts(record, c.series)
    for s in c.series:  # the observed wakeups, for the plots
        s["epollout"] = s["ack"] in wakes
    record.series = c.series
    claim(w.result == SEED_TOTAL, f"the blocking send returned {SEED_TOTAL} (got {w.result!r})", c.timeline)
    claim(bool(wakes), f"the writer woke (the model requires it first at ACK {first_required(c.series)})",
          c.timeline)
    claim_woken_as_the_model_allows([s for s in c.series if s["ack"] <= wakes[0]], wakes[0],
                                    "the writer's first sleep", c.timeline)
    own = [int(label.split()[1]) for _, label in c.out_reports(since_step=2)]
    claim(own[:1] == [visible], f"the ET waiter on the writer's socket got EPOLLOUT at the first ACK that woke "
          f"the writer with the socket writable after it ({own[:1]} vs {visible}; the writer woke at {wakes})",
          c.timeline)

    c.inside.close()  # one witness at a time: the twin's probes use the same event names
    twin, twin_series = _et_twin(scripted, cc, family, record.conditions.get("gso_max_segs"))
    record.fact("twin_et_wakes", twin)
    diff = {s["ack"]: t["wmem_queued"] - s["wmem_queued"] for s, t in zip(c.series, twin_series)
            if s["ack"] == t["ack"] and s["ack"] <= visible and s["wmem_queued"] != t["wmem_queued"]}
    record.fact("twin_wmem_queued_delta", diff or None)
    if not diff:
        claim(twin[:1] == own[:1], f"with the same accounting, an ET waiter on a twin connection wakes "
              f"where the writer's own ET waiter does: {twin} vs {own[:1]}", c.timeline)


def _et_twin(scripted, cc, family, gso_max_segs) -> tuple[list[int], list[dict]]:
    """The same script with a non-blocking writer and an edge-triggered waiter that writes
    the rest of the 61000 bytes each time EPOLLOUT comes.  Returns the ACKs that woke it,
    each checked against the rule on the twin's own accounting, and its series."""
    c = scripted.accept(family, cc, sndbuf=SEED_SNDBUF, opts=SEED_PEER, title="ET twin")
    c.inside = InsideAck(c.sock, c.timeline, scripted.net.ns.socket, FAMILIES[family], gso_max_segs)
    c.register(M.OUT)
    c.wait()
    c.send(SEED_TOTAL)
    c.wait("epoll_wait while out of space")
    wakes: list[int] = []

    def on_ack(ack: int) -> None:
        c.ack(ack)
        if c.wait(None) & M.OUT:
            wakes.append(ack)
            if c.accepted < SEED_TOTAL:
                c.send(SEED_TOTAL - c.accepted)

    seed_script(c, on_ack)
    settle(c.timeline)
    claim(c.accepted == SEED_TOTAL, f"the twin wrote all {SEED_TOTAL} bytes", c.timeline)
    first = first_wakeup(c.series, visible=True)
    claim(wakes[:1] == [first], f"the twin woke at the first ACK its accounting allows ({first})", c.timeline)
    return wakes, c.series
