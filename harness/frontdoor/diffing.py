"""``epoll-semantics diff A B``: what changes if I move from kernel A to kernel B.

A and B are each a report path (a file, or a guest's directory holding ``report.json``), a
guest's release as ``make kernels`` names its directory (``6.1.0-57-cloud-amd64``), or a
Debian series (``6.1``, ``7``) matching exactly one guest under ``reports/kernels/``.  This
machine's own reports (``reports/*.json``) are taken only when named by release or path: a
comparison of guests never mixes the host in.  ``--keys NAME`` lists the keys of one group of
the screen; ``--json`` prints every difference as data (schema/differences-v1.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.reporting import ReportError, build_comparison, load_report, parse_release
from harness.reporting.kernel_diff import document, groups, kernel_diff, keys, render

from .reports import EXIT_BAD_INPUT, EXIT_OK, PROG


def guests(reports: Path) -> dict[str, Path]:
    return {p.parent.name: p for p in sorted(reports.glob("kernels/*/report.json"))}


def resolve(spec: str, reports: Path) -> Path:
    """The report a spec names; ReportError when it names none or several."""
    path = Path(spec)
    if path.is_file():
        return path
    if path.is_dir() and (path / "report.json").is_file():
        return path / "report.json"
    found = guests(reports)
    if spec in found:
        return found[spec]
    host = reports / f"{spec}.json"
    if host.is_file():
        return host
    parts = spec.split(".")
    series = tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else ()
    matches = [p for name, p in found.items() if series and _series(name)[:len(series)] == series]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(found) or f"none under {reports}/kernels (make kernels)"
    what = "several reports match" if matches else "no report matches"
    raise ReportError(spec, f"{what} (a path, a release or a Debian series; guests: {known})")


def _series(release: str) -> tuple[int, ...]:
    try:
        return parse_release(release)
    except ValueError:
        return ()


def configure_diff(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("before", metavar="A", help="the kernel moved from: a report path, a release or a "
                                                    "Debian series (6.1)")
    parser.add_argument("after", metavar="B", help="the kernel moved to")
    parser.add_argument("--reports", default="reports", metavar="DIR",
                        help="where releases and series are looked up (default: reports)")
    parser.add_argument("--keys", metavar="NAME", help="list the keys of one group (a cause's name, "
                                                       "'unattributed' or 'timing') with their facts")
    parser.add_argument("--json", action="store_true", help="every difference as data")


def run_diff(args: argparse.Namespace) -> int:
    try:
        paths = [resolve(s, Path(args.reports)) for s in (args.before, args.after)]
        docs = [load_report(p) for p in paths]
    except ReportError as exc:
        print(f"{PROG} diff: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if paths[0].resolve() == paths[1].resolve():
        print(f"{PROG} diff: error: A and B are the same report ({paths[0]})", file=sys.stderr)
        return EXIT_BAD_INPUT
    comparison = build_comparison(list(zip(paths, docs)))
    # the comparison orders kernels by version; A is the one moved from, whatever its version
    ids = {k.path: k.id for k in comparison.kernels}
    diff = kernel_diff(comparison, ids[str(paths[0])], ids[str(paths[1])])
    if args.json:
        print(json.dumps(document([diff]), indent=1))
        return EXIT_OK
    command = f"{PROG} diff {args.before} {args.after}"
    if args.keys:
        listed = keys(diff, args.keys)
        if not listed:
            print(f"{PROG} diff: error: no group {args.keys!r}; groups: {', '.join(groups(diff)) or 'none'}",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
        print("\n".join(listed))
        return EXIT_OK
    print("\n".join(render(diff, command)))
    return EXIT_OK

