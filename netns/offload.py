"""Segmentation offloads off on a suite link, so that one skb on the wire is one TCP segment.

With TSO/GSO on, TCP builds skbs of up to 64 KB (tcp_xmit_size_goal() when sk_can_gso()),
veth carries them unsegmented, and a packet capture sees one "packet" where TCP_INFO's
``segs_out`` counts ``tcp_skb_pcount()`` segments.  The capture must count what TCP counts,
so the sender's link has both off before the connection is made: sk_setup_caps() copies the
device features into ``sk_route_caps`` at connect time.

pyroute2 has no stable per-namespace ethtool API, so this uses the classic SIOCETHTOOL
ioctls (ETHTOOL_STSO / ETHTOOL_SGSO) on a socket made inside the namespace: the ioctl
resolves the interface name in the socket's own namespace.
"""

from __future__ import annotations

import array
import fcntl
import socket
import struct

from .namespace import Netns

SIOCETHTOOL = 0x8946
ETHTOOL_GTSO, ETHTOOL_STSO = 0x1E, 0x1F
ETHTOOL_GGSO, ETHTOOL_SGSO = 0x23, 0x24


def _ethtool_value(ifname: str, cmd: int, value: int = 0) -> int:
    buf = array.array("I", [cmd, value])
    addr, _ = buf.buffer_info()
    ifr = struct.pack("16sP", ifname.encode(), addr)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
    return buf[1]


def _disable(ifname: str) -> dict[str, int]:
    _ethtool_value(ifname, ETHTOOL_STSO, 0)
    _ethtool_value(ifname, ETHTOOL_SGSO, 0)
    return {"tso": _ethtool_value(ifname, ETHTOOL_GTSO), "gso": _ethtool_value(ifname, ETHTOOL_GGSO)}


def disable_segmentation_offload(ns: Netns, ifname: str) -> None:
    """Turn TSO and GSO off on ``ifname`` (in ``ns``) and check that the kernel kept it so."""
    state = ns.call(_disable, ifname)
    if any(state.values()):
        raise OSError(f"{ifname}: segmentation offload still on after ethtool: {state}")
