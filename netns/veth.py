"""A veth pair joining two of the suite's namespaces (the real-peer wire).

The pair is created from inside the first namespace with its peer end placed straight into
the second, so no interface ever exists in the namespace the suite was started from.
"""

from __future__ import annotations

import socket
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from .namespace import Netns
from .tun import IFA_F_NODAD


@dataclass(frozen=True)
class VethEnd:
    ns: Netns
    ifname: str
    index: int
    addr4: str
    addr6: str

    def address(self, family: int) -> str:
        return self.addr4 if family == socket.AF_INET else self.addr6


@dataclass(frozen=True)
class VethPair:
    a: VethEnd
    b: VethEnd


@contextmanager
def veth(a: Netns, b: Netns, names: tuple[str, str] = ("eps-va", "eps-vb"),
         v4: tuple[str, str] = ("198.51.100.1", "198.51.100.2"),
         v6: tuple[str, str] = ("2001:db8:1::1", "2001:db8:1::2")) -> Iterator[VethPair]:
    """Join ``a`` and ``b``; both ends addressed (IPv4 /24, IPv6 /64 without DAD) and up.

    The pair dies with either namespace, so there is no separate cleanup to forget.
    """
    a.ipr.link("add", ifname=names[0], kind="veth", peer={"ifname": names[1], "net_ns_fd": b.name})
    ends = []
    for ns, ifname, addr4, addr6 in ((a, names[0], v4[0], v6[0]), (b, names[1], v4[1], v6[1])):
        index = ns.link_index(ifname)
        ns.ipr.addr("add", index=index, address=addr4, prefixlen=24)
        ns.ipr.addr("add", index=index, address=addr6, prefixlen=64, flags=IFA_F_NODAD)
        ns.ipr.link("set", index=index, state="up")
        ends.append(VethEnd(ns, ifname, index, addr4, addr6))
    yield VethPair(*ends)
