"""Command line of the cross-kernel runs: a command in each chosen kernel.

The kernels boot side by side, as many at a time as this process has CPUs (``--jobs``): a
guest under TCG keeps one host CPU busy, and the suite inside holds under that load (its
timers are pinned long: netns.timers).  Fetching is done one kernel at a time.

A kernel is a Debian series ("6.1", fetched by harness.guests.kernels) or a path: a bzImage
or a kernel build tree (harness.guests.local).  Every spec is checked before anything runs:
none at all, an unknown series or a path that is not a usable kernel is exit 2 at once,
and nothing is written.

    python -m harness.guests run [--kernels "5.10 6.1 6.12 7"] [--out reports/kernels] -- CMD...
    python -m harness.guests bench [--kernels ...] [-- CMD...]
    python -m harness.guests fetch [--kernels ...]

Each kernel's results land in <out>/<release>/ (stdout.log, stderr.log, exit_code,
console.log, result.json, and whatever the command writes to $EPS_GUEST_OUT, which is also
substituted for "{out}" in the command); <out>/summary.json lists them all.

Exit codes tell a behaviour difference from a broken setup:
  0  the command ran and passed in every kernel
  1  the command failed in some kernel (and every kernel did run it)
  2  infrastructure failure in some kernel: download, boot, timeout, no result
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from . import kernels, local, stage2, vm, warm

EXIT_PASSED, EXIT_FAILED, EXIT_INFRA = 0, 1, 2
TARGET_PER_KERNEL_S = 60.0  # make bench-kernels: printed beside the times, never asserted


def default_bench_command() -> str:
    """A trivial but telling command: import scapy with the project's venv, if there is one."""
    venv_py = kernels.REPO / ".venv" / "bin" / "python"
    if venv_py.exists():
        return f"{shlex.quote(str(venv_py))} -c 'import scapy.all'"
    return "python3 -c 'import sys; print(sys.version)'"


SCENARIO_ARGS = ("tests", "--ignore=tests/unit", "--ignore=tests/guest", "--ignore=tests/packaging",
                 "--ignore=tests/faults")


def suite_command(selection: tuple[str, ...] = ("tests",)) -> str:
    """The suite as it runs inside a guest: the scenarios (unit tests, guest boots and the
    hygiene test's child sessions stay on the host), its report, JUnit XML and captures
    written to the results share.  Timeouts are generous: Python is ~15x slower under TCG.
    The guest is the suite's own kernel, with tracing: the kernel witness is required there,
    so a kernel whose probes cannot attach fails with the reason rather than being judged on
    the bounds a host without tracing uses.  ``selection``: the pytest paths or node ids to
    run (a kernel mutant's cases)."""
    venv_py = kernels.REPO / ".venv" / "bin" / "python"
    return (f"{shlex.quote(str(venv_py))} -m pytest -q -rs -p no:cacheprovider -o timeout=900 "
            "--report-json={out}/report.json --junitxml={out}/junit.xml --captures-dir={out}/captures "
            f"--report-label=guest --require-witness {shlex.join(selection)} " + " ".join(SCENARIO_ARGS[1:]))


def hidden_in_guest(path: Path, cwd: Path) -> str | None:
    """The guest tmpfs that would hide path, or None.  The working directory itself is
    brought in as a share of its own, and so is whatever lies below it."""
    if path.resolve() == cwd.resolve() or cwd.resolve() in path.resolve().parents:
        return None
    return stage2.hidden_by_tmpfs(path)


def overall_exit(statuses: list[str]) -> int:
    """2 if any kernel had an infrastructure failure (the run is incomplete), else 1 if the
    command failed anywhere, else 0."""
    if any(s == "infra" for s in statuses):
        return EXIT_INFRA
    if any(s == "failed" for s in statuses):
        return EXIT_FAILED
    return EXIT_PASSED


class Progress:
    """One line per phase change and a heartbeat every `every` seconds, on stderr."""

    def __init__(self, prefix: str, every: float = 15.0):
        self.prefix, self.every = prefix, every
        self.phase, self.last = None, 0.0

    def __call__(self, phase: str, elapsed: float, out: Path | None = None) -> None:
        if phase != self.phase or elapsed - self.last >= self.every:
            tail = _last_line(out / "stdout.log") if out is not None and phase == "running" else ""
            say(f"{self.prefix}: {phase} {elapsed:5.1f}s" + (f"  | {tail}" if tail else ""))
            self.phase, self.last = phase, elapsed


def _last_line(p: Path) -> str:
    try:
        with open(p, "rb") as f:
            f.seek(max(0, os.path.getsize(p) - 400))
            lines = f.read().decode(errors="replace").strip().splitlines()
        return lines[-1][:100] if lines else ""
    except OSError:
        return ""


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def obtain(spec: str, args, log) -> "kernels.Kernel":
    """The kernel a spec names: a path as it is, a Debian series fetched into the cache."""
    if local.is_path(spec):
        return local.from_path(spec, log=log)
    return kernels.fetch(spec, flavour=args.flavour, refresh=args.refresh, log=log)


def check_specs(specs: list[str]) -> str | None:
    """Why these specs cannot be run (None when they can): checked before anything starts."""
    if not specs:
        return "no kernel given (KERNELS is empty): name Debian series (5.10 6.1 6.12 7) or kernel paths"
    for spec in specs:
        try:
            if local.is_path(spec):
                k = local.from_path(spec)
                hidden = hidden_in_guest(Path(k.root), kernels.REPO)
                if hidden and (k.modules_dir / "modules.dep").is_file():
                    return (f"{spec}: its modules ({k.modules_dir}) are under {hidden}, which the guest "
                            "covers with a tmpfs: move them, or set EPS_CACHE elsewhere for a build tree")
            else:
                kernels.suites_for(spec)
        except (kernels.FetchError, OSError) as e:
            return str(e)
    return None


_FETCHING = threading.Lock()  # one download and unpack at a time: they share the apt cache


def default_jobs(n_specs: int) -> int:
    """Guests at a time: one per CPU this process may use, no more than there are kernels."""
    return max(1, min(n_specs, len(os.sched_getaffinity(0))))


def run_one(i: int, n: int, spec: str, args, command: str, out_root: Path) -> dict:
    """Fetch and boot one kernel; return its summary record (never raises for infra trouble)."""
    tag = f"[{i}/{n}] {spec}"
    rec: dict = {"spec": spec}
    if vm.STOPPING.is_set():
        return {**rec, "status": "infra", "reason": "interrupted before it started"}
    say(f"{tag}: {'reading' if local.is_path(spec) else 'fetching'}")
    t0 = time.monotonic()
    try:
        with _FETCHING:
            k = obtain(spec, args, log=lambda m: say(f"{tag}: {m}"))
    except (kernels.FetchError, OSError, RuntimeError, subprocess.CalledProcessError) as e:
        rec.update(status="infra", reason=f"fetch failed: {e}")
        say(f"{tag}: INFRA {rec['reason']}")
        return rec
    rec.update(release=k.release, package=k.package, version=k.version, suite=k.suite,
               download_seconds=k.download_seconds)
    say(f"{tag}: {k.release} ({k.version}, {k.suite})"
        + (f" fetched in {k.download_seconds:.1f}s" if k.download_seconds
           else "" if k.suite == "local" else " from the cache"))
    tag = f"[{i}/{n}] {k.release}"
    accel = vm.choose_accel(k, kernels.cache_dir(), args.accel)
    out = out_root / k.release
    r = vm.run_guest(k, command, out, cwd=args.cwd, env=dict(args.env), accel=accel,
                     timeout=args.timeout, boot_timeout=args.boot_timeout,
                     progress=Progress(tag))
    rec.update(asdict(r))
    (out / "result.json").write_text(json.dumps(rec, indent=2) + "\n")
    word = {"passed": "passed", "failed": "FAILED", "infra": "INFRA"}[r.status]
    say(f"{tag}: done: {word} in {time.monotonic() - t0:.1f}s" + (f" ({r.reason})" if r.reason else ""))
    return rec


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM, SIGHUP and Ctrl-C stop every guest (harness.guests.vm.STOPPING), then raise
    KeyboardInterrupt in this thread once they are down: a cancelled CI job or a closed
    terminal leaves no QEMU or virtiofsd behind.  Outside the main thread nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        vm.STOPPING.set()
        raise KeyboardInterrupt(f"{signal.Signals(signum).name} received")

    vm.STOPPING.clear()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def print_table(records: list[dict], total: float, jobs: int = 1) -> None:
    """Per-kernel timings: download, QEMU start to init, command, QEMU start to exit."""
    def f(v):
        return f"{v:8.1f}" if isinstance(v, (int, float)) else f"{'-':>8}"

    print(f"{'kernel':32} {'status':7} {'download':>8} {'to-init':>8} {'command':>8} {'boot-all':>8}")
    for r in records:
        print(f"{r.get('release', r['spec']):32} {r['status']:7} {f(r.get('download_seconds'))} "
              f"{f(r.get('boot_seconds'))} {f(r.get('command_seconds'))} {f(r.get('total_seconds'))}")
    print(f"{'total wall time':32} {'':7} {total:8.1f}s"
          + (f" ({len(records)} kernels side by side, {jobs} at a time)" if jobs > 1 else ""))
    target = TARGET_PER_KERNEL_S * len(records)  # the four Debian kernels in under 4 minutes
    print(f"target: under {target:.0f} s for {len(records)} kernel(s): {'ok' if total < target else 'MISSED'} "
          f"(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command_argv: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, command_argv = argv[:at], argv[at + 1:]
    p = argparse.ArgumentParser(prog="python -m harness.guests", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=("run", "bench", "fetch"))
    p.add_argument("--kernels", default=os.environ.get("KERNELS", " ".join(kernels.DEFAULT_SPECS)),
                   help="space-separated Debian series (5.10 6.1 6.12 7, the default) or paths of "
                        "a bzImage or a kernel build tree")
    p.add_argument("--out", type=Path, default=Path("reports/kernels"))
    p.add_argument("--cwd", default=os.getcwd(), help="working directory of the command in the guest")
    p.add_argument("--env", action="append", default=[], type=lambda s: tuple(s.split("=", 1)),
                   metavar="K=V", help="extra environment for the command (repeatable)")
    p.add_argument("--flavour", default=kernels.DEFAULT_FLAVOUR)
    p.add_argument("--accel", choices=("auto", "tcg", "kvm"), default="auto",
                   help="auto uses KVM only where a cached probe boot showed it works")
    p.add_argument("--jobs", type=int, default=None,
                   help="kernels booted at a time (default: one per CPU, at most one per kernel)")
    p.add_argument("--timeout", type=float, default=900, help="seconds per kernel, boot included")
    p.add_argument("--boot-timeout", type=float, default=90, help="seconds to reach init")
    p.add_argument("--refresh", action="store_true", help="look for newer packages")
    p.add_argument("--bench", action="store_true", help="print the timing table (always in bench mode)")
    p.add_argument("--suite", action="store_true", help="run the suite's scenarios (instead of a command after --)")
    args = p.parse_args(argv)
    specs = args.kernels.split()
    bad = check_specs(specs)
    if bad is not None:
        say(f"kernels: {bad}")
        return EXIT_INFRA

    if args.mode == "fetch":
        worst = EXIT_PASSED
        for spec in specs:
            try:
                k = kernels.fetch(spec, flavour=args.flavour, refresh=args.refresh,
                                  log=lambda m, s=spec: say(f"{s}: {m}"))
                print(f"{spec}\t{k.release}\t{k.version}\t{k.suite}\t{k.download_seconds}s")
            except (kernels.FetchError, OSError) as e:
                say(f"{spec}: INFRA fetch failed: {e}")
                worst = EXIT_INFRA
        return worst

    if args.mode == "run" and not command_argv and not args.suite:
        p.error("run needs --suite or a command after --")
    if args.suite:
        command = suite_command()
        args.cwd = str(kernels.REPO)
    elif command_argv:
        command = command_argv[0] if len(command_argv) == 1 else shlex.join(command_argv)
    else:
        command = default_bench_command()
    for what, path in (("kernel cache", kernels.cache_dir()),):
        if hidden_in_guest(path, Path(args.cwd)):
            say(f"the {what} {path} is under {hidden_in_guest(path, Path(args.cwd))}, which the guest covers "
                "with a tmpfs: choose another place (EPS_CACHE for the cache)")
            return EXIT_INFRA
    if not vm.qemu_available():
        say("QEMU or virtiofsd missing: install qemu-system-x86 (and busybox-static)")
        return EXIT_INFRA
    out_root = args.out.resolve()
    out_root.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    venv_py = kernels.REPO / ".venv" / "bin" / "python"
    if args.suite and venv_py.exists() and warm.warm(venv_py, kernels.REPO, kernels.cache_dir(), SCENARIO_ARGS, log=say):
        args.env += list(warm.guest_env(kernels.cache_dir()).items())  # harness.guests.warm
    jobs = max(1, args.jobs or default_jobs(len(specs)))
    if jobs > 1:
        say(f"booting {len(specs)} kernels, {jobs} at a time")
    with stop_on_signals():
        try:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                records = list(pool.map(lambda a: run_one(a[0], len(specs), a[1], args, command, out_root),
                                        enumerate(specs, start=1)))
        except KeyboardInterrupt as stop:
            say(f"{stop or 'interrupted'}: the guests were stopped, nothing is left running")
            return EXIT_INFRA
    total = round(time.monotonic() - t0, 1)
    (out_root / "summary.json").write_text(json.dumps(
        {"command": command, "total_seconds": total, "jobs": jobs, "kernels": records}, indent=2) + "\n")
    if args.mode == "bench" or args.bench:
        print_table(records, total, jobs)
    else:
        for r in records:
            print(f"{r.get('release', r['spec'])}\t{r['status']}"
                  + (f"\t{r['reason']}" if r.get("reason") else ""))
    return overall_exit([r["status"] for r in records])


if __name__ == "__main__":
    sys.exit(main())
