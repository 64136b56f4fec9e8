"""One KCIDB document (KernelCI's results database) from any number of reports.

Schema version 5.3, the newest ``kcidb-io`` knows (its ``LATEST``): the version KCIDB's
submission tools validate against, so a document goes in without an upgrade step.  The
fields used here exist since 5.0; 5.2 moved the test path's pattern into ``$defs/path``,
which ``names`` follows.

- Each kernel is one **checkout** (its release and package version: the source) and one
  **build** (that plus a digest of ``/proc/version``: the compiler and build stamp).  The same
  kernel run on two machines, or twice, is one checkout and one build with two sets of
  tests: kernels are never counted per run.
- Each result is one **test**: its path (``names.test_path``), status (pass PASS, fail FAIL,
  skip SKIP, error ERROR), duration, its key as the comment, its reason as the log excerpt;
  the facts, conditions, params and finding in ``misc``; where it ran (the machine, the
  report's label, the waiter, the skb layout) in ``environment``.

Test ids are ``<origin>:<run>.<path>``, where the run is a digest of the machine, kernel,
label and time of the report: unique per run, as KCIDB wants, and the same every time the
same report is exported.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.record import machine

from . import names

VERSION = {"major": 5, "minor": 3}
ORIGIN = re.compile(r"^[a-z0-9_]+$")
STATUS = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "error": "ERROR"}
EXCERPT_LIMIT = 16384  # KCIDB's maxLength of a log_excerpt


class OriginError(ValueError):
    pass


def check_origin(origin: str) -> str:
    """KCIDB's origin pattern: lower-case letters, digits and '_' (``epoll_semantics``)."""
    if not ORIGIN.match(origin or ""):
        raise OriginError(f"origin {origin!r} is not a KCIDB origin: only a-z, 0-9 and '_' "
                          "(e.g. epoll_semantics, or the name KernelCI gave your CI system)")
    return origin


def _digest(*parts: Any, n: int = 12) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:n]


def _clean(text: Any, limit: int | None = None) -> str:
    out = str(text).replace("\0", "")
    return out if limit is None or len(out) <= limit else out[: limit - 1] + "\u2026"


def compiler(proc_version: str | None) -> str | None:
    """The compiler named in /proc/version ('gcc-12 (Debian 12.2.0-14) 12.2.0')."""
    m = re.search(r"\(((?:gcc|clang|[\w.-]*-gcc)[^,]*?)(?:,|\)\s*#)", proc_version or "")
    return m.group(1).strip() if m else None


def kernel_ids(origin: str, kernel: Mapping[str, Any]) -> tuple[str, str]:
    """The checkout and build ids of a report's kernel."""
    release = str(kernel.get("release") or "unknown")
    package = kernel.get("package_version")
    checkout = f"{origin}:{release}" + (f"@{package}" if package else "")
    return checkout, f"{checkout}#{_digest(kernel.get('proc_version') or release, kernel.get('machine'))}"


def run_id(report: Mapping[str, Any]) -> str:
    return _digest(machine.run_key(report), report["kernel"].get("release"), report.get("label"),
                   report.get("generated_at"))


def checkout(origin: str, report: Mapping[str, Any]) -> dict:
    kernel = report["kernel"]
    package = kernel.get("package_version")
    out = {"id": kernel_ids(origin, kernel)[0], "origin": origin, "valid": True,
           "comment": _clean(f"Linux {kernel['release']}" + (f", package {package}" if package else "")),
           "misc": {"release": kernel["release"], "package_version": package}}
    return out


def build(origin: str, report: Mapping[str, Any]) -> dict:
    kernel = report["kernel"]
    checkout_id, build_id = kernel_ids(origin, kernel)
    out = {"id": build_id, "checkout_id": checkout_id, "origin": origin, "status": "PASS",
           "architecture": re.sub(r"[^a-z0-9_]", "_", str(kernel.get("machine") or "").lower()),
           "misc": {"release": kernel["release"], "proc_version": kernel.get("proc_version")}}
    cc = compiler(kernel.get("proc_version"))
    if cc:
        out["compiler"] = _clean(cc)
    if kernel.get("proc_version"):
        out["comment"] = _clean(kernel["proc_version"])
    return out


def environment(report: Mapping[str, Any], result: Mapping[str, Any]) -> dict:
    host = report.get("host") if isinstance(report.get("host"), dict) else {}
    label = report.get("label")
    where = host.get("name") or "a machine that did not say its name"
    return {"comment": _clean(f"{where}, {label} run" + (" (QEMU)" if label == "guest" else "")),
            "misc": {"host": host or None, "label": label, "arch": report["kernel"].get("machine"),
                     "waiter": result.get("mode"), "layout": (result.get("conditions") or {}).get("layout")}}


def test(origin: str, report: Mapping[str, Any], result: Mapping[str, Any], source: str = "") -> dict:
    path = names.test_path(result["key"])
    out = {"id": f"{origin}:{run_id(report)}.{path}", "build_id": kernel_ids(origin, report["kernel"])[1],
           "origin": origin, "path": path, "status": STATUS[result["verdict"]],
           "comment": _clean(result["key"]), "environment": environment(report, result),
           "misc": {"key": result["key"], "nodeid": result.get("nodeid"), "params": result.get("params", {}),
                    "facts": result.get("facts", {}), "conditions": result.get("conditions", {}),
                    "finding": result.get("finding"), "report": source,
                    "report_generated_at": report.get("generated_at")}}
    if isinstance(result.get("duration_s"), (int, float)):
        out["duration"] = float(result["duration_s"])
    text = "\n".join(t for t in (result.get("reason"), result.get("finding") and f"finding: {result['finding']}") if t)
    if text:
        out["log_excerpt"] = _clean(text, EXCERPT_LIMIT)
    return out


def document(reports: Sequence[tuple[str | Path, Mapping[str, Any]]], origin: str) -> dict:
    """The KCIDB document of the reports: checkouts and builds once per kernel, every result."""
    check_origin(origin)
    checkouts: dict[str, dict] = {}
    builds: dict[str, dict] = {}
    tests: list[dict] = []
    for source, report in reports:
        c, b = checkout(origin, report), build(origin, report)
        checkouts.setdefault(c["id"], c)
        builds.setdefault(b["id"], b)
        tests.extend(test(origin, report, r, str(source)) for r in report["results"])
    return {"version": dict(VERSION), "checkouts": list(checkouts.values()),
            "builds": list(builds.values()), "tests": tests}


def validate(doc: Mapping[str, Any]) -> None:
    """Validate with kcidb-io's own validator for schema 5.3; raises jsonschema's ValidationError."""
    from kcidb_io.schema import V5_3

    V5_3.validate_exactly(doc)
