"""Fixtures of the real-peer cases, shipped as a plugin (loaded by the top-level conftest.py).

=================  =========  ==============================================================
fixture            scope      what it makes
=================  =========  ==============================================================
ack_mode           function   the ACK control of the case (:class:`AckControl`); one of
                              ``harness.peers.realnet.ACK_MODES``, limited by the scenario's
                              ``@pytest.mark.ack_modes(...)``; skips with the capability's
                              reason where the kernel lacks what the mode needs
real_net           session    two namespaces and the veth between them, made once (a
                              veth's carrier can take a second to be reported), with the
                              receiver's NFQUEUE rule in place where NFQUEUE is available
real               function   the ACK control of ``ack_mode`` put in place on ``real_net``
                              and a :class:`RealPeer` that makes connections on it; the
                              connections are aborted and the control removed after the test
=================  =========  ==============================================================
"""

from __future__ import annotations

from typing import Iterator

import pytest

from harness.cases.realpeer import RealPeer
from harness.model.rules import KernelRules
from harness.peers.realnet import ACK_MODES, NEEDS, AckControl, RealNet, ack_control, real_wire

from .pace import timed_delay
from .pytest_plugin import Record, require, state

# Hold times of the timed modes: long enough to be seen in the capture, far below the sender's
# locked rto_min (netns/timers.py; TLP is off), so no timer fires while an ACK is held.
DELAYS = {"gate-delay": 0.004, "netem": 0.010}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ack_modes(*modes): the ACK-control modes a real-peer scenario runs in")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ack_mode" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("ack_modes")
    modes = marker.args if marker is not None else ACK_MODES
    unknown = set(modes) - set(ACK_MODES)
    if unknown:
        raise ValueError(f"unknown ACK modes {sorted(unknown)}; known: {ACK_MODES}")
    metafunc.parametrize("ack_mode", modes, indirect=True)


@pytest.fixture
def ack_mode(request: pytest.FixtureRequest, pytestconfig: pytest.Config, record: Record) -> AckControl:
    """The case's ACK control; skips (reason from the capability probe) where unavailable."""
    mode = request.param
    record.fact("ack_mode", mode)
    require(pytestconfig, "root", *NEEDS[mode])
    control = AckControl(mode, timed_delay(DELAYS[mode]) if mode in DELAYS else 0.0)
    if control.delay:
        record.fact("ack_delay_ms", control.delay * 1000)
    return control


@pytest.fixture(scope="session")
def real_net(pytestconfig: pytest.Config) -> Iterator[RealNet]:
    """The session's real-peer wire (needs root); removed at the end of the session."""
    require(pytestconfig, "root")
    with real_wire(gate_rule=state(pytestconfig).caps["nfqueue"].ok) as net:
        yield net


@pytest.fixture
def real(real_net: RealNet, ack_mode: AckControl, kernel_rules: KernelRules, record: Record) -> Iterator[RealPeer]:
    """Connections over the wire with ``ack_mode`` in place; all undone after the test."""
    # A veth wire: the sender's skbs keep the natural layout (TSO chunks sized by pacing),
    # so the accounting facts of these cases depend on timing; the report says so.
    record.conditions.update(layout="natural", wire="veth", timing_dependent=True)
    with ack_control(real_net, ack_mode) as net:
        rp = RealPeer(net, kernel_rules, record)
        try:
            yield rp
        finally:
            rp.close()
