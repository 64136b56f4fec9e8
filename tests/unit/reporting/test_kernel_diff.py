"""``epoll-semantics diff A B``: one screen per pair, from the comparison's own differences,
and every difference as data that follows its JSON Schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from compare_samples import MATRIX, matrix_comparison, matrix_reports

from harness.frontdoor.commands import main
from harness.reporting.kernel_diff import (
    document,
    kernel_diff,
    keys,
    neighbour_diffs,
    render,
    validate_document,
)

SCREEN = 40


def test_a_pair_reads_as_rules_then_causes_then_the_unexplained():
    comp = matrix_comparison(MATRIX[1:3])
    lines = render(kernel_diff(comp, "k0", "k1"), "epoll-semantics diff 6.1 6.12")
    assert lines[0].startswith("epoll readiness rules: identical")
    text = "\n".join(lines)
    assert "skb head truesize 1280 -> 896 bytes (bf9f1baa279f, v6.3)" in text
    assert "ET EPOLLOUT after EAGAIN arrives at ACK 9001 instead of 7001" in text
    assert "an unanswered connect sends 3 SYNs instead of 2" in text
    assert "(ccce324dabfe, v6.5)" in text
    assert "epoll-semantics diff 6.1 6.12 --keys truesize" in text
    # the natural layout's ACK is counted, not listed as a kernel difference
    assert "1 case(s) recorded with the natural skb layout" in text
    truesize = keys(kernel_diff(comp, "k0", "k1"), "truesize")
    assert any(k.startswith("epollout/out-of-space-then-acks[ET-cubic-ipv4-fill-until-eagain]  waking_ack 7001 -> 9001")
               for k in truesize)
    assert not any(k.startswith("connect/") for k in truesize)


def test_every_neighbouring_pair_fits_a_screen():
    for diff in neighbour_diffs(matrix_comparison()):
        lines = render(diff, "epoll-semantics diff A B")
        assert len(lines) <= SCREEN, "\n".join(lines)


def test_without_a_cause_the_facts_are_shown_as_unexplained():
    comp = matrix_comparison(MATRIX[2:])
    text = "\n".join(render(kernel_diff(comp, "k0", "k1"), "x"))
    assert "without a known cause (a finding to investigate): 1 case(s)" in text
    assert "ET EPOLLOUT comes from 1 ACKs instead of 0" in text


def test_a_rule_change_on_one_kernel_only_is_the_first_line():
    reports = matrix_reports(MATRIX[1:3])
    reports[1][1]["rules"]["changes"].append({"title": "tcp: a new rule", "since": "6.5", "commit": "abc",
                                              "applies": True})
    reports[0][1]["rules"]["changes"].append({"title": "tcp: a new rule", "since": "6.5", "commit": "abc",
                                              "applies": False})
    from harness.reporting import build_comparison

    lines = render(kernel_diff(build_comparison(reports), "k0", "k1"), "x")
    assert lines[0].startswith("epoll readiness rules DIFFER: \"tcp: a new rule\" (abc, v6.5)")


def test_the_differences_follow_their_schema_and_the_schema_rejects_what_it_must():
    doc = document(neighbour_diffs(matrix_comparison()))
    validate_document(json.loads(json.dumps(doc)))
    assert [p["before"]["release"] for p in doc["pairs"]] == ["5.10.0", "6.1.0", "6.12.0"]
    one = doc["pairs"][1]["differences"]
    syn = next(d for d in one if d["fact"] == "syns_sent")
    assert (syn["before"], syn["after"], [c["name"] for c in syn["cause"]]) == (2, 3, ["syn-linear-timeouts"])
    for bad in (lambda d: d["pairs"][1]["differences"][0].pop("cause"),
                lambda d: d["pairs"][1]["differences"][0].update(key=""),
                lambda d: d["pairs"][1]["differences"][0]["cause"][0].update(commit=None),
                lambda d: d.update(schema_version=2)):
        broken = copy.deepcopy(doc)
        bad(broken)
        with pytest.raises(jsonschema.ValidationError):
            validate_document(broken)


@pytest.fixture
def reports_dir(tmp_path: Path) -> Path:
    """reports/kernels/<release>/report.json of each guest, and this machine's own report."""
    for release, report in matrix_reports():
        d = tmp_path / "kernels" / f"{release}-cloud-amd64"
        d.mkdir(parents=True)
        report["kernel"]["release"] = d.name
        (d / "report.json").write_text(json.dumps(report))
    host = copy.deepcopy(matrix_reports()[-1][1])
    host["label"], host["kernel"]["release"] = "host", "6.18.4-host"
    host["kernel"]["version"] = [6, 18, 4]
    (tmp_path / "6.18.4-host.json").write_text(json.dumps(host))
    return tmp_path


def test_diff_takes_series_releases_and_paths(reports_dir, capsys):
    assert main(["diff", "6.1", "6.12", "--reports", str(reports_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("epoll readiness rules: identical")
    assert "6.1.0-cloud-amd64 (6.1.0-1) -> 6.12.0-cloud-amd64 (6.12.0-1)" in out
    assert len(out.splitlines()) <= SCREEN
    # A is the kernel moved from, whatever the versions' order
    assert main(["diff", str(reports_dir / "kernels/7.0.0-cloud-amd64"), "6.12.0-cloud-amd64",
                 "--reports", str(reports_dir)]) == 0
    assert "7.0.0-cloud-amd64 (7.0.0-1) -> 6.12.0-cloud-amd64" in capsys.readouterr().out
    assert main(["diff", "6.1", "6.12", "--reports", str(reports_dir), "--keys", "syn-linear-timeouts"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("connect/connect-never-answered[ET-ipv4]  ") and "syns_sent 2 -> 3" in listed


def test_diff_refuses_what_names_no_single_guest(reports_dir, capsys):
    assert main(["diff", "6.1", "6.2", "--reports", str(reports_dir)]) == 2
    assert "no report matches" in capsys.readouterr().err
    assert main(["diff", "6", "7", "--reports", str(reports_dir)]) == 2  # 6.1 and 6.12
    assert "several reports match" in capsys.readouterr().err
    # the host is a comparison's only when named: its series alone names no guest
    assert main(["diff", "6.12", "6.18", "--reports", str(reports_dir)]) == 2
    assert main(["diff", "6.12", "6.18.4-host", "--reports", str(reports_dir)]) == 0
    capsys.readouterr()
    assert main(["diff", "6.1", "6.1", "--reports", str(reports_dir)]) == 2
    assert main(["diff", "6.1", "6.12", "--reports", str(reports_dir), "--keys", "nothing"]) == 2
    assert "groups: " in capsys.readouterr().err


def test_diff_and_compare_print_valid_json(reports_dir, capsys):
    assert main(["diff", "6.1", "6.12", "--reports", str(reports_dir), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    validate_document(doc)
    assert len(doc["pairs"]) == 1
    everything = sorted(str(p) for p in reports_dir.glob("kernels/*/report.json")) + [str(reports_dir / "6.18.4-host.json")]
    assert main(["compare", *everything, "--json", "--out", str(reports_dir / "out")]) == 0
    doc = json.loads(capsys.readouterr().out)
    validate_document(doc)
    # the guests' neighbours, the host not mixed in between 6.12 and 7
    assert [(p["before"]["release"], p["after"]["release"]) for p in doc["pairs"]] == [
        ("5.10.0-cloud-amd64", "6.1.0-cloud-amd64"), ("6.1.0-cloud-amd64", "6.12.0-cloud-amd64"),
        ("6.12.0-cloud-amd64", "7.0.0-cloud-amd64")]
    assert not (reports_dir / "out").exists()


def test_verdicts_that_go_both_ways_are_counted_each_way():
    from harness.reporting import build_comparison

    reports = matrix_reports(MATRIX[2:])
    for (_, report), verdicts in zip(reports, (("fail", "pass"), ("pass", "fail"))):
        for r, v in zip(report["results"][:2], verdicts):
            r["verdict"] = v
    text = "\n".join(render(kernel_diff(build_comparison(reports), "k0", "k1"), "x"))
    assert "  verdict differs: 1 fail -> pass, 1 pass -> fail" in text
