"""The write-space tests inside one ACK: what each call saw, or the bound of what it could see.

Since "tcp: fix potential xmit stalls caused by TCP_NOTSENT_LOWAT" (4bfe744ff164, mainline
5.18, stable 5.10.114) ``tcp_event_new_data_sent()`` calls ``tcp_check_space()`` after every
skb ``tcp_write_xmit()`` sends.  An ACK is processed in this order (net/ipv4/tcp_input.c
tcp_ack(), tcp_data_snd_check()): ``tcp_clean_rtx_queue()`` frees (or trims) the acknowledged
skbs, then ``tcp_write_xmit()`` sends what the new window allows, skb by skb; an skb larger
than the send quota is split first (``tso_fragment()``: ``sk_wmem_queued_add(sk,
buff->truesize)``, one skb head more), and after each skb sent the write-space test runs with
the accounting of that instant; a last test runs after the push.  Sending itself does not
change ``sk_wmem_queued``.  So the calls of one ACK see ``wmem_queued`` at the freed level
plus the heads of the splits made so far: from the first call to the last it only grows,
while the unsent bytes only shrink.

The first call that finds ``__sk_stream_is_writeable(sk, 1)`` while SOCK_NOSPACE is set
wakes the socket's sleepers and clears SOCK_NOSPACE; later calls in the same ACK do nothing.
A blocking writer so woken re-checks only ``sk_stream_memory_free()`` (queued < sndbuf and
the notsent limit) in ``sk_stream_wait_memory()`` and goes on writing; an edge-triggered item
is queued, but ``epoll_wait`` re-polls ``tcp_poll()`` at a later instant, may find no
EPOLLOUT (then reports nothing and sets SOCK_NOSPACE again).

Where a kernel witness saw the calls (:class:`Call`), the model replays them.  Where none can
(no kprobes), :class:`AckBound` is what the accounting around the ACK allows: the first call
comes after the first skb sent, so at most ``skbs_sent - 1`` split heads separate it from the
accounting read after the ACK, and no more than the skbs left in the queues can have come from
splits (each holds at least one head besides its payload: ``wmem_queued - SIOCOUTQ`` bounds
how many there are), and a layout without segmentation (gso_max_segs 1) has no splits at all.
A transient wakeup is allowed (not required: nothing decides it) only if the rule holds at
that lowest possible ``wmem_queued``; an ACK that sent at most one skb has no such instant.
"""

from __future__ import annotations

from dataclasses import dataclass

UINT_MAX = 0xFFFFFFFF


def held(wmem_queued: int, sndbuf: int, notsent: int, notsent_lowat: int, notsent_half: bool = True) -> bool:
    """__sk_stream_is_writeable(sk, 1) on the raw values of one instant."""
    if sndbuf - wmem_queued < wmem_queued >> 1 or wmem_queued >= sndbuf:
        return False
    lowat = notsent_lowat or UINT_MAX
    return (notsent << (1 if notsent_half else 0)) < lowat


@dataclass(frozen=True)
class Call:
    """One sk_stream_write_space() call on the socket under test, as a kernel witness saw it.

    ``site`` names the call path ("transmit inside the ACK": tcp_event_new_data_sent <-
    tcp_write_xmit <- tcp_data_snd_check; "after the ACK's push": tcp_data_snd_check;
    "setsockopt"; ...), ``woke`` whether the wakeup reached a sleeper (a task or an epoll item).
    """

    t: float
    wmem_queued: int
    sndbuf: int
    notsent: int
    notsent_lowat: int
    nospace: bool
    site: str
    woke: bool = False
    woken_tids: tuple[int, ...] = ()
    epoll_items: int = 0

    def held(self, notsent_half: bool = True) -> bool:
        return held(self.wmem_queued, self.sndbuf, self.notsent, self.notsent_lowat, notsent_half)

    def brief(self) -> str:
        return (f"sk_stream_write_space [{self.site}] queued={self.wmem_queued} sndbuf={self.sndbuf} "
                f"free={self.sndbuf - self.wmem_queued} notsent={self.notsent} "
                f"NOSPACE={'set' if self.nospace else 'clear'} rule={'holds' if self.held() else 'fails'} "
                f"woke={'+'.join([f'tid {t}' for t in self.woken_tids] + ([f'{self.epoll_items} epoll item(s)'] if self.epoll_items else [])) or 'nobody'}")

    def to_fact(self) -> dict:
        return {"site": self.site, "wmem_queued": self.wmem_queued, "sndbuf": self.sndbuf,
                "notsent": self.notsent, "nospace": self.nospace, "rule_held": self.held(), "woke": self.woke}


@dataclass(frozen=True)
class Sleep:
    """A blocking writer entering sk_stream_wait_memory() (net/core/stream.c), as a witness saw it.

    The function tests sk_stream_memory_free() once at entry: where it already holds, the
    writer came to ``wait_for_space`` for want of memory rather than of send space (an skb or
    page allocation, or tcp_wmem_schedule(), failed), and ``vm_wait`` is set: the writer
    sleeps for 2 to HZ/5+1 jiffies whatever happens, then goes on once memory is free, a
    wakeup no write-space test gives.  Otherwise it sleeps until woken (or SO_SNDTIMEO).
    """

    t: float
    tid: int
    wmem_queued: int
    sndbuf: int
    notsent: int
    notsent_lowat: int

    @property
    def vm_wait(self) -> bool:
        """sk_stream_memory_free() at entry: queued < sndbuf and unsent < the notsent limit."""
        return self.wmem_queued < self.sndbuf and self.notsent < (self.notsent_lowat or UINT_MAX)

    def brief(self) -> str:
        return (f"sk_stream_wait_memory entered by tid {self.tid}: queued={self.wmem_queued} sndbuf={self.sndbuf} "
                f"notsent={self.notsent}: " + ("memory free, vm_wait: a timed sleep" if self.vm_wait
                                               else "no space: sleeps until a wakeup"))


@dataclass(frozen=True)
class AckBound:
    """What can be known, without a witness, of the write-space tests inside one ACK."""

    after_queued: int      # wmem_queued read after the ACK
    sndbuf: int
    notsent: int           # after the ACK: the least any call of the ACK saw
    notsent_lowat: int
    skbs_sent: int         # an upper bound of the skbs sent while the ACK was processed
    head_truesize: int     # what one tso_fragment() split adds to wmem_queued
    outq: int | None = None  # SIOCOUTQ after the ACK: the payload bytes still queued
    gso_max_segs: int | None = None  # the socket's layout (None: not known, splits possible)

    @property
    def splits(self) -> int:
        """The most tso_fragment() heads that can separate the first call from the last.

        With ``gso_max_segs`` 1 (the pinned layout, netns.defaults) every skb holds one MSS
        and tcp_tso_segs() never lets tso_fragment() split one: no head comes back, none."""
        if self.gso_max_segs == 1:
            return 0
        n = max(0, self.skbs_sent - 1)
        if self.outq is not None and self.head_truesize > 0:
            # one more skb than the overhead pays for: 5.10 keeps a first small write in the
            # head's tailroom, uncharged
            skbs_left = max(0, self.after_queued - self.outq) // self.head_truesize + 1
            n = min(n, max(0, skbs_left - 1))
        return n

    @property
    def lowest_queued(self) -> int:
        """The least wmem_queued any write-space test inside this ACK can have seen."""
        return self.after_queued - self.splits * self.head_truesize

    def may_hold(self, notsent_half: bool = True) -> bool:
        """Could some call inside the ACK have found the socket writable?"""
        return self.splits >= 1 and held(self.lowest_queued, self.sndbuf, self.notsent,
                                             self.notsent_lowat, notsent_half)

    def brief(self) -> str:
        return (f"bounded, no kernel witness: {self.skbs_sent} skb(s) at most sent inside the ACK, "
                f"at most {self.splits} split head(s) of truesize {self.head_truesize}: lowest queued {self.lowest_queued} of sndbuf "
                f"{self.sndbuf} ({'the rule can hold' if self.may_hold() else 'the rule cannot hold'})")

    def to_fact(self) -> dict:
        return {"lowest_queued": self.lowest_queued, "after_queued": self.after_queued, "sndbuf": self.sndbuf,
                "skbs_sent": self.skbs_sent, "head_truesize": self.head_truesize, "splits": self.splits,
                "gso_max_segs": self.gso_max_segs, "may_hold": self.may_hold()}


# The most payload one skb can carry: tcp_xmit_size_goal() caps an skb at the socket's
# sk_gso_max_size, GSO_LEGACY_MAX_SIZE (64 KiB) on links that do not raise it (BIG TCP; the
# suite never does); with gso_max_segs 1 one MSS.
SKB_MAX_PAYLOAD = 65536


@dataclass(frozen=True)
class RefillBound:
    """The least ``wmem_queued`` one ACK can have left, when a woken writer refilled the
    buffer before the accounting after the ACK was read.

    What the ACK left queued is known from the read before it: the bytes the kernel had
    accepted beyond the ACK number (``left``, sent or unsent: the refill came later).  Each
    of those bytes is charged to ``wmem_queued`` (a paged skb's truesize grows by every byte
    copied into it; the uncharged head tailroom 5.10 uses holds only a connection's first
    small write, acknowledged long before a writer refills), and every skb still holding some keeps at least its head truesize (as
    :class:`AckBound` counts): at least ``ceil(left / max_payload)`` of them.  The rule is
    judged at that lowest value with no unsent bytes: if it cannot hold there, no state of
    the writer's can make the wakeup right.
    """

    left: int              # payload bytes still queued after the ACK
    sndbuf: int
    notsent_lowat: int
    head_truesize: int
    max_payload: int = SKB_MAX_PAYLOAD

    @property
    def skbs(self) -> int:
        return -(-self.left // self.max_payload) if self.left > 0 else 0

    @property
    def lowest_queued(self) -> int:
        return self.left + self.skbs * self.head_truesize

    def may_hold(self) -> bool:
        return held(self.lowest_queued, self.sndbuf, 0, self.notsent_lowat)

    def brief(self) -> str:
        return (f"bounded, the writer ran first: {self.left} bytes left queued in {self.skbs} skb(s) at least, "
                f"head truesize {self.head_truesize}: wmem_queued >= {self.lowest_queued} of sndbuf {self.sndbuf} "
                f"({'the rule can hold' if self.may_hold() else 'the rule cannot hold'})")

    def to_fact(self) -> dict:
        return {"left": self.left, "skbs": self.skbs, "head_truesize": self.head_truesize,
                "lowest_queued": self.lowest_queued, "sndbuf": self.sndbuf, "may_hold": self.may_hold()}
