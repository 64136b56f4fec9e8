"""The KCIDB export: every document built from the test reports passes kcidb-io's own
validator (schema 5.3), kernels are checkouts and builds once however many runs they had,
and what KCIDB would refuse is refused here first."""

import copy

import pytest
from jsonschema import ValidationError

from harness.reporting import kcidb
from harness.reporting.loading import ReportError, check_distinct

from compare_samples import EPOLLOUT_KEY, make_report, result, three_kernels

PROC_6_1 = ("Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) "
            "12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-1 (2026-10-01)")


def on(report: dict, host: str) -> dict:
    out = copy.deepcopy(report)
    out["host"] = {"name": host, "id": f"id-{host}"}
    return out


def odd_report() -> dict:
    """Every verdict, a reason KCIDB's excerpt limit cuts, a NUL, a finding, odd characters in ids."""
    results = [
        result("epollout/out-of-space-then-acks[ET-cubic-ipv4-eagain]", facts={"waking_ack": 19001},
               conditions={"layout": "pinned", "gso_max_segs": 1}),
        result("readers/urgent-byte-pri[LT-ipv6]", verdict="fail", reason="EPOLLOUT after EAGAIN: ACK 9001\0 "
               "instead of 7001\n" + "x" * 20000),
        result("state/peer-rst[ET-ipv4]", verdict="error", reason="fixture broke"),
        result("realpeer/gate[ET-netem]", verdict="skip", reason="netem unavailable"),
        result("listen/accept_queue[ET-a.b/c d#e]", finding="a wakeup no rule predicts"),
    ]
    report = make_report("6.1.0-57-cloud-amd64", [6, 1, 0], "guest", results)
    report["kernel"].update(package_version="6.1.192-1", proc_version=PROC_6_1)
    return report


SAMPLES = {"three-kernels": [(f"r{i}.json", r) for i, r in enumerate(three_kernels())],
           "every-verdict": [("odd.json", odd_report())],
           "one-kernel-two-machines": [("a.json", on(odd_report(), "alpha")), ("b.json", on(odd_report(), "beta"))]}


@pytest.mark.parametrize("name", SAMPLES)
def test_every_document_of_the_test_reports_validates_with_kcidb_io(name):
    reports = SAMPLES[name]
    doc = kcidb.document(reports, "epoll_semantics")
    kcidb.validate(doc)
    assert doc["version"] == {"major": 5, "minor": 3}
    assert len(doc["tests"]) == sum(len(r["results"]) for _, r in reports)
    assert len({t["id"] for t in doc["tests"]}) == len(doc["tests"])


def test_a_kernel_from_two_machines_is_one_checkout_and_build_with_two_runs_of_tests():
    doc = kcidb.document(SAMPLES["one-kernel-two-machines"], "epoll_semantics")
    assert len(doc["checkouts"]) == 1 and len(doc["builds"]) == 1
    hosts = {t["environment"]["misc"]["host"]["name"] for t in doc["tests"]}
    assert hosts == {"alpha", "beta"}
    assert {t["build_id"] for t in doc["tests"]} == {doc["builds"][0]["id"]}


def test_three_kernels_are_three_checkouts():
    doc = kcidb.document(SAMPLES["three-kernels"], "epoll_semantics")
    assert len(doc["checkouts"]) == len(doc["builds"]) == 3


def test_a_result_becomes_a_test_with_its_status_facts_and_environment():
    doc = kcidb.document(SAMPLES["every-verdict"], "ci_lab")
    by_key = {t["misc"]["key"]: t for t in doc["tests"]}
    t = by_key["epollout/out-of-space-then-acks[ET-cubic-ipv4-eagain]"]
    assert t["path"] == "epoll_semantics.epollout.out-of-space-then-acks.ET-cubic-ipv4-eagain"
    assert t["status"] == "PASS" and t["duration"] == pytest.approx(0.03) and t["id"].startswith("ci_lab:")
    assert t["misc"]["facts"] == {"waking_ack": 19001} and t["misc"]["conditions"]["layout"] == "pinned"
    assert t["environment"]["misc"]["waiter"] == "ET" and t["environment"]["misc"]["layout"] == "pinned"
    statuses = {k.split("/")[0]: t["status"] for k, t in by_key.items()}
    assert statuses == {"epollout": "PASS", "readers": "FAIL", "state": "ERROR", "realpeer": "SKIP", "listen": "PASS"}
    failed = by_key["readers/urgent-byte-pri[LT-ipv6]"]
    assert "\0" not in failed["log_excerpt"] and len(failed["log_excerpt"]) == kcidb.EXCERPT_LIMIT
    assert doc["builds"][0]["compiler"] == "gcc-12 (Debian 12.2.0-14) 12.2.0"


@pytest.mark.parametrize("origin", ["epoll-semantics", "Epoll", "", "lab:1"])
def test_an_origin_kcidb_refuses_is_refused(origin):
    with pytest.raises(kcidb.OriginError):
        kcidb.document(SAMPLES["every-verdict"], origin)


@pytest.mark.parametrize("spoil", ["status", "path", "version", "extra"])
def test_the_validator_is_the_strict_one(spoil):
    doc = kcidb.document(SAMPLES["every-verdict"], "epoll_semantics")
    t = doc["tests"][0]
    if spoil == "status":
        t["status"] = "pass"
    elif spoil == "path":
        t["path"] = "epoll_semantics.listen.accept_queue[ET]"
    elif spoil == "version":
        doc["version"]["minor"] = 4
    else:
        t["waiter"] = "ET"
    with pytest.raises(ValidationError):
        kcidb.validate(doc)


def test_the_same_kernel_twice_from_one_machine_is_refused_from_two_accepted():
    one = on(make_report("6.1.0", [6, 1, 0], "guest", [result(EPOLLOUT_KEY)]), "alpha")
    check_distinct([("a.json", one), ("b.json", on(one, "beta"))])
    with pytest.raises(ReportError, match="on alpha is also the run of a.json"):
        check_distinct([("a.json", one), ("b.json", copy.deepcopy(one))])
