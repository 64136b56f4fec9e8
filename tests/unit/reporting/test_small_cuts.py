"""What a new user met reading reports: keys cut, tracebacks on ``| head``, a typo's silence,
numbers from the wrong step, ranges that mixed two layouts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.frontdoor.commands import main
from harness.record import store
from harness.record.timeline import Timeline
from harness.reporting.explain import explain
from harness.reporting.report import SCHEMA, SCHEMA_VERSION
from harness.reporting.summary import headline, summary
from harness.reporting.table_view import full_table

LONG = "blocking-write/blocking-writer-wakes-at-first-writable-ack[cubic-ipv4-pinned-layout]"


def result(key: str, layout: str = "pinned", **facts) -> dict:
    topic, rest = key.split("/", 1)
    return {"key": key, "nodeid": f"tests/t.py::{rest}", "topic": topic, "scenario": rest.split("[")[0],
            "mode": "blocking", "params": {}, "verdict": "pass", "reason": None, "finding": None,
            "facts": facts, "conditions": {"layout": layout, "timing_dependent": layout == "natural"},
            "duration_s": 0.01}


def report(results: list[dict]) -> dict:
    return {"schema": SCHEMA, "schema_version": SCHEMA_VERSION, "label": "guest",
            "generated_at": "2026-01-01T00:00:00Z",
            "kernel": {"release": "6.12.0", "version": [6, 12, 0], "machine": "x86_64"},
            "summary": {"passed": len(results), "failed": 0, "skipped": 0, "error": 0}, "results": results}


def test_keys_are_never_cut():
    doc = report([result(LONG, waking_ack=10001)])
    assert LONG in full_table(doc, width=80, full=False).splitlines()
    assert "blocking-write/blocking-writer-wakes-at-first-writable-ack" in summary(doc, width=80).splitlines()


def test_the_headline_keeps_the_layouts_apart():
    results = [result(LONG, waking_ack=10001), result(LONG.replace("pinned", "natural"), "natural", waking_ack=35001),
               result(LONG.replace("ipv4", "ipv6"), "natural", waking_ack=38001)]
    assert headline(results) == "waking_ack 10001 pinned, 35001..38001 natural"
    assert headline(results[:1]) == "waking_ack 10001"


@pytest.fixture
def guest(tmp_path: Path) -> Path:
    """A guest's directory: report.json and its timelines, with one blocking writer woken
    inside an ACK (its witnessed call's numbers differ from the accounting read after it)."""
    d = tmp_path / "kernels" / "6.12.0"
    d.mkdir(parents=True)
    results = [result(LONG, waking_ack=10001)] + [result(f"epollout/s{i}[ET-cubic-ipv4]", waking_ack=i)
                                                  for i in range(3000)]
    (d / "report.json").write_text(json.dumps(report(results)))
    history: list[str] = []
    tl = Timeline("blocking send(61000)")
    tl.follow(history)
    tl.begin("send(61000) in a thread")
    tl.add("acct", "queued=43320", snapshot={"sndbuf": 42000, "wmem_queued": 43320, "free": -1320, "notsent": 9000})
    history.append("send blocked: SOCK_NOSPACE set")
    tl.begin("ACK 10001")
    tl.add("kern", "sk_stream_write_space [transmit inside the ACK (tcp_write_xmit)] queued=20520",
           call={"site": "transmit inside the ACK (tcp_write_xmit)", "wmem_queued": 20520, "sndbuf": 42000,
                 "notsent": 8000, "nospace": True, "rule_held": True, "woke": True})
    history.append("write-space wakeup (ACK, transmit inside the ACK (tcp_write_xmit)): SOCK_NOSPACE cleared")
    tl.check("writer woken", True, True, "witnessed: witnessed: transmit inside the ACK (tcp_write_xmit)")
    tl.add("acct", "queued=43320", snapshot={"sndbuf": 42000, "wmem_queued": 43320, "free": -1320, "notsent": 0})
    for i in range(30):
        tl.begin(f"ACK {20001 + i}")
        tl.add("note", "nothing")
    store.write(d / "report.json", [{"key": LONG, "nodeid": "x", "capture": None, "timelines": [tl.to_dict()]}])
    return d


def test_explain_shows_the_numbers_at_the_wakeup(guest, capsys):
    assert main(["explain", "pinned-layout", "--report", str(guest)]) == 0
    out = capsys.readouterr().out
    assert "accounting at the wakeup (transmit inside the ACK (tcp_write_xmit)): sndbuf=42000 queued=20520" in out
    assert "(queued 20520, free 21480, threshold queued/2 = 10260)" in out
    assert "free 21480 >= queued/2 10260 (queued 20520): yes" in out
    assert "witnessed: witnessed:" not in out and "(witnessed: transmit inside the ACK" in out
    assert "(--full shows them)" in out and "--timelines full" not in out


def test_a_key_that_matches_nothing_suggests_the_close_ones_whatever_the_case(guest, capsys):
    assert main(["explain", "BLOCKING-WRITER-WAKES", "--report", str(guest)]) == 2
    err = capsys.readouterr().err
    assert "no result matches" in err and LONG in err


def test_summary_takes_a_guests_directory_and_an_unknown_topic_is_an_error(guest, capsys):
    assert main(["summary", str(guest)]) == 0
    assert "3001 passed" in capsys.readouterr().out
    assert main(["table", str(guest), "--topic", "epolout"]) == 2
    assert "no topic 'epolout'" in capsys.readouterr().err and "epollout" not in capsys.readouterr().out
    assert main(["table", str(guest), "--topic", "epollout"]) == 0


def test_explain_fact_says_what_it_means_and_who_records_it(guest, capsys):
    assert main(["explain", "--fact", "syns_sent", "--report", str(guest)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("syns_sent: SYNs an unanswered connect() sent") and "ccce324dabfe" in out
    assert main(["explain", "--fact", "waking_ack", "--report", str(guest)]) == 0
    out = capsys.readouterr().out
    assert "skb head truesize (bf9f1baa279f, v6.3)" in out and "epollout/s0  (1 case(s))" in out
    assert main(["explain", "--fact", "no_such_fact", "--report", str(guest)]) == 2


def test_a_reader_that_stops_ends_it_quietly(guest):
    """``table --full | head -1``: the pipe closes under the writer; no traceback, exit 0."""
    proc = subprocess.Popen([sys.executable, "-m", "harness", "table", str(guest), "--full"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[3],
                            env={**os.environ, "COLUMNS": "100"})
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
