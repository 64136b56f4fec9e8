"""Markers of the suite, put on every test at collection from what it uses.

No test file names them: a test's topic (its report name), its waiter and family (its
parameters), its peer and the capabilities it needs (its fixtures and ACK mode) say it all,
so ``-m "et and ipv6 and not realpeer"`` or ``-m "not netem"`` select exactly those cases.

A capability marker is also enforced: before a marked test runs, the capability is required
(a skip naming what is missing, a failure with ``--strict-skips``), so a marker on a test is
never a label only.  A test can name one the fixtures cannot infer (``@pytest.mark.sched_fifo``).
"""

from __future__ import annotations

import pytest

WAITERS = {"ET": "et", "LT": "lt", "poll": "poll", "select": "select",
           "uring-oneshot": "uring_oneshot", "uring-multishot": "uring_multishot"}
FAMILIES = ("ipv4", "ipv6")
PEERS = {"scripted": ("scripted", "scripted_net"), "realpeer": ("real", "real_net")}

# capability marker: what it needs
CAPABILITIES = {
    "root": "root / CAP_NET_ADMIN, to make the suite's network namespaces",
    "tun": "/dev/net/tun, for the scripted peer",
    "veth": "a veth pair between two namespaces, for the real peer",
    "ipv6": "IPv6 in the suite's namespaces",
    "netem": "the netem qdisc (CONFIG_NET_SCH_NETEM)",
    "nfqueue": "NFQUEUE, to hold the receiver's ACKs (the gate)",
    "sched_fifo": "SCHED_FIFO, to read the accounting at the instant a blocked writer wakes",
    "uring": "io_uring (io_uring_setup allowed), for the io_uring poll waiters",
    "uring_multishot": "multishot io_uring poll (IORING_POLL_ADD_MULTI, Linux 5.13)",
}
# capability markers that are probes of their own (the others are implied by root)
PROBED = ("root", "tun", "ipv6", "netem", "nfqueue", "sched_fifo", "uring", "uring_multishot")

# fixture: capabilities it needs
FIXTURE_NEEDS = {
    "scripted_net": ("root", "tun"),
    "real_net": ("root", "veth"),
}


def register(config: pytest.Config) -> None:
    lines = [f"{m}: waiter {w}" for w, m in WAITERS.items() if m not in CAPABILITIES]
    lines += [f"{f}: address family {f}" for f in FAMILIES]
    lines += ["scripted: the far side is the scripted TCP peer on TUN",
              "realpeer: the far side is a real Linux TCP stack over veth"]
    lines += [f"{name}: needs {what}" for name, what in CAPABILITIES.items()]
    for line in lines:
        config.addinivalue_line("markers", line)


def markers_for(topic: str, params: dict, fixtures: list[str] | tuple[str, ...],
                needs_of_mode=lambda mode: ()) -> list[str]:
    """The marker names a test gets: its topic, waiter, family, peer and capabilities."""
    names = [topic]
    waiter = params.get("waiter", params.get("mode"))
    if waiter in WAITERS:
        names.append(WAITERS[waiter])
        if waiter.startswith("uring-"):
            names.append("uring")  # the multishot waiter's own marker is its capability too
    if params.get("family") in FAMILIES:
        names.append(params["family"])
        if params["family"] == "ipv6":
            names.append("ipv6")
    for peer, fixture_names in PEERS.items():
        if any(f in fixtures for f in fixture_names):
            names.append(peer)
    for fixture, caps in FIXTURE_NEEDS.items():
        if fixture in fixtures:
            names += caps
    if "ack_mode" in params:
        names += needs_of_mode(params["ack_mode"])
    return list(dict.fromkeys(names))


def apply(config: pytest.Config, items: list[pytest.Item], topic_of, needs_of_mode) -> None:
    """Put the markers on each collected test (pytest_collection_modifyitems); topics are
    registered as they are found, so ``--strict-markers`` knows them."""
    known = set()
    for item in items:
        topic = topic_of(item)
        if topic not in known:
            known.add(topic)
            config.addinivalue_line("markers", f"{topic}: topic {topic}")
        callspec = getattr(item, "callspec", None)
        params = {k: v for k, v in (callspec.params.items() if callspec else ()) if isinstance(v, str)}
        have = {m.name for m in item.iter_markers()}
        for name in markers_for(topic, params, item.fixturenames, needs_of_mode):
            if name not in have:
                item.add_marker(name)


def required(item: pytest.Item) -> list[str]:
    """The probed capabilities a test's markers name, in a stable order."""
    have = {m.name for m in item.iter_markers()}
    return [c for c in PROBED if c in have]
