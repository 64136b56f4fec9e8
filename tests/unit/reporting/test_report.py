"""The report writer and table: schema, summary, keys, variant column."""

import json

from harness.reporting import load_report
from harness.reporting import report as R


def sample_results():
    return [
        R.Result(key="epollout/x[ET-cubic-ipv4-eagain]", nodeid="t::x", topic="epollout", scenario="x",
                 mode="ET", params={"mode": "ET", "cc": "cubic", "family": "ipv4", "write": "eagain"},
                 facts={"waking_ack": 19001, "bytes_before_eagain": 42000},
                 series=[{"ack": 1001, "wmem_queued": 40000, "sndbuf": 42000, "free": 2000,
                          "threshold": 20000, "writable": False, "epollout": False}]),
        R.Result(key="epollout/y[LT-cubic-ipv6]", nodeid="t::y", topic="epollout", scenario="y", mode="LT",
                 params={"mode": "LT", "cc": "cubic", "family": "ipv6"}, verdict="skip",
                 reason="netem unavailable: CONFIG_NET_SCH_NETEM is not set"),
    ]


def build():
    return R.build(sample_results(), capabilities={"root": {"ok": True, "reason": None}},
                   sysctls={"net.ipv4.tcp_sack": "1"}, congestion={"default": "bbr", "available": ["cubic"]},
                   rules={"kernel_rule_set": "6.18.0", "changes": []})


def test_written_report_loads_with_the_comparison_loader(tmp_path):
    path = R.write(str(tmp_path / "r.json"), build())
    doc = load_report(path)
    assert doc["schema"] == R.SCHEMA and doc["schema_version"] == R.SCHEMA_VERSION
    assert doc["summary"] == {"passed": 1, "failed": 0, "skipped": 1, "error": 0, "bounded": 0}
    assert [r["key"] for r in doc["results"]] == sorted(r.key for r in sample_results())
    assert "series" not in doc["results"][1]
    json.loads(open(path).read())


def test_table_shows_variant_facts_and_skip_reason():
    text = R.table(build())
    assert "epollout/x[eagain]" in text
    assert "19001" in text and "42000" in text
    assert "netem unavailable" in text
    assert text.splitlines()[0].startswith("kernel ")


def test_package_version_from_proc_version():
    debian = ("Linux version 5.10.0-46-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-10 (Debian "
              "10.2.1-6) 10.2.1 20210110, GNU ld (GNU Binutils for Debian) 2.35.2) #1 SMP Debian "
              "5.10.262-1 (2026-10-01)")
    assert R.package_version(debian)["package_version"] == "5.10.262-1"
    assert R.package_version("Linux version 6.18.44 (root@build) #1 SMP")["package_version"] is None
