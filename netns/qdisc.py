"""Queueing disciplines on the suite's own links: netem delay on one end of the real-peer wire.

``sch_netem`` (net/sched/sch_netem.c) holds each packet in a time-sorted queue until
``now >= time_to_send`` and then hands it to the device, so a delay on the receiver's egress
delays every ACK by the same amount (plus the jitter, if any).  It is a module on Debian
kernels and absent on some hosts; callers check the ``netem`` capability first.  The generic
:func:`root_qdisc` is what :func:`netem` uses, so its add/delete path is exercised on hosts
without netem too (with a qdisc they have).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from .namespace import Netns

ROOT_HANDLE = 0x10000  # 1:0


@dataclass(frozen=True)
class Qdisc:
    """A root qdisc on one link: its kind and the parameters it was given."""

    ns: Netns
    index: int
    kind: str
    params: dict


@contextmanager
def root_qdisc(ns: Netns, ifname: str, kind: str, **params: Any) -> Iterator[Qdisc]:
    """Attach a root qdisc of ``kind`` to ``ifname`` in ``ns``; delete it on exit.

    It would die with the namespace anyway, which is what a killed run relies on.
    """
    index = ns.link_index(ifname)
    ns.ipr.tc("add", kind, index, ROOT_HANDLE, **params)
    try:
        yield Qdisc(ns, index, kind, params)
    finally:
        try:
            ns.ipr.tc("del", kind, index, ROOT_HANDLE)
        except Exception:  # the link (or the namespace) may already be gone: nothing to undo
            pass


@dataclass(frozen=True)
class Netem:
    """A netem root qdisc: its link and the configured delay and jitter (seconds)."""

    qdisc: Qdisc
    delay: float
    jitter: float = 0.0


@contextmanager
def netem(ns: Netns, ifname: str, delay: float, jitter: float = 0.0, limit: int = 10000) -> Iterator[Netem]:
    """Root netem qdisc on ``ifname``: every packet leaves ``delay`` (± ``jitter``) s late.

    pyroute2 takes delay and jitter in microseconds.
    """
    with root_qdisc(ns, ifname, "netem", delay=int(delay * 1e6), jitter=int(jitter * 1e6),
                    limit=limit) as q:
        yield Netem(q, delay, jitter)


def root_kind(ns: Netns, ifname: str) -> str | None:
    """The kind of the root qdisc on ``ifname`` as the kernel reports it."""
    index = ns.link_index(ifname)
    for msg in ns.ipr.get_qdiscs(index=index):
        if msg["parent"] == 0xFFFFFFFF:
            return msg.get_attr("TCA_KIND")
    return None
