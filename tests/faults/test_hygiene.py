"""The suite leaves nothing behind: a case stopped by the timeout or by SIGTERM/SIGHUP cleans
up, a nested run dies with its parent, and what a SIGKILLed run left is removed by the next
session's sweep (and only that).

The child runs use the prefix ``<prefix>-hyg<pid>``: the sweep of the parent's prefix covers
it (netns/names.py), so even a child killed at the worst moment leaves nothing for good.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from pyroute2 import netns as pr_netns

from harness.plugin.pytest_plugin import require
from netns import die_with_parent, names

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Each test waits on its child run with deadlines of its own (up to 60 s): the limit per test
# is above those, so that on a loaded machine the deadline that names what is late fires first.
pytestmark = pytest.mark.timeout(120)

HANGING_CASE = '''
import threading

def test_hangs_inside_a_case(scripted):
    scripted.accept("ipv4", "cubic")
    print("case-ready", flush=True)
    threading.Event().wait(120)
'''

# A parent that starts the child run tied to itself, says the child's pid, and waits.
PARENT = '''
import subprocess, sys
from netns import die_with_parent
child = subprocess.Popen(sys.argv[1:], preexec_fn=die_with_parent)
print(f"child-pid {child.pid}", flush=True)
child.wait()
'''


def child_argv(tmp_path, *args):
    (tmp_path / "test_child.py").write_text(HANGING_CASE)
    return [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-p", "harness.plugin.pytest_plugin",
            "-p", "harness.plugin.fixtures", "--rootdir", str(tmp_path), "-c", os.devnull, "--captures-dir", str(tmp_path / "captures"), *args,
            str(tmp_path / "test_child.py")]


def child(tmp_path, prefix, *args, argv_prefix=()):
    env = dict(os.environ, EPS_PREFIX=prefix, PYTHONPATH=REPO)
    return subprocess.Popen([*argv_prefix, *child_argv(tmp_path, *args)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=die_with_parent)


def namespaces_of(prefix, pid):
    return [n for n in pr_netns.listnetns() if names.owner(n, prefix) == pid]


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)  # a poll interval: the loop ends on the condition


def wait_ready(proc):
    line = ""
    while "case-ready" not in line:
        line = proc.stdout.readline()
        assert line, "child exited before the case was ready"


@pytest.fixture
def prefix(pytestconfig):
    require(pytestconfig, "root", "tun")
    p = f"{names.PREFIX}-hyg{os.getpid()}"
    assert names.owner(f"{p}-1-0-tun", names.PREFIX) == 1, "the sweep of the prefix must cover the children"
    yield p
    names.sweep(p)  # whatever the test itself left, if it failed half-way


def test_killed_run_is_swept_by_the_next_session(tmp_path, prefix):
    proc = child(tmp_path, prefix)
    try:
        wait_for(lambda: namespaces_of(prefix, proc.pid), 30, "the child's namespace")
        wait_ready(proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = namespaces_of(prefix, proc.pid)
    assert left, "a SIGKILLed run cannot clean up: its namespace should still be there"
    other = f"{prefix}-{os.getpid()}-999"  # a live run's namespace must survive the sweep
    pr_netns.create(other)
    try:
        removed = names.sweep(prefix).removed
        assert sorted(removed) == sorted(left)
        assert other in pr_netns.listnetns()
    finally:
        pr_netns.remove(other)


def test_timeout_in_a_case_leaves_nothing(tmp_path, prefix):
    proc = child(tmp_path, prefix, "--timeout=2", "--timeout-method=signal")
    out, _ = proc.communicate(timeout=60)
    assert "Timeout" in out and "1 failed" in out, out
    assert namespaces_of(prefix, proc.pid) == [], out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["sigterm", "sighup"])
def test_signal_tears_down_like_ctrl_c(tmp_path, prefix, sig):
    """SIGTERM (a cancelled CI job) and SIGHUP run the session's teardown, as Ctrl-C does:
    the namespaces go without any sweep, and the run exits non-zero (2, interrupted)."""
    proc = child(tmp_path, prefix)
    try:
        wait_ready(proc)
        assert namespaces_of(prefix, proc.pid), "the case's namespace exists while it runs"
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    assert f"{signal.Signals(sig).name} received" in out, out
    assert namespaces_of(prefix, proc.pid) == [], out


def test_child_run_dies_with_its_parent(tmp_path, prefix):
    """A run started with die_with_parent gets SIGTERM when its parent is SIGKILLed: it tears
    down and ends instead of running on as an orphan."""
    env = dict(os.environ, EPS_PREFIX=prefix, PYTHONPATH=REPO)
    parent = subprocess.Popen([sys.executable, "-c", PARENT, *child_argv(tmp_path)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = parent.stdout.readline()
        assert first.startswith("child-pid "), first
        orphan = int(first.split()[1])
        wait_ready(parent)
        assert namespaces_of(prefix, orphan)
    finally:
        parent.kill()
        parent.wait()
    wait_for(lambda: not os.path.exists(f"/proc/{orphan}") and not namespaces_of(prefix, orphan), 30,
             "the orphaned run to tear down and exit")
