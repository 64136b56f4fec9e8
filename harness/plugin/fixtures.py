"""Fixtures of the suite, shipped as a plugin (loaded by the top-level conftest.py).

=================  =========  ==============================================================
fixture            scope      what it makes
=================  =========  ==============================================================
scripted_net       session    a namespace with the pinned sysctls, a TUN device and the
                              scripted peer reading it (needs root and TUN; skips otherwise)
scripted           function   connections to the peer for one test, aborted after it; the
                              link's skb layout is the test's ``layout`` parameter
                              ("pinned" unless a test asks for "natural")
=================  =========  ==============================================================
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pytest

from harness.cases.scripted import Scripted, ScriptedNet
from harness.model.rules import KernelRules
from harness.peers.tunpeer import ScriptedPeer
from netns import LAYOUT_GSO_MAX_SEGS, namespace, tun

from .pytest_plugin import Record, require, state


@contextmanager
def own_scripted_net(config: pytest.Config) -> Iterator[ScriptedNet]:
    """A namespace with the pinned sysctls, a TUN device and the scripted peer reading it."""
    require(config, "root", "tun")
    with namespace("tun") as ns, tun(ns) as link:
        state(config).sysctls.update(ns.sysctls)
        yield ScriptedNet(ns, link, ScriptedPeer(link))


@contextmanager
def scripted_cases(net: ScriptedNet, rules: KernelRules, record: Record, layout: str = "pinned") -> Iterator[Scripted]:
    """The connections of one test on ``net``, its link set to ``layout`` first; torn down after."""
    segs = net.layout.set(layout)
    ran = next((name for name, value in LAYOUT_GSO_MAX_SEGS.items() if value == segs), "natural")
    record.layout(ran, segs)
    if ran != layout:
        record.conditions["pinning"] = (f"{layout} layout unavailable: the kernel kept gso_max_segs "
                                        f"{segs} on the existing link (do_setlink)")
    s = Scripted(net, rules, record)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def scripted_net(pytestconfig: pytest.Config) -> Iterator[ScriptedNet]:
    """One namespace (prefix ``eps``) with a TUN device whose far side is the scripted peer.

    Session-scoped: a namespace costs ~25 ms; connections are per test and isolated by
    their ports.  Depends on the capabilities ``root`` and ``tun``.
    """
    with own_scripted_net(pytestconfig) as net:
        yield net


@pytest.fixture
def scripted(request: pytest.FixtureRequest, scripted_net: ScriptedNet, kernel_rules: KernelRules,
             record: Record) -> Iterator[Scripted]:
    """Makes cases against the scripted peer (``accept``, ``dial``); tears them down after.

    Before any connection the link gets the test's skb layout: "pinned" (one MSS per skb,
    whatever the harness's speed) unless the test is parametrized with ``layout="natural"``,
    whose facts then depend on timing and say so (``timing_dependent``).
    """
    layout = getattr(request.node, "callspec", None)
    layout = layout.params.get("layout", "pinned") if layout else "pinned"
    with scripted_cases(scripted_net, kernel_rules, record, layout) as s:
        yield s
