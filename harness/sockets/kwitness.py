"""A kernel-side witness of write-space tests: every sk_stream_write_space() call on a socket.

Four kprobe events (:mod:`harness.sockets.kprobes`), their field offsets read from the running
kernel's BTF (:mod:`harness.sockets.btf`), and a fifth for a followed thread:

* ``ws`` at the entry of ``sk_stream_write_space(sk)`` (net/core/stream.c) fetches
  ``sk_wmem_queued``, ``sk_sndbuf``, the ports, ``tcp_sock.write_seq - snd_nxt`` (the unsent
  bytes), ``notsent_lowat`` and ``sk->sk_socket->flags`` (SOCK_NOSPACE, bit 2 in
  include/linux/net.h), with a ``stacktrace`` trigger for the call path;
* ``wk`` at ``woken_wake_function`` (the wait entry of sk_stream_wait_memory(): a blocking
  writer) with the woken task's pid, and ``ep`` at ``ep_poll_callback`` (an epoll item) with
  its wakeup key: those after a ``ws`` (EPOLLOUT keys only) and before the next are the
  sleepers that call woke, since sk_stream_write_space() wakes them before it returns and the
  suite reads the trace only once the kernel has processed the step;
* ``wm`` at the entry of ``sk_stream_wait_memory()`` on the socket: a blocking writer going to
  sleep, with the accounting it finds (memory already free there means ``vm_wait``: a timed
  sleep, :class:`harness.model.transient.Sleep`);
* ``tw`` at ``try_to_wake_up()``, filtered on one thread (:meth:`KernelWitness.follow`) with a
  stack trace: whatever woke the blocking writer, a write-space call or anything else.

No return probe marks the end of a call: before 5.12 a kretprobe on the function replaces its
return address and the stack trace of the entry probe stops at "[unknown/kretprobe'd]".

Each call becomes a :class:`harness.model.transient.Call`, named by its call path: a
transmit inside an ACK (tcp_write_xmit / tcp_event_new_data_sent under tcp_rcv_established),
the ACK's own test after its push (tcp_data_snd_check), a pacing or TSQ transmit, setsockopt.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from functools import lru_cache

from harness.model.transient import Call, Sleep

from .btf import Btf
from .kprobes import Probes, TracePipe, tracefs

SOCK_NOSPACE_BIT = 2  # include/linux/net.h
EPOLLOUT = 0x4

_LINE = re.compile(r"^\s*(?P<task>.*?)-(?P<pid>\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(?P<cpu>\d+)\]\s+\S+\s+"
                   r"(?P<ts>\d+\.\d+): (?P<event>[\w<> ]+?): (?P<rest>.*)$")
_ARG = re.compile(r"(\w+)=(\S+)")


@lru_cache(maxsize=1)
def offsets() -> dict[str, int]:
    """The byte offsets the probes fetch, from /sys/kernel/btf/vmlinux (parsed once)."""
    b = Btf.load()
    return {
        "queued": b.field("sock", "sk_wmem_queued").offset,
        "sndbuf": b.field("sock", "sk_sndbuf").offset,
        "socket": b.field("sock", "sk_socket").offset,
        "num": b.field("sock", "__sk_common.skc_num").offset,
        "dport": b.field("sock", "__sk_common.skc_dport").offset,
        "flags": b.field("socket", "flags").offset,
        "write_seq": b.field("tcp_sock", "write_seq").offset,
        "snd_nxt": b.field("tcp_sock", "snd_nxt").offset,
        "lowat": b.field("tcp_sock", "notsent_lowat").offset,
        "private": b.field("wait_queue_entry", "private").offset,
        "pid": b.field("task_struct", "pid").offset,
    }


def definitions(o: dict[str, int]) -> list[tuple[str, str, bool]]:
    """(name, kprobe definition, stacktrace) of the three events."""
    ws = (f"p sk_stream_write_space q=+{o['queued']}(%di):s32 b=+{o['sndbuf']}(%di):s32 "
          f"sport=+{o['num']}(%di):u16 dport=+{o['dport']}(%di):u16 "
          f"wseq=+{o['write_seq']}(%di):u32 nxt=+{o['snd_nxt']}(%di):u32 lowat=+{o['lowat']}(%di):u32 "
          f"flags=+{o['flags']}(+{o['socket']}(%di)):u64")
    wm = (f"p sk_stream_wait_memory q=+{o['queued']}(%di):s32 b=+{o['sndbuf']}(%di):s32 "
          f"sport=+{o['num']}(%di):u16 dport=+{o['dport']}(%di):u16 "
          f"wseq=+{o['write_seq']}(%di):u32 nxt=+{o['snd_nxt']}(%di):u32 lowat=+{o['lowat']}(%di):u32")
    return [("ws", ws, True),
            ("wk", f"p woken_wake_function pid=+{o['pid']}(+{o['private']}(%di)):s32", False),
            ("ep", "p ep_poll_callback key=%cx:x64", False),
            ("wm", wm, False)]


_ACK = ("tcp_ack", "tcp_rcv_established", "tcp_rcv_state_process", "tcp_v4_do_rcv", "tcp_v6_do_rcv")
_XMIT = ("tcp_write_xmit", "tcp_event_new_data_sent")
_TIMER = ("tcp_tsq_handler", "tcp_tasklet_func", "tcp_pace_kick", "tcp_tsq_write", "tcp_write_timer_handler")
_SETSOCKOPT = ("sock_setsockopt", "sk_setsockopt", "do_tcp_setsockopt", "tcp_setsockopt")


def site(frames: list[str]) -> str:
    """Name the call path from the stack's function names (innermost first; the kprobe's
    own frames, up to sk_stream_write_space, are left out)."""
    if "sk_stream_write_space" in frames:
        frames = frames[frames.index("sk_stream_write_space"):]
    names = set(frames)
    xmit = bool(names.intersection(_XMIT))
    if names.intersection(_SETSOCKOPT):
        return "setsockopt"
    if xmit and names.intersection(_ACK):
        return "transmit inside the ACK (tcp_write_xmit)"
    if xmit and names.intersection(_TIMER):
        return "transmit from the pacing/TSQ handler"
    if xmit and any(n.startswith("tcp_sendmsg") for n in names):
        return "transmit inside sendmsg"
    if xmit:
        return "transmit"
    if names.intersection(_ACK):
        return "after the ACK's push (tcp_data_snd_check)"
    if any(n.startswith("tcp_sendmsg") for n in names):
        return "sendmsg"
    return frames[1] if len(frames) > 1 else "unknown"


@dataclass
class Wake:
    """try_to_wake_up() of a followed thread, and the call path that did it."""
    t: float
    tid: int
    frames: list[str] = field(default_factory=list)

    def brief(self) -> str:
        # the probe's own frames: kprobe/ftrace handlers, an optimized probe's trampoline (an address)
        path = [f for f in self.frames if f and not f.startswith(("try_to_wake_up", "kprobe", "trace", "ftrace", "0x"))]
        return f"tid {self.tid} woken by " + (" <- ".join(path[:8]) or "an unknown path")


@dataclass
class _Open:
    args: dict[str, int]
    ts: float
    frames: list[str] = field(default_factory=list)
    tids: list[int] = field(default_factory=list)
    epoll: int = 0


class CallParser:
    """Turns trace_pipe lines into the calls on one socket (local port, remote port)."""

    def __init__(self, local_port: int, remote_port: int) -> None:
        self.ports = (local_port, remote_port)
        self.open: _Open | None = None
        self.last_event = ""
        self.stack: list[str] = []       # the stack block being read
        self.pending: list[str] = []     # a block that came before its ``ws`` line
        self.sleeps: list[Sleep] = []    # entries into sk_stream_wait_memory() on the socket
        self.wakes: list[Wake] = []      # try_to_wake_up() of a followed thread, with its stack

    def _mine(self, a: dict[str, int]) -> bool:
        dport = ((a.get("dport", 0) & 0xFF) << 8) | (a.get("dport", 0) >> 8)  # __be16 read as u16
        return (a.get("sport"), dport) == self.ports

    def feed(self, lines: list[str]) -> list[Call]:
        out: list[Call] = []
        for line in lines:
            if line.lstrip().startswith("=>"):
                self.stack.append(line.split("=>", 1)[1].strip().split("+", 1)[0])
                continue
            if self.stack:
                self._give_stack()
            m = _LINE.match(line)
            if not m:
                continue
            event = m.group("event").strip()
            if event == "<stack trace>":
                continue
            args = {k: int(v, 0) for k, v in _ARG.findall(m.group("rest")) if re.fullmatch(r"-?(0x)?[\da-fA-F]+", v)}
            if event == "ws":
                self._flush(out)
                self.open = _Open(args, float(m.group("ts")), self.pending)
                self.pending = []
            elif event == "wk" and self.open is not None:
                self.open.tids.append(args.get("pid", 0))
            elif event == "ep" and self.open is not None and args.get("key", 0) & EPOLLOUT:
                self.open.epoll += 1
            elif event == "wm" and self._mine(args):
                self.sleeps.append(Sleep(float(m.group("ts")), int(m.group("pid")), args.get("q", 0), args.get("b", 0),
                                         (args.get("wseq", 0) - args.get("nxt", 0)) & 0xFFFFFFFF, args.get("lowat", 0)))
            elif event == "tw":
                self.wakes.append(Wake(float(m.group("ts")), args.get("pid", 0)))
            self.last_event = event
        if self.stack:
            self._give_stack()
        self._flush(out)
        return out

    def _flush(self, out: list[Call]) -> None:
        if self.open is not None:
            call = self._close(self.open)
            if call is not None:
                out.append(call)
            self.open = None

    def _give_stack(self) -> None:
        """A stack block belongs to the ``ws`` just before it, else to the next one."""
        if self.last_event == "tw" and self.wakes and not self.wakes[-1].frames:
            self.wakes[-1].frames = self.stack
        elif self.open is not None and self.last_event == "ws" and not self.open.frames:
            self.open.frames = self.stack
        else:
            self.pending = self.stack
        self.stack = []

    def _close(self, o: _Open) -> Call | None:
        frames = o.frames
        if not self._mine(o.args):
            return None
        a = o.args
        return Call(o.ts, a.get("q", 0), a.get("b", 0), (a.get("wseq", 0) - a.get("nxt", 0)) & 0xFFFFFFFF,
                    a.get("lowat", 0), bool(a.get("flags", 0) >> SOCK_NOSPACE_BIT & 1), site(frames),
                    woke=bool(o.tids or o.epoll), woken_tids=tuple(o.tids), epoll_items=o.epoll)


class KernelWitness:
    """Records every sk_stream_write_space() call on ``sock`` until closed.

    Raises :class:`harness.sockets.kprobes.TracingUnavailable` where the kernel has no kprobe
    events (or tracefs cannot be had); ``mount`` lets it mount tracefs (a guest the suite owns).
    """

    def __init__(self, sock: socket.socket, mount: bool = False) -> None:
        root = tracefs(mount)
        self.probes = Probes(root)
        try:
            for name, definition, stack in definitions(offsets()):
                self.probes.add(name, definition, stacktrace=stack)
            self.pipe = TracePipe(root)
        except BaseException:
            self.probes.remove()
            raise
        self.pipe.lines()  # what was recorded before this socket's case
        self.parser = CallParser(sock.getsockname()[1], sock.getpeername()[1])
        self.calls: list[Call] = []
        self.new_sleeps: list[Sleep] = []
        self.new_wakes: list[Wake] = []

    def follow(self, tid: int) -> None:
        """Record every wakeup of thread ``tid`` with its call path (try_to_wake_up)."""
        o = offsets()
        self.probes.add("tw", f"p try_to_wake_up pid=+{o['pid']}(%di):s32", stacktrace=True, only=f"pid == {tid}")

    def read(self) -> list[Call]:
        """The calls recorded since the last read; ``new_sleeps`` and ``new_wakes`` hold the
        entries into sk_stream_wait_memory() on the socket and the wakeups of a followed
        thread recorded since then."""
        p = self.parser
        new = p.feed(self.pipe.lines())
        self.calls += new
        self.new_sleeps, p.sleeps = p.sleeps, []
        self.new_wakes, p.wakes = p.wakes, []
        return new

    def close(self) -> None:
        try:
            self.pipe.close()
        finally:
            self.probes.remove()
