"""Warming the guests' bytecode and scapy tables: a failure only costs time."""

from pathlib import Path

from harness.guests import warm


def test_the_warm_run_writes_bytecode_and_the_guests_read_scapys_tables_from_the_cache(tmp_path):
    env = warm.environment(tmp_path, {"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/bin"})
    assert "PYTHONDONTWRITEBYTECODE" not in env and env["PATH"] == "/bin"
    assert env["XDG_CACHE_HOME"] == warm.guest_env(tmp_path)["XDG_CACHE_HOME"] == str(tmp_path / "xdg-cache")
    cmd = warm.command(Path("/venv/bin/python"), ["tests", "--ignore=tests/unit"])
    assert cmd[0] == "/venv/bin/python" and cmd[-2:] == ["tests", "--ignore=tests/unit"]
    assert "--collect-only" in cmd[2]  # pytest writes its rewritten modules while collecting


def test_a_failed_warm_run_is_said_and_leaves_the_guests_as_before(tmp_path):
    said = []
    assert not warm.warm(Path("/bin/false"), tmp_path, tmp_path, [], log=said.append)
    assert said and "each guest builds them" in said[0]
    said.clear()
    assert not warm.warm(tmp_path / "no-python", tmp_path, tmp_path, [], log=said.append)
    assert said and "failed" in said[0]
