"""``epoll-semantics explain --fact NAME``: what a fact means, which cases record it, what reaches it.

The meaning comes from the catalogue of facts (``reporting.facts``); the cases from the report
read (default: this kernel's, else any guest's under ``reports/kernels``); the causes from the
mechanisms that declare they reach the fact (``reporting.mechanisms``).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from harness.reporting import ReportError, load_report
from harness.reporting.facts import FACTS, meaning
from harness.reporting.mechanisms import MECHANISMS

from .reports import EXIT_BAD_INPUT, EXIT_OK, PROG, candidates, configure_explain, run_explain


def configure(parser: argparse.ArgumentParser) -> None:
    configure_explain(parser)
    parser.add_argument("--fact", metavar="NAME", help="what a fact means, which cases record it and "
                                                      "which causes reach it (no KEY needed)")


def run(args: argparse.Namespace) -> int:
    return explain_fact(args) if args.fact else run_explain(args)


def _report(args: argparse.Namespace) -> tuple[str, dict] | None:
    paths = [args.report] if args.report else candidates() + [str(p) for p in sorted(
        Path("reports").glob("kernels/*/report.json"))]
    for path in paths:
        if Path(path).is_dir():
            path = str(Path(path) / "report.json")
        try:
            return path, load_report(path)
        except ReportError:
            continue
    return None


def explain_fact(args: argparse.Namespace) -> int:
    name = args.fact
    found = _report(args)
    recorded = Counter()
    if found is not None:
        for r in found[1].get("results", []):
            if name in (r.get("facts") or {}):
                recorded[f"{r['topic']}/{r['scenario']}"] += 1
    text = meaning(name)
    if text is None and not recorded:
        close = [f for f in FACTS if name.lower() in f or f in name.lower()]
        print(f"{PROG} explain: error: no fact {name!r}" + (f"; close ones: {', '.join(close)}" if close else
                                                            "; facts described: " + ", ".join(FACTS)),
              file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{name}: {text or '(no description yet: see the scenario that records it)'}")
    reach = [f"{m.what}" + (f" ({m.origin})" if m.origin else "") for m in MECHANISMS
             if m.reaches_fact(name) or name in m.within]
    print("causes that reach it: " + ("; ".join(reach) if reach else "none declared"))
    if found is None:
        print("recorded by: no report to read (run the suite, or give --report FILE)")
        return EXIT_OK
    print(f"recorded by {sum(recorded.values())} case(s) of {found[0]}:")
    for scenario, n in sorted(recorded.items()):
        print(f"  {scenario}  ({n} case(s))")
    return EXIT_OK
