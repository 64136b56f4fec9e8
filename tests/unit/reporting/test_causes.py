""""What changed": each differing fact explained by exactly the causes that reach it and differ."""

from __future__ import annotations

import itertools

from compare_samples import (CONNECT, ELSEWHERE, MATRIX, NATURAL, ODD, PRESSURE, TRUESIZE, WAKE, WAKE_LT,
                             make_report, matrix_comparison, result)

from harness.reporting import build_comparison
from harness.reporting.causes import pair_differences, what_changed
from harness.reporting.compare_md import render_markdown
from harness.reporting.mechanisms import MECHANISMS

def attribution(comp, a, b):
    return {(d.key, d.fact): (d.before, d.after, sorted(c.mechanism.name for c in d.causes), d.timing)
            for d in pair_differences(comp, a, b)}


def test_each_fact_gets_only_the_causes_that_reach_it():
    comp = matrix_comparison(MATRIX[1:3])
    got = attribution(comp, "k0", "k1")
    assert got[(WAKE, "waking_ack")] == (7001, 9001, ["truesize"], False)
    assert got[(WAKE, "bytes_before_eagain")][2] == ["truesize"]
    # truesize differs too, but a SYN count is out of its reach
    assert got[(CONNECT, "syns_sent")] == (2, 3, ["syn-linear-timeouts"], False)
    assert got[(PRESSURE, "empty_socket_under_pressure")][2] == ["forced-progress"]
    # in the same row, the ballast's pages are truesize's (sk_wmem_queued); the masks the send
    # leads to are the forced progress's there, and nobody's in another scenario
    assert got[(PRESSURE, "tcp_pages_held")][2] == ["truesize"]
    assert got[(PRESSURE, "masks")][2] == ["forced-progress"]
    assert got[(ELSEWHERE, "masks")][2] == []
    assert got[(NATURAL, "waking_ack")][3] is True and got[(NATURAL, "waking_ack")][2] == []


def test_a_cause_equal_on_both_kernels_explains_nothing():
    """6.12 -> 7: truesize, linear timeouts and the forced progress agree; what differs is unattributed."""
    comp = matrix_comparison(MATRIX[2:])
    got = attribution(comp, "k0", "k1")
    assert got[(ODD, "et_epollout_from_acks")] == (0, 1, [], False)
    assert all(not causes for _, _, causes, _ in got.values())


def test_every_pair_alone_and_within_the_whole_set_gets_the_same_causes():
    whole = matrix_comparison()
    ids = {k.release: k.id for k in whole.kernels}
    for a, b in itertools.combinations(MATRIX, 2):
        alone = matrix_comparison((a, b))
        assert attribution(alone, "k0", "k1") == attribution(whole, ids[a[0]], ids[b[0]]), (a[0], b[0])


def test_every_mechanism_declares_what_it_reaches():
    for m in MECHANISMS:
        assert m.reaches and m.fact in m.reaches, m.name
    truesize = next(m for m in MECHANISMS if m.name == "truesize")
    assert "syns_sent" not in truesize.reaches and "waking_ack" in truesize.reaches


def test_what_changed_groups_neighbouring_pairs_by_cause():
    comp = matrix_comparison()
    causes = {c.title.split(" (")[0]: c for c in what_changed(comp)}
    assert set(causes["skb head truesize"].keys) == {TRUESIZE, WAKE, WAKE_LT, PRESSURE}
    assert causes["skb head truesize"].values == (("6.1.0 [6.1.0-1] (guest)", "1280"),
                                                  ("6.12.0 [6.12.0-1] (guest)", "896"))
    assert CONNECT in causes["tcp_syn_linear_timeouts"].keys
    assert CONNECT not in causes["skb head truesize"].keys
    by_kind = {c.kind: c for c in what_changed(comp)}
    assert by_kind["timing-dependent"].keys == (NATURAL,)
    assert set(by_kind["unattributed"].keys) == {ODD, ELSEWHERE}
    text = render_markdown(comp)
    assert text.index("## What changed") < text.index("## Kernels")


def test_a_finding_is_listed_even_on_one_kernel_only():
    reports = [make_report("6.1.0", [6, 1, 0], results=[result(WAKE)]),
               make_report("6.12.0", [6, 12, 0], results=[
                   result(WAKE, finding="writer woken where no rule predicts it",
                          timeline="reports/captures/x.timeline.txt", capture="reports/captures/x.pcap")])]
    comp = build_comparison([("a", reports[0]), ("b", reports[1])])
    (cause,) = what_changed(comp)
    assert cause.kind == "finding" and cause.keys == (WAKE,)
    text = render_markdown(comp)
    assert "x.timeline.txt" in text and "x.pcap" in text


def test_blocking_writer_wakeup_is_the_plotted_wake():
    from harness.reporting.plots import series_points

    series = [{"ack": 10001, "wmem_queued": 30000, "sndbuf": 42000, "writer_woken": False},
              {"ack": 30001, "wmem_queued": 9000, "sndbuf": 42000, "writer_woken": True}]
    assert series_points(series)["wake"] == [(30001.0, 33000.0)]


def test_the_new_scenarios_facts_are_reached_only_where_their_mechanism_acts():
    """io_uring completions and the event-loop patterns' ACK steps move with truesize; the
    memory-pressure case's unreached branch and its skip are the forced progress's, and in
    another scenario neither mechanism reaches them."""
    truesize = next(m for m in MECHANISMS if m.name == "truesize")
    forced = next(m for m in MECHANISMS if m.name == "forced-progress")
    assert truesize.reaches_fact("completions", topic="epollout")
    assert truesize.reaches_fact("masks", topic="event-loops")
    assert not truesize.reaches_fact("completions", topic="state")
    assert forced.reaches_fact("unreached_branch", scenario="memory-pressure-on-an-empty-socket")
    assert forced.reaches_fact("verdict", scenario="memory-pressure-on-an-empty-socket")
    assert not forced.reaches_fact("verdict", topic="epollout", scenario="out-of-space-then-acks")
    assert not truesize.reaches_fact("unreached_branch", scenario="memory-pressure-on-an-empty-socket")
