"""select.epoll in edge- or level-triggered mode, recording every call on the timeline."""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass, field

from harness.model import masks as M
from harness.record.timeline import Timeline


@dataclass
class Watch:
    """One socket registered in its own epoll instance."""

    sock: socket.socket
    edge: bool
    events: int = M.IN | M.OUT
    timeline: Timeline | None = None
    ep: select.epoll = field(default_factory=select.epoll, repr=False)
    results: list[int] = field(default_factory=list)
    fd: int | None = None  # the descriptor registered, when not sock.fileno() (a dup, a closed fd)

    @property
    def mode(self) -> str:
        return "ET" if self.edge else "LT"

    @property
    def key(self) -> int:
        return self.sock.fileno() if self.fd is None else self.fd

    def _flags(self, events: int) -> int:
        return events | (M.ET if self.edge else 0)

    def add(self) -> None:
        self.ep.register(self.key, self._flags(self.events))
        self._note(f"epoll_ctl(ADD, {M.name(self.events)}{'|ET' if self.edge else ''})")

    def mod(self, events: int | None = None) -> None:
        if events is not None:
            self.events = events
        self.ep.modify(self.key, self._flags(self.events))
        self._note(f"epoll_ctl(MOD, {M.name(self.events)}{'|ET' if self.edge else ''})")

    def wait(self, timeout: float = 0) -> int:
        """One epoll_wait(); the reported mask for the socket (0 when nothing)."""
        mask = 0
        for fd, ev in self.ep.poll(timeout, 8):
            if fd == self.key:
                mask |= ev
        self.results.append(mask)
        if self.timeline is not None:
            self.timeline.add("epoll", f"epoll_wait({self.mode}) -> {M.name(mask)}", mask=mask)
        return M.visible(mask)

    def wait_fds(self, timeout: float = 0) -> dict[int, int]:
        """One epoll_wait() whose results are split by fd (items of one instance)."""
        out: dict[int, int] = {}
        for fd, ev in self.ep.poll(timeout, 8):
            out[fd] = out.get(fd, 0) | M.visible(ev)
        if self.timeline is not None:
            self.timeline.add("epoll", f"epoll_wait({self.mode}) -> " + (", ".join(
                f"fd {fd}: {M.name(m)}" for fd, m in sorted(out.items())) or "-"))
        return out

    def close(self) -> None:
        self.ep.close()

    def _note(self, text: str) -> None:
        if self.timeline is not None:
            self.timeline.add("call", text)
