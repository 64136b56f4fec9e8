"""The kernel's own accounting of a TCP socket, read at one instant.

SO_MEMINFO gives the nine sk_meminfo counters (include/uapi/linux/sock_diag.h), TCP_INFO the
protocol state (include/uapi/linux/tcp.h; parsed as far as the running kernel fills it),
SIOCOUTQ / SIOCOUTQNSD the unacknowledged and the not-yet-sent bytes, SIOCINQ the readable
bytes.  A :class:`Snapshot` bundles them; the rule engine reads nothing else.
"""

from __future__ import annotations

import fcntl
import socket
import struct
import time
from dataclasses import dataclass, field, fields
from functools import lru_cache

SO_MEMINFO = 55
TCP_NOTSENT_LOWAT = 25
TCP_CONGESTION = 13
SIOCINQ = 0x541B
SIOCOUTQ = 0x5411
SIOCOUTQNSD = 0x894B

MEMINFO_FIELDS = ("rmem_alloc", "rcvbuf", "wmem_alloc", "sndbuf", "fwd_alloc",
                  "wmem_queued", "optmem", "backlog", "drops")

# struct tcp_info, in order; each entry is (name, struct code).  Older kernels return a
# shorter struct: fields past the returned length are simply absent.
_TCP_INFO = (
    ("state", "B"), ("ca_state", "B"), ("retransmits", "B"), ("probes", "B"),
    ("backoff", "B"), ("options", "B"), ("wscale", "B"), ("flags", "B"),
    ("rto", "I"), ("ato", "I"), ("snd_mss", "I"), ("rcv_mss", "I"),
    ("unacked", "I"), ("sacked", "I"), ("lost", "I"), ("retrans", "I"), ("fackets", "I"),
    ("last_data_sent", "I"), ("last_ack_sent", "I"), ("last_data_recv", "I"), ("last_ack_recv", "I"),
    ("pmtu", "I"), ("rcv_ssthresh", "I"), ("rtt", "I"), ("rttvar", "I"),
    ("snd_ssthresh", "I"), ("snd_cwnd", "I"), ("advmss", "I"), ("reordering", "I"),
    ("rcv_rtt", "I"), ("rcv_space", "I"), ("total_retrans", "I"),
    ("pacing_rate", "Q"), ("max_pacing_rate", "Q"), ("bytes_acked", "Q"), ("bytes_received", "Q"),
    ("segs_out", "I"), ("segs_in", "I"), ("notsent_bytes", "I"), ("min_rtt", "I"),
    ("data_segs_in", "I"), ("data_segs_out", "I"), ("delivery_rate", "Q"),
    ("busy_time", "Q"), ("rwnd_limited", "Q"), ("sndbuf_limited", "Q"),
    ("delivered", "I"), ("delivered_ce", "I"), ("bytes_sent", "Q"), ("bytes_retrans", "Q"),
    ("dsack_dups", "I"), ("reord_seen", "I"), ("rcv_ooopack", "I"), ("snd_wnd", "I"),
)
_TCP_INFO_MAX = 256

TCP_STATES = ("", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
              "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV")


def meminfo(sock: socket.socket) -> dict[str, int]:
    raw = sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 4 * len(MEMINFO_FIELDS))
    return dict(zip(MEMINFO_FIELDS, struct.unpack(f"{len(raw) // 4}I", raw)))


@lru_cache(maxsize=8)
def _tcp_info_layout(length: int) -> tuple[tuple[str, ...], struct.Struct]:
    """The fields of struct tcp_info that fit in ``length`` bytes (what this kernel returns),
    as one format with the C struct's alignment padding: built once per length."""
    names, fmt, offset = [], "=", 0
    for name, code in _TCP_INFO:
        size = struct.calcsize(code)
        pad = -offset % size  # natural alignment, as in the C struct
        if offset + pad + size > length:
            break
        fmt += "x" * pad + code
        offset += pad + size
        names.append(name)
    return tuple(names), struct.Struct(fmt)


def tcp_info(sock: socket.socket) -> dict[str, int]:
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_MAX)
    names, layout = _tcp_info_layout(len(raw))
    return dict(zip(names, layout.unpack_from(raw)))


def _ioctl_int(sock: socket.socket, request: int) -> int:
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), request, b"\0" * 4))[0]


def outq(sock: socket.socket) -> int:
    """Bytes written and not yet acknowledged (SIOCOUTQ)."""
    return _ioctl_int(sock, SIOCOUTQ)


def outq_nsd(sock: socket.socket) -> int:
    """Bytes written and not yet sent (SIOCOUTQNSD)."""
    return _ioctl_int(sock, SIOCOUTQNSD)


def inq(sock: socket.socket) -> int:
    return _ioctl_int(sock, SIOCINQ)


def notsent_lowat(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, TCP_NOTSENT_LOWAT)


@dataclass(frozen=True)
class Snapshot:
    """What the kernel says about one socket at one instant."""

    t: float
    sndbuf: int
    wmem_queued: int
    outq: int
    notsent: int
    inq: int
    notsent_lowat: int
    rcvlowat: int
    state: str
    mem: dict = field(repr=False)
    info: dict = field(repr=False)
    accept_queue: int = 0  # a listener's sk_ack_backlog (tcp_get_info() puts it in tcpi_unacked)

    @property
    def free(self) -> int:
        """sk_stream_wspace(): send buffer space not taken by queued skbs."""
        return self.sndbuf - self.wmem_queued

    @property
    def unacked_bytes(self) -> int:
        return self.outq - self.notsent

    def brief(self) -> str:
        return (f"sndbuf={self.sndbuf} queued={self.wmem_queued} free={self.free} "
                f"outq={self.outq} notsent={self.notsent} inq={self.inq} cwnd={self.info.get('snd_cwnd')}")

    def layout_conditions(self) -> dict:
        """What decides the skb layout behind ``wmem_queued`` at this instant: the RTT the
        kernel measured and the pacing rate it derived (tcp_tso_autosize() sizes TSO chunks
        from them), and the truesize of all skb heads queued (wmem_queued minus the bytes)."""
        return {"rtt_us": self.info.get("rtt"), "min_rtt_us": self.info.get("min_rtt"),
                "pacing_rate": self.info.get("pacing_rate"), "skb_overhead": self.wmem_queued - self.outq}

    def to_dict(self) -> dict:
        # by hand: dataclasses.asdict() deep-copies TCP_INFO and SO_MEMINFO at every read,
        # which was a fifth of the suite's CPU time (and more of a guest's under TCG)
        d = {name: getattr(self, name) for name in _FIELDS}
        d["mem"], d["info"] = dict(self.mem), dict(self.info)
        d["free"] = self.free
        return d


_FIELDS = tuple(f.name for f in fields(Snapshot))


def snapshot(sock: socket.socket) -> Snapshot:
    mem = meminfo(sock)
    info = tcp_info(sock)
    if info["state"] == TCP_STATES.index("LISTEN"):
        return listener_snapshot(sock, mem, info)
    return Snapshot(
        t=time.time(),
        sndbuf=mem["sndbuf"],
        wmem_queued=mem["wmem_queued"],
        outq=outq(sock),
        notsent=outq_nsd(sock),
        inq=inq(sock),
        notsent_lowat=notsent_lowat(sock),
        rcvlowat=sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT),
        state=TCP_STATES[info["state"]] if info["state"] < len(TCP_STATES) else str(info["state"]),
        mem=mem,
        info=info,
    )


def listener_snapshot(sock: socket.socket, mem: dict, info: dict) -> Snapshot:
    """A listener has no queues of its own (tcp_ioctl() refuses SIOCINQ/SIOCOUTQ with
    EINVAL); tcp_get_info() reports its accept queue length in tcpi_unacked."""
    return Snapshot(t=time.time(), sndbuf=mem["sndbuf"], wmem_queued=mem["wmem_queued"], outq=0,
                    notsent=0, inq=0, notsent_lowat=notsent_lowat(sock),
                    rcvlowat=sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT),
                    state="LISTEN", mem=mem, info=info, accept_queue=info["unacked"])


def set_congestion(sock: socket.socket, name: str) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, name.encode())


def congestion(sock: socket.socket) -> str:
    return sock.getsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, 16).rstrip(b"\0").decode()
