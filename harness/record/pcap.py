"""Write a case's packets as a pcap (raw IP link type) with scapy's writer."""

from __future__ import annotations

import os
from typing import Iterable

LINKTYPE_RAW = 101


def write(path: str, packets: Iterable[tuple[float, bytes]]) -> str:
    from scapy.utils import RawPcapWriter  # imported here: scapy costs ~0.7 s to import

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with RawPcapWriter(path, linktype=LINKTYPE_RAW, sync=True) as w:
        w.write_header(None)  # write_packet() alone never writes the global header
        for t, raw in packets:
            sec = int(t)
            w.write_packet(raw, sec=sec, usec=int((t - sec) * 1_000_000))
    return path
