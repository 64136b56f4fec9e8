"""Write a Comparison as compare.md and compare.html, with the timelines they link to.

Kept apart from the model (``comparison``) because the renderers import the model's types:
the model never imports a renderer, so there is no import circle.  A report keeps every
case's timeline in one file beside it (:mod:`harness.record.store`); the cells the pages link
to (failures and findings) get theirs written out as text next to the pages.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

from harness.record import store
from harness.record.timeline import Timeline

from .compare_html import render_html
from .compare_md import render_markdown
from .comparison import Cell, Comparison

TIMELINES = "timelines"  # beside compare.html: one text file per linked cell


def write_comparison(comparison: Comparison, out_dir: str | Path, plots: bool = True) -> list[Path]:
    """Write compare.md and compare.html into ``out_dir``; return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    comparison = with_timeline_files(comparison, out)
    md_path = out / "compare.md"
    html_path = out / "compare.html"
    md_path.write_text(render_markdown(comparison), encoding="utf-8")
    html_path.write_text(render_html(comparison, with_plots=plots, out_dir=str(out)), encoding="utf-8")
    return [md_path, html_path]


def with_timeline_files(comparison: Comparison, out: Path) -> Comparison:
    """The comparison with each linked cell's timeline written to ``out/timelines/`` as text
    and the cell pointing there (relative to ``out``); a timeline no longer kept is dropped."""
    shutil.rmtree(out / TIMELINES, ignore_errors=True)  # those of an earlier comparison
    kept: dict[str, dict] = {}
    rows = []
    for row in comparison.rows:
        cells = {kid: _exported(cell, row.key, kid, out, kept) for kid, cell in row.cells.items()}
        rows.append(replace(row, cells=cells))
    return replace(comparison, rows=tuple(rows))


def _exported(cell: Cell | None, key: str, kid: str, out: Path, kept: dict[str, dict]) -> Cell | None:
    if cell is None or not cell.timeline or not cell.timeline.endswith(store.SUFFIX):
        return cell
    if not (cell.finding or cell.verdict in ("fail", "error")):
        return cell
    report = cell.timeline[:-len(store.SUFFIX)] + ".json"
    if cell.timeline not in kept:
        kept[cell.timeline] = store.read(report)
    row = kept[cell.timeline].get(key)
    if row is None:
        return replace(cell, timeline=None)
    text = "\n\n".join(f"timeline {t.title}\n{t.render()}" for t in map(Timeline.from_dict, row.get("timelines") or []))
    slug = re.sub(r"[^\w.-]+", "_", key).strip("_")
    name = f"{kid}-{slug}.txt"
    (out / TIMELINES).mkdir(exist_ok=True)
    (out / TIMELINES / name).write_text(text + "\n", encoding="utf-8")
    return replace(cell, timeline=f"{TIMELINES}/{name}")
