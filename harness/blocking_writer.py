"""A blocking writer in a thread, observed from outside through /proc.

A blocking send() that runs out of space sets SOCK_NOSPACE and sleeps in
sk_stream_wait_memory() (net/core/stream.c) until sk_stream_write_space() wakes it, which
happens only when __sk_stream_is_writeable(sk, 1) holds: the same rule and the same wakeup
as an edge-triggered EPOLLOUT.  The harness sees the writer through
/proc/self/task/<tid>/{wchan,stat,status}: where it sleeps, whether it is runnable, and how
often it went to sleep (voluntary_ctxt_switches).

To make "did this ACK wake the writer?" a synchronous question, the writer runs on the
harness thread's CPU and the harness thread runs SCHED_FIFO there while the writer lives:
when the verdict that releases an ACK wakes the writer, it becomes runnable (state R) but
cannot run until the harness thread blocks (a fair-class task never preempts a real-time
one; SCHED_IDLE alone was not enough: EEVDF still gives an idle task a slice now and then),
so the harness reads the accounting after that ACK, and the writer's state, before the
writer refills the buffer.  The harness thread only blocks in waits with deadlines, so the
real-time priority never spins.  Affinity and policy are restored when the writer is closed.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass

WAIT_MEMORY = "sk_stream_wait_memory"
# wchan names the innermost non-scheduler frame: sk_stream_wait_memory() itself on older
# kernels, wait_woken() (its sk_wait_event()) on newer ones; /proc/<tid>/stack, where the
# kernel offers it, then shows sk_stream_wait_memory below it.
WAIT_FRAMES = (WAIT_MEMORY, "wait_woken")
POLL = 0.0005  # s between reads of /proc while waiting for the writer: a poll, not a guess


@dataclass(frozen=True)
class TaskState:
    state: str        # R, S, D, ... (/proc/<pid>/task/<tid>/stat, field 3)
    wchan: str        # the kernel function it sleeps in ("0" when running)
    voluntary: int    # voluntary_ctxt_switches: times it went to sleep

    stack: str = ""   # /proc/<pid>/task/<tid>/stack when readable

    @property
    def blocked(self) -> bool:
        if self.state != "S" or self.wchan not in WAIT_FRAMES:
            return False
        return not self.stack or WAIT_MEMORY in self.stack


class BlockingWriter:
    """Writes ``total`` bytes with blocking send() calls of ``chunk`` from its own thread."""

    def __init__(self, sock: socket.socket, total: int, chunk: int = 65536) -> None:
        self.sock = sock
        self.total = total
        self.chunk = chunk
        self.written = 0           # bytes send() has returned so far
        self.error: BaseException | None = None
        self.tid: int | None = None
        self._ready = threading.Event()
        self._cpu = min(os.sched_getaffinity(0))
        self._saved_affinity = os.sched_getaffinity(0)
        self._saved_policy = (os.sched_getscheduler(0), os.sched_getparam(0))
        self._thread = threading.Thread(target=self._run, name="blocking-writer", daemon=True)

    def _run(self) -> None:
        self.tid = threading.get_native_id()
        os.sched_setaffinity(0, {self._cpu})
        self._ready.set()
        data = b"b" * self.chunk
        try:
            while self.written < self.total:
                self.written += self.sock.send(data[: self.total - self.written])
        except BaseException as exc:  # reported to the harness, which fails the case
            self.error = exc

    def start(self) -> None:
        os.sched_setaffinity(0, {self._cpu})
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        self._thread.start()
        self._ready.wait()

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def task(self) -> TaskState:
        base = f"/proc/self/task/{self.tid}"
        try:
            with open(f"{base}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"{base}/wchan") as f:
                wchan = f.read().strip()
            with open(f"{base}/status") as f:
                vol = next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))
        except (FileNotFoundError, ProcessLookupError):
            return TaskState("X", "", -1)  # the thread has exited
        try:
            with open(f"{base}/stack") as f:
                stack = f.read()
        except OSError:  # no CONFIG_STACKTRACE, or not permitted: wchan alone decides
            stack = ""
        return TaskState(state, wchan, vol, stack)

    def settle(self, deadline: float) -> TaskState:
        """Block (so the writer may run) until it sleeps in sk_stream_wait_memory or is done."""
        while True:
            t = self.task()
            if t.blocked or self.done:
                return t
            if time.monotonic() > deadline:
                raise AssertionError(f"the writer neither blocked nor finished: {t}")
            time.sleep(POLL)

    def close(self) -> None:
        """Restore the harness thread's policy and CPU affinity; the thread ends with its socket."""
        policy, param = self._saved_policy
        os.sched_setscheduler(0, policy, param)
        os.sched_setaffinity(0, self._saved_affinity)
        self._thread.join(timeout=2.0)
