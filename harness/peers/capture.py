"""Packet capture on the sender's end of the wire: the ground truth of a real-peer case.

scapy's L2 listen socket (an AF_PACKET socket) is made by a thread inside the sender's
namespace, so it sees that namespace's link; it is opened before the connection exists and
drained, never sampled: every step reads it until it is empty.  Outgoing packets are copied
to it by dev_queue_xmit_nit() before the veth transmits them, incoming ones by
__netif_receive_skb() before TCP sees them, each with the kernel's CLOCK_REALTIME timestamp.
So when the step that caused a packet has returned, the packet is already queued here.

Segments are decoded with :mod:`harness.peers.packet` (scapy would cost ~100 us per packet); scapy
provides the socket, its timestamps, and the pcap writer.
"""

from __future__ import annotations

import select
import socket
import time
from dataclasses import dataclass, field
from typing import Callable

from harness.record.timeline import Timeline
from netns import Netns

from .attribution import CapturedAck, Completeness
from .packet import ACK, SYN, Segment, flags_str

ETH_HLEN = 14
ETH_P_IP, ETH_P_IPV6 = 0x0800, 0x86DD
SO_RCVBUFFORCE = 33
CAPTURE_RCVBUF = 8 << 20  # a whole case fits: drops would make the ground truth incomplete
MOD = 1 << 32


@dataclass
class Captured:
    """One TCP segment of the case's connection, with relative numbers."""

    t: float
    outbound: bool      # sent by the sender (the socket under test)
    seg: Segment
    rel_seq: int
    rel_ack: int | None
    length: int         # payload bytes
    window: int         # advertised window in bytes, scaled
    raw: bytes


@dataclass
class Flow:
    """The connection's two ends and what the handshake taught (ISNs, window scales)."""

    family: int
    sender: tuple[str, int]
    receiver: tuple[str, int]
    iss: dict[bool, int] = field(default_factory=dict)     # outbound? -> ISN of that side
    wscale: dict[bool, int] = field(default_factory=dict)  # outbound? -> shift of that side

    def direction(self, seg: Segment) -> bool | None:
        if (seg.src, seg.sport, seg.dst, seg.dport) == (*self.sender, *self.receiver):
            return True
        if (seg.src, seg.sport, seg.dst, seg.dport) == (*self.receiver, *self.sender):
            return False
        return None


def _open_listen_socket(ifname: str):
    """scapy's L2 listen socket on ``ifname``; must run in a thread inside the namespace."""
    import scapy.layers.l2  # noqa: F401  (registers Ethernet for the socket's link type)
    from scapy.arch.linux import L2ListenSocket  # imported once per process (~0.7 s)

    s = L2ListenSocket(iface=ifname, promisc=False)
    s.ins.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, CAPTURE_RCVBUF)
    s.ins.setblocking(False)
    return s


def _canon(family: int, addr: str) -> str:
    return socket.inet_ntop(family, socket.inet_pton(family, addr))


class Capture:
    """The capture of one case; ``drain()`` after every step, ``join()`` at the end."""

    def __init__(self, ns: Netns, ifname: str, timeline: Timeline) -> None:
        self.timeline = timeline
        self.ifname = ifname
        self._sock = ns.call(_open_listen_socket, ifname)
        self.flow: Flow | None = None
        self.segments: list[Captured] = []
        self.other = 0  # frames of other flows or protocols (ND, ...), ignored

    def follow(self, family: int, sender: tuple[str, int], receiver: tuple[str, int]) -> None:
        """Which connection is the case's; set before its first packet (the SYN)."""
        self.flow = Flow(family, (_canon(family, sender[0]), sender[1]),
                         (_canon(family, receiver[0]), receiver[1]))

    def fileno(self) -> int:
        return self._sock.ins.fileno()

    # -- reading ------------------------------------------------------------------------
    def drain(self) -> list[Captured]:
        """Read every frame queued so far; the case's segments join the timeline."""
        new: list[Captured] = []
        while True:
            try:
                _, frame, ts = self._sock.recv_raw(65535)
            except (BlockingIOError, InterruptedError):
                break
            if not frame:
                break
            got = self._decode(frame, ts if ts is not None else time.time())
            if got is not None:
                new.append(got)
        return new

    def wait(self, until: Callable[[], bool], deadline: float) -> bool:
        """Drain until ``until()`` holds, sleeping only on the socket; False at the deadline."""
        while True:
            self.drain()
            if until():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            select.select([self.fileno()], [], [], left)

    def _decode(self, frame: bytes, ts: float) -> Captured | None:
        ethertype = int.from_bytes(frame[12:14], "big")
        if ethertype not in (ETH_P_IP, ETH_P_IPV6) or self.flow is None:
            self.other += 1
            return None
        raw = bytes(frame[ETH_HLEN:])
        seg = Segment.decode(raw)
        outbound = self.flow.direction(seg) if seg is not None else None
        if outbound is None:
            self.other += 1
            return None
        flow = self.flow
        if seg.flags & SYN:
            flow.iss[outbound] = seg.seq
            flow.wscale[outbound] = seg.wscale or 0
        own = flow.iss.get(outbound, seg.seq)
        other = flow.iss.get(not outbound)
        rel_seq = (seg.seq - own) % MOD
        rel_ack = (seg.ack - other) % MOD if (seg.flags & ACK and other is not None) else None
        window = seg.window if seg.flags & SYN else seg.window << flow.wscale.get(outbound, 0)
        got = Captured(ts, outbound, seg, rel_seq, rel_ack, len(seg.payload), window, raw)
        self.segments.append(got)
        self.timeline.add("out" if outbound else "in", self.describe(got), t=ts, raw=raw)
        return got

    @staticmethod
    def describe(c: Captured) -> str:
        text = f"{'sender ->' if c.outbound else 'sender <-'} {flags_str(c.seg.flags)} " \
               f"{c.rel_seq}:{c.rel_seq + c.length}({c.length})"
        if c.rel_ack is not None:
            text += f" ack {c.rel_ack}"
        return text + f" win {c.window}"

    # -- what the capture says ----------------------------------------------------------
    def acks(self) -> list[CapturedAck]:
        """Every segment the sender received that carries an ACK, in arrival order."""
        ins = [c for c in self.segments if not c.outbound and c.rel_ack is not None]
        return [CapturedAck(c.t, c.rel_ack, c.window, i) for i, c in enumerate(ins)]

    def peer_window(self) -> int | None:
        """The window the receiver advertised last (bytes), as the sender received it."""
        last = next((c for c in reversed(self.segments) if not c.outbound), None)
        return last.window if last is not None else None

    def data_out(self) -> list[tuple[int, int]]:
        return [(c.rel_seq, c.length) for c in self.segments if c.outbound and c.length]

    def counts(self) -> tuple[int, int]:
        out = sum(1 for c in self.segments if c.outbound)
        return out, len(self.segments) - out

    def join(self, info: Callable[[], dict], deadline: float) -> Completeness:
        """Drain until the capture has what TCP_INFO counts (or the deadline passes).

        ``info`` reads the sender's TCP_INFO; segs_out/segs_in count every segment the socket
        sent and received (tcp_skb_pcount() per skb, one per skb with offloads off).
        """
        result: list[Completeness] = []

        def complete() -> bool:
            i = info()
            c = Completeness(*self.counts(), i.get("segs_out", -1), i.get("segs_in", -1))
            result[:] = [c]
            return c.captured_out >= c.segs_out and c.captured_in >= c.segs_in

        self.wait(complete, deadline)
        return result[0]

    def close(self) -> None:
        self._sock.close()


def open_capture(ns: Netns, ifname: str, timeline: Timeline) -> Capture:
    """Import scapy (once per process: ~0.7 s) and open the capture in ``ns``."""
    return Capture(ns, ifname, timeline)

