"""Reports from many machines: each column says whose it is, and one kernel run on two
machines is one kernel in two runs, never two kernels."""

import copy
import json

import pytest
from compare_samples import EPOLLOUT_KEY, make_report, result, write_reports

from harness.frontdoor.commands import main
from harness.reporting import ReportError, build_comparison, load_comparison, validate_report
from harness.reporting.compare_view import counted, summary_lines


def on(report: dict, host: str) -> dict:
    out = copy.deepcopy(report)
    out["host"] = {"name": host, "id": f"id-{host}"}
    return out


BASE = make_report("6.12.0-cloud", [6, 12, 0], "guest", [result(EPOLLOUT_KEY)])
OLD = make_report("5.10.0-cloud", [5, 10, 0], "guest", [result(EPOLLOUT_KEY)])


def test_one_kernel_from_two_machines_is_one_kernel_in_two_runs():
    comparison = build_comparison([("a.json", on(BASE, "alpha")), ("b.json", on(BASE, "beta")),
                                   ("c.json", on(OLD, "alpha"))])
    assert counted(comparison) == "2 kernel(s) in 3 run(s) on 2 machine(s)"
    assert [k.title for k in comparison.kernels] == [
        "5.10.0-cloud (guest) on alpha", "6.12.0-cloud (guest) on alpha", "6.12.0-cloud (guest) on beta"]
    assert summary_lines(comparison)[0].startswith("2 kernel(s) in 3 run(s) on 2 machine(s)")


def test_one_machine_keeps_the_titles_as_they_were():
    comparison = build_comparison([("a.json", on(BASE, "alpha")), ("c.json", on(OLD, "alpha"))])
    assert counted(comparison) == "2 kernel(s)"
    assert [k.title for k in comparison.kernels] == ["5.10.0-cloud (guest)", "6.12.0-cloud (guest)"]


def test_the_same_run_twice_is_refused(tmp_path):
    paths = write_reports(tmp_path, [on(BASE, "alpha"), on(BASE, "alpha")])
    with pytest.raises(ReportError, match="on alpha is also the run of"):
        load_comparison(paths)


def test_compare_and_kcidb_say_which_machine_each_report_came_from(tmp_path, capsys):
    paths = write_reports(tmp_path / "in", [on(BASE, "alpha"), on(BASE, "beta")])
    assert main(["compare", "--no-plots", "--out", str(tmp_path / "out"), *map(str, paths)]) == 0
    out = capsys.readouterr().out
    assert "compared 1 kernel(s) in 2 run(s) on 2 machine(s)" in out
    assert "6.12.0-cloud (guest) on alpha" in out and "6.12.0-cloud (guest) on beta" in out
    doc_path = tmp_path / "kcidb.json"
    assert main(["kcidb", "--origin", "epoll_semantics", "--out", str(doc_path), *map(str, paths)]) == 0
    out = capsys.readouterr().out
    assert "1 kernel(s)" in out and "2 machine(s) (alpha, beta)" in out
    doc = json.loads(doc_path.read_text())
    assert len(doc["builds"]) == 1 and len(doc["tests"]) == 2


def test_kcidb_refuses_a_bad_origin_and_writes_nothing(tmp_path, capsys):
    paths = write_reports(tmp_path / "in", [on(BASE, "alpha")])
    out = tmp_path / "kcidb.json"
    assert main(["kcidb", "--origin", "epoll-semantics", "--out", str(out), *map(str, paths)]) == 2
    assert "not a KCIDB origin" in capsys.readouterr().err and not out.exists()


def test_ktap_command_prints_the_stream(tmp_path, capsys):
    paths = write_reports(tmp_path / "in", [on(BASE, "alpha")])
    assert main(["ktap", str(paths[0])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "KTAP version 1" and lines[2] == "1..1"
    assert lines[3].startswith("ok 1 epollout.")


def test_kcidb_twice_with_the_defaults_and_compare_after_it(tmp_path, monkeypatch, capsys):
    """The document lands where neither kcidb nor compare take it for a report."""
    monkeypatch.chdir(tmp_path)
    write_reports(tmp_path / "reports", [on(BASE, "alpha")])
    assert main(["kcidb", "--origin", "epoll_semantics"]) == 0
    assert main(["kcidb", "--origin", "epoll_semantics"]) == 0
    assert main(["compare", "--no-plots"]) == 0
    assert (tmp_path / "reports" / "kcidb" / "kcidb.json").is_file()


def test_a_host_without_its_id_is_refused():
    report = on(BASE, "alpha")
    del report["host"]["id"]
    with pytest.raises(ReportError, match=r"host\.id: missing"):
        validate_report(report, "r.json")
