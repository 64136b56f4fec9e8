"""The fixtures work from another project: a tiny project in a temporary directory gets
this package installed into a venv of its own (not editable, so nothing of the checkout is
on its path) and uses ``scripted`` through the ``pytest11`` entry point, with no conftest.

The example test is the README's ("Using the fixtures in your own tests"): after accept()
the first level-triggered epoll_wait reports EPOLLOUT, since an empty send queue is
writable (tcp_poll() -> __sk_stream_is_writeable()).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.plugin.pytest_plugin import require

REPO = Path(__file__).resolve().parents[2]

EXAMPLE = '''\
from harness.model import masks as M


def test_a_fresh_connection_is_writable(scripted, record):
    c = scripted.accept("ipv4", edge=False)
    c.register(M.IN | M.OUT)
    assert c.wait() == M.OUT
    record.fact("masks", c.masks())
'''


@pytest.mark.timeout(900)
def test_example_project_uses_the_scripted_fixture(tmp_path, pytestconfig):
    require(pytestconfig, "root", "tun")
    src = tmp_path / "src"
    # A copy of the package's files: the build then writes nothing into the checkout.
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".stamps", ".cache", "reports", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    install = subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(src)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stdout + install.stderr
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_mine.py").write_text(EXAMPLE)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    run = subprocess.run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--report-json=report.json",
                          "test_mine.py"], cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout, run.stdout
    where = subprocess.run([py, "-c", "import harness; print(harness.__file__)"], cwd=project, env=env,
                           capture_output=True, text=True)
    assert str(venv) in where.stdout, f"the example used {where.stdout.strip()}, not the venv's copy"
    assert (project / "report.json").is_file()
