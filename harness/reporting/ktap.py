"""A report as a KTAP stream (the kernel's Test Anything Protocol, version 1), for the netdev
CI, LAVA's ``parse: pattern:`` and anything else that reads the kernel selftests' output.

One result line per result, numbered in the report's order, named with ``names.case_name``
(no spaces or '#', the same name on every kernel and machine), and its reason after the
``#`` on a skip or a failure::

    KTAP version 1
    # epoll-semantics: kernel 6.12.43+deb13-cloud-amd64 [6.12.43-1], guest run on ci-runner-7
    1..3
    ok 1 epollout.first-epollout-after-accept.ET-cubic-ipv4
    not ok 2 epollout.out-of-space-then-acks.ET-cubic-ipv4-eagain # EPOLLOUT after EAGAIN: ACK 9001 instead of 7001
    ok 3 readers.urgent-byte-pri.poll-ipv6 # SKIP ipv6 unavailable: ...
    # 1 passed, 1 failed, 1 skipped, 0 error

An error (the harness broke, not the kernel) is ``not ok ... # ERROR reason``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import names

REASON_LIMIT = 300


def _one_line(text: Any) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= REASON_LIMIT else flat[: REASON_LIMIT - 1] + "\u2026"


def line(number: int, result: Mapping[str, Any]) -> str:
    """The result line of one result."""
    name = names.case_name(result["key"])
    verdict = result["verdict"]
    # pytest's own prefixes say what the directive already says
    reason = _one_line(result.get("reason") or result.get("finding")).removeprefix("Skipped: ").removeprefix("Failed: ")
    if verdict == "pass":
        return f"ok {number} {name}" + (f" # finding: {reason}" if result.get("finding") else "")
    if verdict == "skip":
        return f"ok {number} {name} # SKIP {reason or 'no reason given'}".rstrip()
    directive = "ERROR " if verdict == "error" else ""
    return f"not ok {number} {name} # {directive}{reason or 'no reason given'}"


def stream(report: Mapping[str, Any]) -> str:
    """The whole KTAP text of a report, ending in a newline."""
    kernel = report["kernel"]
    host = report.get("host") if isinstance(report.get("host"), dict) else {}
    package = kernel.get("package_version")
    head = (f"# epoll-semantics: kernel {kernel['release']}" + (f" [{package}]" if package else "")
            + f", {report.get('label')} run" + (f" on {host['name']}" if host.get("name") else ""))
    results = report["results"]
    s = report.get("summary") or {}
    lines = ["KTAP version 1", head, f"1..{len(results)}"]
    lines += [line(i, r) for i, r in enumerate(results, 1)]
    lines.append(f"# {s.get('passed', 0)} passed, {s.get('failed', 0)} failed, {s.get('skipped', 0)} skipped, "
                 f"{s.get('error', 0)} error")
    return "\n".join(lines) + "\n"
