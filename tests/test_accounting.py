"""The kernel's send-side accounting constants, measured: what makes the waking ACK differ
between kernels even when the rule is the same.

* A fresh skb adds its head's truesize to ``sk_wmem_queued`` before any payload
  (sk_wmem_queued_add(sk, skb->truesize) in tcp_stream_alloc_skb(); the payload copied into
  page frags adds its own bytes).  The head's truesize changed with "net: add dedicated
  kmem_cache for typical/small skb->head" (bf9f1baa279f, v6.3).  With the pinned layout
  (one MSS per skb) every skb carries one head: the overhead per skb is the same for one
  skb and for several, and ``wmem_queued - bytes`` is that many heads.
* ``setsockopt(SO_SNDBUF, v)`` stores ``2 * v`` (sk_setsockopt(): "double it to account for
  the overhead"), floored at SOCK_MIN_SNDBUF.
* A fresh TCP socket starts with ``sk_sndbuf = tcp_wmem[1]`` of its namespace (tcp_init_sock());
  once established, an unlocked one grows to what tcp_sndbuf_expand() computes from the
  MSS, the initial cwnd and the per-segment overhead (recorded, another constant).
"""

import socket

from harness.cases.scripted import FAMILIES
from harness.cases.verdict import claim, settle
from harness.peers.tunpeer import PeerOptions

MSS = 1000
WIDE = PeerOptions(mss=MSS, window=65535, wscale=0)


def test_skb_head_truesize(scripted, family, record):
    """One MSS, then two more, each its own skb: the per-skb overhead is the head truesize."""
    c = scripted.accept(family, sndbuf=64000, opts=WIDE)
    c.register()
    before = c.snap().wmem_queued
    claim(c.send(MSS) == "full", "one MSS fits", c.timeline)
    one = c.last.wmem_queued - before - MSS
    claim(c.send(2 * MSS) == "full", "two more MSS fit", c.timeline)
    three = c.last.wmem_queued - before - 3 * MSS
    settle(c.timeline)
    record.fact("skb_head_truesize", one)
    record.fact("wmem_queued_per_mss", one + MSS)
    claim(three == 3 * one, f"every one-MSS skb adds the same head truesize ({one} once, {three} for three)",
          c.timeline)


def test_sndbuf_doubling(scripted, family, record):
    """SO_SNDBUF set to v reads back as 2v (and locks autotuning)."""
    asked = 21000
    c = scripted.accept(family, sndbuf=asked, opts=WIDE)
    got = c.last.sndbuf
    settle(c.timeline)
    record.fact("sndbuf_set", asked)
    record.fact("sndbuf_read", got)
    record.fact("sndbuf_factor", round(got / asked, 3))
    claim(got == 2 * asked, f"SO_SNDBUF {asked} reads back doubled (got {got})", c.timeline)


def test_default_sndbuf(scripted, family, record):
    """A socket whose SO_SNDBUF nobody set starts at tcp_wmem[1] of its namespace."""
    wmem = scripted.net.ns.sysctl("net.ipv4.tcp_wmem")
    fresh = scripted.net.ns.socket(FAMILIES[family], socket.SOCK_STREAM)
    try:
        start = fresh.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    finally:
        fresh.close()
    c = scripted.accept(family, opts=WIDE)
    settle(c.timeline)
    record.fact("tcp_wmem", wmem)
    record.fact("fresh_sndbuf", start)
    record.fact("established_sndbuf", c.last.sndbuf)
    default = int(wmem.split()[1])
    claim(start == default, f"a fresh socket's sndbuf is tcp_wmem[1] = {default} (got {start})", c.timeline)
