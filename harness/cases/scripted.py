"""Connections between a kernel socket and the scripted peer, ready for a case.

:class:`ScriptedNet` is the session's plumbing (one namespace, one TUN device, one peer);
:class:`Scripted` makes the connections of one test and tears them down after it, aborting
each with RST so that nothing of it reaches the next test.
"""

from __future__ import annotations

import errno
import socket
import struct
from dataclasses import dataclass, field

import pytest

from harness.model.rules import KernelRules
from harness.peers.tunpeer import PeerOptions, ScriptedPeer
from harness.record.timeline import Timeline
from harness.sockets.sockinfo import congestion, set_congestion
from netns import DEFAULT_CC, LinkLayout, Netns, TunLink

from .case import Case

FAMILIES = {"ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}


@dataclass
class ScriptedNet:
    ns: Netns
    link: TunLink
    peer: ScriptedPeer
    layout: LinkLayout | None = None  # the TUN link's skb layout, set per case

    def __post_init__(self) -> None:
        if self.layout is None:
            self.layout = LinkLayout(self.ns, self.link.index)


def pick_congestion(sock: socket.socket, cc: str) -> None:
    """Set the congestion control, or skip naming the kernel option that provides it."""
    try:
        set_congestion(sock, cc)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.EPERM):
            pytest.skip(f"congestion control {cc} unavailable: CONFIG_TCP_CONG_{cc.upper()} ({exc.strerror})")
        raise
    assert congestion(sock) == cc


def abort(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): no FIN retransmissions outlive the test."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


@dataclass
class Scripted:
    net: ScriptedNet
    rules: KernelRules
    record: object  # harness.plugin.pytest_plugin.Record
    cases: list[Case] = field(default_factory=list)
    sockets: list[socket.socket] = field(default_factory=list)
    extra: list = field(default_factory=list)

    def _socket(self, family: str, cc: str, sndbuf: int | None) -> socket.socket:
        sock = self.net.ns.socket(FAMILIES[family], socket.SOCK_STREAM)
        self.sockets.append(sock)
        pick_congestion(sock, cc)
        if sndbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        return sock

    def _timeline(self, title: str) -> Timeline:
        tl = Timeline(title)
        self.record.attach(tl)
        return tl

    def accept(self, family: str = "ipv4", cc: str = DEFAULT_CC, *, sndbuf: int | None = None,
               opts: PeerOptions = PeerOptions(), edge: bool = True, title: str = "",
               blocking: bool = False, waiter: str | None = None) -> Case:
        """The peer connects to a kernel listener; the case's socket is the accepted one.

        SO_SNDBUF and the congestion control are set on the listener, which the accepted
        socket inherits (with the SOCK_SNDBUF_LOCK that SO_SNDBUF implies).
        """
        tl = self._timeline(title or f"accept {family} {cc}")
        lst = self._socket(family, cc, sndbuf)
        lst.bind((self.net.link.addresses(FAMILIES[family])[0], 0))
        lst.listen(8)
        tl.add("call", f"listen() on port {lst.getsockname()[1]} cc={cc} SO_SNDBUF={sndbuf}")
        conn = self.net.peer.connect(FAMILIES[family], lst.getsockname()[1], opts, tl)
        sock, _ = lst.accept()
        self.sockets.append(sock)
        sock.setblocking(blocking)
        tl.add("call", f"accept() = fd {sock.fileno()}, cc={congestion(sock)}")
        case = Case(sock, conn, self.rules, tl, _edge(edge, waiter), waiter=waiter)
        self.cases.append(case)
        self.record.track(case)
        case.snap()
        return case

    def dial(self, family: str = "ipv4", cc: str = DEFAULT_CC, *, sndbuf: int | None = None,
             opts: PeerOptions = PeerOptions(), edge: bool = True, title: str = "",
             waiter: str | None = None) -> "Dial":
        """A non-blocking connect() towards the peer; the handshake completes on request."""
        tl = self._timeline(title or f"connect {family} {cc}")
        sock = self._socket(family, cc, sndbuf)
        sock.setblocking(False)
        af = FAMILIES[family]
        port = self.net.peer.port()
        err = sock.connect_ex((self.net.link.addresses(af)[1], port))
        tl.add("call", f"connect() = {errno.errorcode.get(err, err)}")
        assert err == errno.EINPROGRESS, f"non-blocking connect returned {err}"
        case = Case(sock, None, self.rules, tl, _edge(edge, waiter), waiter=waiter)
        self.cases.append(case)
        case.snap()
        return Dial(self, case, af, port, opts)

    def listen(self, family: str = "ipv4", *, waiter: str = "ET", backlog: int = 8,
               title: str = "") -> "Listener":
        """A kernel listener as the case's socket; the peer connects on request."""
        tl = self._timeline(title or f"listen {family}")
        lst = self._socket(family, DEFAULT_CC, None)
        lst.bind((self.net.link.addresses(FAMILIES[family])[0], 0))
        lst.listen(backlog)
        lst.setblocking(False)
        tl.add("call", f"listen({backlog}) on port {lst.getsockname()[1]}")
        case = Case(lst, None, self.rules, tl, _edge(True, waiter), waiter=waiter)
        self.cases.append(case)
        case.snap()
        return Listener(self, case, FAMILIES[family])

    def forget_later(self, conn) -> None:
        """A connection made outside a case, removed from the peer at teardown."""
        self.extra.append(conn)

    def close(self) -> None:
        for conn in self.extra:
            self.net.peer.forget(conn)
        for case in self.cases:
            case.close()
            if case.conn is not None:
                self.net.peer.forget(case.conn)
            if case.sock not in self.sockets:  # a scenario moved the case onto a dup'ed fd
                self.sockets.append(case.sock)
        for sock in self.sockets:
            abort(sock)
        self.net.peer.discard()


@dataclass
class Dial:
    """A connect() in progress; ``complete()`` plays the peer's side of the handshake."""

    scripted: Scripted
    case: Case
    family: int
    port: int
    opts: PeerOptions

    def complete(self) -> Case:
        c = self.case
        c.timeline.begin("peer answers SYN with SYN-ACK")
        c.conn = self.scripted.net.peer.answer(self.family, self.port, self.opts, c.timeline,
                                               lambda: c.sock.getsockname()[1])
        c.conn.drain()
        acct = c.snap()
        if c.model is not None:
            c.model.state_change()
        assert acct.state == "ESTABLISHED", f"handshake left the socket in {acct.state}"
        return c

    def refuse(self) -> Case:
        """The peer answers the SYN with RST|ACK: tcp_rcv_synsent_state_process() ->
        tcp_reset(): ECONNREFUSED, CLOSE, both directions shut."""
        c = self.case
        c.timeline.begin("peer answers SYN with RST")
        c.conn = self.scripted.net.peer.refuse(self.family, self.port, self.opts, c.timeline,
                                               lambda: c.sock.getsockname()[1])
        c.conn.drain()
        c.snap()
        if c.model is not None:
            c.model.done(errno.ECONNREFUSED, "RST to SYN")
        return c

    def ignore(self) -> Case:
        """The peer receives the SYN and never answers."""
        c = self.case
        c.timeline.begin("peer receives the SYN and stays silent")
        c.conn = self.scripted.net.peer.ignore(self.family, self.port, self.opts, c.timeline,
                                               lambda: c.sock.getsockname()[1])
        c.snap()
        return c


@dataclass
class Listener:
    """A listening socket under test; each ``peer_connects()`` queues one connection."""

    scripted: Scripted
    case: Case
    family: int
    opts: PeerOptions = PeerOptions()

    def peer_connects(self):
        """A full handshake from the peer: the child joins the accept queue."""
        c = self.case
        c.timeline.begin("peer connects (SYN, SYN-ACK, ACK)")
        conn = self.scripted.net.peer.connect(self.family, c.sock.getsockname()[1], self.opts, c.timeline)
        self.scripted.forget_later(conn)
        conn.drain()
        c.snap()
        if c.model is not None:
            c.model.child_queued()
        return conn

    def accept(self) -> socket.socket:
        c = self.case
        c.timeline.begin("accept()")
        sock, _ = c.sock.accept()
        self.scripted.sockets.append(sock)
        c.timeline.add("call", f"accept() = fd {sock.fileno()}")
        c.snap()
        return sock


def _edge(edge: bool, waiter: str | None) -> bool:
    return edge if waiter is None else waiter == "ET"
