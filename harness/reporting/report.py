"""The suite's report: one JSON document per kernel, and the table `make report` prints.

Schema ``epoll-semantics.report`` version 2 (``schema/report-v2.json``).  ``results[].key``
is ``topic/scenario[pytest id]``, the same on every kernel, so reports from different kernels
line up.  Version 2: keys carry pytest's id, results carry ``conditions`` (the skb layout and
what decided it) and a ``timeline`` file for failed cases, the kernel its package version.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
from dataclasses import dataclass, field, fields
from typing import Any

SCHEMA = "epoll-semantics.report"
SCHEMA_VERSION = 2
VERDICTS = ("pass", "fail", "skip", "error")

# Facts worth a column in the table, in order; the rest are shown as key=value.
KEY_FACTS = ("bytes_before_eagain", "waking_ack", "attributed_ack", "wmem_queued_at_wake", "sndbuf_at_wake")


@dataclass
class Result:
    key: str
    nodeid: str
    topic: str
    scenario: str
    mode: str
    params: dict[str, Any]
    verdict: str = "pass"
    reason: str | None = None
    finding: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    series: list[dict] | None = None
    capture: str | None = None
    timeline: str | None = None
    conditions: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0

    def to_dict(self) -> dict:
        # the fields as they are (no deep copy: the report is written from them at once)
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        if d["series"] is None:
            del d["series"]
        return d


def tool_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("pytest", "pytest-timeout", "scapy", "pyroute2", "NetfilterQueue"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return out


def package_version(proc_version: str | None = None) -> dict[str, str | None]:
    """The upstream release a distribution kernel carries: ``uname -r`` names Debian's series
    (5.10.0-46), /proc/version the package ("Debian 5.10.262-1")."""
    if proc_version is None:
        try:
            with open("/proc/version") as f:
                proc_version = f.read().strip()
        except OSError:
            proc_version = None
    # The last "Debian x.y.z-n": the compiler's own Debian version comes earlier in the line.
    found = re.findall(r"\bDebian (\d\S*)", proc_version or "")
    return {"package_version": found[-1] if found else None, "proc_version": proc_version}


def bounded_steps(results) -> int:
    """How many steps of a run's series rest on a bound ("basis": "bounded"): a wakeup
    accepted only because a bound allowed it, where no exact accounting or witness decided."""
    return sum(1 for r in results for s in (_get(r, "series") or ()) if s.get("basis") == "bounded")


def _get(r, name: str):
    return r.get(name) if isinstance(r, dict) else getattr(r, name, None)


def build(results: list[Result], *, capabilities: dict, sysctls: dict, congestion: dict,
          rules: dict, label: str = "host") -> dict:
    from harness.model.rules import parse_release
    from harness.record import machine

    uname = os.uname()
    summary = {v: 0 for v in ("passed", "failed", "skipped", "error")}
    for r in results:
        summary[{"pass": "passed", "fail": "failed", "skip": "skipped", "error": "error"}[r.verdict]] += 1
    summary["bounded"] = bounded_steps(results)
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "kernel": {"release": uname.release, "version": list(parse_release(uname.release)),
                   "machine": uname.machine, **package_version()},
        "label": label,
        "host": machine.host(),
        "generated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "tools": tool_versions(),
        "capabilities": capabilities,
        "sysctls": sysctls,
        "congestion_control": congestion,
        "rules": rules,
        "summary": summary,
        "results": [r.to_dict() for r in sorted(results, key=lambda r: r.key)],
    }


def write(path: str, doc: dict) -> str:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


def _fact(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict) and "waking_ack" in value:  # an attribution: the ACK and how sure
        marks = [m for m, on in (("confirmed", value.get("confirmed")), ("exact", value.get("exact"))) if on]
        return f"{value['waking_ack']} ({','.join(marks) or 'unconfirmed'})"
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items())[:80]
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def table(doc: dict) -> str:
    """A fixed-width table: one row per result with its verdict and key facts."""
    head = ("scenario", "mode", "cc", "family", "verdict") + KEY_FACTS + ("other facts / reason",)
    rows = []
    for r in doc["results"]:
        p = r.get("params", {})
        other = {k: v for k, v in r.get("facts", {}).items() if k not in KEY_FACTS}
        extra = " ".join(f"{k}={_fact(v)}" for k, v in other.items())
        if r["verdict"] != "pass" and r.get("reason"):
            extra = (r["reason"].splitlines()[0][:100] + " " + extra).strip()
        if r.get("finding"):
            extra = f"FINDING: {r['finding']} " + extra
        variant = "-".join(str(v) for k, v in p.items() if k not in ("mode", "waiter", "cc", "family"))
        name = f"{r['topic']}/{r['scenario']}" + (f"[{variant}]" if variant else "")
        rows.append((name, r.get("mode", ""), p.get("cc", ""),
                     p.get("family", ""), r["verdict"].upper())
                    + tuple(_fact(r.get("facts", {}).get(k)) for k in KEY_FACTS) + (extra,))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)] if rows else [len(h) for h in head]
    widths[-1] = 0
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    k = doc["kernel"]
    s = doc["summary"]
    lines = [f"kernel {k['release']} ({k['machine']}): {s['passed']} passed, {s['failed']} failed, "
             f"{s['skipped']} skipped, {s['error']} error, {s.get('bounded', 0)} verdict(s) on bounds",
             "capabilities: " + ", ".join(f"{n}={'yes' if c['ok'] else 'no'}"
                                          for n, c in doc["capabilities"].items()),
             fmt.format(*head).rstrip(), fmt.format(*("-" * w for w in widths[:-1]), "-" * 20).rstrip()]
    lines += [fmt.format(*row).rstrip() for row in rows]
    return "\n".join(lines)
