"""The ACK gate: the receiver's outgoing pure ACKs held in NFQUEUE until the harness lets go.

An iptables rule in the receiver's namespace only (OUTPUT chain, TCP with ACK set and no
SYN/FIN/RST, no payload) sends those packets to queue 0, which a NetfilterQueue binding made
by a thread inside that namespace reads (nfnetlink queues are per network namespace).  Each
packet is retained and its verdict deferred: ``release()`` accepts the oldest one.  The
verdict is processed synchronously: nfqnl_recv_verdict() -> nf_reinject() sends the ACK on,
and the veth delivers it to the sender, whose TCP processes it in the softirq that runs when
the transmit path re-enables bottom halves, before the verdict's sendmsg() returns.  So the
sender's accounting read after ``release()`` already reflects that ACK.

pyroute2 has no xtables API and this kernel family offers NFQUEUE through the xtables target
(nft_compat), so the rule is added by running ``iptables``/``ip6tables`` in a child process
forked from a thread inside the namespace (a forked child keeps its thread's namespace).
``--queue-bypass`` lets packets through once nobody is bound.  The rule and the queue die
with the namespace, which is all a killed run leaves for the session sweep.
"""

from __future__ import annotations

import collections
import select
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from netns import Netns

from .packet import Segment

QUEUE = 0
# Pure ACKs: ACK set, SYN/FIN/RST clear, and no payload (IPv4: 20 + TCP header up to 60 bytes;
# IPv6: 40 + up to 60).  The receiver never sends data in these cases; the length test keeps
# the rule honest if one ever does.
_RULES = {
    "iptables": ["-p", "tcp", "--tcp-flags", "SYN,FIN,RST,ACK", "ACK", "-m", "length", "--length", "40:80"],
    "ip6tables": ["-p", "tcp", "--tcp-flags", "SYN,FIN,RST,ACK", "ACK", "-m", "length", "--length", "60:100"],
}


@dataclass
class Held:
    """One ACK the gate holds: when it was queued, what it says, and its pending verdict."""

    t: float
    seg: Segment | None
    packet: Any  # netfilterqueue.Packet, retained


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise OSError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")


def bind(callback):
    """Bind queue QUEUE (from a thread inside the namespace: queues are per namespace)."""
    from netfilterqueue import NetfilterQueue

    q = NetfilterQueue()
    q.bind(QUEUE, callback, max_len=4096)
    return q


class Gate:
    """Holds the receiver's ACKs in arrival order; ``release()`` lets the oldest one go."""

    def __init__(self, ns: Netns) -> None:
        self.ns = ns
        self.held: collections.deque[Held] = collections.deque()
        self.released: list[Held] = []
        self.ports: tuple[int, int] | None = None
        self._q = None

    def follow(self, ports: tuple[int, int]) -> None:
        """Hold only the ACKs of this connection (receiver port, sender port)."""
        self.ports = ports

    def _arrived(self, packet) -> None:
        seg = Segment.decode(packet.get_payload())
        if seg is None or (self.ports is not None and (seg.sport, seg.dport) != self.ports):
            packet.accept()  # not the case's connection (an earlier test's, aborted): let it go
            return
        packet.retain()
        self.held.append(Held(time.time(), seg, packet))

    def open(self) -> None:
        self._q = self.ns.call(bind, self._arrived)

    def pump(self) -> int:
        """Take every ACK the kernel has queued so far; returns how many are held."""
        self._q.run(block=False)
        return len(self.held)

    def wait(self, deadline: float, count: int = 1) -> bool:
        """Wait (on the queue's socket, until the monotonic ``deadline``) for ``count`` held ACKs."""
        fd = self._q.get_fd()
        while self.pump() < count:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            select.select([fd], [], [], left)
        return True

    def release(self) -> Held:
        """Accept the oldest held ACK; the sender has processed it when this returns."""
        h = self.held.popleft()
        h.packet.accept()
        self.released.append(h)
        return h

    def release_all(self) -> int:
        n = 0
        while self.pump() and self.held:
            self.release()
            n += 1
        return n

    def close(self) -> None:
        """Let every held ACK go and unbind; the rule stays (bypassed) and goes with the namespace."""
        if self._q is None:
            return
        try:
            self.release_all()
        finally:
            self._q.unbind()
            self._q = None


def install_rules(ns: Netns) -> None:
    """The receiver's NFQUEUE rules (IPv4 and IPv6); they pass packets while nobody is bound."""
    for tool, match in _RULES.items():
        ns.call(_run, [tool, "-w", "-A", "OUTPUT", *match, "-j", "NFQUEUE",
                       "--queue-num", str(QUEUE), "--queue-bypass"])


@contextmanager
def gate(ns: Netns) -> Iterator[Gate]:
    """An open gate on ``ns``'s outgoing pure ACKs, closed (ACKs released, unbound) on exit."""
    g = Gate(ns)
    try:
        g.open()
        yield g
    finally:
        g.close()
