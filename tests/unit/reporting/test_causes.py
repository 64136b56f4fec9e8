""""What changed": differences grouped by the cause that explains them."""

from __future__ import annotations

from compare_samples import make_report, result

from harness.reporting import build_comparison
from harness.reporting.causes import explains, what_changed
from harness.reporting.compare_md import render_markdown

TRUESIZE = "accounting/skb-head-truesize[ipv4]"
WAKE = "epollout/out-of-space-then-acks[ET-cubic-ipv4-fill-until-eagain]"
WAKE_LT = "epollout/out-of-space-then-acks[LT-cubic-ipv4-fill-until-eagain]"
NATURAL = "epollout/out-of-space-then-acks[ET-cubic-ipv4-fill-until-eagain-natural-layout]"
ODD = "epollout/small-write-then-acks[ET-cubic-ipv4]"


def kernels(*specs):
    """(release, version, truesize, waking ack, natural ack, odd fact) per kernel."""
    reports = []
    for release, version, truesize, wake, natural, odd in specs:
        results = [
            result(TRUESIZE, facts={"skb_head_truesize": truesize}),
            result(WAKE, facts={"waking_ack": wake}),
            result(WAKE_LT, facts={"waking_ack": wake}),
            result(NATURAL, facts={"waking_ack": natural},
                   conditions={"layout": "natural", "timing_dependent": True, "rtt_us": 90}),
            result(ODD, facts={"et_epollout_from_acks": odd}),
        ]
        reports.append((release, make_report(release, version, "guest", results,
                                             kernel={"release": release, "version": version,
                                                     "machine": "x86_64",
                                                     "package_version": release + "-1"})))
    return build_comparison(reports)


def test_truesize_explains_the_waking_ack_and_the_rest_is_sorted_by_cause():
    comparison = kernels(("6.1.0", [6, 1, 0], 1280, 7001, 18001, 0),
                         ("6.12.0", [6, 12, 0], 896, 8001, 19001, 0),
                         ("7.0.0", [7, 0, 0], 896, 8001, 21001, 1))
    causes = {c.kind: c for c in what_changed(comparison)}
    constant = causes["accounting constant"]
    assert constant.title.startswith("skb_head_truesize") and "bf9f1baa279f" in constant.title
    assert set(constant.keys) == {TRUESIZE, WAKE, WAKE_LT}
    assert constant.values == (("6.1.0 [6.1.0-1] (guest)", "1280"), ("6.12.0 [6.12.0-1] (guest)", "896"),
                               ("7.0.0 [7.0.0-1] (guest)", "896"))
    # 6.12 and 7 share the truesize but not the natural layout's ACK: timing, not the kernel.
    assert causes["timing-dependent"].keys == (NATURAL,)
    assert causes["unattributed"].keys == (ODD,)
    text = render_markdown(comparison)
    assert text.index("## What changed") < text.index("## Kernels")
    assert "explains 3 case(s)" in text and "6.1.0 [6.1.0-1] (guest) = 1280" in text


def test_a_cause_that_splits_kernels_differently_explains_nothing():
    comparison = kernels(("6.1.0", [6, 1, 0], 1280, 7001, 1, 0),
                         ("6.12.0", [6, 12, 0], 1280, 8001, 1, 0))
    row = next(r for r in comparison.rows if r.key == WAKE)
    assert not explains(row, {"k0": 1280, "k1": 1280})
    assert explains(row, {"k0": "a", "k1": "b"})
    assert [c.kind for c in what_changed(comparison)] == ["unattributed"]


def test_a_finding_is_listed_even_on_one_kernel_only():
    reports = [make_report("6.1.0", [6, 1, 0], results=[result(WAKE)]),
               make_report("6.12.0", [6, 12, 0], results=[
                   result(WAKE, finding="writer woken where no rule predicts it",
                          timeline="reports/captures/x.timeline.txt", capture="reports/captures/x.pcap")])]
    comparison = build_comparison([("a", reports[0]), ("b", reports[1])])
    (cause,) = what_changed(comparison)
    assert cause.kind == "finding" and cause.keys == (WAKE,)
    text = render_markdown(comparison)
    assert "x.timeline.txt" in text and "x.pcap" in text


def test_blocking_writer_wakeup_is_the_plotted_wake():
    from harness.reporting.plots import series_points

    series = [{"ack": 10001, "wmem_queued": 30000, "sndbuf": 42000, "writer_woken": False},
              {"ack": 30001, "wmem_queued": 9000, "sndbuf": 42000, "writer_woken": True}]
    assert series_points(series)["wake"] == [(30001.0, 33000.0)]
