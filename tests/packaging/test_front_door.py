"""`epoll-semantics run` end to end, as `make report` calls it: a run that selects nothing
fails and leaves the full report alone; a failing case fails the run and prints its
timeline once, trimmed, with the model's reasoning, the rule's numbers and the pcap.

The failing case is made by a plugin that gives the model a bug (it forgets the
write-space wakeup an ACK delivers, sk_stream_write_space()), so the kernel's EPOLLOUT at
the first writable ACK has no counterpart in the model.
"""

import os
import subprocess
import sys
from pathlib import Path

from harness.plugin.pytest_plugin import require

REPO = Path(__file__).resolve().parents[2]
FORGETFUL = '''
import harness.model.rules as R

R.EpollModel._wake_on_write_space = lambda self, why: False
'''


def front_door(*args, env=None):
    return subprocess.run([sys.executable, "-m", "harness", "run", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env=env)


def test_nothing_selected_fails_and_the_full_report_stays(tmp_path, pytestconfig):
    require(pytestconfig, "root", "tun")
    full = tmp_path / f"{os.uname().release}.json"
    full.write_text('{"a full report": "from an earlier run"}\n')
    run = front_door("--reports", str(tmp_path), "--", "-k", "no_such_case")
    assert run.returncode == 5, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("NOTHING RAN"), run.stdout
    assert full.read_text() == '{"a full report": "from an earlier run"}\n'
    assert not (tmp_path / "partial").exists()


def test_a_failing_case_fails_the_run_and_explains_itself(tmp_path, pytestconfig):
    require(pytestconfig, "root", "tun")
    (tmp_path / "forgetful_model.py").write_text(FORGETFUL)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    reports = tmp_path / "reports"
    run = front_door("--reports", str(reports), "--", "-p", "forgetful_model", "-m", "et and ipv4",
                     "-k", "out_of_space_then_acks and cubic and eagain and natural", env=env)
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    assert out.splitlines()[-1].startswith("FAILED: 0 passed, 1 failed"), out
    assert out.count("timeline: accept ipv4 cubic") == 1, "the timeline is printed once"
    failure = out[out.index("=== FAILURES ==="):]
    first = failure.splitlines()[2]
    assert first.startswith("step ") and " required -, observed OUT" in first, first
    assert "model's reasoning up to step" in failure and "SOCK_NOSPACE set" in failure
    assert "rule (__sk_stream_is_writeable):" in failure and ">= queued/2" in failure
    assert "left out (--timelines full shows them)" in failure
    pcap = next(line for line in failure.splitlines() if line.startswith("packets: ")).split()[1]
    assert (REPO / pcap).is_file() or Path(pcap).is_file()
    # a subset: its own report, the full one is not written
    partial = reports / "partial" / f"{os.uname().release}.json"
    assert partial.is_file() and not (reports / f"{os.uname().release}.json").exists()
    explain = subprocess.run([sys.executable, "-m", "harness", "explain", "ET-cubic-ipv4", "--report", str(partial)],
                             cwd=REPO, capture_output=True, text=True)
    assert explain.returncode == 0, explain.stderr
    assert "first divergence at step" in explain.stdout and "free " in explain.stdout
