"""A report as KTAP: a version line, a plan, one line per result, the reason on a skip or failure."""

import re

from harness.reporting import ktap

from compare_samples import make_report, result

RESULT_LINE = re.compile(r"^(ok|not ok) (\d+) (\S+)( # .*)?$")


def sample() -> dict:
    return make_report("6.12.0", [6, 12, 0], "host", [
        result("epollout/out-of-space-then-acks[ET-cubic-ipv4-eagain]"),
        result("readers/partial-read[LT-ipv4]", verdict="fail", reason="EPOLLOUT after EAGAIN:\nACK 9001 instead of 7001"),
        result("realpeer/gate[ET-netem]", verdict="skip", reason="netem unavailable: CONFIG_NET_SCH_NETEM"),
        result("state/peer-rst[ET-ipv4]", verdict="error", reason="fixture broke"),
    ], host={"name": "lab-7", "id": "x"})


def test_one_line_per_result_with_its_reason():
    lines = ktap.stream(sample()).splitlines()
    assert lines[0] == "KTAP version 1" and lines[2] == "1..4"
    assert "on lab-7" in lines[1]
    results = [ln for ln in lines if RESULT_LINE.match(ln)]
    assert results == [
        "ok 1 epollout.out-of-space-then-acks.ET-cubic-ipv4-eagain",
        "not ok 2 readers.partial-read.LT-ipv4 # EPOLLOUT after EAGAIN: ACK 9001 instead of 7001",
        "ok 3 realpeer.gate.ET-netem # SKIP netem unavailable: CONFIG_NET_SCH_NETEM",
        "not ok 4 state.peer-rst.ET-ipv4 # ERROR fixture broke",
    ]
    assert all(ln.startswith("#") for ln in lines if ln not in results and ln not in lines[:1] + lines[2:3])


def test_a_long_reason_stays_on_one_line():
    report = sample()
    report["results"][1]["reason"] = "word " * 400
    line = ktap.stream(report).splitlines()[4]
    assert line.startswith("not ok 2 ") and len(line) < 400
