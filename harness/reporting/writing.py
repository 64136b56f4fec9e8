"""Write a Comparison as compare.md and compare.html.

Kept apart from the model (``comparison``) because the renderers import the model's types:
the model never imports a renderer, so there is no import circle.
"""

from __future__ import annotations

from pathlib import Path

from .compare_html import render_html
from .compare_md import render_markdown
from .comparison import Comparison


def write_comparison(comparison: Comparison, out_dir: str | Path, plots: bool = True) -> list[Path]:
    """Write compare.md and compare.html into ``out_dir``; return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md_path = out / "compare.md"
    html_path = out / "compare.html"
    md_path.write_text(render_markdown(comparison), encoding="utf-8")
    html_path.write_text(render_html(comparison, with_plots=plots, out_dir=str(out)), encoding="utf-8")
    return [md_path, html_path]
