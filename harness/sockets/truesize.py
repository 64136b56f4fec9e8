"""The truesize of an empty skb head, measured on the running kernel without sending a packet.

``tso_fragment()`` (net/ipv4/tcp_output.c) splits an skb by allocating an empty one
(``tcp_stream_alloc_skb(sk, 0, ...)``, sk_stream_alloc_skb before 5.19) and charges its
truesize to ``sk_wmem_queued``; ``tcp_sendmsg_locked()`` allocates its skbs the same way.  A
socket in TCP_REPAIR mode (net/ipv4/tcp.c) takes send() data into its write queue and never
transmits it, so after a one-byte send its ``wmem_queued`` is that head plus at most the byte
(5.10 still copies a first small write into the head's tailroom, uncharged; later kernels put
it in a page fragment and charge it).  The value is read, never assumed: it differs between
releases (bf9f1baa279f, v6.3, moved small heads to their own kmem_cache) and architectures.
"""

from __future__ import annotations

import socket
from typing import Callable

from .sockinfo import meminfo

TCP_REPAIR = 19
TCP_REPAIR_QUEUE = 20
TCP_QUEUE_SEQ = 21
TCP_SEND_QUEUE = 2


def head_truesize(make_socket: Callable[[int], socket.socket] = socket.socket,
                  family: int = socket.AF_INET) -> int:
    """wmem_queued after a one-byte send on a repaired (never transmitting) connection: an
    upper bound of one skb head's truesize, exceeding it by at most that byte.

    ``make_socket(family)`` makes the socket (e.g. in one of the suite's namespaces); the
    connection goes to the loopback address and sends nothing (TCP_REPAIR needs CAP_NET_ADMIN).
    """
    s = make_socket(family)
    try:
        s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 1)
        s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE)
        s.setsockopt(socket.IPPROTO_TCP, TCP_QUEUE_SEQ, 1)
        s.connect(("::1" if family == socket.AF_INET6 else "127.0.0.1", 9))
        s.send(b"x")
        return meminfo(s)["wmem_queued"]
    finally:
        s.close()
