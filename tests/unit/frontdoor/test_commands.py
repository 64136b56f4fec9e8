"""The front door: its commands, the run's pytest command line and closing line, and
explain/show on a report with its timelines."""

import json

import pytest

from harness.frontdoor import running
from harness.frontdoor.commands import build_parser, main
from harness.record import store
from harness.record.timeline import Timeline
from harness.reporting.report import SCHEMA, SCHEMA_VERSION


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for name in ("run", "kernels", "compare", "summary", "explain", "show", "table", "kcidb", "ktap"):
        assert f"    {name} " in out


def test_pytest_arguments_pass_through_and_files_make_a_subset():
    cmd = running.pytest_command("/r/x.json", "/r/captures", ["-k", "blocking"], keep=False)
    assert cmd[-2 - len(running.SCENARIOS):] == ["-k", "blocking", *running.SCENARIOS] and "--partial-report" not in cmd
    named = running.pytest_command("/r/x.json", "/r/captures", ["tests/test_readers.py"], keep=True)
    assert "--partial-report" in named and "--keep-captures" in named and "tests" not in named


def test_the_closing_line_is_honest():
    doc = {"results": [{"verdict": "pass"}, {"verdict": "fail"}]}
    assert running.closing_line(1, doc, "r.json").startswith("FAILED: 1 passed, 1 failed")
    assert running.closing_line(5, None, "r.json").startswith("NOTHING RAN")
    assert running.closing_line(0, {"results": [{"verdict": "pass"}]}, "r.json").startswith("PASSED: 1 passed")
    assert running.closing_line(4, None, "r.json").startswith("NOT RUN: pytest refused its arguments")
    assert running.closing_line(0, {"results": [{"verdict": "skip"}]}, "r.json").startswith("NOTHING RAN: every")


def test_kernels_refuses_an_empty_list_at_once(tmp_path, capsys):
    assert main(["kernels", "--kernels", "", "--out", str(tmp_path / "k")]) == 2
    assert "KERNELS is empty" in capsys.readouterr().err
    assert not (tmp_path / "k").exists()


@pytest.fixture
def report(tmp_path):
    history: list[str] = []
    tl = Timeline("accept ipv4 cubic")
    tl.follow(history)
    tl.begin("ACK 19001")
    history.append("write-space wakeup (ACK): SOCK_NOSPACE cleared")
    tl.add("acct", "queued=27328", snapshot={"sndbuf": 42000, "wmem_queued": 27328, "free": 14672,
                                             "notsent": 0, "notsent_lowat": 0, "outq": 1, "inq": 0})
    tl.check("epoll_wait(ET)", "OUT", "OUT")
    key = "epollout/out-of-space-then-acks[ET-cubic-ipv4-eagain]"
    result = {"key": key, "nodeid": "tests/test_epollout.py::x", "topic": "epollout",
              "scenario": "out-of-space-then-acks", "mode": "ET", "params": {"mode": "ET"},
              "verdict": "pass", "facts": {"waking_ack": 19001}, "conditions": {}, "duration_s": 0.01,
              "series": [{"ack": 19001, "wmem_queued": 27328, "sndbuf": 42000, "writable": True}]}
    other = dict(result, key=key.replace("ET", "LT"), nodeid="tests/test_epollout.py::y")
    path = tmp_path / "6.12.json"
    path.write_text(json.dumps({
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION, "label": "host", "generated_at": "2026-01-01T00:00:00Z",
        "kernel": {"release": "6.12.0", "version": [6, 12, 0], "machine": "x86_64"},
        "summary": {"passed": 2, "failed": 0, "skipped": 0, "error": 0}, "results": [result, other]}))
    store.write(path, [{"key": key, "nodeid": result["nodeid"], "capture": None, "timelines": [tl.to_dict()]}])
    return path


def test_explain_prints_the_trimmed_timeline_with_the_rule(report, capsys):
    assert main(["explain", "ET-cubic", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "model's reasoning up to step 1 (write-space wakeup, ACK 19001)" in out
    assert "free 14672 >= queued/2 13664 (queued 27328): yes" in out


def test_a_key_must_name_one_result(report, capsys):
    assert main(["explain", "out-of-space", "--report", str(report)]) == 2
    assert "2 results match" in capsys.readouterr().err
    assert main(["show", "nothing-like-it", "--report", str(report)]) == 2
    assert main(["explain", "LT-cubic", "--report", str(report)]) == 2  # no timeline kept for it
    assert "no timeline" in capsys.readouterr().err


def test_show_prints_facts_and_series(report, capsys):
    assert main(["show", "ET-cubic", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "waking_ack: 19001" in out and "series (1 ACK steps):" in out and "27328" in out


def test_kernels_hands_the_comparison_every_option_compare_reads(monkeypatch, tmp_path):
    """The comparison after the guests gets a namespace as `compare`'s parser would make it."""
    import argparse as _argparse

    from harness.frontdoor import reports, running
    from harness.guests import kernel_runs

    seen = []
    monkeypatch.setattr(kernel_runs, "check_specs", lambda specs: None)
    monkeypatch.setattr(kernel_runs, "main", lambda argv: 0)
    monkeypatch.setattr(reports, "run_compare", lambda args: seen.append(args) or 0)
    args = _argparse.Namespace(specs=["6.12"], kernels=None, out=str(tmp_path / "kernels"), bench=False,
                               jobs=None, no_compare=False)
    assert running.run_kernels(args) == 0
    from harness.frontdoor.commands import build_parser

    wanted = vars(build_parser().parse_args(["compare"]))
    missing = [name for name in wanted if name not in ("command", "run") and not hasattr(seen[0], name)]
    assert missing == [] and seen[0].json is False


def test_kernels_compares_the_matrix_it_wrote_wherever_it_wrote_it(tmp_path):
    """An --out not named kernels is compared on its own: the parent's kernels/ would be
    another matrix, or nothing (the comparison then refused to run)."""
    from harness.frontdoor.running import comparison_after

    (tmp_path / "elsewhere" / "6.12").mkdir(parents=True)
    (tmp_path / "elsewhere" / "6.12" / "report.json").write_text("{}")
    (tmp_path / "kernels" / "6.1").mkdir(parents=True)
    (tmp_path / "kernels" / "6.1" / "report.json").write_text("{}")
    (tmp_path / "host.json").write_text("{}")
    mine = comparison_after(tmp_path / "elsewhere")
    assert mine == {"inputs": [str(tmp_path / "elsewhere" / "6.12" / "report.json")], "out": str(tmp_path / "elsewhere")}
    default = comparison_after(tmp_path / "kernels")
    assert default["out"] == str(tmp_path)
    assert default["inputs"] == [str(tmp_path / "host.json"), str(tmp_path / "kernels" / "6.1" / "report.json")]
