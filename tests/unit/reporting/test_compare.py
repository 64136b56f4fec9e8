"""Unit tests of the report comparison: no root, no network, sample reports built here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from compare_samples import (
    EPOLLOUT_KEY,
    LT_KEY,
    NETEM_KEY,
    ONLY_NEW_KEY,
    make_report,
    make_series,
    result,
    three_kernels,
    write_reports,
)

from harness import cli
from harness.reporting import (
    ReportError,
    build_comparison,
    load_comparison,
    load_report,
    parse_release,
    write_comparison,
)
from harness.reporting.compare_html import render_html
from harness.reporting.compare_md import render_markdown
from harness.reporting.comparison import MISSING

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    write_reports(tmp_path / "in", three_kernels())
    return tmp_path / "in"


def table_row(markdown: str, key: str) -> list[str]:
    """The cells of the markdown table row for ``key``, split on unescaped pipes."""
    line = next(t for t in markdown.splitlines() if t.startswith("|") and f"`{key}`" in t)
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def table_header(markdown: str) -> list[str]:
    line = next(t for t in markdown.splitlines() if t.startswith("| Result |"))
    return [c.strip() for c in line.split("|")[1:-1]]


# --------------------------------------------------------------------------- model


def test_kernels_are_ordered_by_version_not_by_file_or_string(report_dir: Path):
    comparison = load_comparison([report_dir])
    # 5.4 < 6.1 < 6.18 numerically, although "6.18" < "6.1." would sort otherwise.
    assert [k.release for k in comparison.kernels] == [
        "5.4.0-old", "6.1.0-18-amd64", "6.18.44-cloud-amd64"]
    assert [k.title for k in comparison.kernels][-1] == "6.18.44-cloud-amd64 (host)"


def test_rows_sorted_by_topic_then_key(report_dir: Path):
    rows = load_comparison([report_dir]).rows
    assert [(r.topic, r.key) for r in rows] == sorted((r.topic, r.key) for r in rows)
    assert [r.key for r in rows] == [NETEM_KEY, EPOLLOUT_KEY, LT_KEY, ONLY_NEW_KEY]


def test_differing_fact_makes_row_differ(report_dir: Path):
    comparison = load_comparison([report_dir])
    differing = {r.key: r for r in comparison.differing_rows}
    assert set(differing) == {EPOLLOUT_KEY}
    assert differing[EPOLLOUT_KEY].differing_facts == {"waking_ack"}
    assert not differing[EPOLLOUT_KEY].verdict_differs


def test_skip_and_absence_are_not_differences(report_dir: Path):
    rows = {r.key: r for r in load_comparison([report_dir]).rows}
    # The skipped kernel recorded wakeups=0, the others 1: a skip is no evidence.
    assert not rows[NETEM_KEY].differs and rows[NETEM_KEY].incomplete
    assert not rows[ONLY_NEW_KEY].differs and rows[ONLY_NEW_KEY].incomplete


def test_verdict_difference_among_kernels_that_ran():
    reports = [
        make_report("5.10.0", [5, 10, 0], results=[result(LT_KEY, verdict="fail", reason="no wakeup")]),
        make_report("6.1.0", [6, 1, 0], results=[result(LT_KEY)]),
    ]
    comparison = build_comparison([("a.json", reports[0]), ("b.json", reports[1])])
    row = comparison.rows[0]
    assert row.verdict_differs and row.differs
    cells = table_row(render_markdown(comparison), LT_KEY)
    # Only where the verdict changed from the kernel to the left; the failed case shows its reason.
    assert cells[3].startswith("fail") and "*no wakeup*" in cells[3]
    assert cells[4] == "**\u26a0 pass**"


def test_other_facts_shown_only_where_they_differ():
    base = {"waking_ack": 1, "sndbuf_at_wake": 42000, "same_everywhere": 7}
    reports = [
        make_report("6.1.0", [6, 1, 0], results=[result(LT_KEY, facts=base)]),
        make_report("6.6.0", [6, 6, 0], results=[result(LT_KEY, facts={**base, "sndbuf_at_wake": 46080})]),
    ]
    row = build_comparison([("a", reports[0]), ("b", reports[1])]).rows[0]
    assert row.shown_facts == ("waking_ack", "sndbuf_at_wake")
    assert row.differing_facts == {"sndbuf_at_wake"}


def test_tolerates_unknown_fields(tmp_path: Path):
    report = make_report("6.1.0", [6, 1, 0], results=[result(LT_KEY, extra=[1, 2])])
    report["unknown_top_level"] = {"x": 1}
    path = tmp_path / "extra.json"
    path.write_text(json.dumps(report))
    comparison = load_comparison([path])
    assert comparison.kernels[0].release == "6.1.0"
    assert comparison.rows[0].topic == "epollout"
    assert LT_KEY in render_markdown(comparison)
    render_html(comparison)


def test_version_falls_back_to_release_string():
    assert parse_release("6.1.0-18-amd64") == (6, 1, 0)
    assert parse_release("5.10") == (5, 10, 0)
    assert parse_release("weird") == ()


def test_duplicate_key_is_kept_once_with_a_warning():
    report = make_report("6.1.0", [6, 1, 0], results=[result(LT_KEY), result(LT_KEY, verdict="fail")])
    comparison = build_comparison([("dup.json", report)])
    assert len(comparison.rows) == 1
    assert comparison.rows[0].cells["k0"].verdict == "pass"
    assert any("duplicate key" in w for w in comparison.warnings)


# --------------------------------------------------------------------------- markdown


def test_markdown_table_has_a_column_per_kernel_and_a_row_per_key(report_dir: Path):
    markdown = render_markdown(load_comparison([report_dir]))
    assert table_header(markdown) == [
        "Result", "Mode", "Params",
        "5.4.0-old (guest)", "6.1.0-18-amd64 (guest)", "6.18.44-cloud-amd64 (host)"]
    cells = table_row(markdown, LT_KEY)
    assert len(cells) == 6
    assert all(c.startswith("pass") for c in cells[3:])
    # The pipe inside the mask must not split the cell.
    assert r"masks=[OUT, IN\|OUT]" in table_row(markdown, EPOLLOUT_KEY)[3]


def test_markdown_marks_the_differing_cell(report_dir: Path):
    markdown = render_markdown(load_comparison([report_dir]))
    cells = table_row(markdown, EPOLLOUT_KEY)
    assert cells[0].startswith("**\u26a0**")
    # The old kernel wakes one ACK late: highlighted where the value changed, from 5.4 to
    # 6.1, and not on 6.18, which agrees with 6.1.
    assert "waking_ack=16001" in cells[3] and "\u26a0" not in cells[3]
    assert "**\u26a0 waking_ack=14001**" in cells[4]
    assert "waking_ack=14001" in cells[5] and "\u26a0" not in cells[5]
    assert "bytes_before_eagain=43690" in cells[4] and "**\u26a0 bytes" not in cells[4]
    assert not table_row(markdown, LT_KEY)[0].startswith("**")
    assert "- 1 row(s) differ between kernels that ran them." in markdown


def test_markdown_dash_for_missing_result_and_skip_shown(report_dir: Path):
    markdown = render_markdown(load_comparison([report_dir]))
    cells = table_row(markdown, ONLY_NEW_KEY)
    assert cells[3] == MISSING and cells[4] == MISSING
    assert cells[5].startswith("pass")
    skipped = table_row(markdown, NETEM_KEY)[3]
    assert skipped.startswith("skip") and "netem unavailable" in skipped and "\u26a0" not in skipped


def test_markdown_summary_findings_capabilities_and_rules(report_dir: Path):
    markdown = render_markdown(load_comparison([report_dir]))
    assert "RDHUP reported before the FIN was acknowledged" in markdown
    assert "| netem | **\u26a0 no: netem unavailable: CONFIG_NET_SCH_NETEM** | yes | yes |" in markdown
    assert "| tcp: remove SOCK_QUEUE_SHRUNK | 5.10 | no | yes | yes |" in markdown
    assert "| 5.4.0-old (guest) | x86_64 |" in markdown


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "content, message",
    [
        ({"schema": "epoll-semantics.report", "schema_version": 1, "results": []},
         "schema_version: 1 unsupported"),
        ({"schema": "something-else", "schema_version": 2}, "schema: 'something-else'"),
        ([1, 2, 3], "not a JSON object"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_schema_is_a_clear_error(tmp_path: Path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(ReportError, match=re.escape(message)):
        load_report(path)


def test_cli_exit_2_with_one_line_message(tmp_path: Path, report_dir: Path, capsys):
    bad = tmp_path / "v1.json"
    bad.write_text(json.dumps({"schema": "epoll-semantics.report", "schema_version": 1}))
    assert cli.main(["compare", "--out", str(tmp_path / "out"), str(report_dir), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "schema_version: 1" in err and "v1.json" in err
    assert not (tmp_path / "out").exists()

    assert cli.main(["compare", str(tmp_path / "does-not-exist.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli.main(["compare", str(tmp_path / "empty")]) == 2
    assert "no *.json" in capsys.readouterr().err


def test_cli_writes_both_files(tmp_path: Path, report_dir: Path, capsys):
    files = sorted(str(p) for p in report_dir.glob("*.json"))
    assert cli.main(["compare", "--out", str(tmp_path / "out"), *files]) == 0
    assert (tmp_path / "out" / "compare.md").read_text().startswith("# epoll readiness")
    assert "<table" in (tmp_path / "out" / "compare.html").read_text()
    assert "1 differing" in capsys.readouterr().out


def test_python_dash_m_harness_compare(tmp_path: Path, report_dir: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--no-plots", "--out", str(tmp_path / "o"),
         str(report_dir)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=50)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o" / "compare.md").exists()


# --------------------------------------------------------------------------- HTML and plots


def test_html_highlights_differing_cells_and_is_self_contained(report_dir: Path):
    html = render_html(load_comparison([report_dir]), with_plots=False)
    # Only the cell where the value changed (6.1 after 5.4); 6.18 agrees with 6.1.
    assert html.count('class="cell c-pass differs"') == 1
    assert '<li class="fact diff">\u26a0 waking_ack = 14001</li>' in html
    assert '<li class="fact">waking_ack = 16001</li>' in html
    assert 'class="missing"' in html and MISSING in html
    assert "no: netem unavailable: CONFIG_NET_SCH_NETEM" in html
    assert "tcp: remove SOCK_QUEUE_SHRUNK" in html
    assert not re.search(r"(?:src|href)=\"(?!data:|#)", html)
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_plots_embedded_when_series_exist(report_dir: Path):
    pytest.importorskip("matplotlib")
    from harness.reporting.plots import plot_series

    png = plot_series("t", [("k", make_series())])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    html = render_html(load_comparison([report_dir]))
    assert html.count('<img class="plot"') == 2  # the ET and LT EPOLLOUT rows
    assert html.count('src="data:image/png;base64,') == 2


def test_plots_tolerate_sparse_series():
    pytest.importorskip("matplotlib")
    from harness.reporting.plots import plot_series, series_points

    sparse = [{"ack": 1, "wmem_queued": 100, "sndbuf": 150}, {"wmem_queued": 40, "epollout": True}, "junk"]
    cols = series_points(sparse)
    assert cols["free"] == [50.0, None] and cols["threshold"] == [50.0, 20.0]
    assert cols["wake"] == [(1.0, None)]
    assert plot_series("sparse", [("k", sparse)]).startswith(b"\x89PNG")


def test_html_says_plots_unavailable_without_matplotlib(report_dir: Path, monkeypatch):
    # A None entry in sys.modules makes "import matplotlib" raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    html = render_html(load_comparison([report_dir]))
    assert "Plots unavailable: matplotlib is not installed" in html
    assert "<img" not in html


def test_write_comparison_creates_out_dir(tmp_path: Path, report_dir: Path):
    written = write_comparison(load_comparison([report_dir]), tmp_path / "a" / "b", plots=False)
    assert [p.name for p in written] == ["compare.md", "compare.html"]
    assert all(p.stat().st_size > 0 for p in written)


def test_a_failed_cells_timeline_is_written_beside_the_pages_from_the_reports_store(tmp_path: Path):
    """A report keeps every case's timeline in one file beside it; the comparison writes the
    failed cell's out as text next to compare.html and links that, nothing for a passing one."""
    from harness.record import store
    from harness.record.timeline import Timeline

    old = make_report("6.1.0-1-amd64", [6, 1, 0], results=[result(EPOLLOUT_KEY), result(LT_KEY)])
    new = make_report("6.12.9-amd64", [6, 12, 9])
    kept = "x" + store.SUFFIX  # what the plugin writes: the store's path, as the run named it
    new["results"] = [result(EPOLLOUT_KEY, "fail", timeline=kept), result(LT_KEY, timeline=None)]
    paths = write_reports(tmp_path / "in", [old, new])
    t = Timeline("the case")
    t.add("call", "send(1000) = 1000")
    store.write(paths[1], [{"key": EPOLLOUT_KEY, "nodeid": "n", "capture": None, "timelines": [t.to_dict()]}])
    comparison = build_comparison([(str(p), json.loads(p.read_text())) for p in paths])
    assert next(r for r in comparison.rows if r.key == EPOLLOUT_KEY).cells["k1"].timeline == str(store.path_for(paths[1]))
    (tmp_path / "out" / "timelines").mkdir(parents=True)
    (tmp_path / "out" / "timelines" / "stale.txt").write_text("an earlier comparison's")
    write_comparison(comparison, tmp_path / "out", plots=False)
    files = list((tmp_path / "out" / "timelines").iterdir())
    assert len(files) == 1 and "send(1000) = 1000" in files[0].read_text()
    assert f"timelines/{files[0].name}" in (tmp_path / "out" / "compare.md").read_text()
    assert f"timelines/{files[0].name}" in (tmp_path / "out" / "compare.html").read_text()


def test_the_comparison_counts_the_verdicts_that_rest_on_bounds(tmp_path: Path):
    reports = three_kernels()
    first = reports[0]
    for r in first["results"]:
        if r.get("series"):
            r["series"][0]["basis"] = "bounded"
            break
    else:
        first["results"][0]["series"] = [{"ack": 1, "wmem_queued": 0, "sndbuf": 1, "basis": "bounded"}]
    write_reports(tmp_path / "in", reports)
    markdown = render_markdown(load_comparison([tmp_path / "in"]))
    head = next(t for t in markdown.splitlines() if t.startswith("| Kernel |"))
    assert "On bounds" in head
    rows = [t for t in markdown.splitlines() if t.startswith("| ") and "x86_64" in t][:3]
    assert sorted(r.rstrip(" |").rsplit("|", 1)[-1].strip() for r in rows) == ["0", "0", "1"]


def test_an_unreached_branch_is_compared_not_hidden_like_a_skip():
    """A case skipped because the kernel never took its branch still observed the kernel:
    its facts differ from a kernel that took the branch, unlike a skip for a missing
    capability."""
    from compare_samples import PRESSURE

    took = result(PRESSURE, facts={"empty_socket_under_pressure": "EAGAIN with empty queues, woken directly"})
    forced = result(PRESSURE, verdict="skip", facts={"empty_socket_under_pressure": "forced progress: 4096 bytes queued",
                                                     "unreached_branch": "EAGAIN with both queues empty"})
    missing = result(PRESSURE, verdict="skip", facts={})
    reports = [make_report("5.10.0", [5, 10, 0], "guest", [took]), make_report("6.1.0", [6, 1, 0], "guest", [forced])]
    row = next(r for r in build_comparison([(f"r{i}.json", d) for i, d in enumerate(reports)]).rows if r.key == PRESSURE)
    assert row.differs and "empty_socket_under_pressure" in row.differing_facts
    reports[1] = make_report("6.1.0", [6, 1, 0], "guest", [missing])
    row = next(r for r in build_comparison([(f"r{i}.json", d) for i, d in enumerate(reports)]).rows if r.key == PRESSURE)
    assert not row.differs
