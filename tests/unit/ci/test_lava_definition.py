"""The LAVA test definition parses, installs the suite and runs lava/run-cases; run-cases
turns each KTAP line into one lava-test-case call (a stand-in CLI writes the stream, a
stand-in lava-test-case records what it is given), and a failure whose reason mentions SKIP
stays a failure."""

import os
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
DEFINITION = REPO / "lava" / "epoll-semantics.yaml"


def test_the_definition_installs_and_runs_the_suite():
    d = yaml.safe_load(DEFINITION.read_text())
    assert d["metadata"]["format"] == "Lava-Test Test Definition 1.0"
    assert d["metadata"]["name"] == "epoll-semantics"
    assert any("make" in step for step in d["install"]["steps"])
    assert set(d["params"]) >= {"PYTEST_ARGS", "REPORTS"}
    (step,) = d["run"]["steps"]
    assert step.endswith("./lava/run-cases") and all(f'{p}="${p}"' in step for p in d["params"])
    assert os.access(REPO / "lava" / "run-cases", os.X_OK)


STREAM = """KTAP version 1
# epoll-semantics: kernel 6.12.0, host run on lab-7
1..4
ok 1 epollout.first.ET-ipv4
not ok 2 readers.partial.LT-ipv4 # ACK 9001 # SKIP is not a directive here
ok 3 realpeer.gate.ET-netem # SKIP netem unavailable
ok 4 listen.accept.ET-ipv4 # finding: a wakeup no rule predicts
# 2 passed, 1 failed, 1 skipped, 0 error
"""


def run_cases(tmp_path: Path, stream: str | None, rc: int) -> tuple[subprocess.CompletedProcess, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "epoll-semantics"
    # the stand-in CLI: `run --reports DIR --ktap FILE -- ...` writes the stream, exits rc
    cli.write_text('#!/bin/sh\nwhile [ "$1" != --ktap ]; do shift; done\n'
                   + (f'cat "$STREAM" >"$2"\n' if stream is not None else "") + f"exit {rc}\n")
    (bin_dir / "lava-test-case").write_text('#!/bin/sh\nprintf "%s\\n" "$*" >>"$RECORD"\n')
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    (tmp_path / "stream").write_text(stream or "")
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", EPS_CLI=str(cli), RECORD=str(tmp_path / "rec"),
               STREAM=str(tmp_path / "stream"), REPORTS=str(tmp_path / "reports"), PYTEST_ARGS="-k 'a or b'")
    run = subprocess.run([str(REPO / "lava" / "run-cases")], env=env, capture_output=True, text=True, timeout=60)
    rec = tmp_path / "rec"
    return run, rec.read_text().splitlines() if rec.exists() else []


def test_each_ktap_line_is_one_case(tmp_path):
    run, calls = run_cases(tmp_path, STREAM, rc=1)
    assert run.returncode == 0, run.stderr
    assert calls == ["epoll-semantics-run --result pass",
                     "epollout.first.ET-ipv4 --result pass",
                     "readers.partial.LT-ipv4 --result fail",
                     "realpeer.gate.ET-netem --result skip",
                     "listen.accept.ET-ipv4 --result pass"]


def test_a_run_that_wrote_nothing_fails_its_own_case(tmp_path):
    run, calls = run_cases(tmp_path, None, rc=5)
    assert run.returncode == 0 and calls == ["epoll-semantics-run --result fail"]
