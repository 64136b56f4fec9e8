"""Several waiters on one socket: how many one wakeup makes return from epoll_wait, and which.

Three arrangements an event loop uses to share a socket between workers:

* ``threads-one-instance``: several threads in ``epoll_wait`` on one epoll instance (a thread
  pool around one loop; nginx with a shared epoll, Java NIO selectors shared by threads);
* ``instances-exclusive``: one instance per worker, each registering the socket with
  ``EPOLLEXCLUSIVE`` (nginx ``accept_mutex off`` on 1.11.3+, gunicorn's gthread workers);
* ``instances-shared``: one instance per worker without it (the thundering herd).

The kernel's rules are in :mod:`harness.model.waitqueue` (fs/eventpoll.c ep_poll_callback(),
ep_poll(), ep_done_scan(); kernel/sched/wait.c __wake_up_common()).  Each case puts the
threads to sleep one at a time (the order decides who is woken), makes one wakeup (a data
segment, a connection, an ACK that frees send space), waits until every thread has either
returned or sleeps again, and checks the set of threads that returned against the model.
In level-triggered mode a thread's report puts the item back on the ready list and wakes the
next thread of its instance, so all of them wake while the readiness lasts (nobody read the
data); edge-triggered wakes one.  The distribution over several connections is recorded as
a fact: nginx and gunicorn saw one worker take most connections, which is what the order
of the queues predicts (exclusive items are visited in registration order; threads in one
instance are woken last-asleep first).

These are epoll objects: poll() and select() callers on one socket are all woken
(``poll_select`` fact).
"""

from __future__ import annotations

import pytest

from harness.cases.verdict import claim, settle
from harness.model import masks as M
from harness.model import waitqueue as W
from harness.peers.tunpeer import PeerOptions
from harness.sockets.exclusive import pool

PEER = PeerOptions(mss=1000, window=65535, wscale=0)
SNDBUF = 4608          # doubled by the kernel: little enough that a fill is all in flight
WAITERS = 3
ROUNDS = 6
ARRANGEMENTS = {        # (instances, threads per instance, EPOLLEXCLUSIVE)
    "threads-one-instance": (1, WAITERS, False),
    "instances-exclusive": (WAITERS, 1, True),
    "instances-shared": (WAITERS, 1, False),
}
TRIGGERS = {"data": M.IN, "connection": M.IN, "ack": M.OUT}
NO_POLL = "n/a: poll()/select() callers have no exclusive wait; every caller on the socket wakes"


class Setup:
    """The socket under test for one trigger, with the case (and its own watch) the step
    checks run on; ``fire()`` makes one wakeup and returns the key and whether the
    readiness lasts after it."""

    def __init__(self, scripted, family: str, mode: str, trigger: str):
        self.trigger = trigger
        self.listener = None
        if trigger == "connection":
            self.listener = scripted.listen(family, waiter=mode)
            self.case = self.listener.case
            self.case.register(M.IN)
        else:
            self.case = scripted.accept(family, waiter=mode, opts=PEER,
                                        sndbuf=SNDBUF if trigger == "ack" else None)
            self.case.register(M.READINESS)
            self.case.wait("epoll_wait after ADD")
            if trigger == "ack":
                self.case.fill()
                self.case.wait("epoll_wait while out of space")

    def fire(self) -> tuple[int, bool]:
        c = self.case
        if self.trigger == "data":
            c.peer_data(b"d" * 100)
            return M.KEY_DATA_READY, True
        if self.trigger == "connection":
            self.listener.peer_connects()
            return M.KEY_DATA_READY, True
        c.conn.wait_until_sent(c.sent_end)
        woke = c.ack(c.conn.received_end)
        c.wait(None)
        return (M.KEY_WRITE_SPACE if woke else -1), bool(c.model.poll(c.last) & M.OUT)

    def consume(self) -> None:
        """Take what the wakeup announced, so the next round starts from nothing ready."""
        if self.trigger == "data":
            self.case.recv(1000)
        elif self.trigger == "connection":
            self.listener.accept()


def instances_model(arrangement: str, mode: str, events: int) -> list[W.Instance]:
    n, _, exclusive = ARRANGEMENTS[arrangement]
    return [W.Instance(i, exclusive, mode == "ET", events) for i in range(n)]


def registered(arrangement: str, mode: str, trigger: str) -> int:
    return TRIGGERS[trigger] | (M.ET if mode == "ET" else 0) | (M.EXCLUSIVE if ARRANGEMENTS[arrangement][2] else 0)


def one_wakeup(p, model: list[W.Instance], setup: Setup) -> tuple[list[int], list[int], list[int]]:
    """Fire once; (threads that returned, threads the model wakes, their masks)."""
    key, lasts = setup.fire()
    got = p.settle()
    expected = [] if key < 0 else [t for _, t in W.wake(model, key, still_ready=lasts)]
    return sorted(t for t, _ in got), sorted(expected), [m for _, m in got]


@pytest.mark.parametrize("trigger", list(TRIGGERS))
@pytest.mark.parametrize("arrangement", list(ARRANGEMENTS))
def test_one_wakeup(scripted, mode, family, record, arrangement, trigger):
    """Three waiters asleep, one wakeup (one data segment, one connection, one ACK that frees
    the send buffer): which threads return.  ET with one instance or EPOLLEXCLUSIVE: one;
    LT on one instance: all three, each report waking the next; separate instances without
    EPOLLEXCLUSIVE: all three."""
    s = Setup(scripted, family, mode, trigger)
    events = registered(arrangement, mode, trigger)
    n, per, _ = ARRANGEMENTS[arrangement]
    model = instances_model(arrangement, mode, events)
    with pool(s.case.sock, events, n, per) as p:
        for t in range(WAITERS):
            p.sleep(t)
            model[p.threads[t].instance].sleepers.append(t)
        woken, expected, masks = one_wakeup(p, model, s)
    settle(s.case.timeline)
    record.fact("mode", mode)
    record.fact("woken", f"{len(woken)} of {WAITERS}")
    record.fact("woken_threads", woken)
    record.fact("woken_masks", [M.name(m) for m in masks])
    record.fact("poll_select", NO_POLL)
    claim(woken == expected, f"{arrangement}, {mode}: one {trigger} wakes threads {expected} "
          f"(slept in order 0, 1, 2), observed {woken}", s.case.timeline)
    claim(all(m & TRIGGERS[trigger] for m in masks), "every woken thread reports the event", s.case.timeline)


@pytest.mark.parametrize("arrangement", ["threads-one-instance", "instances-exclusive"])
def test_distribution(scripted, mode, family, record, arrangement):
    """Six connections to a listener, each accepted by the main thread before the woken
    worker goes back to sleep: how they spread over three workers.  The queues' order
    decides: EPOLLEXCLUSIVE visits items in registration order, so the first worker takes
    every connection while it is asleep when one arrives (the skew nginx and gunicorn
    reported); threads in one instance wake last-asleep first, so the worker that just went
    back to sleep takes the next one.  In LT every thread of the instance wakes each time."""
    s = Setup(scripted, family, mode, "connection")
    events = registered(arrangement, mode, "connection")
    n, per, _ = ARRANGEMENTS[arrangement]
    model = instances_model(arrangement, mode, events)
    counts = [0] * WAITERS
    expected_counts = [0] * WAITERS
    with pool(s.case.sock, events, n, per) as p:
        asleep = list(range(WAITERS))
        for _ in range(ROUNDS):
            for t in asleep:
                p.sleep(t)
                model[p.threads[t].instance].sleepers.append(t)
            woken, expected, _ = one_wakeup(p, model, s)
            claim(woken == expected, f"connection wakes {expected}, observed {woken}", s.case.timeline)
            for t in woken:
                counts[t] += 1
            for t in expected:
                expected_counts[t] += 1
            s.consume()
            for item in model:
                item.ready = False   # accepted: the next re-poll finds the queue empty
            asleep = woken
    settle(s.case.timeline)
    record.fact("mode", mode)
    record.fact("distribution", counts)
    record.fact("poll_select", NO_POLL)
    claim(counts == expected_counts, f"{ROUNDS} connections spread as {expected_counts}, "
          f"observed {counts}", s.case.timeline)
