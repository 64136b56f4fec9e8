"""Run the mutation check: a scratch copy of the repository, one mutant at a time.

The copy holds the repository's files without its virtualenv, caches and reports; the
pytest runs use this interpreter (the project's virtualenv) with the copy first on
``sys.path``, which is checked once before any mutant runs, so that a mutant can never be
tested against the unmutated tree.  Before the mutants, the selected scenarios run
unmutated in the copy: if they fail there, no kill would mean anything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .catalogue import MUTANTS, Mutant, baseline_args
from .mutate import TIMED_OUT, DoesNotApply, Outcome, apply, first_failure, judge, table

REPO = Path(__file__).resolve().parents[2]
SKIP = {".git", ".venv", ".cache", ".stamps", "reports", "results", "build", "__pycache__", ".pytest_cache"}
HOST_SUITE = ("tests", "--ignore=tests/unit", "--ignore=tests/guest")


def scratch_copy(dest: Path) -> Path:
    """The repository's files under ``dest`` (without what :data:`SKIP` names)."""
    def ignore(_dir: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP or n.endswith(".egg-info")}

    shutil.copytree(REPO, dest, ignore=ignore, symlinks=True)
    (dest / "reports").mkdir(exist_ok=True)
    return dest


def _env(copy: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")


def check_isolated(copy: Path) -> None:
    """The copy's harness is the one imported there, not the repository's."""
    got = subprocess.run([sys.executable, "-c", "import harness, sys; sys.stdout.write(harness.__file__)"],
                         cwd=copy, env=_env(copy), capture_output=True, text=True, check=True).stdout
    if not Path(got).resolve().is_relative_to(copy.resolve()):
        raise RuntimeError(f"the scratch copy imports the harness from {got}, not from {copy}")


def pytest_run(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[int, str, float]:
    """Run pytest in the copy (stop at the first failure); exit code, JUnit XML, seconds."""
    junit = copy / "reports" / "mutant-junit.xml"
    junit.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
           f"--captures-dir={copy / 'reports' / 'captures'}", *tests]
    t0 = time.monotonic()
    try:
        rc = subprocess.run(cmd, cwd=copy, env=_env(copy), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        rc = TIMED_OUT
    seconds = time.monotonic() - t0
    return rc, junit.read_text() if junit.exists() else "", seconds


def run_mutant(copy: Path, m: Mutant, tests: tuple[str, ...], timeout: float) -> Outcome:
    path = copy / m.path
    original = path.read_text()
    try:
        mutated = apply(original, m)
    except DoesNotApply as exc:
        return Outcome(m.name, m.what, "not-applied", str(exc))
    path.write_text(mutated)
    try:
        rc, junit, seconds = pytest_run(copy, tests, timeout)
    finally:
        path.write_text(original)
    return judge(m, rc, junit, seconds)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.mutants", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="only these mutants (default: all)")
    p.add_argument("--full", action="store_true", help="run the whole host suite against each mutant")
    p.add_argument("--timeout", type=float, default=600, help="seconds per pytest run")
    p.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = p.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.names or m.name in args.names]
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        p.error(f"unknown mutants: {', '.join(sorted(unknown))}")
    if args.list:
        for m in chosen:
            print(f"{m.name:30} {m.path:32} {m.what}")
        return 0
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="eps-mutants-") as tmp:
        copy = scratch_copy(Path(tmp) / "repo")
        check_isolated(copy)
        selections = [HOST_SUITE if args.full else m.pytest_args for m in chosen]
        rc, junit, seconds = pytest_run(copy, HOST_SUITE if args.full else baseline_args(chosen), args.timeout)
        print(f"baseline (unmutated copy): exit {rc} in {seconds:.1f}s", flush=True)
        if rc != 0:
            print("the selected scenarios fail without any mutant, so no kill would mean anything: "
                  + (first_failure(junit) or f"exit {rc}"), file=sys.stderr)
            return 2
        outcomes = []
        for m, sel in zip(chosen, selections):
            o = run_mutant(copy, m, sel, args.timeout)
            print(f"  {o.mutant}: {o.status} ({o.seconds:.1f}s) {o.killed_by}", flush=True)
            outcomes.append(o)
    print()
    print(table(outcomes, time.monotonic() - t0))
    return 0 if all(o.ok for o in outcomes) else 1

