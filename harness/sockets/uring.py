"""io_uring poll requests as waiters: ``uring-oneshot`` and ``uring-multishot``.

Both have the interface of the other waiters (``add``, ``mod``, ``wait``, ``close``; see
:mod:`harness.sockets.waiters`), over a ring of our own (:mod:`.uring_ring`).  ``add``
submits an IORING_OP_POLL_ADD for the socket; ``mod`` cancels it (IORING_OP_POLL_REMOVE)
and submits it again; ``wait`` re-arms a one-shot request whose completion an earlier wait
reaped (what an event loop does before it waits again), then reaps every completion posted
since, and returns their masks together.  ``last_completions`` is how many there were: the
model checks that number too.  What the kernel must do is in :mod:`harness.model.uring`.
"""

from __future__ import annotations

import errno
import os
import select
import socket
from dataclasses import dataclass, field

from harness.model import masks as M
from harness.model.uring import URING_WAITERS
from harness.record.timeline import Timeline

from .uring_ring import OP_POLL_REMOVE, Ring, encode_sqe, poll_add_sqe

__all__ = ["URING_WAITERS", "UringWatch", "uring_problem", "multishot_problem"]


@dataclass
class UringWatch:
    """One poll request on one socket, in its own ring."""

    sock: socket.socket
    events: int = M.IN | M.OUT
    timeline: Timeline | None = None
    multishot: bool = False
    edge: bool = False
    ring: Ring = field(default_factory=Ring, repr=False)
    user_data: int = 0      # of the request in force; older ones are cancelled
    armed: bool = False     # as far as the reaped completions tell
    last_completions: int = 0
    completions: list[int] = field(default_factory=list)  # per wait

    @property
    def mode(self) -> str:
        return "uring-multishot" if self.multishot else "uring-oneshot"

    def _arm(self, why: str) -> None:
        self.user_data += 1
        self.ring.submit(poll_add_sqe(self.sock.fileno(), self.events | M.ERR | M.HUP, self.user_data,
                                      self.multishot))
        self.armed = True
        self._note(f"io_uring POLL_ADD({M.name(self.events)}{', MULTI' if self.multishot else ''}) #{self.user_data}: {why}")

    def add(self) -> None:
        self._arm("submitted")

    def mod(self, events: int | None = None) -> None:
        if events is not None:
            self.events = events
        if self.armed:
            self.ring.submit(encode_sqe(OP_POLL_REMOVE, addr=self.user_data, user_data=0))
        dropped = [c for c in self.ring.reap() if c.user_data != 0]
        if dropped:
            self._note(f"dropped {len(dropped)} completion(s) of the cancelled request: "
                       + ", ".join(_res(c.res) for c in dropped))
        self._arm("submitted again (the old request cancelled)")

    def wait(self, timeout: float = 0) -> int:
        """Re-arm a finished one-shot request, then reap: the masks of all completions."""
        if not self.armed:
            self._arm("re-armed: the last completion was reaped")
        mask, n = 0, 0
        for c in self.ring.reap():
            if c.user_data != self.user_data:
                continue  # the cancel's own completion, or a cancelled request's
            n += 1
            if c.res < 0:
                self._note(f"completion #{c.user_data}: {_res(c.res)}")
            else:
                mask |= c.res
            if not c.more:
                self.armed = False
        self.last_completions = n
        self.completions.append(n)
        if self.timeline is not None:
            self.timeline.add("epoll", f"{self.mode} reap -> {M.name(mask)} ({n} completion{'s' * (n != 1)})",
                              mask=mask, completions=n)
        return M.visible(mask)

    def close(self) -> None:
        self.ring.close()

    def _note(self, text: str) -> None:
        if self.timeline is not None:
            self.timeline.add("call", text)


def _res(res: int) -> str:
    return M.name(res) if res >= 0 else f"-{errno.errorcode.get(-res, -res)}"


def uring_problem() -> str | None:
    """Why io_uring cannot be used here (None when a ring can be set up)."""
    try:
        Ring(2).close()
    except OSError as exc:
        name = errno.errorcode.get(exc.errno, str(exc.errno))
        disabled = _sysctl("kernel/io_uring_disabled")
        if exc.errno == errno.ENOSYS:
            return (f"io_uring unavailable: io_uring_setup() fails with ENOSYS (a kernel without "
                    "CONFIG_IO_URING, or a seccomp filter that hides it)")
        if exc.errno == errno.EPERM and disabled not in (None, "0"):
            return (f"io_uring unavailable: kernel.io_uring_disabled = {disabled} (io_uring_setup() "
                    "fails with EPERM; sysctl kernel.io_uring_disabled=0 allows it)")
        if exc.errno == errno.EPERM:
            return ("io_uring unavailable: io_uring_setup() fails with EPERM (a seccomp profile, "
                    "e.g. a container's default one, forbids it)")
        return f"io_uring unavailable: io_uring_setup() fails with {name} ({exc.strerror})"
    return None


def multishot_problem() -> str | None:
    """Why multishot poll cannot be used (None when a multishot request stays armed)."""
    problem = uring_problem()
    if problem is not None:
        return problem
    r, w = os.pipe()
    try:
        with Ring(4) as ring:
            ring.submit(poll_add_sqe(r, select.POLLIN, 1, True))
            os.write(w, b"x")
            got = ring.reap()
    finally:
        os.close(r)
        os.close(w)
    if got and got[0].res == -errno.EINVAL:
        return (f"multishot poll unavailable: IORING_POLL_ADD_MULTI refused with EINVAL "
                f"(Linux {os.uname().release}; it came with 5.13)")
    if not got or not got[0].more:
        return f"multishot poll unavailable: the request completed without IORING_CQE_F_MORE ({got})"
    return None


def _sysctl(path: str) -> str | None:
    try:
        with open(f"/proc/sys/{path}") as f:
            return f.read().strip()
    except OSError:
        return None
