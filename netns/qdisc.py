"""Queueing disciplines on the suite's own links: netem delay on one end of the real-peer wire.

``sch_netem`` (net/sched/sch_netem.c) holds each packet in a time-sorted queue until
``now >= time_to_send`` and then hands it to the device, so a delay on the receiver's egress
delays every ACK by the same amount (plus the jitter, if any).  It is a module on Debian
kernels and absent on some hosts; callers check the ``netem`` capability first.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from .namespace import Netns

ROOT_HANDLE = 0x10000  # 1:0


@dataclass(frozen=True)
class Netem:
    """A netem root qdisc: its link and the configured delay and jitter (seconds)."""

    ns: Netns
    index: int
    delay: float
    jitter: float = 0.0


@contextmanager
def netem(ns: Netns, ifname: str, delay: float, jitter: float = 0.0, limit: int = 10000) -> Iterator[Netem]:
    """Root netem qdisc on ``ifname`` in ``ns``: every packet leaves ``delay`` (± ``jitter``) s late.

    pyroute2 takes delay and jitter in microseconds.  The qdisc is deleted on exit; it would
    die with the namespace anyway, which is what a killed run relies on.
    """
    index = ns.link_index(ifname)
    ns.ipr.tc("add", "netem", index, ROOT_HANDLE, delay=int(delay * 1e6), jitter=int(jitter * 1e6),
              limit=limit)
    try:
        yield Netem(ns, index, delay, jitter)
    finally:
        try:
            ns.ipr.tc("del", index=index, handle=ROOT_HANDLE)
        except Exception:  # the link (or the namespace) may already be gone: nothing to undo
            pass
