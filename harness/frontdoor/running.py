"""The commands that run the suite: ``run`` (this kernel) and ``kernels`` (under QEMU).

``run`` is pytest on the scenarios with the report options set, any pytest argument passed
through; afterwards it prints the one-screen summary of what it wrote and, on its last line,
what happened.  Its exit code is pytest's: 0 all passed (or some skipped), 1 a case failed
or errored, 5 nothing was selected or every case skipped, 2-4 an interrupted run or a usage
error.  A subset's report
goes to ``reports/partial/`` and never replaces the full one (harness.plugin.scope).

``kernels`` checks every spec first (exit 2 at once, nothing written, for none or a bad
one), runs the suite in each kernel (harness.guests.kernel_runs), writes the comparison
whatever they did, and says whether a failure was the suite's (1) or the machinery's (2).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from harness.reporting import ReportError, ktap, load_report
from harness.reporting.summary import count_line, summary

from .exports import write_text
from .reports import PROG, compare_inputs, width

REPO = Path(__file__).resolve().parents[2]
# the kernel's scenarios: not the harness's own tests (unit, guests, packaging, faults)
SCENARIOS = ("tests", "--ignore=tests/unit", "--ignore=tests/guest", "--ignore=tests/packaging",
             "--ignore=tests/faults")
NOT_RUN = {2: "the run was interrupted", 3: "pytest hit an internal error",
           4: "pytest refused its arguments (a usage error)"}


def configure_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reports", default="reports", metavar="DIR",
                        help="where the report (<uname -r>.json), its timelines and captures go")
    parser.add_argument("--keep-captures", action="store_true", help="keep the pcaps of earlier runs")
    parser.add_argument("--ktap", metavar="FILE", default=None,
                        help="also write the results as a KTAP stream ('-' for standard output)")
    parser.epilog = ("Every other argument goes to pytest, e.g. `epoll-semantics run -k out-of-space -x` "
                     "or `epoll-semantics run -- -m \"et and ipv6\"`.")


def names_paths(args: list[str]) -> bool:
    """Whether the pytest arguments name test files or node ids of their own."""
    return any(not a.startswith("-") and os.path.exists(os.path.join(REPO, a.split("::", 1)[0]))
               for a in args)


def pytest_command(report: str, captures: str, extra: list[str], keep: bool) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-rfE", f"--report-json={report}", f"--captures-dir={captures}"]
    if keep:
        cmd.append("--keep-captures")
    cmd += extra
    if names_paths(extra):
        cmd.append("--partial-report")
    else:
        cmd += SCENARIOS
    return cmd


def seen_from_repo(path: str | Path) -> str:
    """A path as pytest, running in the repository, should be given it: relative when inside."""
    full = os.path.abspath(path)
    return os.path.relpath(full, REPO) if Path(full).is_relative_to(REPO) else full


def closing_line(rc: int, doc: dict | None, report: str) -> str:
    if rc == 5 or (doc is None and rc == 0):
        return f"NOTHING RAN: no case was selected (exit {rc or 5}); {report} is unchanged"
    if rc in NOT_RUN:
        return f"NOT RUN: {NOT_RUN[rc]} (pytest exit {rc}); see above"
    counts = count_line(doc["results"]) if doc else "no report"
    if rc == 0 and doc and doc["results"] and all(r["verdict"] == "skip" for r in doc["results"]):
        return f"NOTHING RAN: every case was skipped ({counts}; the capabilities line says what is missing) (exit 5)"
    if rc == 0:
        return f"PASSED: {counts} (exit 0); report {report}"
    return f"FAILED: {counts} (exit {rc}); `{PROG} explain KEY` shows a case's trimmed timeline"


def run_run(args: argparse.Namespace) -> int:
    if not (REPO / "tests").is_dir():
        print(f"{PROG} run: error: the suite's tests are not beside this package ({REPO}/tests): "
              "run from a source checkout", file=sys.stderr)
        return 2
    reports = Path(args.reports)
    try:
        reports.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"{PROG} run: error: cannot make {reports}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if not os.access(reports, os.W_OK):
        print(f"{PROG} run: error: {reports} is not writable: the report could not be written", file=sys.stderr)
        return 2
    report = str(reports / f"{os.uname().release}.json")
    partial = str(reports / "partial" / f"{os.uname().release}.json")
    started = time.time()
    rc = subprocess.call(pytest_command(seen_from_repo(report), seen_from_repo(reports / "captures"),
                                        args.pytest_args, args.keep_captures), cwd=REPO)
    written = next((p for p in (report, partial) if os.path.isfile(p) and os.path.getmtime(p) >= started), None)
    doc = None
    if written is not None:
        try:
            doc = load_report(written)
        except ReportError as exc:
            print(f"{PROG} run: error: {exc}", file=sys.stderr)
            return rc or 2
        # what pytest printed above (a progress line per 72 cases, its own closing lines) and
        # this run's closing line share the screen with it
        progress = len(doc.get("results", [])) // 72 + 4
        print(summary(doc, width=width(), max_lines=max(30, 60 - progress - 1)))
    if args.ktap and doc is not None:
        write_text(ktap.stream(doc), args.ktap)
    line = closing_line(rc, doc, written or report)
    print(line)
    return 5 if rc == 0 and line.startswith("NOTHING RAN") else rc


def configure_kernels(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("specs", nargs="*", metavar="KERNEL",
                        help="a Debian series (5.10 6.1 6.12 7), a bzImage or a kernel build tree")
    parser.add_argument("--kernels", default=None, metavar="LIST",
                        help="the same as one space-separated string (what `make kernels KERNELS=...` passes)")
    parser.add_argument("--out", default="reports/kernels", metavar="DIR")
    parser.add_argument("--bench", action="store_true", help="print boot-to-results times per kernel")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="kernels booted at a time (default: one per CPU)")
    parser.add_argument("--no-compare", action="store_true", help="do not write reports/compare.*")


def comparison_after(out: Path) -> dict:
    """What the comparison after the guests reads and where it writes: ``make kernels``'s
    ``reports/kernels`` sits in the reports directory, compared with this machine's reports
    there; an ``--out`` of another name holds one matrix, compared on its own, in it."""
    if out.name == "kernels":
        return {"inputs": compare_inputs(str(out.parent)), "out": str(out.parent)}
    return {"inputs": [str(p) for p in sorted(out.glob("*/report.json"))], "out": str(out)}


def run_kernels(args: argparse.Namespace) -> int:
    from harness.guests import kernel_runs

    from .reports import run_compare

    specs = args.specs if args.kernels is None else args.kernels.split() + args.specs
    if args.kernels is None and not args.specs:
        from harness.guests.kernels import DEFAULT_SPECS

        specs = list(DEFAULT_SPECS)
    bad = kernel_runs.check_specs(specs)
    if bad is not None:
        print(f"{PROG} kernels: error: {bad} (nothing was run or written)", file=sys.stderr)
        return 2
    argv = ["run", "--suite", "--kernels", " ".join(specs), "--out", args.out] + (["--bench"] if args.bench else [])
    argv += ["--jobs", str(args.jobs)] if args.jobs else []
    rc = kernel_runs.main(argv)
    if not args.no_compare:
        run_compare(argparse.Namespace(**comparison_after(Path(args.out)), no_plots=False, json=False))
    if rc == 1:
        print("kernels: the suite failed inside some kernel (a behaviour difference or a bug): exit 1")
    elif rc:
        print(f"kernels: infrastructure failure (download, boot or timeout): exit {rc}")
    else:
        print(f"kernels: the suite passed in {len(specs)} kernel(s)")
    return rc
