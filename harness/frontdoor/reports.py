"""The commands that read reports: summary, table, show, explain, compare.

Without a file they read this kernel's newest report: ``reports/<uname -r>.json``, or
``reports/partial/<uname -r>.json`` when a subset ran since (``explain`` and ``show`` look for
the key in both).  A KEY is a result's key or any unique part
of it (or of its pytest node id); several matches are listed, and none is exit 2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from harness.record import store
from harness.record.timeline import Timeline
from harness.reporting import ReportError, load_report
from harness.reporting.explain import explain
from harness.reporting.summary import summary
from harness.reporting.table_view import full_table, topics

PROG = "epoll-semantics"
EXIT_OK, EXIT_BAD_INPUT = 0, 2


def width() -> int:
    return max(80, shutil.get_terminal_size((120, 40)).columns)


def candidates(reports: str = "reports") -> list[str]:
    """This kernel's reports, the newest first: the full one and the last subset's."""
    full = Path(reports) / f"{os.uname().release}.json"
    found = [p for p in (full, Path(reports) / "partial" / full.name) if p.is_file()]
    return [str(p) for p in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)] or [str(full)]


def default_report(reports: str = "reports") -> str:
    return candidates(reports)[0]


def add_report_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", nargs="?", default=None, metavar="FILE",
                        help="a report JSON file or a guest's directory (default: reports/<uname -r>.json)")


def _load(args: argparse.Namespace, command: str) -> dict | None:
    path = args.report or default_report()
    if Path(path).is_dir() and (Path(path) / "report.json").is_file():
        path = str(Path(path) / "report.json")  # a guest's directory, as compare takes it
    try:
        doc = load_report(path)
    except ReportError as exc:
        print(f"{PROG} {command}: error: {exc}", file=sys.stderr)
        return None
    args.report = path
    return doc


def configure_summary(parser: argparse.ArgumentParser) -> None:
    add_report_arg(parser)


def run_summary(args: argparse.Namespace) -> int:
    doc = _load(args, "summary")
    if doc is None:
        return EXIT_BAD_INPUT
    print(summary(doc, width=width()))
    print(f"report: {args.report}")
    return EXIT_OK


def configure_table(parser: argparse.ArgumentParser) -> None:
    add_report_arg(parser)
    parser.add_argument("--full", action="store_true",
                        help="every result with all its facts and reasons, wrapped to the terminal")
    parser.add_argument("--topic", help="only this topic (epollout, readers, realpeer, ...)")
    parser.add_argument("--failed", action="store_true", help="only failed and errored results")
    parser.add_argument("--key", metavar="SUBSTR", help="only results whose key contains SUBSTR")


def run_table(args: argparse.Namespace) -> int:
    doc = _load(args, "table")
    if doc is None:
        return EXIT_BAD_INPUT
    if args.topic and args.topic not in topics(doc):
        print(f"{PROG} table: error: no topic {args.topic!r} in {args.report}; topics: "
              + ", ".join(topics(doc)), file=sys.stderr)
        return EXIT_BAD_INPUT
    print(full_table(doc, width(), full=args.full, topic=args.topic, failed=args.failed, key=args.key))
    print(f"report: {args.report}")
    return EXIT_OK


def find(doc: dict, key: str) -> list[dict]:
    results = doc.get("results", [])
    exact = [r for r in results if r["key"] == key or r.get("nodeid") == key]
    if exact:
        return exact
    return [r for r in results if key in r["key"] or key in r.get("nodeid", "")]


def close_keys(doc: dict, key: str, n: int = 8) -> list[dict]:
    """The results whose key is close to ``key``, ignoring case: those holding it, else the
    nearest by difflib."""
    import difflib

    results = doc.get("results", [])
    low = key.lower()
    holding = [r for r in results if low in r["key"].lower() or low in r.get("nodeid", "").lower()]
    if holding:
        return holding[:n]
    lowered = {r["key"].lower(): r for r in results}
    return [lowered[k] for k in difflib.get_close_matches(low, list(lowered), n=n, cutoff=0.5)]


def _one(args: argparse.Namespace, command: str) -> tuple[dict, dict] | None:
    if args.report is None:
        # the last subset's report first when it is newer; the key may be in either
        for path in candidates():
            try:
                if find(load_report(path), args.key):
                    args.report = path
                    break
            except ReportError:
                continue
    doc = _load(args, command)
    if doc is None:
        return None
    found = find(doc, args.key)
    if len(found) != 1:
        what = "no result matches" if not found else f"{len(found)} results match"
        print(f"{PROG} {command}: {what} {args.key!r} in {args.report}", file=sys.stderr)
        if not found:
            close = close_keys(doc, args.key)
            if close:
                print("close ones:", file=sys.stderr)
            found = close
        for r in found[:20]:
            print(f"  {r['key']}  {r['verdict']}", file=sys.stderr)
        if len(found) > 20:
            print(f"  ... {len(found) - 20} more", file=sys.stderr)
        return None
    return doc, found[0]


def configure_key(parser: argparse.ArgumentParser, optional: bool = False) -> None:
    parser.add_argument("key", metavar="KEY", nargs="?" if optional else None,
                        help="a result's key, or a unique part of it")
    parser.add_argument("--report", default=None, metavar="FILE",
                        help="the report to read (default: reports/<uname -r>.json)")


def configure_explain(parser: argparse.ArgumentParser) -> None:
    configure_key(parser, optional=True)
    parser.add_argument("--full", action="store_true", help="every step, not only those around the focus")


def run_explain(args: argparse.Namespace) -> int:
    if args.key is None:
        print(f"{PROG} explain: error: give a KEY (or --fact NAME)", file=sys.stderr)
        return EXIT_BAD_INPUT
    got = _one(args, "explain")
    if got is None:
        return EXIT_BAD_INPUT
    _, r = got
    print(f"{r['key']}: {r['verdict'].upper()}" + (f": {r['reason'].splitlines()[0]}" if r.get("reason") else ""))
    if r.get("finding"):
        print(f"FINDING: {r['finding']}")
    row = store.read(args.report).get(r["key"])
    if row is None or not row.get("timelines"):
        print(f"{PROG} explain: no timeline of {r['key']} beside {args.report} "
              f"({store.path_for(args.report).name}); run the case again to record one", file=sys.stderr)
        return EXIT_BAD_INPUT
    for t in row["timelines"]:
        print(explain(Timeline.from_dict(t), full=args.full, capture=row.get("capture") or r.get("capture"),
                      more="--full"))
    print(f"report: {args.report}")
    return EXIT_OK


def configure_show(parser: argparse.ArgumentParser) -> None:
    configure_key(parser)


SERIES_COLUMNS = ("ack", "wmem_queued", "sndbuf", "notsent", "free", "threshold", "writable",
                  "wakeup_required", "epollout")


def run_show(args: argparse.Namespace) -> int:
    got = _one(args, "show")
    if got is None:
        return EXIT_BAD_INPUT
    _, r = got
    print(f"{r['key']}  ({r.get('nodeid')})")
    print(f"verdict: {r['verdict']}" + (f": {r['reason']}" if r.get("reason") else ""))
    print("params: " + " ".join(f"{k}={v}" for k, v in r.get("params", {}).items()))
    if r.get("finding"):
        print(f"finding: {r['finding']}")
    print("facts:")
    for k, v in r.get("facts", {}).items():
        print(f"  {k}: {v}")
    series = r.get("series") or []
    if series:
        cols = [c for c in SERIES_COLUMNS if any(c in s for s in series)]
        cols += sorted({k for s in series for k in s} - set(cols))
        print(f"series ({len(series)} ACK steps):")
        widths = [max(len(c), *(len(str(s.get(c, "-"))) for s in series)) for c in cols]
        fmt = "  " + "  ".join(f"{{:>{w}}}" for w in widths)
        print(fmt.format(*cols))
        for s in series:
            print(fmt.format(*(str(s.get(c, "-")) for c in cols)))
    if r.get("capture"):
        print(f"packets: {r['capture']}")
    print(f"report: {args.report}")
    return EXIT_OK


def compare_inputs(reports: str = "reports") -> list[str]:
    """This machine's reports and every kernel's, as ``make compare`` has always read them."""
    d = Path(reports)
    return [str(p) for p in sorted(d.glob("*.json")) + sorted(d.glob("kernels/*/report.json"))]


def configure_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", metavar="FILE_OR_DIR",
                        help="report JSON files, or directories whose *.json files are reports "
                             "(default: reports/*.json and reports/kernels/*/report.json)")
    parser.add_argument("--out", default="reports", metavar="DIR",
                        help="directory to write compare.md and compare.html into (default: reports)")
    parser.add_argument("--no-plots", action="store_true",
                        help="leave the EPOLLOUT series plots out of compare.html")
    parser.add_argument("--json", action="store_true",
                        help="print every difference of neighbouring guests (or kernels) as data instead "
                             "(schema/differences-v1.json); writes nothing")


def run_compare(args: argparse.Namespace) -> int:
    # Imported on use so that other subcommands do not pay for (or depend on) it.
    from harness.reporting import load_comparison, write_comparison
    from harness.reporting.compare_view import counted, hosts

    inputs = args.inputs or compare_inputs(args.out)
    try:
        comparison = load_comparison(inputs)
    except ReportError as exc:
        print(f"{PROG} compare: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        import json

        from harness.reporting.kernel_diff import document, matrix_diffs

        # the pairs compare.html opens with: neighbouring guests, the host not mixed in
        print(json.dumps(document(matrix_diffs(comparison)), indent=1))
        return EXIT_OK
    try:
        written = write_comparison(comparison, args.out, plots=not args.no_plots)
    except OSError as exc:
        print(f"{PROG} compare: error: cannot write to {args.out}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    differing = len(comparison.differing_rows)
    machines = hosts(comparison)
    print(f"compared {counted(comparison)}, {len(comparison.rows)} result(s), {differing} differing"
          + (f"; every report from {machines[0]}" if len(machines) == 1 and machines[0] else ""))
    if len(machines) > 1:  # which machine each column came from (its title says)
        for k in comparison.kernels:
            print(f"  {k.title}")
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK
