"""Command-line entry point: ``epoll-semantics SUBCOMMAND ...`` (also ``python -m harness``).

Subcommands are listed in SUBCOMMANDS; each one is a name, a help line, a function that
adds its arguments, and a function that runs it and returns the exit code.  Adding a
subcommand is one more entry there, without touching the dispatch.

Exit codes: 0 done, 2 bad input (argparse's own convention for usage errors, which
this follows so that scripts can tell "bad arguments or files" from other failures).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

PROG = "epoll-semantics"
EXIT_OK = 0
EXIT_BAD_INPUT = 2


class Subcommand(NamedTuple):
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _configure_compare(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", nargs="+", metavar="FILE_OR_DIR",
        help="report JSON files, or directories whose *.json files are reports",
    )
    parser.add_argument(
        "--out", default="reports", metavar="DIR",
        help="directory to write compare.md and compare.html into (default: reports)",
    )
    parser.add_argument(
        "--no-plots", action="store_true",
        help="leave the EPOLLOUT series plots out of compare.html",
    )


def _run_compare(args: argparse.Namespace) -> int:
    # Imported on use so that other subcommands do not pay for (or depend on) it.
    from harness.reporting import ReportError, load_comparison, write_comparison

    try:
        comparison = load_comparison(args.inputs)
    except ReportError as exc:
        print(f"{PROG} compare: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        written = write_comparison(comparison, args.out, plots=not args.no_plots)
    except OSError as exc:
        print(f"{PROG} compare: error: cannot write to {args.out}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    differing = len(comparison.differing_rows)
    print(f"compared {len(comparison.kernels)} kernel(s), {len(comparison.rows)} result(s), "
          f"{differing} differing")
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def _configure_table(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", metavar="FILE", help="a report JSON file written by --report-json")


def _run_table(args: argparse.Namespace) -> int:
    from harness.reporting import ReportError, load_report, table

    try:
        doc = load_report(args.report)
    except ReportError as exc:
        print(f"{PROG} table: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(table(doc))
    print(f"report: {args.report}")
    return EXIT_OK


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("table", "print one report as a table (scenario x mode x congestion control)",
               _configure_table, _run_table),
    Subcommand("compare", "compare report JSON files across kernels into compare.md/.html",
               _configure_compare, _run_compare),
)


def build_parser(subcommands: Sequence[Subcommand] = SUBCOMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Tools around the epoll readiness suite.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in subcommands:
        child = sub.add_parser(command.name, help=command.help, description=command.help)
        command.configure(child)
        child.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
