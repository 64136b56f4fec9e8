"""The waiting mechanisms a scenario can run under: epoll (ET or LT), poll() and select(),
and io_uring poll requests (:mod:`harness.sockets.uring`).

All have the interface of :class:`harness.sockets.epoll.Watch` (``add``, ``mod``, ``wait``,
``close``), so a scenario is written once and parametrized by the mechanism.  poll() and
select() keep no state in the kernel between calls: each call runs tcp_poll() (fs/select.c
do_pollfd, do_select), which is what level-triggered epoll does for an item on its ready
list.  They have no edge mode.
"""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass, field

from harness.model import masks as M
from harness.record.timeline import Timeline

from .epoll import Watch
from .uring import URING_WAITERS, UringWatch

# The waiter parameter of the scenarios: epoll edge- and level-triggered, poll, select; and
# io_uring poll requests, one-shot and multishot (harness.sockets.uring).
WAITERS = ("ET", "LT", "poll", "select")
WAITERS_AND_URING = WAITERS + URING_WAITERS


def mechanism(waiter: str) -> str:
    """'epoll', 'poll', 'select', 'uring-oneshot' or 'uring-multishot' for a waiter name."""
    return "epoll" if waiter in ("ET", "LT") else waiter


@dataclass
class PollWatch:
    """select.poll() on one socket, registered for ``events`` (ERR and HUP always come)."""

    sock: socket.socket
    events: int = M.IN | M.OUT
    timeline: Timeline | None = None
    edge: bool = False
    p: select.poll = field(default_factory=select.poll, repr=False)

    mode = "poll"

    def add(self) -> None:
        self.p.register(self.sock.fileno(), self.events)
        self._note(f"poll.register({M.name(self.events)})")

    def mod(self, events: int | None = None) -> None:
        if events is not None:
            self.events = events
        self.p.modify(self.sock.fileno(), self.events)
        self._note(f"poll.modify({M.name(self.events)})")

    def wait(self, timeout: float = 0) -> int:
        mask = 0
        for fd, ev in self.p.poll(int(timeout * 1000)):
            if fd == self.sock.fileno():
                mask |= ev
        if self.timeline is not None:
            self.timeline.add("epoll", f"poll() -> {M.name(mask)}", mask=mask)
        return M.visible(mask)

    def close(self) -> None:
        pass

    def _note(self, text: str) -> None:
        if self.timeline is not None:
            self.timeline.add("call", text)


@dataclass
class SelectWatch:
    """select.select() on one socket: the read set for IN, write set for OUT, except for PRI.

    The result is given as a mask: IN readable, OUT writable, PRI exceptional.
    """

    sock: socket.socket
    events: int = M.IN | M.OUT
    timeline: Timeline | None = None
    edge: bool = False

    mode = "select"

    def add(self) -> None:
        self._note(f"select sets for {M.name(self.events & (M.IN | M.OUT | M.PRI))}")

    def mod(self, events: int | None = None) -> None:
        if events is not None:
            self.events = events
        self.add()

    def wait(self, timeout: float = 0) -> int:
        fd = self.sock.fileno()
        sets = [[fd] if self.events & bit else [] for bit in (M.IN, M.OUT, M.PRI)]
        r, w, x = select.select(*sets, timeout)
        mask = (M.IN if r else 0) | (M.OUT if w else 0) | (M.PRI if x else 0)
        if self.timeline is not None:
            self.timeline.add("epoll", f"select() -> {M.name(mask)}", mask=mask)
        return mask

    def close(self) -> None:
        pass

    def _note(self, text: str) -> None:
        if self.timeline is not None:
            self.timeline.add("call", text)


def make_watch(waiter: str, sock: socket.socket, events: int, timeline: Timeline | None):
    """The watch for a waiter name (see :data:`WAITERS`)."""
    if waiter in ("ET", "LT"):
        return Watch(sock, waiter == "ET", events, timeline)
    if waiter == "poll":
        return PollWatch(sock, events, timeline)
    if waiter == "select":
        return SelectWatch(sock, events, timeline)
    if waiter in URING_WAITERS:
        return UringWatch(sock, events, timeline, multishot=waiter == "uring-multishot")
    raise ValueError(f"unknown waiter {waiter!r}")
