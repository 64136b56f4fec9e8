"""The commands that hand reports to other CI systems: ``kcidb`` and ``ktap``.

``kcidb [REPORTS...] --origin ORIGIN`` writes one KCIDB document (KernelCI's results
database, schema 5.3; harness.reporting.kcidb) from any number of reports, from any number
of machines, validated with kcidb-io's own validator before a byte is written.  ``ktap
[REPORT]`` prints a report as a KTAP stream (harness.reporting.ktap).  Exit 0 written, 2 bad
input (a report the schema refuses, the same run twice, an origin KCIDB refuses).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from harness.reporting import ReportError, collect_paths, load_report
from harness.reporting import kcidb, ktap
from harness.reporting.loading import check_distinct

from .reports import PROG, compare_inputs, default_report

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def write_text(text: str, out: str) -> None:
    if out == "-":
        sys.stdout.write(text)
        return
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{out}.tmp"
    Path(tmp).write_text(text, encoding="utf-8")
    os.replace(tmp, out)


def configure_kcidb(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", metavar="FILE_OR_DIR",
                        help="report JSON files or directories of them (default: reports/*.json and "
                             "reports/kernels/*/report.json)")
    parser.add_argument("--origin", required=True,
                        help="your CI system's name in KCIDB: a-z, 0-9 and '_' (e.g. epoll_semantics)")
    # not reports/*.json: that is where compare's default inputs are, and this is no report
    parser.add_argument("--out", default="reports/kcidb/kcidb.json", metavar="FILE",
                        help="where to write the document ('-' for standard output; default reports/kcidb/kcidb.json)")


def run_kcidb(args: argparse.Namespace) -> int:
    try:
        kcidb.check_origin(args.origin)
        reports = [(p, load_report(p)) for p in collect_paths(args.inputs or compare_inputs())]
        check_distinct(reports)
    except (ReportError, kcidb.OriginError) as exc:
        print(f"{PROG} kcidb: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    doc = kcidb.document([(str(p), r) for p, r in reports], args.origin)
    from jsonschema import ValidationError

    try:
        kcidb.validate(doc)
    except ValidationError as exc:  # the export's own bug: say where, write nothing
        where = "/".join(map(str, exc.absolute_path)) or "(top level)"
        print(f"{PROG} kcidb: error: the document does not validate (schema 5.3) at {where}: "
              f"{exc.message[:200]}; nothing written", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        write_text(json.dumps(doc, indent=1) + "\n", args.out)
    except OSError as exc:
        print(f"{PROG} kcidb: error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    hosts = sorted({str((r.get("host") or {}).get("name") or "a machine not recorded") for _, r in reports})
    print(f"{len(doc['checkouts'])} kernel(s) ({len(doc['checkouts'])} checkout(s), {len(doc['builds'])} build(s)), "
          f"{len(doc['tests'])} test(s) from {len(reports)} report(s) on {len(hosts)} machine(s) "
          f"({', '.join(hosts)}): valid KCIDB schema 5.3" + ("" if args.out == "-" else f"; wrote {args.out}"),
          file=sys.stderr if args.out == "-" else sys.stdout)
    return EXIT_OK


def configure_ktap(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", nargs="?", default=None, metavar="FILE",
                        help="a report JSON file (default: reports/<uname -r>.json)")
    parser.add_argument("--out", default="-", metavar="FILE", help="where to write it (default: standard output)")


def run_ktap(args: argparse.Namespace) -> int:
    path = args.report or default_report()
    try:
        doc = load_report(path)
        write_text(ktap.stream(doc), args.out)
    except ReportError as exc:
        print(f"{PROG} ktap: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"{PROG} ktap: error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK
