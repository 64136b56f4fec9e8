"""Just enough IPv4/IPv6 + TCP to play the peer: build and parse one segment in microseconds.

scapy stays the tool for captures and pcaps; the scripted peer sends and parses hundreds of
segments per case, where scapy's per-packet cost would dominate the run time.
"""

from __future__ import annotations

import socket
import struct
from array import array
from dataclasses import dataclass, field

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
_FLAG_CHARS = ((SYN, "S"), (FIN, "F"), (RST, "R"), (PSH, "P"), (URG, "U"))


def checksum(data: bytes) -> int:
    """The Internet checksum, as a value to store with native byte order ('=H')."""
    if len(data) % 2:
        data += b"\0"
    s = sum(array("H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def flags_str(flags: int) -> str:
    """tcpdump-style flags: 'S', 'S.', 'P.', 'F.', 'R', '.'."""
    s = "".join(c for bit, c in _FLAG_CHARS if flags & bit)
    return s + "." if flags & ACK else (s or "none")


@dataclass
class Segment:
    family: int
    src: str
    dst: str
    sport: int
    dport: int
    seq: int
    ack: int = 0
    flags: int = ACK
    window: int = 65535
    payload: bytes = b""
    urgent: int = 0
    mss: int | None = None
    wscale: int | None = None
    sack_ok: bool = False
    ts: tuple[int, int] | None = None
    sack: list[tuple[int, int]] = field(default_factory=list)

    @property
    def seg_len(self) -> int:
        """Sequence space used: payload plus one each for SYN and FIN."""
        return len(self.payload) + bool(self.flags & SYN) + bool(self.flags & FIN)

    @property
    def end_seq(self) -> int:
        return (self.seq + self.seg_len) & 0xFFFFFFFF

    def _options(self) -> bytes:
        out = b""
        if self.mss is not None:
            out += struct.pack("!BBH", 2, 4, self.mss)
        if self.sack_ok:
            out += b"\x04\x02" if self.ts is not None else b"\x01\x01\x04\x02"
        if self.ts is not None:
            out = (out if self.sack_ok else out + b"\x01\x01") + struct.pack("!BBII", 8, 10, *self.ts)
        if self.wscale is not None:
            out += struct.pack("!BBBB", 1, 3, 3, self.wscale)
        return out + b"\x01" * (-len(out) % 4)

    def encode(self) -> bytes:
        opts = self._options()
        off = (20 + len(opts)) // 4
        tcp = struct.pack("!HHIIBBHHH", self.sport, self.dport, self.seq & 0xFFFFFFFF,
                          self.ack & 0xFFFFFFFF, off << 4, self.flags, self.window, 0, self.urgent)
        tcp += opts + self.payload
        af = self.family
        src, dst = socket.inet_pton(af, self.src), socket.inet_pton(af, self.dst)
        if af == socket.AF_INET:
            pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
        else:
            pseudo = src + dst + struct.pack("!IxxxB", len(tcp), socket.IPPROTO_TCP)
        tcp = tcp[:16] + struct.pack("=H", checksum(pseudo + tcp)) + tcp[18:]
        if af == socket.AF_INET:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64,
                             socket.IPPROTO_TCP, 0, src, dst)
            ip = ip[:10] + struct.pack("=H", checksum(ip)) + ip[12:]
        else:
            ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), socket.IPPROTO_TCP, 64, src, dst)
        return ip + tcp

    @classmethod
    def decode(cls, raw: bytes) -> "Segment | None":
        """Parse an IP packet; None for anything that is not TCP (e.g. IPv6 router solicitations)."""
        if not raw:
            return None
        version = raw[0] >> 4
        if version == 4:
            ihl = (raw[0] & 0x0F) * 4
            if raw[9] != socket.IPPROTO_TCP:
                return None
            total = struct.unpack_from("!H", raw, 2)[0]
            af, src, dst, tcp = socket.AF_INET, raw[12:16], raw[16:20], raw[ihl:total]
        elif version == 6:
            if raw[6] != socket.IPPROTO_TCP:  # the suite's kernels send no extension headers
                return None
            plen = struct.unpack_from("!H", raw, 4)[0]
            af, src, dst, tcp = socket.AF_INET6, raw[8:24], raw[24:40], raw[40:40 + plen]
        else:
            return None
        sport, dport, seq, ack, off, flags, window, _, urgent = struct.unpack_from("!HHIIBBHHH", tcp)
        hlen = (off >> 4) * 4
        seg = cls(af, socket.inet_ntop(af, src), socket.inet_ntop(af, dst), sport, dport, seq, ack,
                  flags, window, bytes(tcp[hlen:]), urgent)
        _parse_options(seg, tcp[20:hlen])
        return seg


def _parse_options(seg: Segment, opts: bytes) -> None:
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        length = opts[i + 1]
        body = opts[i + 2:i + length]
        if kind == 2 and len(body) == 2:
            seg.mss = struct.unpack("!H", body)[0]
        elif kind == 3 and len(body) == 1:
            seg.wscale = body[0]
        elif kind == 4:
            seg.sack_ok = True
        elif kind == 5:
            seg.sack = [struct.unpack_from("!II", body, j) for j in range(0, len(body) - 7, 8)]
        elif kind == 8 and len(body) == 8:
            seg.ts = struct.unpack("!II", body)
        i += length

