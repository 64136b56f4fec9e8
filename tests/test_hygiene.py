"""The suite leaves nothing behind: a case stopped by the timeout cleans up, and what a
killed run left is removed by the next session's sweep (and only that)."""

import os
import signal
import subprocess
import sys
import time

import pytest
from pyroute2 import netns as pr_netns

from harness.plugin.pytest_plugin import require
from netns import names

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HANGING_CASE = '''
import threading

def test_hangs_inside_a_case(scripted):
    scripted.accept("ipv4", "cubic")
    print("case-ready", flush=True)
    threading.Event().wait(120)
'''


def child(tmp_path, prefix, *args):
    (tmp_path / "test_child.py").write_text(HANGING_CASE)
    env = dict(os.environ, EPS_PREFIX=prefix, PYTHONPATH=REPO)
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-p", "harness.plugin.pytest_plugin",
         "-p", "harness.plugin.fixtures", "--rootdir", str(tmp_path), "-c", os.devnull,
         "--captures-dir", str(tmp_path / "captures"), *args, str(tmp_path / "test_child.py")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def namespaces_of(prefix, pid):
    return [n for n in pr_netns.listnetns() if names.owner(n, prefix) == pid]


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def prefix(pytestconfig):
    require(pytestconfig, "root", "tun")
    p = f"epshyg{os.getpid()}"
    yield p
    names.sweep(p)  # whatever the test itself left, if it failed half-way


def test_killed_run_is_swept_by_the_next_session(tmp_path, prefix):
    proc = child(tmp_path, prefix)
    try:
        wait_for(lambda: namespaces_of(prefix, proc.pid), 30, "the child's namespace")
        line = ""
        while "case-ready" not in line:
            line = proc.stdout.readline()
            assert line, "child exited before the case was ready"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = namespaces_of(prefix, proc.pid)
    assert left, "a SIGKILLed run cannot clean up: its namespace should still be there"
    other = f"{prefix}-{os.getpid()}-999"  # a live run's namespace must survive the sweep
    pr_netns.create(other)
    try:
        removed = names.sweep(prefix)
        assert sorted(removed) == sorted(left)
        assert other in pr_netns.listnetns()
    finally:
        pr_netns.remove(other)


def test_timeout_in_a_case_leaves_nothing(tmp_path, prefix):
    proc = child(tmp_path, prefix, "--timeout=2", "--timeout-method=signal")
    out, _ = proc.communicate(timeout=60)
    assert "Timeout" in out and "1 failed" in out, out
    assert namespaces_of(prefix, proc.pid) == [], out
