"""The kernel mechanisms that explain a difference, and the facts each one reaches.

A mechanism is something that differs between kernels and that the reports measure on each
kernel (the skb head truesize in the ``accounting`` scenarios, ``tcp_syn_linear_timeouts`` in
the connect scenarios, what the kernel does to a send under memory pressure), or a rule
change the model applies on some kernels and not on others.  Each declares the facts its
mechanism reaches: the skb head truesize changes how much of the send buffer each skb
costs, so it reaches the facts built on sk_wmem_queued (bytes before EAGAIN or blocking,
the waking ACK, the bytes queued at the wake), never a SYN count.  ``causes`` gives a
differing fact exactly the mechanisms that reach it and differ between the two kernels.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .comparison import Comparison, Kernel

# Facts that follow from how many bytes the send buffer holds: the skb head truesize, the
# SO_SNDBUF factor and the starting sndbuf all move them.
WMEM_FACTS = frozenset({
    "waking_ack", "attributed_ack", "first_epollout_ack", "boundary_ack",
    "bytes_before_eagain", "bytes_accepted", "bytes_written", "bytes_before_block",
    "bytes_accepted_before_first_sleep", "wmem_queued_at_wake", "sndbuf_at_wake",
    "wmem_queued_at_boundary", "sndbuf_at_boundary", "freed_per_ack", "wmem_queued_per_mss",
    "acks_under_limit_before_wake", "notsent_at_wake", "wmem_queued_before_after",
    "sndbuf_before_after", "et_epollout_from_acks", "epollout_reports", "wakes",
    "observed_epollout", "witnessed_wakeups", "sndbuf_tried", "acks_checked", "twin_et_wakes",
    "twin_wmem_queued_delta", "notsent_at_first_wake",
})
# The epoll results ACK by ACK: in the scenarios that ACK a full send buffer step by step, the
# step at which the socket turns writable moves with what each skb costs (and with it the
# io_uring completions counted at each step, and the event-loop patterns that fill a buffer).
ACK_SEQUENCE_TOPICS = ("epollout", "writers", "blocking-write", "xmit-check-space", "event-loops")
SEQUENCE_FACTS = frozenset({"masks", "events_at", "xmit_calls", "segments_sent", "completions"})
# What a rule change of the model moves: when and how often a waiter is told.
READINESS_FACTS = frozenset({"verdict", "waking_ack", "masks", "wakes", "epollout_reports",
                             "et_epollout_from_acks", "first_epollout_ack", "writer_wakes"})
# The ballast's pages and the limit set from them are sk_wmem_queued-based (truesize's); what
# the send does, and so what the waiter sees in that scenario, is the forced progress's.
PRESSURE = "memory-pressure-on-an-empty-socket"
PRESSURE_FACTS = frozenset({"tcp_pages_held", "tcp_mem_during_send"})


@dataclass(frozen=True)
class Mechanism:
    """One cause: what it is, where it came from, how each kernel's value is read, what it reaches."""

    name: str                  # short, for the command line: ``diff A B --keys truesize``
    what: str                  # "skb head truesize"
    commit: str
    release: str               # the mainline release that brought it
    fact: str                  # the fact whose value on a kernel is the mechanism's value there
    reaches: frozenset[str]
    topic: str = ""            # read ``fact`` from this topic's rows only ("" = any row)
    unit: str = ""
    scopes: tuple[str, ...] = ()   # ``within`` reaches its facts in these topics' or scenarios' rows only
    within: frozenset[str] = frozenset()

    def reaches_fact(self, fact: str, topic: str = "", scenario: str = "") -> bool:
        return fact in self.reaches or (fact in self.within and (topic in self.scopes or scenario in self.scopes))

    @property
    def origin(self) -> str:
        return ", ".join(p for p in (self.commit, self.release) if p)


MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism("truesize", "skb head truesize", "bf9f1baa279f", "v6.3", "skb_head_truesize",
              WMEM_FACTS | {"skb_head_truesize"} | PRESSURE_FACTS,
              topic="accounting", unit="bytes", scopes=ACK_SEQUENCE_TOPICS, within=SEQUENCE_FACTS),
    Mechanism("sndbuf-factor", "SO_SNDBUF doubling (sk_setsockopt)", "", "", "sndbuf_factor",
              WMEM_FACTS | {"sndbuf_factor"}, topic="accounting"),
    Mechanism("fresh-sndbuf", "a new socket's sndbuf (tcp_wmem[1])", "", "", "fresh_sndbuf",
              WMEM_FACTS | {"fresh_sndbuf"}, topic="accounting", unit="bytes"),
    Mechanism("established-sndbuf", "the sndbuf tcp_sndbuf_expand() gives an established socket", "", "",
              "established_sndbuf", WMEM_FACTS | {"established_sndbuf"}, topic="accounting", unit="bytes"),
    Mechanism("syn-linear-timeouts", "tcp_syn_linear_timeouts (the first SYN retries at a linear 1 s RTO)",
              "ccce324dabfe", "v6.5", "tcp_syn_linear_timeouts",
              frozenset({"syns_sent", "tcp_syn_linear_timeouts", "so_error", "state_after"}), topic="connect"),
    # tcp_wmem_schedule() charges up to tcp_wmem[0] by force: a short write where EAGAIN was
    Mechanism("forced-progress", "forced progress under memory pressure", "f54755f6a11a", "v5.19",
              "empty_socket_under_pressure", frozenset({"empty_socket_under_pressure"}),
              scopes=(PRESSURE,), within=frozenset({"masks", "events_at", "epollout_reports", "wakes",
                                                    # the direct-wakeup branch the case exists for is
                                                    # reached only without forced progress
                                                    "verdict", "unreached_branch"})),
)


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def kernel_value(comparison: Comparison, mechanism: Mechanism, kernel_id: str) -> Any:
    """The mechanism's value on one kernel: the first value its fact has in a row of that
    kernel that ran (of ``topic`` only, when it names one); ``None`` when no row has it."""
    for row in comparison.rows:
        if mechanism.topic and row.topic != mechanism.topic:
            continue
        cell = row.cells.get(kernel_id)
        if cell is not None and cell.ran and mechanism.fact in cell.facts:
            return cell.facts[mechanism.fact]
    return None


def _present(comparison: Comparison, mechanism: Mechanism, kernel_id: str) -> bool:
    return any(
        (not mechanism.topic or row.topic == mechanism.topic)
        and (cell := row.cells.get(kernel_id)) is not None and cell.ran and mechanism.fact in cell.facts
        for row in comparison.rows)


@dataclass(frozen=True)
class Applied:
    """A mechanism with its value on the two kernels of a pair."""

    mechanism: Mechanism
    before: Any
    after: Any

    def sentence(self) -> str:
        """"skb head truesize 1280 -> 896 bytes (bf9f1baa279f, v6.3)"; a value that is a sentence
        of its own (what a send did) is left to the fact lines."""
        unit = f" {self.mechanism.unit}" if self.mechanism.unit else ""
        values = "" if isinstance(self.before, str) and " " in self.before else \
            f" {_text(self.before)} -> {_text(self.after)}{unit}"
        return f"{self.mechanism.what}{values}" + (f" ({self.mechanism.origin})" if self.mechanism.origin else "")


def _text(value: Any) -> str:
    return "null" if value is None else value if isinstance(value, str) else _dump(value)


def rule_mechanisms(a: Kernel, b: Kernel) -> list[Applied]:
    """The rule changes the two reports cite that apply on one kernel and not on the other."""
    def changes(k: Kernel) -> dict[str, Mapping[str, Any]]:
        return {str(c["title"]): c for c in k.rules.get("changes") or []
                if isinstance(c, Mapping) and c.get("title")}
    ca, cb = changes(a), changes(b)
    out = []
    for title in ca.keys() & cb.keys():
        if bool(ca[title].get("applies")) != bool(cb[title].get("applies")):
            since = str(ca[title].get("since") or "")
            m = Mechanism("rule:" + title, f"rule change \"{title}\"", str(ca[title].get("commit") or ""),
                          f"v{since}" if since else "", "", READINESS_FACTS)
            out.append(Applied(m, "carries it" if ca[title].get("applies") else "does not",
                               "carries it" if cb[title].get("applies") else "does not"))
    return sorted(out, key=lambda x: x.mechanism.name)


def differing(comparison: Comparison, a: str, b: str) -> list[Applied]:
    """Every mechanism whose value differs between kernels ``a`` and ``b`` (both measured)."""
    out = []
    for m in MECHANISMS:
        if not (_present(comparison, m, a) and _present(comparison, m, b)):
            continue
        va, vb = kernel_value(comparison, m, a), kernel_value(comparison, m, b)
        if _dump(va) != _dump(vb):
            out.append(Applied(m, va, vb))
    return out + rule_mechanisms(comparison.kernel(a), comparison.kernel(b))


def reaching(applied: list[Applied], fact: str, topic: str = "", scenario: str = "") -> tuple[Applied, ...]:
    """The mechanisms among ``applied`` that reach ``fact`` (in a row of ``topic``/``scenario``)."""
    return tuple(x for x in applied if x.mechanism.reaches_fact(fact, topic, scenario))
