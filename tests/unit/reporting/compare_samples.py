"""Sample report dicts for the comparison tests, built in code so no fixture files drift.

The numbers follow the suite's model of the core EPOLLOUT scenario: a writer fills the
send buffer until EAGAIN, then each scripted ACK frees part of it; the socket is
writable once free >= wmem_queued // 2.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EPOLLOUT_KEY = "epollout/eagain-then-ack[ET-cubic-ipv4-scripted]"
LT_KEY = "epollout/eagain-then-ack[LT-cubic-ipv4-scripted]"
NETEM_KEY = "epollin/reorder-delivery[ET-netem]"
ONLY_NEW_KEY = "epollrdhup/half-close[ET-ipv6]"


def make_series(sndbuf: int = 42000, start: int = 41000, step: int = 2000,
                wake_delay: int = 0, points: int = 14) -> list[dict[str, Any]]:
    """One point per ACK; EPOLLOUT reported ``wake_delay`` ACKs after writability."""
    series, writable_seen, wake_at = [], None, None
    for i in range(points):
        wmem = max(start - i * step, 0)
        free = sndbuf - wmem
        writable = free >= wmem // 2
        if writable and writable_seen is None:
            writable_seen = i
            wake_at = i + wake_delay
        series.append({
            "ack": 1 + i * step, "wmem_queued": wmem, "sndbuf": sndbuf, "free": free,
            "threshold": wmem // 2, "writable": writable,
            "epollout": wake_at is not None and i >= wake_at,
        })
    return series


def first_wake_ack(series: list[dict[str, Any]]) -> int:
    return next(p["ack"] for p in series if p["epollout"])


def result(key: str, verdict: str = "pass", facts: dict | None = None, **extra: Any) -> dict:
    topic, rest = key.split("/", 1)
    mode = rest.split("[", 1)[1].split("-", 1)[0]
    out = {
        "key": key, "nodeid": f"tests/test_{topic}.py::test_x[{rest}]", "topic": topic,
        "scenario": rest.split("[", 1)[0], "mode": mode,
        "params": {"cc": "cubic", "family": "ipv4"}, "verdict": verdict, "reason": None,
        "finding": None, "facts": facts or {}, "conditions": {}, "capture": None, "duration_s": 0.03,
    }
    out.update(extra)
    return out


def summary(results: list[dict]) -> dict[str, int]:
    names = {"pass": "passed", "fail": "failed", "skip": "skipped", "error": "error"}
    out = dict.fromkeys(names.values(), 0)
    for r in results:
        out[names.get(r["verdict"], "error")] += 1
    return out


def make_report(release: str, version: list[int], label: str = "guest",
                results: list[dict] | None = None, **overrides: Any) -> dict[str, Any]:
    netem_ok = overrides.pop("netem_ok", True)
    report = {
        "schema": "epoll-semantics.report", "schema_version": 2,
        "kernel": {"release": release, "version": version, "machine": "x86_64"},
        "label": label, "generated_at": "2026-11-22T03:00:00+00:00",
        "tools": {"python": "3.11.7", "pytest": "8.3.4", "scapy": "2.6.1", "pyroute2": "0.7.12"},
        "capabilities": {
            "root": {"ok": True, "reason": None}, "tun": {"ok": True, "reason": None},
            "netem": {"ok": netem_ok,
                      "reason": None if netem_ok else "netem unavailable: CONFIG_NET_SCH_NETEM"},
        },
        "sysctls": {"net.ipv4.tcp_sack": "1", "net.ipv4.tcp_wmem": "4096 16384 4194304"},
        "congestion_control": {"default": "cubic", "available": ["reno", "cubic"]},
        "rules": {"kernel_rule_set": "5.10+" if version >= [5, 10] else "pre-5.10",
                  "changes": [{"title": "tcp: remove SOCK_QUEUE_SHRUNK", "since": "5.10",
                               "applies": version >= [5, 10]}]},
        "summary": summary(results or []),
        "results": results if results is not None else [],
        "some_future_field": {"ignored": True},
    }
    report.update(overrides)
    return copy.deepcopy(report)


def three_kernels() -> list[dict[str, Any]]:
    """An old kernel that wakes one ACK late, and two newer ones that agree."""
    reports = []
    for release, version, label, delay, netem in (
        ("6.18.44-cloud-amd64", [6, 18, 44], "host", 0, True),
        ("5.4.0-old", [5, 4, 0], "guest", 1, False),
        ("6.1.0-18-amd64", [6, 1, 0], "guest", 0, True),
    ):
        series = make_series(wake_delay=delay)
        facts = {"bytes_before_eagain": 43690, "waking_ack": first_wake_ack(series),
                 "wmem_queued_at_wake": 27000, "sndbuf_at_wake": 42000, "masks": ["OUT", "IN|OUT"]}
        results = [
            result(EPOLLOUT_KEY, facts=facts, series=series),
            result(LT_KEY, facts={"bytes_before_eagain": 43690, "masks": ["OUT"]},
                   series=make_series()),
            result(NETEM_KEY, verdict="pass" if netem else "skip",
                   reason=None if netem else "netem unavailable: CONFIG_NET_SCH_NETEM",
                   facts={"wakeups": 1 if netem else 0}),
        ]
        if version >= [6, 18]:
            results.append(result(ONLY_NEW_KEY, facts={"masks": ["IN|RDHUP"]},
                                  finding="RDHUP reported before the FIN was acknowledged"))
        reports.append(make_report(release, version, label, results, netem_ok=netem))
    return reports


def write_reports(directory: Path, reports: list[dict[str, Any]]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, report in enumerate(reports):
        path = directory / f"report-{i}-{report['kernel']['release']}.json"
        path.write_text(json.dumps(report, indent=1), encoding="utf-8")
        paths.append(path)
    return paths


# A matrix like the default one, with what differs between its kernels and why.
TRUESIZE = "accounting/skb-head-truesize[ipv4]"
WAKE = "epollout/out-of-space-then-acks[ET-cubic-ipv4-fill-until-eagain]"
WAKE_LT = "epollout/out-of-space-then-acks[LT-cubic-ipv4-fill-until-eagain]"
NATURAL = "epollout/out-of-space-then-acks[ET-cubic-ipv4-fill-until-eagain-natural-layout]"
ODD = "epollout/small-write-then-acks[ET-cubic-ipv4]"
CONNECT = "connect/connect-never-answered[ET-ipv4]"
PRESSURE = "write-space-edges/memory-pressure-on-an-empty-socket[ET-ipv4]"
ELSEWHERE = "connect/established[LT-ipv4]"

# (release, version, truesize, waking ack, natural ack, odd fact, linear timeouts, syns, pressure bytes)
MATRIX = (("5.10.0", [5, 10, 0], 1280, 7001, 17001, 0, None, 2, 4096),
          ("6.1.0", [6, 1, 0], 1280, 7001, 18001, 0, None, 2, 4096),
          ("6.12.0", [6, 12, 0], 896, 9001, 19001, 0, 4, 3, 2048),
          ("7.0.0", [7, 0, 0], 896, 9001, 21001, 1, 4, 3, 2048))


def matrix_report(release, version, truesize, wake, natural, odd, linear, syns, pressure):
    results = [
        result(TRUESIZE, facts={"skb_head_truesize": truesize}),
        result(WAKE, facts={"waking_ack": wake, "bytes_before_eagain": wake * 3}),
        result(WAKE_LT, facts={"waking_ack": wake}),
        result(NATURAL, facts={"waking_ack": natural},
               conditions={"layout": "natural", "timing_dependent": True, "rtt_us": 90}),
        result(ODD, facts={"et_epollout_from_acks": odd, "masks": ["OUT"]}),
        result(CONNECT, facts={"tcp_syn_linear_timeouts": linear, "syns_sent": syns}),
        result(PRESSURE, facts={"empty_socket_under_pressure": f"forced progress: {pressure} bytes queued",
                                "tcp_pages_held": pressure // 2, "masks": ["OUT"] * (pressure // 2048)}),
        result(ELSEWHERE, facts={"masks": ["OUT"] * (pressure // 2048)}),
    ]
    return (release, make_report(release, version, "guest", results,
                                 kernel={"release": release, "version": version, "machine": "x86_64",
                                         "package_version": release + "-1"}))


def matrix_reports(specs=MATRIX) -> list[tuple[str, dict[str, Any]]]:
    """(source, report) of each kernel of a default-like matrix: 5.10, 6.1, 6.12, 7."""
    return [matrix_report(*s) for s in specs]


def matrix_comparison(specs=MATRIX):
    from harness.reporting import build_comparison

    return build_comparison(matrix_reports(specs))
