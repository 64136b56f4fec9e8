"""The writer's steps shared by the scripted-peer :class:`Case` and the real-peer
:class:`RealCase`: non-blocking send() and fill-until-EAGAIN, and the EPOLLOUT reports.

A class that mixes this in provides ``sock``, ``timeline``, ``model``, ``accepted``,
``reports``, ``snap()`` and ``collect()`` (read what the kernel sent: from the TUN device or
from the capture).
"""

from __future__ import annotations

import errno
import socket

from harness.model import masks as M
from harness.sockets.sockinfo import snapshot

from .verdict import claim


class Sending:
    def collect(self) -> None:
        raise NotImplementedError

    def send(self, n: int, collect: bool = True) -> str:
        """One non-blocking send of ``n`` bytes: returns 'full', 'short' or 'eagain'.

        tcp_sendmsg_locked() sets SOCK_NOSPACE before a short count or -EAGAIN: the model
        arms the write-space wakeup on both.  ``collect=False`` leaves the packets it sent for
        a later step to read (their timestamps are the kernel's, whenever they are read).
        """
        self.timeline.begin(f"send({n})")
        data = b"w" * n
        before = snapshot(self.sock)  # the queues the send() will find (the model's EAGAIN rule)
        try:
            got = self.sock.send(data, socket.MSG_DONTWAIT)
        except BlockingIOError:
            got, result = -errno.EAGAIN, "eagain"
        else:
            result = "full" if got == n else "short"
            self.accepted += got
        self.timeline.add("call", f"send({n}) = {got if got >= 0 else 'EAGAIN'}", result=result)
        if collect:
            self.collect()
        self.model.sent(result, self.snap(), before)
        return result

    def fill(self, chunk: int = 65536, collect: bool = True) -> int:
        """send() until EAGAIN; returns the bytes accepted before it.

        No packet is read between the sends: decoding a capture is the slowest thing a step
        does (tens of ms under TCG), and an ACK that arrives between the short write and the
        next send() lets that send() succeed, so a slow harness would fill on while the
        receiver, which never reads, closes its window: EAGAIN would then come from the zero
        window and no ACK would ever free the space.  Between two sends there are only the
        accounting reads the model needs.  ``collect=False`` leaves the packets to the caller.
        """
        before = self.accepted
        while self.send(chunk, collect=False) != "eagain":
            pass
        if collect:
            self.collect()
        return self.accepted - before

    def run_out_of_space(self, how: str = "eagain") -> int:
        """Register, take the first EPOLLOUT, then run out of send space: fill until EAGAIN
        (``"eagain"``) or one write larger than the buffer (``"short"``); wait once while out
        of space.  Returns the bytes the kernel accepted.

        The wait follows the last send() at once, on the accounting read after it: the packets
        are read after the wait, so that no ACK the delay lets through meanwhile can make the
        wait's expectation stale (the capture keeps their kernel timestamps).
        """
        self.register()
        self.wait()
        if how == "eagain":
            accepted = self.fill(collect=False)
        else:
            claim(self.send(4 * self.last.sndbuf, collect=False) == "short",
                  "a write larger than the buffer is short", self.timeline)
            accepted = self.accepted
        self.wait("epoll_wait while out of space")
        self.collect()
        return accepted

    def out_reports(self, since_step: int = 0) -> list[tuple[int, str]]:
        """(step, label) of each wait that reported EPOLLOUT after ``since_step``."""
        return [(step, label) for step, label, mask in self.reports if step > since_step and mask & M.OUT]
