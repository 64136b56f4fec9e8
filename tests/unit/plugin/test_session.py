"""The session's set-up refuses what would only fail at the end, and SIGTERM means teardown."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.plugin.signals import Teardown, Terminated

ROOT = Path(__file__).resolve().parents[3]


def test_unwritable_report_path_is_refused_before_the_run():
    """/proc takes no new directories, even from root: nothing may run before the refusal."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--report-json=/proc/eps-nowhere/report.json", "tests/unit/model"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "--report-json /proc/eps-nowhere/report.json: cannot write" in done.stderr
    assert "passed" not in done.stdout


def test_sigterm_raises_terminated_once_then_is_noted():
    t = Teardown()
    t.install()
    try:
        with pytest.raises(Terminated, match="SIGTERM received"):
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0)  # give the handler its chance to run here
        os.kill(os.getpid(), signal.SIGHUP)  # during "teardown": noted, not raised
        signal.sigtimedwait([], 0)
        assert t.received == ["SIGTERM", "SIGHUP"]
    finally:
        t.restore()
    assert signal.getsignal(signal.SIGTERM) is not t._handle
