"""Threads blocked in epoll_wait() on several epoll instances watching one file.

EPOLLEXCLUSIVE is about *sleepers*: ep_poll_callback() returns "woken" for an exclusive item
only when a thread is waiting in that instance (fs/eventpoll.c), and __wake_up_common()
stops after the first exclusive entry that reports a wakeup.  With nobody asleep every item
is queued.  So the observation needs real sleepers: one thread per instance, each doing one
blocking epoll_wait() with a deadline and noting the step at which it returned.
"""

from __future__ import annotations

import queue
import select
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from harness.model import masks as M

from .sleeping import sleeping_in, until, wchan


@dataclass
class Sleepers:
    """``n`` epoll instances, each with ``sock`` registered and one thread asleep in it."""

    sock: socket.socket
    n: int
    events: int
    deadline: float = 5.0
    eps: list[select.epoll] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    woken: "queue.Queue[tuple[int, int, int]]" = field(default_factory=queue.Queue)  # (instance, step, mask)
    step: int = 0
    results: list[tuple[int, int, int]] = field(default_factory=list)

    def start(self) -> None:
        started = threading.Barrier(self.n + 1)
        for i in range(self.n):
            ep = select.epoll()
            ep.register(self.sock.fileno(), self.events)
            self.eps.append(ep)
            t = threading.Thread(target=self._sleep, args=(i, ep, started), daemon=True, name=f"sleeper-{i}")
            self.threads.append(t)
            t.start()
        started.wait(self.deadline)
        self._until_asleep()

    def _until_asleep(self) -> None:
        """Wait (deadline) until every thread sleeps inside epoll_wait.

        A thread that has not reached epoll_wait yet is no sleeper: the callback would queue
        the item without counting a wakeup, and the thread would find it on arrival.
        """
        def all_asleep() -> bool:
            return all(sleeping_in(t.native_id, "do_epoll_wait", "ep_poll") for t in self.threads)

        if not until(all_asleep, self.deadline):
            raise AssertionError("sleepers never all blocked in epoll_wait: "
                                 + "; ".join(wchan(t.native_id) for t in self.threads))

    def _sleep(self, i: int, ep: select.epoll, started: threading.Barrier) -> None:
        started.wait(self.deadline)
        mask = 0
        for _, ev in ep.poll(self.deadline):
            mask |= ev
        self.woken.put((i, self.step, M.visible(mask)))

    def collect(self, count: int) -> list[tuple[int, int, int]]:
        """Wait (with the deadline) until ``count`` sleepers in all have returned."""
        while len(self.results) < count:
            try:
                self.results.append(self.woken.get(timeout=self.deadline))
            except queue.Empty:
                break
        return list(self.results)

    def asleep(self) -> list[int]:
        """Indices of instances whose thread has not returned, as far as has been collected."""
        done = {i for i, _, _ in self.results}
        return [i for i in range(self.n) if i not in done]

    def stop(self) -> None:
        for t in self.threads:
            t.join(self.deadline + 1)
        for ep in self.eps:
            ep.close()


@contextmanager
def sleepers(sock: socket.socket, n: int, events: int, deadline: float = 5.0) -> Iterator[Sleepers]:
    """Start the sleepers; on exit join them (each ends by its deadline at the latest)."""
    s = Sleepers(sock, n, events, deadline)
    try:
        s.start()
        yield s
    finally:
        s.stop()
