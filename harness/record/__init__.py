"""The record of a case: its timeline (every syscall, packet, accounting read, epoll result
and check, in order, with the first divergence marked) and the pcap of its packets.
It imports nothing else of the harness, so the socket drivers, the peers and the cases can
all write to the same timeline.
"""

from .timeline import Timeline

__all__ = ["Timeline"]
