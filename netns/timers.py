"""The sender's timers kept out of the harness's way, on routes inside the suite's namespaces.

A case holds ACKs back while it reads the accounting and waits on epoll: a few milliseconds
on an idle host, hundreds on a loaded CI runner or under QEMU's TCG.  If the sender's
retransmission timer fires meanwhile, the retransmitted skb changes what the case measures
(and the capture shows a retransmission the scenario did not make).  The RTO never goes
below ``tcp_rto_min()`` (include/net/tcp.h): the route's RTAX_RTO_MIN when the route
*locks* that metric, else the socket's icsk_rto_min (200 ms, TCP_RTO_MIN).  So the routes
the socket under test uses carry a locked ``rto_min`` far above any stall of the harness.
Tail loss probes are off by sysctl (``tcp_early_retrans=0``, ``netns/defaults.py``); the
SYN timers do not use rto_min (tcp_timeout_init()), so connect timeouts are unchanged.

``quickack`` (RTAX_QUICKACK, read by tcp_in_quickack_mode()) makes the receiving end of a
route ACK every segment at once: no delayed-ACK timer whose firing depends on timing.
"""

from __future__ import annotations

import socket

from .namespace import Netns

RTAX_RTO_MIN = 13  # include/uapi/linux/rtnetlink.h
RTO_MIN_MS = 10_000  # far above any stall of the harness; far below TCP_RTO_MAX (120 s)


def metrics(rto_min_ms: int | None = RTO_MIN_MS, quickack: bool = False) -> dict[str, int]:
    """Route metrics in pyroute2's spelling: a locked rto_min, and quickack if asked."""
    out: dict[str, int] = {}
    if rto_min_ms is not None:
        out.update(lock=1 << RTAX_RTO_MIN, rto_min=rto_min_ms)
    if quickack:
        out["quickack"] = 1
    return out


def host_routes(ns: Netns, index: int, peer4: str, peer6: str, op: str = "add",
                rto_min_ms: int | None = RTO_MIN_MS, quickack: bool = False) -> None:
    """Host routes (/32, /128) from ``ns`` to one peer through link ``index``, with the metrics.

    More specific than the link's prefix routes, so every connection to the peer uses them.
    """
    m = metrics(rto_min_ms, quickack)
    ns.ipr.route(op, dst=f"{peer4}/32", oif=index, metrics=m)
    ns.ipr.route(op, dst=f"{peer6}/128", oif=index, metrics=m, family=socket.AF_INET6)


def route_metrics(ns: Netns, dst: str, family: int = socket.AF_INET) -> dict[str, int]:
    """The metrics of the route the kernel picks for ``dst`` (for checks and the report)."""
    routes = ns.ipr.route("get", dst=dst, family=family)
    found = routes[0].get_attr("RTA_METRICS") if routes else None
    if found is None:
        return {}
    return {name.removeprefix("RTAX_").lower(): value for name, value in found["attrs"]}
