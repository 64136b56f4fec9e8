"""The subcommands of ``epoll-semantics`` and their dispatch.

Each subcommand is a name, a help line, a function that adds its arguments and one that runs
it and returns the exit code; adding one is one more entry in SUBCOMMANDS.  Exit codes: 0
done, 1 a case failed (run, kernels), 2 bad input or infrastructure, as argparse does for
usage errors; ``run`` passes pytest's own codes through.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import NamedTuple

from harness.kmutants import run as km

from . import diffing as df
from . import exports as ex
from . import facts_help as fh
from . import guide as gd
from . import reports as rp
from . import running as rn

PROG = rp.PROG


class Subcommand(NamedTuple):
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("run", "run the scenarios on this kernel: report, one-screen summary, honest exit code "
               "(pytest arguments pass through)", rn.configure_run, rn.run_run),
    Subcommand("kernels", "run the scenarios in Debian kernels or your own (a bzImage or build tree) "
               "under QEMU, then compare", rn.configure_kernels, rn.run_kernels),
    Subcommand("kernel-mutants", "boot kernels whose readiness rules were changed on purpose (livepatch "
               "modules): each must fail the suite naming its rule, the unmodified copy must pass",
               km.configure, km.execute),
    Subcommand("compare", "compare report JSON files across kernels into compare.md/.html",
               rp.configure_compare, rp.run_compare),
    Subcommand("diff", "what changes if you move from kernel A to kernel B, in one screen: rules, "
               "differences by cause, what no cause explains", df.configure_diff, df.run_diff),
    Subcommand("guide", "what an event loop can rely on, claim by claim and kernel by kernel: "
               "reports/guide.md and a section of compare.html", gd.configure_guide, gd.run_guide),
    Subcommand("summary", "one screen of a report: a line per scenario, failures first",
               rp.configure_summary, rp.run_summary),
    Subcommand("table", "every result of a report (--full: all facts; --topic, --failed, --key filter)",
               rp.configure_table, rp.run_table),
    Subcommand("explain", "a case's timeline trimmed around its first divergence or wakeup, with the "
               "model's reasoning and the rule's numbers (--fact NAME: what a fact means)", fh.configure, fh.run),
    Subcommand("show", "a case's facts and its series (accounting at every ACK)",
               rp.configure_show, rp.run_show),
    Subcommand("kcidb", "one KCIDB document (KernelCI's results database, schema 5.3) from reports "
               "of any kernels and machines", ex.configure_kcidb, ex.run_kcidb),
    Subcommand("ktap", "a report as a KTAP stream: one line per result, the reason on a skip or failure",
               ex.configure_ktap, ex.run_ktap),
)


def build_parser(subcommands: Sequence[Subcommand] = SUBCOMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Prove against the running Linux kernel when epoll reports readiness on TCP.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in subcommands:
        child = sub.add_parser(command.name, help=command.help, description=command.help)
        command.configure(child)
        child.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; a reader that stops reading (``| head``) ends it quietly."""
    import os
    import sys

    try:
        code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # the rest of the output goes nowhere, and Python's flush at exit must not complain
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None = None) -> int:
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    passthrough: list[str] = []
    if argv[:1] == ["run"]:
        # run's own options first; everything else (and all after "--") is pytest's
        if "--" in argv:
            at = argv.index("--")
            argv, passthrough = argv[:at], argv[at + 1:]
        args, extra = parser.parse_known_args(argv)
        args.pytest_args = extra + passthrough
    else:
        args = parser.parse_args(argv)
    return args.run(args)
