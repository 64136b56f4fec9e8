"""One ACK to a case whose socket has a blocking writer, checked against the rule.

The writer sleeps in sk_stream_wait_memory() (net/core/stream.c) until
sk_stream_write_space() wakes it; whether an ACK woke it is read from the thread's own state
right after the ACK was processed (see :mod:`harness.sockets.writer`: with
``waker_runs_first`` the woken writer cannot run before that read).
"""

from __future__ import annotations

from harness.sockets.writer import BlockingWriter


def start_blocked_writer(c, total: int, cpu: int) -> BlockingWriter:
    """Start one blocking send() of ``total`` bytes on the case's socket in a thread on
    ``cpu``, wait until it sleeps for send space (or returned), and tell the model: a
    writer going to sleep sets SOCK_NOSPACE."""
    w = BlockingWriter(c.sock, total, cpu=cpu)
    c.timeline.begin(f"send({total}) in a thread")
    w.start()
    w.settled()
    c.conn.drain()
    c.model.sent("blocked", c.snap())
    return w


def ack_blocked_writer(c, w: BlockingWriter, ack: int, why: str = "write-space wakeup") -> bool:
    """ACK up to ``ack``; check "writer woken" against the model's wakeup; let a woken
    writer run until it sleeps again (SOCK_NOSPACE set again) or returns.  Returns whether
    the writer woke."""
    before = None if w.done.is_set() else w.state()
    required = c.ack(ack)
    woke = before is not None and w.woke_since(before)
    c.timeline.check("writer woken", required, woke, why if required else "no write-space wakeup")
    c.wait(None)  # before the writer runs (waker_runs_first): the state at the wakeup
    if woke:
        st = w.settled(since=before.voluntary)
        c.conn.drain()
        acct = c.snap()
        c.timeline.add("note", "writer returned" if st is None else "writer asleep again")
        if st is not None:
            c.model.sent("blocked", acct)
    return woke
