"""The report schema (harness/reporting/schema/report-v2.json): every report the suite writes
follows it, and ``compare`` and ``table`` refuse one that does not with exit 2, one line
naming the file and the field, and nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from compare_samples import LT_KEY, make_report, result, three_kernels, write_reports

from harness import cli
from harness.record import store
from harness.record.timeline import Timeline
from harness.reporting import load_report
from harness.reporting.loading import SCHEMA_FILE

ROOT = Path(__file__).resolve().parents[3]

SUITE = '''
import pytest

def test_passes(record):
    record.fact("waking_ack", 8001)

@pytest.mark.parametrize("write", ["eagain"], ids=["fill-until-eagain"])
def test_fails_after_facts(record, write):
    from harness.record.timeline import Timeline

    timeline = Timeline("the case")
    timeline.add("call", "send(1000) = 1000")
    record.attach(timeline)
    record.fact("waking_ack", 9001)
    record.series = [{"ack": 9001, "wmem_queued": 100, "sndbuf": 200, "epollout": True}]
    assert False, "the claim failed"

class Seen:
    """What a case the test made had observed when the test failed."""
    series = [{"ack": 1001, "wmem_queued": 10, "sndbuf": 20}]
    accepted = 3000

    def masks(self):
        return ["OUT", "-"]

    def events_at(self):
        return ["step 2 (epoll_wait): OUT"]

def test_fails_before_facts(record):
    record.track(Seen())
    assert False, "failed before any record.fact"

def test_skips(record):
    pytest.skip("netem unavailable: CONFIG_NET_SCH_NETEM is not set")
'''


def test_schema_file_is_versioned_with_the_report():
    schema = json.loads(SCHEMA_FILE.read_text())
    assert SCHEMA_FILE.name == "report-v2.json"
    assert schema["properties"]["schema_version"] == {"const": 2}


def test_a_report_the_suite_writes_validates(tmp_path: Path):
    """Run a small suite through the plugin; its report must load (validate), with the failed
    case's facts, series and timeline file kept and keys that are pytest's ids."""
    (tmp_path / "test_small.py").write_text(SUITE)
    out = tmp_path / "report.json"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "harness.plugin.pytest_plugin",
                    "-p", "no:cacheprovider", f"--report-json={out}",
                    f"--captures-dir={tmp_path / 'caps'}", str(tmp_path / "test_small.py")],
                   cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                        # its own prefix: the child's start-up sweep must not claim what other runs left
                        "EPS_PREFIX": f"{os.environ.get('EPS_PREFIX', 'eps')}-schema{os.getpid()}"},
                   capture_output=True, text=True, timeout=60)
    doc = load_report(out)
    by_key = {r["key"]: r for r in doc["results"]}
    failed = by_key["small/fails-after-facts[fill-until-eagain]"]
    assert failed["verdict"] == "fail" and failed["facts"] == {"waking_ack": 9001}
    assert failed["series"][0]["epollout"] is True
    # the failed case points at the one file that keeps every case's timeline, beside the report
    assert failed["timeline"] == str(store.path_for(out)) and by_key["small/passes"].get("timeline") is None
    kept = store.read(out)[failed["key"]]["timelines"]
    assert "send(1000) = 1000" in Timeline.from_dict(kept[0]).render()
    assert list((tmp_path / "caps").glob("*.timeline.txt")) == []
    early = by_key["small/fails-before-facts"]
    assert early["facts"] == {"masks": ["OUT", "-"], "events_at": ["step 2 (epoll_wait): OUT"],
                              "bytes_accepted": 3000}
    assert early["series"] == [{"ack": 1001, "wmem_queued": 10, "sndbuf": 20}]
    assert set(by_key) == {"small/passes", "small/fails-after-facts[fill-until-eagain]",
                           "small/fails-before-facts", "small/skips"}
    assert by_key["small/skips"]["verdict"] == "skip"


def _bad(doc: dict, how: str) -> dict:
    if how == "no results":
        del doc["results"]
    elif how == "empty results":
        doc["results"] = []
    elif how == "unknown verdict":
        doc["results"][1]["verdict"] = "maybe"
    elif how == "fact dict missing":
        del doc["results"][0]["facts"]
    elif how == "no kernel release":
        del doc["kernel"]["release"]
    return doc


CASES = [
    ("no results", "results: missing"),
    ("empty results", "results: [] should be non-empty"),
    ("unknown verdict", "results[1].verdict: 'maybe' is not one of"),
    ("fact dict missing", "results[0].facts: missing"),
    ("no kernel release", "kernel.release: missing"),
]


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "compare.html").write_text("earlier comparison")
    return out


@pytest.mark.parametrize("how, field", CASES, ids=[c[0].replace(" ", "-") for c in CASES])
@pytest.mark.parametrize("command", ["compare", "table"])
def test_bad_report_refused(tmp_path: Path, out_dir: Path, capsys, how, field, command):
    good, other, _ = write_reports(tmp_path / "in", three_kernels())
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_bad(json.loads(good.read_text()), how)))
    argv = ["compare", "--out", str(out_dir), str(other), str(bad)] if command == "compare" else ["table", str(bad)]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert str(bad) in captured.err and field in captured.err
    assert captured.out == ""
    assert (out_dir / "compare.html").read_text() == "earlier comparison"
    assert sorted(p.name for p in out_dir.iterdir()) == ["compare.html"]


def test_same_file_twice_refused(tmp_path: Path, out_dir: Path, capsys):
    first, *_ = write_reports(tmp_path / "in", three_kernels())
    assert cli.main(["compare", "--out", str(out_dir), str(first), str(first)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "given twice" in err and first.name in err
    assert (out_dir / "compare.html").read_text() == "earlier comparison"


def test_same_kernel_and_label_twice_refused_unless_labels_differ(tmp_path: Path, out_dir: Path, capsys):
    a = make_report("6.1.0", [6, 1, 0], "host", [result(LT_KEY)])
    paths = write_reports(tmp_path / "in", [a, dict(a, generated_at="later")])
    assert cli.main(["compare", "--out", str(out_dir), *map(str, paths)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "kernel.release/label" in err and "6.1.0 (host)" in err
    assert (out_dir / "compare.html").read_text() == "earlier comparison"

    relabelled = write_reports(tmp_path / "in2", [a, dict(a, label="slowed")])
    assert cli.main(["compare", "--out", str(out_dir), *map(str, relabelled)]) == 0


def test_inlined_references_validate_as_the_references_do():
    """The validator's schema has its $defs inlined; a self-reference stays a reference."""
    import json as _json

    from jsonschema import Draft202012Validator

    from harness.reporting.loading import SCHEMA_FILE, inline_refs

    schema = _json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    flat = inline_refs(schema)
    assert '"$ref"' not in _json.dumps({k: v for k, v in flat.items() if k != "$defs"})
    bad = {"schema": "x", "results": [{"key": 3}]}
    assert ([e.message for e in Draft202012Validator(schema).iter_errors(bad)]
            == [e.message for e in Draft202012Validator(flat).iter_errors(bad)])
    node = {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}
    tree = {"$defs": {"node": node}, "properties": {"root": {"$ref": "#/$defs/node"}}}
    looped = inline_refs(tree)
    assert looped["properties"]["root"]["properties"]["kids"]["items"] == {"$ref": "#/$defs/node"}
    refused = {"root": {"kids": [{"kids": 5}]}}
    assert not Draft202012Validator(tree).is_valid(refused) and not Draft202012Validator(looped).is_valid(refused)
