"""Judging a guest's report: the first divergence of each failed case, and the verdict."""

from harness.kmutants import catalogue as C
from harness.kmutants.judge import divergence, judge


def report(*results):
    return {"results": [{"key": k, "verdict": v, "reason": r} for k, v, r in results]}


def test_a_step_check_names_its_rule():
    d = divergence("epollout/x[ET]", "step 7 (ack 8001 (one MSS)): epoll_wait(ET) required OUT, "
                   "observed - (write-space wakeup (ACK))")
    assert (d.rule, d.step) == ("epoll_wait(ET)", 7)
    d = divergence("k", "Failed: step 31 (ACK 40545): blocked writer woken required False, observed True")
    assert (d.rule, d.step) == ("blocked writer woken", 31)


def test_a_claim_and_anything_else_are_named_too():
    assert divergence("k", "claim failed: one wakeup per episode").rule == "claim: one wakeup per episode"
    assert divergence("k", "Failed: claim failed: x").rule == "claim: x"
    assert divergence("k", "Failed: Timeout >900.0s").rule == "other: Timeout >900.0s"
    assert divergence("k", None).rule == "other: no reason given"


def test_identity_passes_only_with_nothing_failed_and_something_passed():
    ident = C.by_name(C.IDENTITY)
    assert judge(ident, report(("a", "pass", None), ("b", "skip", "no kprobes"))).verdict == "passed"
    bad = judge(ident, report(("a", "pass", None), ("b", "fail", "step 1 (x): writer woken required True, observed False")))
    assert bad.verdict == "FAILED" and bad.first.rule == "writer woken" and not bad.ok
    assert judge(ident, report(("a", "skip", "no kprobes"))).verdict == "FAILED"


def test_a_mutant_is_killed_only_by_a_divergence_that_names_its_rule():
    m = C.by_name("poll-no-rdhup")
    elsewhere = report(("a", "fail", "Failed: step 2 (x): writer woken required True, observed False"))
    v = judge(m, elsewhere)
    assert v.verdict == "misnamed" and not v.ok
    named = report(("a", "fail", "step 2 (x): writer woken required True, observed False"),
                   ("b", "fail", "step 4 (fin): epoll_wait(ET) required IN|RDHUP, observed IN"))
    v = judge(m, named)
    assert v.verdict == "killed" and v.ok and v.first.key == "b" and len(v.failed) == 2
    assert v.first.line.startswith("step 4 (fin): ")


def test_a_mutant_that_fails_nothing_survived():
    v = judge(C.by_name("wake-late"), report(("a", "pass", None), ("b", "skip", "x")))
    assert v.verdict == "survived" and not v.ok


def test_no_report_is_infrastructure():
    v = judge(C.by_name("wake-late"), None, "boot timeout")
    assert v.verdict == "infra" and v.reason == "boot timeout"
    assert judge(C.by_name("wake-late"), {"results": []}).verdict == "infra"
