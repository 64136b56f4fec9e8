"""A scripted TCP peer on the far side of a TUN device, in the manner of packetdrill.

The harness decides every segment the kernel receives: the handshake and its options, each
ACK's number and window, data, FIN and RST.  It reads every segment the kernel sends.  A
write to the TUN fd is processed by the kernel before ``write()`` returns, so the socket's
accounting read right after already reflects the segment.

Sequence numbers in the API are *relative* to the kernel's initial sequence number, as in
packetdrill: the kernel's first data byte is 1, so ``ack(10001)`` acknowledges 10000 bytes.
"""

from __future__ import annotations

import os
import select
import time
from dataclasses import dataclass, field
from typing import Callable

from harness.record.timeline import Timeline
from netns import TunLink

from .packet import ACK, FIN, PSH, RST, SYN, URG, Segment, flags_str

MOD = 1 << 32
PEER_ISS = 0  # the peer's own initial sequence number: relative and absolute agree


class PeerTimeout(AssertionError):
    """The kernel did not send what the script waited for before the deadline."""


@dataclass(frozen=True)
class PeerOptions:
    """What the peer announces in its SYN or SYN-ACK, and the window it advertises."""

    mss: int = 1000
    window: int = 50000
    wscale: int | None = 0
    sack: bool = False
    timestamps: bool = False


@dataclass
class PeerConn:
    """One connection as the peer sees it."""

    peer: "ScriptedPeer"
    family: int
    kernel: tuple[str, int]
    remote: tuple[str, int]
    opts: PeerOptions
    timeline: Timeline
    irs: int = 0            # the kernel's initial sequence number
    snd_nxt: int = PEER_ISS + 1
    acked: int = 0          # highest relative ACK sent to the kernel
    received_end: int = 1   # relative sequence just past the highest byte the kernel sent
    window_end: int = 0     # right edge of the window the last ACK offered (relative)
    payload: bytearray = field(default_factory=bytearray)
    segments: list[Segment] = field(default_factory=list)
    kernel_wscale: int = 0
    ts_recent: int = 0

    # -- relative numbers ---------------------------------------------------------------
    def rel(self, seq: int) -> int:
        return (seq - self.irs) % MOD

    def describe(self, seg: Segment, inbound: bool) -> str:
        """tcpdump-like, with relative numbers from the kernel's side of the connection."""
        if inbound:
            seq, ack = seg.seq, self.rel(seg.ack) if seg.flags & ACK else None
        else:
            seq, ack = self.rel(seg.seq), seg.ack if seg.flags & ACK else None
        text = f"{flags_str(seg.flags)} {seq}:{seq + len(seg.payload)}({len(seg.payload)})"
        if ack is not None:
            text += f" ack {ack}"
        text += f" win {seg.window}"
        opts = []
        if seg.mss is not None:
            opts.append(f"mss {seg.mss}")
        if seg.sack_ok:
            opts.append("sackOK")
        if seg.ts is not None:
            opts.append(f"TS val {seg.ts[0]} ecr {seg.ts[1]}")
        if seg.wscale is not None:
            opts.append(f"wscale {seg.wscale}")
        if opts:
            text += " <" + ",".join(opts) + ">"
        return ("kernel <- " if inbound else "kernel -> ") + text

    # -- what the kernel sent -----------------------------------------------------------
    def _accept(self, seg: Segment, raw: bytes, t: float) -> None:
        self.segments.append(seg)
        self.timeline.add("out", self.describe(seg, inbound=False), t=t, raw=raw,
                          seq=self.rel(seg.seq), len=len(seg.payload), flags=flags_str(seg.flags))
        if seg.flags & SYN:
            self.irs = seg.seq
            self.kernel_wscale = seg.wscale or 0
        if seg.ts is not None:
            self.ts_recent = seg.ts[0]
        end = self.rel(seg.end_seq) if not seg.flags & SYN else 1
        if seg.payload:
            start = self.rel(seg.seq)
            # keep the stream in order; a retransmission overwrites what it repeats
            if start - 1 <= len(self.payload):
                self.payload[start - 1:start - 1 + len(seg.payload)] = seg.payload
        self.received_end = max(self.received_end, end)

    def expect(self, pred: Callable[[Segment], bool], what: str, timeout: float = 2.0) -> Segment:
        """Wait (with a deadline) for the next segment of this connection that matches."""
        deadline = time.monotonic() + timeout
        seen = len(self.segments)
        while True:
            for seg in self.segments[seen:]:
                if pred(seg):
                    return seg
            seen = len(self.segments)
            left = deadline - time.monotonic()
            if left <= 0:
                raise PeerTimeout(f"the kernel sent no {what} within {timeout}s")
            self.peer.pump(left)

    def drain(self) -> list[Segment]:
        """Collect what the kernel has already sent, without waiting."""
        before = len(self.segments)
        self.peer.pump(0)
        return self.segments[before:]

    def wait_until_sent(self, sent_end: Callable[[], int], timeout: float = 2.0) -> None:
        """Wait until the peer holds every byte the kernel says it has sent.

        ``sent_end()`` gives the relative sequence just past the kernel's snd_nxt, from its
        own accounting; pacing (bbr) can put a segment on the wire after the ACK returned.
        """
        deadline = time.monotonic() + timeout
        while self.received_end < sent_end():
            left = deadline - time.monotonic()
            if left <= 0:
                raise PeerTimeout(f"kernel reports data sent up to {sent_end()} but the peer "
                                  f"received up to {self.received_end}")
            self.peer.pump(min(left, 0.05))

    def wait_for_more(self, past: int, timeout: float = 2.0) -> None:
        """Wait until the kernel sends beyond relative sequence ``past``."""
        deadline = time.monotonic() + timeout
        while self.received_end <= past:
            left = deadline - time.monotonic()
            if left <= 0:
                raise PeerTimeout(f"the kernel holds unsent data the window takes but sent nothing "
                                  f"past {past}\n{self.timeline.render()}")
            self.peer.pump(min(left, 0.05))

    # -- what the peer sends --------------------------------------------------------------
    def _send(self, flags: int, payload: bytes = b"", ack: int | None = None,
              window: int | None = None, seq: int | None = None, syn_options: bool = False,
              urgent: int = 0) -> Segment:
        o = self.opts
        seg = Segment(self.family, self.remote[0], self.kernel[0], self.remote[1], self.kernel[1],
                      self.snd_nxt if seq is None else seq,
                      ((self.irs + (self.acked if ack is None else ack)) % MOD) if flags & ACK else 0,
                      flags, o.window if window is None else window, payload, urgent)
        if syn_options:
            seg.mss, seg.wscale, seg.sack_ok = o.mss, o.wscale, o.sack
        if o.timestamps:
            seg.ts = (int(time.monotonic() * 1000) & 0xFFFFFFFF, self.ts_recent)
        raw = seg.encode()
        self.timeline.add("in", self.describe(seg, inbound=True), raw=raw, ack=ack,
                          len=len(payload), flags=flags_str(flags))
        if seq is None:
            self.snd_nxt = (self.snd_nxt + seg.seg_len) % MOD
        self.peer.write(raw)
        return seg

    def ack(self, rel_ack: int, window: int | None = None) -> Segment:
        """Acknowledge up to relative sequence ``rel_ack`` (which the kernel must have sent)."""
        if rel_ack > self.received_end:
            raise ValueError(f"ack {rel_ack} beyond what the kernel sent ({self.received_end})")
        self.acked = max(self.acked, rel_ack)
        seg = self._send(ACK, ack=rel_ack, window=window)
        self.window_end = rel_ack + (seg.window << (self.opts.wscale or 0))
        return seg

    def data(self, payload: bytes, flags: int = PSH | ACK) -> Segment:
        return self._send(flags, payload)

    def fin(self, payload: bytes = b"") -> Segment:
        return self._send(FIN | ACK | (PSH if payload else 0), payload)

    def rst(self) -> Segment:
        return self._send(RST | ACK)

    def urgent(self, payload: bytes) -> Segment:
        """Data with URG whose last byte is the urgent one.

        Linux reads the urgent pointer BSD-style (tcp_check_urg(): without tcp_stdurg the
        urgent byte is seq + urg_ptr - 1), so the pointer is the payload length.
        """
        return self._send(URG | PSH | ACK, payload, urgent=len(payload))


class ScriptedPeer:
    """Owns the TUN fd; dispatches what the kernel sends to the connection it belongs to."""

    def __init__(self, link: TunLink) -> None:
        self.link = link
        self.conns: dict[tuple, PeerConn] = {}
        self._next_port = 40000

    def write(self, raw: bytes) -> None:
        os.write(self.link.fd, raw)

    def pump(self, timeout: float) -> int:
        """Read every packet the kernel has queued (waiting up to ``timeout`` for the first)."""
        n = 0
        if timeout > 0 and not select.select([self.link.fd], [], [], timeout)[0]:
            return 0
        while True:
            try:
                raw = os.read(self.link.fd, 65536)
            except BlockingIOError:
                return n
            t = time.time()
            seg = Segment.decode(raw)
            if seg is None:
                continue  # router solicitations and other non-TCP chatter
            conn = self.conns.get((seg.src, seg.sport, seg.dst, seg.dport))
            if conn is not None:
                conn._accept(seg, raw, t)
                n += 1

    def discard(self) -> None:
        """Drop whatever is queued (left over from an earlier case's connection)."""
        self.pump(0)

    def port(self) -> int:
        self._next_port = 40000 + (self._next_port - 40000 + 1) % 20000
        return self._next_port

    def _conn(self, family: int, kernel: tuple[str, int], remote: tuple[str, int],
              opts: PeerOptions, timeline: Timeline) -> PeerConn:
        conn = PeerConn(self, family, kernel, remote, opts, timeline)
        self.conns[(kernel[0], kernel[1], remote[0], remote[1])] = conn
        return conn

    def forget(self, conn: PeerConn) -> None:
        self.conns.pop((conn.kernel[0], conn.kernel[1], conn.remote[0], conn.remote[1]), None)

    def connect(self, family: int, kernel_port: int, opts: PeerOptions, timeline: Timeline) -> PeerConn:
        """Peer-initiated handshake to a listening kernel socket: SYN, SYN-ACK, ACK."""
        local, remote = self.link.addresses(family)
        conn = self._conn(family, (local, kernel_port), (remote, self.port()), opts, timeline)
        conn._send(SYN, seq=PEER_ISS, syn_options=True)
        conn.snd_nxt = PEER_ISS + 1
        conn.expect(lambda s: s.flags & SYN and s.flags & ACK, "SYN-ACK")
        conn._send(ACK, ack=1)
        conn.acked = 1
        return conn

    def refuse(self, family: int, port: int, opts: PeerOptions, timeline: Timeline,
               kernel_port: Callable[[], int]) -> PeerConn:
        """Kernel-initiated handshake refused: wait for the SYN, answer RST|ACK (ack = SYN+1),
        what a host with no listener on the port sends (tcp_v4_send_reset)."""
        local, remote = self.link.addresses(family)
        conn = self._conn(family, (local, kernel_port()), (remote, port), opts, timeline)
        conn.expect(lambda s: bool(s.flags & SYN), "SYN")
        conn._send(RST | ACK, seq=PEER_ISS, ack=1)
        return conn

    def ignore(self, family: int, port: int, opts: PeerOptions, timeline: Timeline,
               kernel_port: Callable[[], int]) -> PeerConn:
        """A peer that never answers: the kernel's SYNs are collected and left unanswered."""
        local, remote = self.link.addresses(family)
        conn = self._conn(family, (local, kernel_port()), (remote, port), opts, timeline)
        conn.expect(lambda s: bool(s.flags & SYN), "SYN")
        return conn

    def answer(self, family: int, port: int, opts: PeerOptions, timeline: Timeline,
               kernel_port: Callable[[], int]) -> PeerConn:
        """Kernel-initiated handshake: wait for the SYN to ``port``, answer with SYN-ACK."""
        local, remote = self.link.addresses(family)
        conn = self._conn(family, (local, kernel_port()), (remote, port), opts, timeline)
        conn.expect(lambda s: bool(s.flags & SYN), "SYN")
        conn._send(SYN | ACK, seq=PEER_ISS, ack=1, syn_options=True)
        conn.snd_nxt = PEER_ISS + 1
        conn.acked = 1
        return conn
