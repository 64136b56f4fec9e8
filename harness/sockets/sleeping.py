"""Where a thread of this process sleeps in the kernel, and deadline waits on conditions.

A scenario about wakeups needs to know that a thread is really asleep (in epoll_wait, in
sendmsg's sk_stream_wait_memory) before it acts, and whether something woke it.  From
/proc/self/task/<tid>: ``stat`` (state), ``wchan`` (the innermost non-scheduler function),
``stack`` (root; the whole kernel stack where CONFIG_STACKTRACE offers it) and ``status``
(voluntary_ctxt_switches: how often it went to sleep).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable


def _read(tid: int | None, name: str) -> str:
    try:
        with open(f"/proc/self/task/{tid}/{name}") as f:
            return f.read()
    except OSError:
        return ""


def kernel_stack(tid: int | None) -> str:
    """The thread's kernel stack, or '' when unreadable (not root, thread gone)."""
    return _read(tid, "stack")


def wchan(tid: int | None) -> str:
    value = _read(tid, "wchan").strip()
    return "" if value == "0" else value


def sleeping_in(tid: int | None, *functions: str) -> bool:
    """Whether the thread sleeps with one of ``functions`` on its kernel stack (or as wchan)."""
    where = kernel_stack(tid) + " " + wchan(tid)
    return any(fn in where for fn in functions)


@dataclass(frozen=True)
class TaskState:
    state: str        # R, S, D, ... ('X' once the thread is gone)
    wchan: str        # "" while running or when hidden
    voluntary: int    # voluntary context switches
    stack: str = ""

    def asleep_in(self, function: str, *frames: str) -> bool:
        """Asleep in ``function``: by the stack where readable, else by wchan (which names the
        innermost frame, e.g. wait_woken() under sk_stream_wait_memory() on recent kernels).

        An empty wchan is no evidence: 5.10 names none for a sleeping task (its x86
        get_wchan() walks frame pointers, which ORC-unwound kernels do not keep), and since
        5.16 none for a task still on a run queue.  State S alone is not enough either: a
        thread preempted between set_current_state() and schedule() reads 'S' while it has not
        slept yet; :meth:`harness.sockets.writer.BlockingWriter.settled` checks for that."""
        if self.state != "S":
            return False
        if self.stack:
            return function in self.stack
        return self.wchan in (function, *frames)


def task_state(tid: int | None) -> TaskState:
    stat = _read(tid, "stat")
    if not stat:
        return TaskState("X", "", -1)
    status = _read(tid, "status")
    vol = next((int(line.split()[1]) for line in status.splitlines()
                if line.startswith("voluntary_ctxt_switches")), -1)
    return TaskState(stat.rsplit(")", 1)[1].split()[0], wchan(tid), vol, kernel_stack(tid))


def until(cond: Callable[[], bool], deadline: float = 5.0) -> bool:
    """Re-check ``cond`` (yielding the CPU in between) until it holds or the deadline passes."""
    end = time.monotonic() + deadline
    while not cond():
        if time.monotonic() > end:
            return False
        os.sched_yield()
    return True
