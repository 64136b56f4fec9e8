"""Which runs are subsets, and which markers a test gets from what it uses."""

from harness.plugin.markers import markers_for
from harness.plugin.scope import Scope, clear_captures, partial_path


def test_a_full_run_and_the_ways_to_be_a_subset():
    assert Scope(collected=10, deselected=0, ran=10, narrowed=False, last_failed=False).why_partial is None
    assert Scope(10, 5, 10, False, False).why_partial == "5 deselected"
    assert Scope(10, 0, 10, True, False).why_partial == "files or node ids given"
    assert Scope(10, 0, 10, False, True).why_partial == "--lf/--sw selection"
    assert Scope(10, 0, 3, False, False).why_partial == "stopped after 3 of 10"
    assert partial_path("reports/6.12.9.json") == "reports/partial/6.12.9.json"


def test_clearing_captures_removes_only_pcaps(tmp_path):
    (tmp_path / "a.pcap").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("mine")
    assert clear_captures(str(tmp_path)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert clear_captures(str(tmp_path / "missing")) == 0


def test_markers_from_params_and_fixtures():
    scripted = markers_for("epollout", {"waiter": "poll", "family": "ipv6", "cc": "cubic"},
                           ["scripted", "scripted_net", "record"])
    assert scripted == ["epollout", "poll", "ipv6", "scripted", "root", "tun"]
    real = markers_for("realpeer", {"mode": "ET", "family": "ipv4", "ack_mode": "netem"}, ["real", "real_net"],
                       needs_of_mode=lambda mode: {"netem": ("netem",)}[mode])
    assert real == ["realpeer", "et", "ipv4", "root", "veth", "netem"]
    assert markers_for("state", {}, []) == ["state"]
