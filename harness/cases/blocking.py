"""One ACK to a case whose socket has a blocking writer, checked against the rule.

The writer sleeps in sk_stream_wait_memory() (net/core/stream.c) until
sk_stream_write_space() wakes it; whether an ACK woke it is read from the thread's own state
right after the ACK was processed (see :mod:`harness.sockets.writer`: with
``waker_runs_first`` the woken writer cannot run before that read).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from harness.sockets.writer import BlockingWriter

from .inside_ack import accepted_on_bound


def accepted(acct) -> int:
    """Bytes the kernel took from send() so far: acknowledged data plus SIOCOUTQ."""
    return acct.info.get("bytes_acked", 1) - 1 + acct.outq


@contextmanager
def blocked_writer(c, total: int, cpu: int) -> Iterator[BlockingWriter]:
    """Start one blocking send() of ``total`` bytes on the case's socket in a thread on
    ``cpu`` (inside ``waker_runs_first()``: the writer runs behind it), wait until it sleeps
    for send space (or returned), and tell the model: a writer going to sleep sets
    SOCK_NOSPACE."""
    w = BlockingWriter(c.sock, total, cpu=cpu)
    c.timeline.begin(f"send({total}) in a thread")
    w.start()
    with w.behind_waker():
        w.settled()
        c.conn.drain()
        c.model.sent("blocked", c.snap())
        yield w


def ack_blocked_writer(c, w: BlockingWriter, ack: int, why: str = "write-space wakeup") -> bool:
    """ACK up to ``ack``; check "writer woken" against the model's wakeup (through the
    case's witness or bound of the tests inside the ACK, where it has one: a transient
    wakeup is then a verdict of its own); let a woken writer run until it sleeps again
    (SOCK_NOSPACE set again) or returns, and check it went on writing exactly while
    sk_stream_memory_free() held.  Returns whether the writer woke."""
    before = None if w.done.is_set() else w.state()
    required = c.ack(ack)
    woke = before is not None and w.woke_since(before)
    if before is not None:
        if c.inside is not None:
            c.inside.check(ack, c.model, woke, "writer woken", w.tid)
            if woke and c.model.ack_outcome.undecided:  # allowed inside the bound, accepted on it
                c.model.transient_observed(True)
                c.series[-1]["transient"] = True
                accepted_on_bound(c.series[-1], c.series[-1].get("bound"))
        else:
            c.timeline.check("writer woken", required, woke, why if required else "no write-space wakeup")
    c.wait(None)  # before the writer runs (waker_runs_first): the state at the wakeup
    if woke:
        at_wake = c.last
        st = w.settled(since=before.voluntary)
        c.conn.drain()
        acct = c.snap()
        c.timeline.check("the woken writer wrote on", c.model.writer_continues(at_wake),
                         accepted(acct) > accepted(at_wake),
                         "sk_stream_wait_memory() returns while sk_stream_memory_free()")
        c.timeline.add("note", "writer returned" if st is None else "writer asleep again")
        if st is not None:
            c.model.sent("blocked", acct)
    return woke
