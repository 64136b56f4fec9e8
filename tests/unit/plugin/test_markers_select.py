"""The markers the plugin puts on select what they say, on the suite's own tests (collection
only: no root, no namespaces)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def collect(expr: str) -> list[str]:
    run = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider", "-m", expr,
                          "tests", "--ignore=tests/unit", "--ignore=tests/guest", "--ignore=tests/packaging"],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    return [line for line in run.stdout.splitlines() if "::" in line]


def test_waiter_family_and_peer_markers():
    ids = collect("et and ipv6 and not realpeer")
    assert ids, "nothing selected"
    assert all("[ET-" in i and "ipv6" in i and "test_realpeer.py" not in i for i in ids), ids


def test_capability_and_topic_markers():
    netem = collect("netem")
    assert netem and all("netem" in i for i in netem)
    fifo = collect("sched_fifo")
    assert {i.split("::")[1].split("[")[0] for i in fifo} == {
        "test_blocking_writer_wakes_at_first_writable_ack", "test_blocking_writer"}
    readers = collect("readers and select")
    assert readers and all(i.startswith("tests/test_readers.py::") and "select" in i for i in readers)
