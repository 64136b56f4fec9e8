"""``make bench``: run the suite repeatedly and report median wall time per case.

Each run is a fresh pytest process writing a JSON report; a case's time is its setup, call
and teardown as pytest measured them (the one-time imports are paid by the session, not by
the case).  Targets are printed next to the numbers, never asserted by tests:

* a scripted-peer case: median under 50 ms;  a real-peer (veth) case: under 500 ms;
* a whole run of the selection: under 10 s as pytest counts it (its "in N s"), under 15 s
  with the interpreter's start and imports;  failures: 0 in all runs.

The machine's load average is printed with the times: on a shared 2-core machine a run
waits for a CPU at every step, and its time says little without it.

``--load`` keeps one core busy with a process this command starts and stops (by its PID).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

from harness.plugin.scope import partial_path

TARGET_SCRIPTED_S = 0.050
TARGET_REALPEER_S = 0.500
TARGET_RUN_S = 15.0
TARGET_PYTEST_S = 10.0
REALPEER_MODES = ("gate", "natural", "netem")


def pytest_seconds(output: str) -> float | None:
    """The session time pytest prints last ("... 28 skipped in 9.41s")."""
    found = re.findall(r" in (\d+(?:\.\d+)?)s\b", output)
    return float(found[-1]) if found else None


def run_once(pytest_args: list[str], out: str) -> tuple[float, int, dict]:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", f"--report-json={out}",
                           *pytest_args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - t0
    # a run of a subset (-k, -m) writes its report under partial/ (harness.plugin.scope)
    written = out if os.path.isfile(out) else partial_path(out)
    try:
        with open(written) as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError):
        print(proc.stdout[-3000:])
        raise SystemExit(f"pytest wrote no report (exit {proc.returncode})")
    doc["_pytest_s"] = pytest_seconds(proc.stdout)
    return wall, proc.returncode, doc


def target_for(result: dict) -> float:
    return TARGET_REALPEER_S if result.get("params", {}).get("ack_mode") in REALPEER_MODES else TARGET_SCRIPTED_S


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--load", action="store_true", help="keep one core busy while the runs go on")
    ap.add_argument("pytest_args", nargs="*", default=["tests", "--ignore=tests/unit", "--ignore=tests/packaging", "--ignore=tests/faults"],
                    help="what to run (default: every scenario, no unit tests)")
    args = ap.parse_args(argv)

    load = None
    if args.load:
        load = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    times: dict[str, list[float]] = defaultdict(list)
    targets: dict[str, float] = {}
    failures: list[str] = []
    walls: list[float] = []
    sessions: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.runs):
                wall, code, doc = run_once(args.pytest_args, os.path.join(tmp, f"run{i}.json"))
                walls.append(wall)
                if doc.get("_pytest_s") is not None:
                    sessions.append(doc["_pytest_s"])
                for r in doc["results"]:
                    if r["verdict"] in ("fail", "error"):
                        failures.append(f"run {i + 1}: {r['key']}: {r.get('reason')}")
                    if r["verdict"] != "skip":
                        times[r["key"]].append(r["duration_s"])
                        targets[r["key"]] = target_for(r)
                s = doc["summary"]
                print(f"run {i + 1:>2}/{args.runs}: {wall:6.2f} s (pytest {doc.get('_pytest_s')} s, load "
                      f"{os.getloadavg()[0]:.1f})  {s['passed']} passed, {s['failed']} failed, "
                      f"{s['skipped']} skipped, {s['error']} error{'  (under load)' if load else ''}", flush=True)
    finally:
        if load is not None:
            load.kill()
            load.wait()

    print(f"\n{'case':<90} {'median ms':>10} {'max ms':>8}  target")
    missed = 0
    for key in sorted(times):
        med = statistics.median(times[key])
        ok = med <= targets[key]
        missed += not ok
        print(f"{key:<90} {med * 1000:10.1f} {max(times[key]) * 1000:8.1f}  "
              f"{'ok' if ok else 'MISSED'} (<{targets[key] * 1000:.0f})")
    run_med = statistics.median(walls) if walls else 0.0
    session_med = statistics.median(sessions) if sessions else float("nan")
    print(f"\nruns: {len(walls)}; median per run: {session_med:.2f} s as pytest counts it (target < "
          f"{TARGET_PYTEST_S:.0f} s: {'ok' if session_med < TARGET_PYTEST_S else 'MISSED'}), {run_med:.2f} s wall "
          f"(target < {TARGET_RUN_S:.0f} s, including interpreter start and imports); load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs; cases over target: "
          f"{missed}; failures: {len(failures)}" + ("; with one core kept busy" if load else ""))
    for f in failures[:20]:
        print("  FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
