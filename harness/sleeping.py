"""Where a thread of this process sleeps in the kernel, and deadline waits on conditions.

A scenario about wakeups needs to know that a thread is really asleep (in epoll_wait, in
sendmsg's sk_stream_wait_memory) before it acts; /proc/<pid>/task/<tid>/stack (root) names
the kernel functions on its stack, wchan the innermost one.
"""

from __future__ import annotations

import os
import time
from typing import Callable


def kernel_stack(tid: int | None) -> str:
    """The thread's kernel stack, or '' when unreadable (not root, thread gone)."""
    try:
        with open(f"/proc/self/task/{tid}/stack") as f:
            return f.read()
    except OSError:
        return ""


def wchan(tid: int | None) -> str:
    try:
        with open(f"/proc/self/task/{tid}/wchan") as f:
            return f.read().strip()
    except OSError:
        return ""


def sleeping_in(tid: int | None, *functions: str) -> bool:
    """Whether the thread sleeps with one of ``functions`` on its kernel stack (or as wchan)."""
    where = kernel_stack(tid) + " " + wchan(tid)
    return any(fn in where for fn in functions)


def until(cond: Callable[[], bool], deadline: float = 5.0) -> bool:
    """Re-check ``cond`` (yielding the CPU in between) until it holds or the deadline passes."""
    end = time.monotonic() + deadline
    while not cond():
        if time.monotonic() > end:
            return False
        os.sched_yield()
    return True
