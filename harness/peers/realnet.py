"""The real-peer wire: two namespaces joined by a veth pair, and the ACK control between them.

The *sender* namespace holds the socket under test; the *receiver* namespace holds a real Linux
TCP receiver.  How the receiver's ACKs travel back is the mode of the case:

==========  ====================================================================================
gate        NFQUEUE holds every pure ACK; the harness releases them one at a time (step-exact)
gate-delay  NFQUEUE holds every pure ACK; each is released a fixed delay after it was queued
            (a userspace stand-in for netem on kernels without sch_netem)
natural     no impairment; the receiver's reading pace is the only control
netem       sch_netem delays the receiver's egress by a fixed delay (plus jitter)
==========  ====================================================================================

In the gate modes the receiver ACKs every segment at once (the route to the sender carries
RTAX_QUICKACK, read by tcp_in_quickack_mode()), so a step is one segment, as with the
scripted peer.  The other modes keep the kernel's delayed ACKs: that is how real traffic looks.
Segmentation offloads are off on the sender's link so the capture counts what TCP counts.
"""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Iterator

from netns import Netns, VethPair, namespace, veth
from netns.offload import disable_segmentation_offload
from netns.qdisc import netem
from netns.timers import host_routes

from .gate import Gate, gate, install_rules

ACK_MODES = ("gate", "gate-delay", "natural", "netem")
NEEDS = {"gate": ("nfqueue",), "gate-delay": ("nfqueue",), "natural": (), "netem": ("netem",)}


@dataclass(frozen=True)
class AckControl:
    """How the receiver's ACKs reach the sender; ``delay`` (s) for gate-delay and netem."""

    mode: str
    delay: float = 0.0
    jitter: float = 0.0

    @property
    def gated(self) -> bool:
        return self.mode in ("gate", "gate-delay")

    @property
    def timed(self) -> bool:
        """Attribution relies on timing (with a margin tied to the delay)."""
        return self.mode in ("gate-delay", "netem")

    @property
    def margin(self) -> float | None:
        """The window before an observed wake in which other ACKs make its attribution inexact.

        One configured delay: ACKs generated together (one burst of the receiver) arrive
        together, a delay later.  Only the timed modes have one; the gate modes also read the
        accounting after every ACK, which makes their attribution exact regardless.
        """
        return self.delay if self.timed else None


@dataclass
class RealNet:
    sender: Netns
    receiver: Netns
    wire: VethPair
    control: AckControl
    gate: Gate | None = None

    def addresses(self, family: int) -> tuple[str, str]:
        return self.wire.a.address(family), self.wire.b.address(family)


IFA_F_TENTATIVE = 0x40
READY_DEADLINE = 3.0  # s: linkwatch may hold a carrier change back for up to one second


def _usable(ns: Netns, index: int) -> bool:
    link = ns.ipr.get_links(index)[0]
    if link.get_attr("IFLA_OPERSTATE") != "UP":
        return False
    addrs = ns.ipr.get_addr(index=index, family=socket.AF_INET6)
    flags = [a.get_attr("IFA_FLAGS") or a["flags"] for a in addrs]
    return bool(addrs) and not any(f & IFA_F_TENTATIVE for f in flags)


def _wait_usable(ends) -> None:
    """Wait until both ends are operationally up and no IPv6 address is tentative.

    The veth's carrier comes on when both ends are up, but linkwatch (net/core/link_watch.c)
    reports the change at most once a second, and only then does addrconf add the IPv6
    routes (addrconf_notify, NETDEV_CHANGE): packets sent before are dropped as
    "no route" and the handshake waits a SYN retransmission.  So the wire is made once per
    session and this waits, within a deadline, until both ends say they are usable.
    """
    deadline = time.monotonic() + READY_DEADLINE
    while not all(_usable(e.ns, e.index) for e in ends):
        if time.monotonic() > deadline:
            raise TimeoutError(f"veth ends not usable after {READY_DEADLINE} s")
        time.sleep(0.005)  # a poll interval, not a guess: the loop ends on the link state


def _quickack_routes(ns: Netns, index: int, peer4: str, peer6: str, op: str = "add") -> None:
    """Host routes to the sender with RTAX_QUICKACK: the receiver ACKs every segment at once."""
    host_routes(ns, index, peer4, peer6, op, rto_min_ms=None, quickack=True)


@contextmanager
def real_wire(gate_rule: bool) -> Iterator[RealNet]:
    """Sender and receiver namespaces and the veth between them, usable; removed on exit.

    Made once per session (see :func:`_wait_usable`).  With ``gate_rule`` the receiver's
    NFQUEUE rule is installed now; it passes packets while no test has the queue bound
    (``--queue-bypass``).  The sender's routes to the receiver lock a long rto_min
    (:mod:`netns.timers`), so a held ACK never meets a retransmission however slow the
    harness.  Everything lives in the two namespaces and goes with them.
    """
    with ExitStack() as stack:
        snd = stack.enter_context(namespace("snd"))
        rcv = stack.enter_context(namespace("rcv"))
        wire = stack.enter_context(veth(snd, rcv))
        disable_segmentation_offload(snd, wire.a.ifname)
        # the sender's RTO far above any stall of the harness while an ACK is held
        host_routes(snd, wire.a.index, wire.b.addr4, wire.b.addr6)
        _wait_usable((wire.a, wire.b))
        if gate_rule:
            install_rules(rcv)
        yield RealNet(snd, rcv, wire, AckControl("natural"))


@contextmanager
def ack_control(net: RealNet, control: AckControl) -> Iterator[RealNet]:
    """Put ``control`` in place on the wire for one test and take it away after."""
    with ExitStack() as stack:
        net.control = control
        net.gate = None
        stack.callback(setattr, net, "control", AckControl("natural"))
        if control.gated:
            b = net.wire.b
            _quickack_routes(b.ns, b.index, net.wire.a.addr4, net.wire.a.addr6)
            stack.callback(_quickack_routes, b.ns, b.index, net.wire.a.addr4, net.wire.a.addr6, "del")
            net.gate = stack.enter_context(gate(b.ns))
            stack.callback(setattr, net, "gate", None)
        elif control.mode == "netem":
            stack.enter_context(netem(net.receiver, net.wire.b.ifname, control.delay, control.jitter))
        yield net
