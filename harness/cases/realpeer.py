"""Connections over the real-peer wire, made for one test and aborted after it.

The sender (the socket under test) connects from its namespace to a listener in the
receiver's; the capture on the sender's link is opened, and told which connection to follow,
before the SYN leaves.  Congestion control and SO_SNDBUF are set on the sender before
connect(); SO_RCVBUF on the listener, which the accepted socket inherits.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from harness.model.rules import KernelRules
from harness.peers.capture import Capture, open_capture
from harness.peers.realnet import RealNet
from harness.record.timeline import Timeline

from .realcase import RealCase
from .scripted import FAMILIES, abort, pick_congestion


@dataclass
class RealPeer:
    net: RealNet
    rules: KernelRules
    record: object  # harness.plugin.pytest_plugin.Record
    cases: list[RealCase] = field(default_factory=list)
    sockets: list[socket.socket] = field(default_factory=list)
    captures: list[Capture] = field(default_factory=list)

    def connect(self, family: str = "ipv4", cc: str = "cubic", *, sndbuf: int | None = None,
                rcvbuf: int | None = None, edge: bool = True, blocking: bool = False,
                title: str = "") -> RealCase:
        af = FAMILIES[family]
        local, remote = self.net.addresses(af)
        tl = Timeline(title or f"real peer {family} {cc} {self.net.control.mode}")
        self.record.attach(tl)
        lst = self.net.receiver.socket(af)
        self.sockets.append(lst)
        if rcvbuf is not None:
            lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        lst.bind((remote, 0))
        lst.listen(4)
        port = lst.getsockname()[1]
        snd = self.net.sender.socket(af)
        self.sockets.append(snd)
        pick_congestion(snd, cc)
        if sndbuf is not None:
            snd.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        snd.bind((local, 0))
        cap = open_capture(self.net.sender, self.net.wire.a.ifname, tl)
        self.captures.append(cap)
        cap.follow(af, snd.getsockname()[:2], (remote, port))
        if self.net.gate is not None:
            self.net.gate.follow((port, snd.getsockname()[1]))
        tl.add("call", f"connect() from port {snd.getsockname()[1]} to {port}, cc={cc} "
                       f"SO_SNDBUF={sndbuf} SO_RCVBUF(receiver)={rcvbuf}")
        snd.connect((remote, port))
        peer, _ = lst.accept()
        self.sockets.append(peer)
        snd.setblocking(blocking)
        peer.setblocking(False)
        case = RealCase(self.net, snd, peer, self.rules, tl, cap, edge)
        self.cases.append(case)
        self.record.track(case)
        cap.drain()
        case.snap()
        return case

    def close(self) -> None:
        for case in self.cases:
            case.close()
        for sock in reversed(self.sockets):
            abort(sock)
        for cap in self.captures:
            cap.close()
