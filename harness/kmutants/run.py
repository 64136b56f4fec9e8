"""The command line of the kernel mutants: build each, boot it in a guest, judge, tabulate.

    python -m harness.kmutants [--list] [--full] [--kernel 6.1] [--mutant PATH ...] [NAME ...]

Without names: the identity and every mutant of the catalogue.  ``--mutant PATH`` adds one
from outside the catalogue (a .ko, a .patch of ``module/``, or a directory holding one; see
harness.kmutants.catalogue.from_path); with only ``--mutant``, the catalogue's mutants are
left out (the identity still runs).  Each mutant runs the cases of its catalogue entry (the
whole suite with ``--full``, or for a mutant that names none) in its own guest; the results
land in <out>/<release>/<mutant>/ (the guest's report.json, logs, console).

Exit codes: 0 the identity passed and every mutant was killed naming its rule, 1 some
mutant survived (or was caught only elsewhere) or the identity failed, 2 a build or a guest
failed (infrastructure), or bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from harness.guests import kernel_runs, kernels, vm

from . import build, catalogue
from .judge import Verdict, judge

EXIT_OK, EXIT_SURVIVED, EXIT_INFRA = 0, 1, 2


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def guest_command(mutant: catalogue.Mutant, full: bool) -> str:
    """The suite inside the guest: the mutant's cases, or all of them."""
    if full or not mutant.cases:
        return kernel_runs.suite_command()
    return kernel_runs.suite_command(mutant.cases)


def table(rows: list[tuple[catalogue.Mutant, Verdict, float]], total: float, full: bool) -> str:
    """The closing table: mutant, the rule it breaks, verdict, first divergence, seconds."""
    lines = [f"{'mutant':22} {'verdict':9} {'seconds':>7}  {'counts':16} first divergence (case)",
             "-" * 100]
    for m, v, secs in rows:
        counts = " ".join(f"{k}={n}" for k, n in sorted(v.counts.items()))
        first = f"{v.first.line}  [{v.first.key}]" if v.first else (v.reason or "-")
        lines.append(f"{m.name:22} {v.verdict:9} {secs:7.1f}  {counts:16} {first}")
        lines.append(f"{'':22}   breaks: {m.about}")
    killed = sum(v.verdict == "killed" for _, v, _ in rows)
    mutants = sum(not m.expects_pass for m, _, _ in rows)
    ident = next((v.verdict for m, v, _ in rows if m.expects_pass), "not run")
    lines.append("-" * 100)
    lines.append(f"{killed}/{mutants} mutants killed, identity {ident}, "
                 f"{'whole suite' if full else 'subset'} per mutant, {total:.0f} s in all")
    return "\n".join(lines)


def overall(verdicts: list[Verdict]) -> int:
    if any(v.verdict == "infra" for v in verdicts):
        return EXIT_INFRA
    return EXIT_OK if all(v.ok for v in verdicts) else EXIT_SURVIVED


def run_mutant(k, m: catalogue.Mutant, args) -> tuple[Verdict, float]:
    t0 = time.monotonic()
    try:
        ko = build.build(k, m, log=lambda s: say(f"{m.name}: {s}"))
    except (build.BuildError, kernels.FetchError, OSError) as e:
        return judge(m, None, f"build: {e}"), time.monotonic() - t0
    out = args.out.resolve() / k.release / m.name
    say(f"{m.name}: booting {k.release} with {ko.name}")
    env = {"EPS_PREFIX": os.environ.get("EPS_PREFIX", "eps-")} if os.environ.get("EPS_PREFIX") else {}
    r = vm.run_guest(k, guest_command(m, args.full), out, cwd=str(kernels.REPO), env=env,
                     accel=vm.choose_accel(k, kernels.cache_dir(), args.accel), timeout=args.timeout,
                     boot_timeout=args.boot_timeout, load=(str(ko),),
                     progress=kernel_runs.Progress(m.name, every=60))
    load_err = out / "load.err"
    if load_err.is_file() and load_err.read_text().strip():
        return judge(m, None, f"the module did not load: {load_err.read_text().strip()[-300:]}"), \
            time.monotonic() - t0
    try:
        report = json.loads((out / "report.json").read_text())
    except (OSError, ValueError):
        report = None
    return judge(m, report, r.reason), time.monotonic() - t0


def configure(p: argparse.ArgumentParser) -> None:
    """The options (``python -m harness.kmutants`` and ``epoll-semantics kernel-mutants``)."""
    p.add_argument("names", nargs="*", help="catalogue mutants to run (default: all)")
    p.add_argument("--list", action="store_true", help="print the catalogue and exit")
    p.add_argument("--mutant", action="append", default=[], metavar="PATH",
                   help="a mutant from outside the catalogue: a .ko, a .patch or a directory (repeatable)")
    p.add_argument("--full", action="store_true", help="the whole suite per mutant, not its subset")
    p.add_argument("--kernel", default="6.1", help="the Debian series the modules are built for "
                   "(the copies in module/ are 6.1's)")
    p.add_argument("--out", type=Path, default=Path("reports/kernel-mutants"))
    p.add_argument("--accel", choices=("auto", "tcg", "kvm"), default="auto")
    p.add_argument("--timeout", type=float, default=1500, help="seconds per guest, boot included")
    p.add_argument("--boot-timeout", type=float, default=90)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m harness.kmutants", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    configure(p)
    return p.parse_args(argv)


def chosen(args: argparse.Namespace) -> list[catalogue.Mutant]:
    """The mutants to run, identity first; raises KeyError or ValueError on bad input."""
    outside = [catalogue.from_path(p) for p in args.mutant]
    if outside and not args.names:
        return [catalogue.CATALOGUE[0], *outside]
    return [*catalogue.select(args.names), *outside]


def main(argv: list[str] | None = None) -> int:
    return execute(parse(argv))


def execute(args: argparse.Namespace) -> int:
    """Run the chosen mutants and print the table; the exit code (see the module)."""
    if args.list:
        for m in catalogue.CATALOGUE:
            print(f"{m.name:22} {m.about}\n{'':22} cases: {' '.join(m.cases) or 'the whole suite'}")
        return EXIT_OK
    try:
        mutants = chosen(args)
    except (KeyError, ValueError) as e:
        say(f"kernel-mutants: {e.args[0]}")
        return EXIT_INFRA
    if not vm.qemu_available():
        say("QEMU or virtiofsd missing: install qemu-system-x86 (and busybox-static)")
        return EXIT_INFRA
    try:
        k = kernels.fetch(args.kernel, log=lambda s: say(f"{args.kernel}: {s}"))
    except (kernels.FetchError, OSError) as e:
        say(f"kernel-mutants: cannot fetch {args.kernel}: {e}")
        return EXIT_INFRA
    t0 = time.monotonic()
    rows = []
    with kernel_runs.stop_on_signals():
        try:
            for m in mutants:
                v, secs = run_mutant(k, m, args)
                say(f"{m.name}: {v.verdict} in {secs:.1f}s"
                    + (f" ({v.first.rule})" if v.first else f" ({v.reason})" if v.reason else ""))
                rows.append((m, v, secs))
        except KeyboardInterrupt as stop:
            say(f"{stop or 'interrupted'}: the guest was stopped")
            return EXIT_INFRA
    print(f"kernel mutants on {k.release} ({k.version})")
    print(table(rows, time.monotonic() - t0, args.full))
    return overall([v for _, v, _ in rows])
