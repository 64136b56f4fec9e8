"""make bench reads the session time pytest prints, and only that."""

from harness.bench import pytest_seconds


def test_the_session_time_is_pytests_last_in_n_s():
    out = "ran in 3.5s of setup\n447 passed, 28 skipped in 9.41s\nreport: reports/x.json\n"
    assert pytest_seconds(out) == 9.41


def test_no_session_line_gives_no_time():
    assert pytest_seconds("INTERNALERROR> boom\n") is None
    assert pytest_seconds("447 passed in 9.41 s") is None  # not pytest's spelling
