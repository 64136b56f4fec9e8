"""The LAVA definition's run step (lava/run-cases), as LAVA runs it, with a stand-in
`lava-test-case` on PATH that records what it is given: one case per result of the run's
report, in its KCIDB/KTAP name, pass, fail or skip as the report says, and the run's own
case.  A model with a bug (it forgets the write-space wakeup, as in test_front_door) makes a
failing case; the netem cases skip on a kernel without netem."""

import os
import subprocess
from pathlib import Path

import yaml

from harness.plugin.pytest_plugin import require
from harness.reporting import load_report, names

REPO = Path(__file__).resolve().parents[2]
STAND_IN = '#!/bin/sh\nprintf "%s\\n" "$*" >>"$LAVA_RECORD"\n'
FORGETFUL = "import harness.model.rules as R\nR.EpollModel._wake_on_write_space = lambda self, why: False\n"
SUBSET = ("-p forgetful_model -k '(first_epollout_after_accept and ET) or "
          "(out_of_space_then_acks and cubic and eagain and natural and ET and ipv4) or "
          "(fill_until_eagain and ipv4 and ET and cubic)'")
RESULT = {"pass": "pass", "fail": "fail", "error": "fail", "skip": "skip"}


def test_the_run_step_reports_every_result_of_the_report(tmp_path, pytestconfig):
    require(pytestconfig, "root", "tun")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "lava-test-case").write_text(STAND_IN)
    (bin_dir / "lava-test-case").chmod(0o755)
    (tmp_path / "forgetful_model.py").write_text(FORGETFUL)
    record, reports = tmp_path / "record", tmp_path / "reports"
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", LAVA_RECORD=str(record),
               PYTHONPATH=str(tmp_path), REPORTS=str(reports), PYTEST_ARGS=SUBSET)
    definition = yaml.safe_load((REPO / "lava" / "epoll-semantics.yaml").read_text())
    step = definition["run"]["steps"][0]
    run = subprocess.run(["sh", "-c", step], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr

    report = load_report(reports / "partial" / f"{os.uname().release}.json")
    expected = ["epoll-semantics-run --result pass"] + [
        f"{names.case_name(r['key'])} --result {RESULT[r['verdict']]}" for r in report["results"]]
    assert record.read_text().splitlines() == expected
    verdicts = {r["verdict"] for r in report["results"]}
    assert {"pass", "fail"} <= verdicts, verdicts
