"""A witness of write-space wakeups: when each one happened and what the accounting said then.

When the harness does not step the ACKs itself (natural and netem modes), several ACKs can be
processed between two of its own reads.  The witness is a second epoll instance with the
sender registered edge-triggered for EPOLLOUT, and a thread blocked in epoll_wait on it:
ep_poll_callback() queues its item on the same sk_stream_write_space() wakeup that queues the
case's item, and the thread reads the accounting as soon as it runs.  The read can trail the
waking ACK by the thread's wake-up latency; :func:`harness.peers.attribution.attribute` checks the
pair against the capture and a margin.

The witness registers after the connection is established (its ADD finds the socket
writable, so the initial report is consumed before the thread starts) and adds nothing to
the socket's state: an ADD on a writable socket does not set SOCK_NOSPACE.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from dataclasses import dataclass

from .sockinfo import Snapshot, snapshot


@dataclass(frozen=True)
class Wake:
    t: float         # when epoll_wait returned
    acct: Snapshot   # the accounting read after it

    @property
    def read_t(self) -> float:
        """When that accounting was read (after SO_MEMINFO and TCP_INFO, which hold the ACK):
        the thread can be preempted between epoll_wait and the read."""
        return self.acct.t

    @property
    def acked(self) -> int:
        """The cumulative ACK (relative) the sender had processed at the read.

        ``bytes_acked`` counts the SYN too, so it equals the relative ACK number.
        """
        return self.acct.info.get("bytes_acked", 0)


class WakeWitness:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.wakes: list[Wake] = []
        self._cond = threading.Condition()
        self._ep = select.epoll()
        self._stop_r, self._stop_w = os.pipe()
        self._ep.register(self._stop_r, select.EPOLLIN)
        self._ep.register(sock.fileno(), select.EPOLLOUT | select.EPOLLET)
        self._ep.poll(0)  # the ADD's own report of a writable socket: not a wakeup
        self._thread = threading.Thread(target=self._run, name="wake-witness", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            events = self._ep.poll(-1)
            t = time.time()
            if any(fd == self._stop_r for fd, _ in events):
                return
            wake = Wake(t, snapshot(self.sock))
            with self._cond:
                self.wakes.append(wake)
                self._cond.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until the witness has recorded ``count`` wakes (its thread may trail the case)."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.wakes) >= count, timeout)

    def close(self) -> None:
        """Stop the thread deterministically (a byte on its pipe) and join it."""
        if self._thread.is_alive():
            os.write(self._stop_w, b"x")
            self._thread.join()
        self._ep.close()
        os.close(self._stop_r)
        os.close(self._stop_w)
