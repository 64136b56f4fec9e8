"""The guide: claims judged per kernel from reports, and what it leaves out (no root)."""

from __future__ import annotations

from harness.reporting.comparison import build_comparison
from harness.reporting.guide import FAILS, HOLDS, UNPROVEN, build_guide, columns
from harness.reporting.guide_claims import CLAIMS, Claim, P
from harness.reporting.guide_render import headline, render_html, render_markdown

from compare_samples import make_report, result

FIN = "event-loops/fin-on-full-send-buffer[{}-ipv4-fin-on-full-send-buffer]"
DIST = "many-waiters/distribution[ET-ipv4-instances-exclusive]"
CLAIM = Claim("Closing", "A FIN alone never gives EPOLLHUP.", (P("event-loops/fin-on-full-send-buffer", ("ET", "LT")),))
SKEW = Claim("Waiters", "The first instance takes every connection.",
             (P("many-waiters/distribution", ("ET",), "instances-exclusive",
                fact=("distribution", lambda d: d[0] == sum(d), "all to the first")),))
NEVER = Claim("io_uring", "Multishot gives one completion per wakeup.", (P("*", ("*uring*multi*",)),))


def comparison(*reports):
    return build_comparison([(f"r{i}.json", r) for i, r in enumerate(reports)])


def kernel(release, version, verdict="pass", dist=(6, 0, 0), skip_lt=False):
    results = [result(FIN.format("ET"), verdict),
               result(FIN.format("LT"), "skip" if skip_lt else "pass"),
               result(DIST, facts={"distribution": list(dist)})]
    return make_report(release, version, results=results)


def test_a_claim_holds_where_every_proving_case_passed():
    g = build_guide(comparison(kernel("5.10.0", [5, 10]), kernel("6.1.0", [6, 1])), (CLAIM, SKEW))
    assert [len(line.verdicts) for line in g.lines] == [2, 2]
    assert all(line.everywhere for line in g.lines)
    assert "2 claims; 2 hold on all 2 kernels" in headline(g)


def test_a_failing_case_makes_the_claim_fail_there_and_names_it():
    g = build_guide(comparison(kernel("5.10.0", [5, 10], verdict="fail"), kernel("6.1.0", [6, 1])), (CLAIM,))
    line = g.lines[0]
    assert line.verdicts["5.10.0"].state == FAILS and line.verdicts["6.1.0"].state == HOLDS
    assert line.differs and FIN.format("ET") in line.verdicts["5.10.0"].failed
    text = render_markdown(g)
    assert "## Where kernels differ" in text and "FAILS on 5.10.0" in text


def test_a_fact_with_another_value_is_rejected():
    g = build_guide(comparison(kernel("5.10.0", [5, 10], dist=(2, 2, 2)), kernel("6.1.0", [6, 1])), (SKEW,))
    assert g.lines[0].verdicts["5.10.0"].state == FAILS


def test_a_skipped_case_leaves_the_kernel_unproven_not_failed():
    g = build_guide(comparison(kernel("5.10.0", [5, 10]), kernel("6.1.0", [6, 1])), (Claim("x", "LT only", (
        P("event-loops/fin-on-full-send-buffer", ("LT",)),)),))
    assert g.lines[0].everywhere
    g = build_guide(comparison(kernel("5.10.0", [5, 10], skip_lt=True), kernel("6.1.0", [6, 1])), (Claim("x", "LT only", (
        P("event-loops/fin-on-full-send-buffer", ("LT",)),)),))
    assert g.lines[0].verdicts["5.10.0"].state == UNPROVEN and not g.lines[0].differs


def test_a_claim_no_case_proves_is_not_written():
    g = build_guide(comparison(kernel("6.1.0", [6, 1])), (CLAIM, NEVER))
    assert [line.claim for line in g.lines] == [CLAIM] and g.left_out == (NEVER,)
    assert NEVER.text not in render_html(g)
    assert "1 left out" in headline(g)


def test_reports_of_one_release_are_one_column():
    full, part = kernel("6.1.0", [6, 1]), kernel("6.1.0", [6, 1])
    part["label"] = "patterns"
    cols = columns(comparison(full, part))
    assert len(cols) == 1 and len(cols[0].ids) == 2


def test_the_catalogue_texts_are_sentences_with_proofs():
    assert len(CLAIMS) >= 25
    for claim in CLAIMS:
        assert claim.proofs and claim.text.endswith("."), claim.text
    assert len({c.text for c in CLAIMS}) == len(CLAIMS)
