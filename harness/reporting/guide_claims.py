"""The claims of the guide: what an event loop may assume, each with the cases that prove it.

A claim is one sentence an event-loop author relies on, and its proofs: which results of the
reports decide it (a scenario, the waiters it ran under, words its key must hold) and, where
the sentence states a value, the fact that must have it.  On a kernel a claim *holds* when
every proving case that ran there passed (and had the value), *fails* when one did not, and
is *unproven* when none ran.  A claim that holds on no kernel is not written
(:mod:`harness.reporting.guide`).  The text is for someone who has never seen the suite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

EPOLL = ("ET", "LT")
LEVEL = ("LT", "poll", "select")
URING_ONESHOT = ("*uring*one*shot*",)      # waiter names of the io_uring poll cases
URING_MULTISHOT = ("*uring*multi*",)


@dataclass(frozen=True)
class Proof:
    """The results that prove a claim: ``scenario`` ("topic/scenario", a shell pattern), run under a waiter
    matching one of ``modes`` (shell patterns; empty: any), whose key holds every word of
    ``where``; ``fact`` (name, test, what it says) must hold on each."""

    scenario: str
    modes: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    fact: tuple[str, Callable[[Any], bool], str] | None = None

    def matches(self, key: str, mode: str) -> bool:
        if not fnmatch(key.split("[", 1)[0], self.scenario):
            return False
        if self.modes and not any(fnmatch(mode, m) for m in self.modes):
            return False
        return all(w in key for w in self.where)

    def fact_holds(self, facts: Mapping[str, Any]) -> bool:
        if self.fact is None:
            return True
        name, test, _ = self.fact
        try:
            return name in facts and bool(test(facts[name]))
        except (TypeError, ValueError, IndexError, KeyError):
            return False


@dataclass(frozen=True)
class Claim:
    section: str
    text: str
    proofs: tuple[Proof, ...]


def _all_to_first(counts: Any) -> bool:
    return bool(counts) and counts[0] == sum(counts) > 0


def _all_to_last(counts: Any) -> bool:
    return bool(counts) and counts[-1] == sum(counts) > 0


def P(scenario: str, modes: tuple[str, ...] = (), *where: str, fact=None) -> Proof:
    return Proof(scenario, modes, where, fact)


W, R, C, A, S, U = ("Writing: when EPOLLOUT comes", "Reading: when EPOLLIN comes",
                    "Closing: FIN, RDHUP, HUP and errors", "Registering and re-arming",
                    "Several waiters on one socket", "io_uring poll")

CLAIMS: tuple[Claim, ...] = (
    # -- writing -------------------------------------------------------------------------------
    Claim(W, "Registering an accepted socket reports EPOLLOUT at the next wait: EPOLL_CTL_ADD polls it and finds it writable.",
          (P("epollout/first-epollout-after-accept", EPOLL),)),
    Claim(W, "After that first report edge-triggered epoll stays silent until a new wakeup; level-triggered reports EPOLLOUT at every wait.",
          (P("epollout/first-epollout-after-accept", EPOLL),)),
    Claim(W, "A non-blocking connect() reports nothing while the handshake is under way, then EPOLLOUT once it completes (once in ET, at every wait in LT).",
          (P("epollout/first-epollout-after-connect", EPOLL), P("connect/established", EPOLL))),
    Claim(W, "After send() returns EAGAIN, edge-triggered epoll reports EPOLLOUT exactly once, at the first ACK after which free space >= queued/2 by the kernel's own accounting.",
          (P("epollout/out-of-space-then-acks", ("ET",), "fill-until-eagain"),)),
    Claim(W, "Level-triggered epoll, poll() and select() report EPOLLOUT from that same ACK on, never before.",
          (P("epollout/out-of-space-then-acks", LEVEL, "fill-until-eagain"),)),
    Claim(W, "A short write (send() taking only part of the data) arms EPOLLOUT just as EAGAIN does: one report at the first ACK that makes the socket writable.",
          (P("epollout/out-of-space-then-acks", ("ET",), "one-short-write"),)),
    Claim(W, "A writer that never ran out of space gets no edge-triggered EPOLLOUT from the ACKs of its data; level-triggered keeps reporting it.",
          (P("epollout/small-write-then-acks", EPOLL),)),
    Claim(W, "A socket written full without EAGAIN or a short write, and polled by nobody while full, gets no edge-triggered EPOLLOUT from the ACKs.",
          (P("epollout/full-without-eagain", ("ET",), "no-poll-while-full"),)),
    Claim(W, "An EPOLL_CTL_MOD on such a full socket arms the wakeup: EPOLLOUT comes at the first ACK that makes it writable.",
          (P("epollout/full-without-eagain", ("ET",), "epoll-ctl-mod"),)),
    Claim(W, "Data arriving on a writable socket reports EPOLLIN|EPOLLOUT in one event, edge-triggered too: epoll reports the whole current mask, not the reason it woke.",
          (P("epollout/data-on-writable-socket-reports-full-mask", EPOLL),)),
    Claim(W, "Raising SO_SNDBUF on a full socket reports EPOLLOUT at once, without an ACK.",
          (P("writers/sndbuf-raise-wakes", EPOLL),)),
    Claim(W, "Raising SO_SNDBUF also wakes a thread blocked in send() on a full buffer.",
          (P("writers/sndbuf-raise-wakes-blocking-writer"),)),
    Claim(W, "With TCP_NOTSENT_LOWAT set, EPOLLOUT comes at the first ACK after which the unsent bytes are under half the limit.",
          (P("writers/notsent-lowat-acks", EPOLL),)),
    Claim(W, "Raising TCP_NOTSENT_LOWAT with setsockopt() reports EPOLLOUT at once.",
          (P("writers/notsent-lowat-setsockopt-wakes", EPOLL),)),
    Claim(W, "Raising the tcp_notsent_lowat sysctl wakes nobody: epoll stays silent while poll() and select() see EPOLLOUT.",
          (P("writers/notsent-lowat-sysctl-no-wakeup"),)),
    Claim(W, "With an autotuned send buffer (no SO_SNDBUF), EPOLLOUT comes at the first ACK after which the rule holds with the buffer size of that moment.",
          (P("writers/autotuned-sndbuf", EPOLL),)),
    Claim(W, "The threshold is exact: an ACK that leaves free == queued/2 reports EPOLLOUT, one that leaves two bytes less does not.",
          (P("write-space-edges/threshold-boundary", EPOLL),)),
    # -- reading -------------------------------------------------------------------------------
    Claim(R, "Edge-triggered epoll reports EPOLLIN again at every new arrival, even when the earlier data was never read.",
          (P("readers/data-again-unread", EPOLL),)),
    Claim(R, "A partial read wakes nobody: edge-triggered stays silent, level-triggered keeps reporting EPOLLIN while bytes remain.",
          (P("readers/partial-read", EPOLL),)),
    Claim(R, "Below SO_RCVLOWAT there is neither a wakeup nor EPOLLIN; reaching it gives both.",
          (P("readers/rcvlowat-reached", EPOLL),)),
    Claim(R, "Lowering SO_RCVLOWAT under the bytes already queued reports EPOLLIN without new data.",
          (P("readers/rcvlowat-lowered-wakes", EPOLL),)),
    Claim(R, "An urgent (out-of-band) byte reports EPOLLPRI until it is read with MSG_OOB.",
          (P("readers/urgent-byte-pri", EPOLL),)),
    # -- closing -------------------------------------------------------------------------------
    Claim(C, "The peer's FIN reports EPOLLIN|EPOLLRDHUP (with EPOLLOUT while there is send space); recv() then returns 0.",
          (P("state/peer-fin", EPOLL),)),
    Claim(C, "A FIN on a socket whose send buffer is full reports EPOLLIN|EPOLLRDHUP without EPOLLHUP or EPOLLOUT, and a write still gets EAGAIN, not EPIPE.",
          (P("event-loops/fin-on-full-send-buffer", EPOLL),)),
    Claim(C, "After the peer's FIN, EPOLLOUT is still decided by send space: it comes at the first ACK that leaves free >= queued/2, once in ET.",
          (P("event-loops/fin-on-full-send-buffer", EPOLL),)),
    Claim(C, "Data and FIN in one segment come in one event (EPOLLIN|EPOLLRDHUP); every byte is read after it, before end of file.",
          (P("event-loops/rdhup-with-unread-data", EPOLL), P("state/data-and-fin", EPOLL))),
    Claim(C, "Level-triggered epoll reports EPOLLRDHUP at every wait after the FIN, before and after end of file is read, until the socket is closed.",
          (P("event-loops/rdhup-every-wait-until-close", ("LT",)),)),
    Claim(C, "Edge-triggered epoll reports the FIN once.",
          (P("event-loops/rdhup-every-wait-until-close", ("ET",)),)),
    Claim(C, "EPOLLHUP needs both directions shut: the peer's FIN alone never gives it, shutting our side after it does.",
          (P("event-loops/hup-when-both-sides-shut", EPOLL),)),
    Claim(C, "shutdown(SHUT_RDWR), or our FIN answered by the peer's, reports EPOLLHUP.",
          (P("state/shut-rdwr-hup", EPOLL), P("state/shut-wr-then-peer-fin-hup", EPOLL))),
    Claim(C, "shutdown(SHUT_RD) reports EPOLLIN|EPOLLRDHUP at once.",
          (P("state/shut-rd", EPOLL),)),
    Claim(C, "shutdown(SHUT_WR) makes a full socket report EPOLLOUT from then on: a write would fail, not block.",
          (P("state/shut-wr-while-full", EPOLL),)),
    Claim(C, "A peer's RST reports EPOLLERR|EPOLLHUP (with IN, OUT and RDHUP); SO_ERROR gives ECONNRESET and clears EPOLLERR.",
          (P("state/peer-rst-so-error", EPOLL),)),
    Claim(C, "After a RST, recv() fails with ECONNRESET and consumes the error.",
          (P("state/peer-rst-recv", EPOLL),)),
    Claim(C, "A refused connect() reports EPOLLERR|EPOLLHUP together with EPOLLOUT: check SO_ERROR before taking EPOLLOUT for success.",
          (P("connect/refused-rst", EPOLL),)),
    # -- registering and re-arming ---------------------------------------------------------------
    Claim(A, "EPOLLOUT left armed on a writable socket is reported by every level-triggered wait (N of N): a loop with nothing to write spins.",
          (P("event-loops/epollout-left-armed", ("LT",)),)),
    Claim(A, "Edge-triggered epoll reports an armed EPOLLOUT once, until the next wakeup (which brings the whole mask).",
          (P("event-loops/epollout-left-armed", ("ET",)),)),
    Claim(A, "EPOLL_CTL_MOD that adds EPOLLOUT back on a writable socket reports it at the next wait, edge-triggered too.",
          (P("event-loops/mod-rearm-while-writable", EPOLL),)),
    Claim(A, "Adding EPOLLOUT back on a full socket reports nothing yet, then EPOLLOUT at the ACK that frees the space: the loop does not hang.",
          (P("event-loops/mod-rearm-while-full", EPOLL),)),
    Claim(A, "Space freed while EPOLLOUT was not registered is reported as soon as EPOLL_CTL_MOD adds it back.",
          (P("event-loops/mod-readd-after-space-freed", EPOLL),)),
    Claim(A, "EPOLLONESHOT gives one report per arming and nothing while disarmed (level-triggered too), until EPOLL_CTL_MOD.",
          (P("epoll-objects/oneshot-rearm", EPOLL),)),
    Claim(A, "The same socket in two epoll instances is reported by each of them on its own.",
          (P("epoll-objects/two-instances", EPOLL),)),
    Claim(A, "A dup'ed descriptor in the same instance is a second item: every event is reported twice.",
          (P("epoll-objects/dup-same-instance", EPOLL),)),
    Claim(A, "Closing a registered descriptor while a dup keeps the file open leaves the item reporting under the closed number; EPOLL_CTL_DEL with it fails.",
          (P("epoll-objects/close-registered-fd", EPOLL),)),
    Claim(A, "poll() and select() report what level-triggered epoll reports, at every step.",
          (P("epollout/first-epollout-after-accept", ("poll", "select")),
           P("epollout/out-of-space-then-acks", ("poll", "select")))),
    # -- several waiters -----------------------------------------------------------------------
    Claim(S, "A listener reports EPOLLIN for each queued connection (edge-triggered again at each new one); accept() wakes nobody.",
          (P("listen/accept-queue", EPOLL),)),
    Claim(S, "With EPOLLEXCLUSIVE one connection wakes one of the instances that have a thread asleep, not all of them.",
          (P("listen/exclusive-listener", EPOLL, "exclusive-wakes-one"),
           P("many-waiters/one-wakeup", EPOLL, "instances-exclusive-connection"))),
    Claim(S, "EPOLLEXCLUSIVE also holds for data and for send space: one data segment, or one ACK that frees the buffer, wakes one instance.",
          (P("many-waiters/one-wakeup", EPOLL, "instances-exclusive-data"),
           P("many-waiters/one-wakeup", EPOLL, "instances-exclusive-ack"))),
    Claim(S, "Without EPOLLEXCLUSIVE one event wakes every instance watching the socket.",
          (P("many-waiters/one-wakeup", EPOLL, "instances-shared"), P("listen/exclusive-listener", EPOLL, "shared-wakes-all"))),
    Claim(S, "Of several threads in epoll_wait on one instance, one edge-triggered event wakes one thread: the last to go to sleep.",
          (P("many-waiters/one-wakeup", ("ET",), "threads-one-instance"),)),
    Claim(S, "Level-triggered, every thread of the instance wakes, one after another, while the event is not consumed.",
          (P("many-waiters/one-wakeup", ("LT",), "threads-one-instance"),)),
    Claim(S, "With EPOLLEXCLUSIVE and every worker asleep, the first registered instance takes every connection: the load is not spread.",
          (P("many-waiters/distribution", EPOLL, "instances-exclusive",
             fact=("distribution", _all_to_first, "all connections to the first instance")),)),
    Claim(S, "Threads sharing one edge-triggered instance: the one that went back to sleep last takes the next connection, so one thread takes them all.",
          (P("many-waiters/distribution", ("ET",), "threads-one-instance",
             fact=("distribution", _all_to_last, "all connections to the thread that slept last")),)),
    # -- io_uring (written only where the reports hold io_uring poll cases) ---------------------------
    Claim(U, "A one-shot io_uring poll request gives one completion with the mask of that moment, then nothing until it is submitted again.",
          (P("*", URING_ONESHOT),)),
    Claim(U, "A multishot io_uring poll request gives one completion per wakeup that finds the mask non-empty: neither edge- nor level-triggered.",
          (P("*", URING_MULTISHOT),)),
    Claim(U, "A multishot completion carries the wakeup's reason, not the socket's full mask: data arriving on a writable socket completes with EPOLLIN alone, where epoll reports EPOLLIN|EPOLLOUT.",
          (P("epollout/data-on-writable-socket-reports-full-mask", URING_MULTISHOT),)),
    Claim(U, "io_uring poll completes with the bits epoll reports: EPOLLOUT at the same ACK after EAGAIN.",
          (P("epollout/out-of-space-then-acks", URING_ONESHOT + URING_MULTISHOT),)),
)
