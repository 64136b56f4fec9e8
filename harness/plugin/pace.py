"""How fast the harness runs on this machine, so that timed ACK delays can outlast its steps.

netem (and the gate's delayed release) holds each ACK for a fixed time of the real clock, but
the harness must read the accounting and wait on epoll between a write and the ACKs it
provokes.  Under QEMU's TCG the harness runs ~15x slower while kernel timers keep real time:
a 10 ms delay that is ample on the host lets ACKs overtake the harness there.  The delay is
therefore at least STEPS_PER_DELAY times one accounting read, measured once per process.
"""

from __future__ import annotations

import socket
import statistics
import time
from functools import lru_cache

from harness.sockets.sockinfo import snapshot

STEPS_PER_DELAY = 200


@lru_cache(maxsize=1)
def step_seconds(samples: int = 50) -> float:
    """Median time of one accounting read (SO_MEMINFO, TCP_INFO, the queue ioctls)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        times = []
        for _ in range(samples):
            t0 = time.perf_counter()
            snapshot(s)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def timed_delay(base: float) -> float:
    """``base`` seconds, or longer where this machine runs the harness slowly."""
    return max(base, STEPS_PER_DELAY * step_seconds())
