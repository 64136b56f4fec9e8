"""The one-screen summary and the full table of a report."""

from harness.reporting.summary import cell, summary
from harness.reporting.table_view import full_table


def result(topic, scenario, waiter, verdict="pass", cc="cubic", family="ipv4", **facts):
    return {"key": f"{topic}/{scenario}[{waiter}-{cc}-{family}]", "nodeid": f"t::{scenario}", "topic": topic,
            "scenario": scenario, "mode": waiter, "params": {"waiter": waiter, "cc": cc, "family": family},
            "verdict": verdict, "reason": "step 3 (ACK 19001): epoll_wait(ET) required OUT, observed -"
            if verdict == "fail" else None, "facts": facts}


def doc(results):
    return {"kernel": {"release": "6.12.9", "machine": "x86_64"}, "label": "host",
            "capabilities": {"root": {"ok": True}, "netem": {"ok": False, "reason": "no netem"}},
            "rules": {"kernel_rule_set": "6.12"}, "congestion_control": {"default": "cubic", "available": ["cubic"]},
            "results": results}


def many_scenarios(n=60, failing="zzz-late"):
    out = []
    for i in range(n):
        for w in ("ET", "LT", "poll", "select"):
            for fam in ("ipv4", "ipv6"):
                out.append(result("epollout", f"s{i:02d}", w, family=fam, waking_ack=19001 + 1000 * (fam == "ipv6")))
    out.append(result("readers", failing, "ET", verdict="fail"))
    return out


def test_cells_say_how_the_variants_went():
    assert cell([]) == "-"
    assert cell(["pass", "pass"]) == "ok"
    assert cell(["pass", "skip"]) == "ok+1skip"
    assert cell(["skip", "skip"]) == "skip"
    assert cell(["pass", "fail", "error"]) == "FAIL 2/3"
    assert cell(["error"]) == "ERROR 1/1"


def test_one_screen_failures_first_and_the_kernel_on_top():
    text = summary(doc(many_scenarios()), width=100)
    lines = text.splitlines()
    assert len(lines) <= 59  # and the run's closing line makes 60
    assert all(len(line) <= 100 for line in lines)
    assert lines[0].startswith("kernel 6.12.9 (x86_64), rule set 6.12, host: 480 passed, 1 failed")
    assert lines[1] == "capabilities: root; missing: netem (no netem)"
    first_row = lines[4]
    assert first_row.startswith("readers/zzz-late") and "FAIL 1/1" in first_row and "ACK 19001" in first_row
    assert "waking_ack 19001..20001" in text
    assert lines[-1].startswith("... ") and "table --full" in lines[-1]


def test_table_filters_and_wraps():
    d = doc(many_scenarios(n=3) + [result("readers", "long", "LT", note="x" * 300)])
    failed = full_table(d, 80, failed=True)
    assert "readers/zzz-late[ET-cubic-ipv4]" in failed and "s00" not in failed
    assert failed.splitlines()[-1] == "1 of 26 results"
    by_key = full_table(d, 80, key="s01[poll")
    assert by_key.splitlines()[-1] == "2 of 26 results"
    assert full_table(d, 80, topic="readers").splitlines()[-1] == "2 of 26 results"
    wrapped = full_table(d, 80, key="long")
    assert all(len(line) <= 80 for line in wrapped.splitlines()[2:])
    assert sum(line.lstrip().startswith("note=") or set(line.strip()) == {"x"} for line in wrapped.splitlines()) >= 3


def test_the_summary_says_how_many_verdicts_rest_on_bounds():
    from harness.reporting.report import bounded_steps
    from harness.reporting.summary import summary as one_screen

    results = [{"key": "t/s", "topic": "t", "scenario": "s", "verdict": "pass", "params": {},
                "series": [{"ack": 1, "basis": "exact"}, {"ack": 2, "basis": "bounded", "basis_bound": {}}]}]
    assert bounded_steps(results) == 1
    doc = {"kernel": {}, "summary": {"passed": 1, "failed": 0, "skipped": 0, "error": 0, "bounded": 1},
           "results": results}
    assert "verdicts resting on bounds: 1" in one_screen(doc)


def test_uring_columns_only_where_the_report_has_them():
    plain = summary(doc([result("epollout", "a", "ET")])).splitlines()
    header = next(line for line in plain if line.startswith("scenario"))
    assert "uring1" not in header and "uringM" not in header
    both = summary(doc([result("epollout", "a", "ET"), result("epollout", "a", "uring-oneshot"),
                        result("epollout", "a", "uring-multishot", verdict="fail")])).splitlines()
    header = next(line for line in both if line.startswith("scenario"))
    assert header.split()[1:7] == ["ET", "LT", "poll", "select", "uring1", "uringM"]
    row = next(line for line in both if line.startswith("epollout/a"))
    assert row.split()[1:7] == ["ok", "-", "-", "-", "ok", "FAIL"]
