"""Threads blocked in epoll_wait(): several epoll instances watching one file (with or
without EPOLLEXCLUSIVE), several threads in one instance, or both.

EPOLLEXCLUSIVE is about *sleepers*: ep_poll_callback() returns "woken" for an exclusive item
only when a thread is waiting in that instance (fs/eventpoll.c), and __wake_up_common()
stops after the first exclusive entry that reports a wakeup.  With nobody asleep every item
is queued.  So the observation needs real sleepers, put to sleep one at a time (the order
decides which one a wakeup reaches, :mod:`harness.model.waitqueue`), and a way to tell when
the wakeups of one step are over: every thread has either returned or sleeps again in
ep_poll (a thread that a level-triggered report woke is running, neither).

Each instance also watches an eventfd, level-triggered and never exclusive, that ends the
pool: writing it wakes every instance, and each thread of an instance in turn, without a
deadline to wait out.
"""

from __future__ import annotations

import os
import queue
import select
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from harness.model import masks as M

from .sleeping import sleeping_in, task_state, until, wchan


@dataclass
class Thread:
    index: int
    instance: int
    go: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    waiting: bool = False     # told to enter epoll_wait, not returned yet

    @property
    def tid(self) -> int | None:
        return self.thread.native_id if self.thread is not None else None


@dataclass
class Pool:
    """``instances`` epoll instances with ``sock`` registered for ``events``, and
    ``per_instance`` threads in each (thread index = instance * per_instance + k)."""

    sock: socket.socket
    events: int
    instances: int = 1
    per_instance: int = 1
    deadline: float = 5.0
    eps: list[select.epoll] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    returned: "queue.Queue[tuple[int, int]]" = field(default_factory=queue.Queue)  # (thread, mask)
    stop_fd: int = -1
    stopping: bool = False
    slept: list[int] = field(default_factory=list)  # thread indices, in the order they fell asleep

    def start(self) -> None:
        self.stop_fd = os.eventfd(0, os.EFD_NONBLOCK)
        for i in range(self.instances):
            ep = select.epoll()
            ep.register(self.sock.fileno(), self.events)
            ep.register(self.stop_fd, M.IN)
            self.eps.append(ep)
            for k in range(self.per_instance):
                t = Thread(i * self.per_instance + k, i)
                t.thread = threading.Thread(target=self._run, args=(t,), daemon=True, name=f"waiter-{t.index}")
                self.threads.append(t)
                t.thread.start()

    def _run(self, t: Thread) -> None:
        ep = self.eps[t.instance]
        while True:
            t.go.wait()
            t.go.clear()
            if self.stopping:
                return
            mask = 0
            stop = False
            for fd, ev in ep.poll(self.deadline, 4):
                if fd == self.stop_fd:
                    stop = True
                else:
                    mask |= ev
            self.returned.put((t.index, M.visible(mask)))
            if stop:
                return

    def asleep(self, t: Thread) -> bool:
        return t.waiting and task_state(t.tid).state == "S" and sleeping_in(t.tid, "do_epoll_wait", "ep_poll")

    def sleep(self, *indices: int) -> None:
        """Send these threads into epoll_wait, one at a time, each asleep before the next."""
        for index in indices:
            t = self.threads[index]
            assert not t.waiting, f"thread {index} is already in epoll_wait"
            t.waiting = True
            t.go.set()
            if not until(lambda: self.asleep(t), self.deadline):
                raise AssertionError(f"thread {index} never blocked in epoll_wait: {wchan(t.tid)}")
            self.slept.append(index)

    def settle(self) -> list[tuple[int, int]]:
        """The threads that returned since the last call, as (thread, mask), once every thread
        told to wait has either returned or sleeps in ep_poll again."""
        out: list[tuple[int, int]] = []

        def quiet() -> bool:
            while True:
                try:
                    index, mask = self.returned.get_nowait()
                except queue.Empty:
                    break
                self.threads[index].waiting = False
                if index in self.slept:
                    self.slept.remove(index)
                out.append((index, mask))
            return all(self.asleep(t) for t in self.threads if t.waiting)

        if not until(quiet, self.deadline):
            raise AssertionError("waiters never settled: " + "; ".join(
                f"{t.index}:{task_state(t.tid).state}:{wchan(t.tid)}" for t in self.threads if t.waiting))
        return out

    def stop(self) -> None:
        self.stopping = True
        if self.stop_fd >= 0:
            os.eventfd_write(self.stop_fd, 1)
        for t in self.threads:
            t.go.set()
        for t in self.threads:
            if t.thread is not None:
                t.thread.join(self.deadline + 1)
        for ep in self.eps:
            ep.close()
        if self.stop_fd >= 0:
            os.close(self.stop_fd)


@contextmanager
def pool(sock: socket.socket, events: int, instances: int = 1, per_instance: int = 1,
         deadline: float = 5.0) -> Iterator[Pool]:
    """Start the threads (none waits yet); on exit end them through the eventfd."""
    p = Pool(sock, events, instances, per_instance, deadline)
    try:
        p.start()
        yield p
    finally:
        p.stop()


@dataclass
class Sleepers:
    """One thread asleep in each of ``n`` instances; ``collect(count)`` waits for returns.
    (The listener scenario's interface, on top of :class:`Pool`.)"""

    p: Pool
    step: int = 0
    results: list[tuple[int, int, int]] = field(default_factory=list)  # (instance, step, mask)

    def collect(self, count: int) -> list[tuple[int, int, int]]:
        until(lambda: self._drain() >= count, self.p.deadline)
        return list(self.results)

    def _drain(self) -> int:
        for index, mask in self.p.settle():
            self.results.append((self.p.threads[index].instance, self.step, mask))
        return len(self.results)


@contextmanager
def sleepers(sock: socket.socket, n: int, events: int, deadline: float = 5.0) -> Iterator[Sleepers]:
    with pool(sock, events, instances=n, deadline=deadline) as p:
        p.sleep(*range(n))
        yield Sleepers(p)
