"""A TUN device inside a namespace: the wire of the scripted peer.

The kernel routes packets for the peer's address into the device; the harness reads them from
the file descriptor and writes its own packets back, which the kernel processes before
``write()`` returns.  No packet information header, no offloads: what is read is one IP packet
exactly as the stack built it, segmented to the MSS.
"""

from __future__ import annotations

import fcntl
import os
import struct
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from .cleanup import CleanupStack
from .namespace import Netns
from .timers import host_routes

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
IFA_F_NODAD = 0x02

# Documentation prefixes (RFC 5737, RFC 3849): they exist only inside the suite's namespace.
LOCAL4, PEER4 = "192.0.2.1", "192.0.2.2"
LOCAL6, PEER6 = "2001:db8::1", "2001:db8::2"


@dataclass(frozen=True)
class TunLink:
    """An open TUN device: ``fd`` carries raw IP packets; ``local`` is the kernel's side."""

    ns: Netns
    ifname: str
    index: int
    fd: int
    local4: str = LOCAL4
    peer4: str = PEER4
    local6: str = LOCAL6
    peer6: str = PEER6

    def addresses(self, family: int) -> tuple[str, str]:
        """(kernel side, peer side) for AF_INET or AF_INET6."""
        import socket

        return (self.local4, self.peer4) if family == socket.AF_INET else (self.local6, self.peer6)


def open_tun(ifname: str) -> int:
    """Open /dev/net/tun and attach it to a new TUN device ``ifname`` (TUNSETIFF)."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", ifname.encode(), IFF_TUN | IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    return fd


@contextmanager
def tun(ns: Netns, ifname: str = "eps-tun0") -> Iterator[TunLink]:
    """Create, address and bring up a TUN device in ``ns`` with a plain FIFO qdisc.

    The routes to the peer lock a long rto_min (:mod:`netns.timers`): the scripted peer
    holds every ACK for as long as a step takes, and no retransmission may interleave.
    """
    with CleanupStack() as stack:
        fd = ns.call(open_tun, ifname)
        stack.defer(os.close, fd)  # closing the fd deletes the (non-persistent) device
        index = ns.link_index(ifname)
        ns.ipr.addr("add", index=index, address=LOCAL4, prefixlen=24)
        ns.ipr.addr("add", index=index, address=LOCAL6, prefixlen=64, flags=IFA_F_NODAD)
        ns.ipr.link("set", index=index, state="up")
        ns.ipr.tc("add", "pfifo", index, 0x10000, limit=10000)
        host_routes(ns, index, PEER4, PEER6)
        yield TunLink(ns, ifname, index, fd)
