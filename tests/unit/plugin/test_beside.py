"""A body run beside the others hands the test what it recorded and what it raised."""

import pytest

from harness.plugin.beside import Job, enabled
from harness.plugin.results import Record


def test_beside_needs_two_cpus_and_no_opt_out():
    assert enabled({}, cpus=2)
    assert not enabled({}, cpus=1)                     # the main thread may hold the only CPU
    assert not enabled({"EPS_BESIDE": "0"}, cpus=8)    # turned off
    assert enabled({"EPS_BESIDE": "1"}, cpus=2)


def _done(job: Job) -> Job:
    job.done.set()
    return job


def test_the_test_gets_the_bodys_facts_conditions_and_timelines():
    body = Record("connect", "connect-never-answered", {"family": "ipv4"})
    body.fact("syns_sent", 3)
    body.layout("pinned", 1)
    body.attach("timeline")
    test = Record("connect", "connect-never-answered", {"family": "ipv4"})
    _done(Job(body)).take(test)
    assert test.facts == {"syns_sent": 3}
    assert test.conditions == {"layout": "pinned", "gso_max_segs": 1, "timing_dependent": False}
    assert test.timelines == ["timeline"]


def test_what_the_body_raised_is_raised_in_the_test_after_its_facts():
    body = Record("connect", "connect-never-answered", {})
    body.fact("so_error", "ECONNREFUSED")
    job = Job(body, error=AssertionError("claim failed: SO_ERROR reports ETIMEDOUT"))
    test = Record("connect", "connect-never-answered", {})
    with pytest.raises(AssertionError, match="ETIMEDOUT"):
        _done(job).take(test)
    assert test.facts == {"so_error": "ECONNREFUSED"}  # the report keeps what it saw


def test_a_skip_in_the_body_is_a_skip_of_the_test():
    job = Job(Record("t", "s", {}), error=pytest.skip.Exception("tun unavailable"))
    with pytest.raises(pytest.skip.Exception, match="tun unavailable"):
        _done(job).take(Record("t", "s", {}))
