"""Degraded machines: whatever capability is missing, the scenarios that need it are skipped
with what is missing and how to get it (failures under --strict-skips), never errors, and
the unit tests still run.

Each mode is made for real around a nested run of the suite: a bounding set without
CAP_SYS_ADMIN or CAP_NET_ADMIN (``setpriv``), an unprivileged user, and ``/dev/null``
bind-mounted over ``/dev/net/tun`` in a private mount namespace.  The run without
CAP_SYS_ADMIN also finds a leftover of a dead run that its sweep cannot unmount: a warning,
not an INTERNALERROR.  The nested runs go side by side (each is mostly Python start-up).
"""

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pyroute2 import netns as pr_netns

from harness.plugin.pytest_plugin import require
from netns import die_with_parent, names

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NESTED_DEADLINE = 300  # s: each nested run (mostly Python start-up, all eight side by side)
# The first test sets the module's runs up: its limit is theirs (plus the teardown), not the
# suite's 60 s per case, which a loaded CI runner exceeds while eight runs start side by side.
pytestmark = pytest.mark.timeout(NESTED_DEADLINE + 60)

# One scenario per capability: scripted (root, tun), gate (nfqueue), natural (root), netem,
# a SCHED_FIFO writer; and the wire's own checks.
SCENARIOS = [
    "tests/test_epollout.py::test_out_of_space_then_acks[ET-cubic-ipv4-fill-until-eagain]",
    "tests/test_realpeer.py::test_gate_releases_one_ack_at_a_time[ET-cubic-ipv4-gate-fill-until-eagain]",
    "tests/test_realpeer.py::test_writer_that_never_ran_out_of_space[ET-cubic-ipv4-natural]",
    "tests/test_realpeer.py::test_writer_that_never_ran_out_of_space[ET-cubic-ipv4-netem]",
    "tests/test_blocking_write.py::test_blocking_writer_wakes_at_first_writable_ack[cubic-ipv4-pinned-layout]",
    "tests/test_wire.py",
]
TUN_OVER_NULL = 'mount --bind /dev/null /dev/net/tun && exec "$@"'

# mode: (how the nested run is started, words its skips must contain)
MODES = {
    "no-sys-admin": (["setpriv", "--bounding-set", "-sys_admin"], "root without CAP_SYS_ADMIN"),
    "no-net-admin": (["setpriv", "--bounding-set", "-net_admin"], "root without CAP_NET_ADMIN"),
    "not-root": (["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], "not root"),
    "tun-is-dev-null": (["unshare", "--mount", "--propagation", "private", "sh", "-c", TUN_OVER_NULL, "sh"],
                        "TUN unusable: /dev/net/tun is not the TUN device"),
}


def unreachable_by_others(path: str) -> str | None:
    """The first directory on the way to ``path`` that other users cannot search, if any."""
    d = os.path.dirname(os.path.realpath(path))
    while d != "/":
        if not os.stat(d).st_mode & stat.S_IXOTH:
            return d
        d = os.path.dirname(d)
    return None


def outcomes(junit: str) -> dict[str, tuple[str, str]]:
    """nodeid-ish name -> (outcome, message) from a JUnit XML report."""
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        outcome, message = "passed", ""
        for kind in ("error", "failure", "skipped"):
            el = case.find(kind)
            if el is not None:
                outcome, message = kind, el.get("message") or ""
        out[name] = outcome, message
    return out


@pytest.fixture(scope="module")
def runs(pytestconfig):
    """Every mode's nested run, plain (with the unit tests) and with --strict-skips."""
    require(pytestconfig, "root", "tun")
    for tool in ("setpriv", "unshare"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} missing (apt-get install util-linux)")
    base = Path(tempfile.mkdtemp(prefix="eps-degraded-"))
    os.chmod(base, 0o777)  # the unprivileged run writes its report here (pytest's tmp is root's only)
    # one prefix per mode: a run that can sweep must not remove the leftover meant for another
    prefixes = {mode: f"{names.PREFIX}-deg{os.getpid()}-m{i}" for i, mode in enumerate(MODES)}
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid names a leftover whose run is surely gone
    leftover = f"{prefixes['no-sys-admin']}-{dead.pid}-0"
    pr_netns.create(leftover)
    procs = {}
    try:
        for mode, (wrap, _) in MODES.items():
            if mode == "not-root" and unreachable_by_others(sys.executable):
                continue
            for strict in (False, True):
                run = f"{mode}-{'strict' if strict else 'plain'}"
                junit = base / f"{run}.xml"
                # a captures directory of its own: the runs go side by side, and one made by a
                # root run first would be closed to the unprivileged one
                argv = [*wrap, sys.executable, "-B", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--junitxml={junit}", f"--captures-dir={base}/captures-{run}", *SCENARIOS]
                argv += ["--strict-skips"] if strict else ["tests/unit"]
                env = dict(os.environ, EPS_PREFIX=prefixes[mode], HOME=str(base), EPS_STRICT="0")
                procs[mode, strict] = (junit, subprocess.Popen(
                    argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                    preexec_fn=die_with_parent))
        results = {}
        for key, (junit, proc) in procs.items():
            out, _ = proc.communicate(timeout=NESTED_DEADLINE)
            results[key] = (proc.returncode, out, outcomes(str(junit)) if junit.exists() else {})
        yield leftover, results
    finally:
        for _, proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if leftover in pr_netns.listnetns():
            pr_netns.remove(leftover)
        for prefix in prefixes.values():
            names.sweep(prefix)
        shutil.rmtree(base, ignore_errors=True)


def result(results, mode, strict):
    if mode == "not-root" and unreachable_by_others(sys.executable):
        pytest.skip(f"the interpreter {os.path.realpath(sys.executable)} is not reachable by an unprivileged "
                    f"user ({unreachable_by_others(sys.executable)} is not searchable by others)")
    return results[mode, strict]


@pytest.mark.parametrize("mode", MODES)
def test_missing_capability_skips_and_unit_tests_run(runs, mode):
    _, results = runs
    rc, out, cases = result(results, mode, False)
    assert cases, f"no JUnit report (exit {rc}):\n{out}"
    assert "INTERNALERROR" not in out, out
    errors = {n: m for n, (o, m) in cases.items() if o == "error"}
    assert not errors, out
    unit = {n: o for n, (o, _) in cases.items() if n.startswith("tests.unit.")}
    assert unit and all(o == "passed" for o in unit.values()), out
    skips = [m for n, (o, m) in cases.items() if o == "skipped" and not n.startswith("tests.unit.")]
    words = MODES[mode][1]
    assert skips and any(words in m for m in skips), out
    assert rc == 0, out


@pytest.mark.parametrize("mode", MODES)
def test_strict_skips_make_failures_not_errors(runs, mode):
    _, results = runs
    rc, out, cases = result(results, mode, True)
    assert cases, f"no JUnit report (exit {rc}):\n{out}"
    assert not [n for n, (o, _) in cases.items() if o == "error"], out
    failed = [m for o, m in cases.values() if o == "failure"]
    assert failed and all("required capability missing (--strict-skips)" in m for m in failed), out
    assert rc == pytest.ExitCode.TESTS_FAILED, out


def test_sweep_that_cannot_remove_warns_and_the_run_goes_on(runs):
    """Without CAP_SYS_ADMIN the leftover's mount cannot be undone: the run warns about it
    and carries on; the leftover is still there afterwards (for a run that can remove it)."""
    leftover, results = runs
    rc, out, _ = results["no-sys-admin", False]
    assert f"sweep: cannot remove {leftover}" in out, out
    assert leftover in pr_netns.listnetns()
