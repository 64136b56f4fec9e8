"""The ACK-control modes: what each needs and the attribution margin tied to its delay."""

import pytest

from harness.peers.realnet import ACK_MODES, NEEDS, AckControl


def test_every_mode_declares_what_it_needs():
    assert set(NEEDS) == set(ACK_MODES)
    assert NEEDS["netem"] == ("netem",) and NEEDS["gate"] == ("nfqueue",) and NEEDS["natural"] == ()


@pytest.mark.parametrize("mode, gated, timed", [("gate", True, False), ("gate-delay", True, True),
                                                ("natural", False, False), ("netem", False, True)])
def test_mode_kinds(mode, gated, timed):
    c = AckControl(mode, 0.01)
    assert (c.gated, c.timed) == (gated, timed)


def test_margin_follows_the_configured_delay():
    assert AckControl("gate-delay", 0.004).margin == pytest.approx(0.004)
    assert AckControl("netem", 0.010).margin == pytest.approx(0.010)
    assert AckControl("gate").margin is None and AckControl("natural").margin is None
