"""``epoll-semantics guide``: what an event loop can rely on, from the reports at hand.

Reads the same reports as ``compare`` (this machine's and every kernel's), writes
``reports/guide.md`` and compare.md/compare.html again (compare.html carries the guide as a
section), and prints the guide's headline.  The guide is generated: never edit it by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.reporting import ReportError, load_comparison, write_comparison
from harness.reporting.guide import build_guide
from harness.reporting.guide_render import headline, render_markdown

from .reports import EXIT_BAD_INPUT, EXIT_OK, PROG, compare_inputs, configure_compare


def configure_guide(parser: argparse.ArgumentParser) -> None:
    """The same inputs and options as ``compare`` (it writes compare.md/.html too)."""
    configure_compare(parser)


def run_guide(args: argparse.Namespace) -> int:
    inputs = args.inputs or compare_inputs(args.out)
    if not inputs:
        print(f"{PROG} guide: error: no reports in {args.out} (run `make report` or `make kernels` first)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        comparison = load_comparison(inputs)
    except ReportError as exc:
        print(f"{PROG} guide: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    guide = build_guide(comparison)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        path = out / "guide.md"
        path.write_text(render_markdown(guide), encoding="utf-8")
        written = [path, *write_comparison(comparison, out, plots=not args.no_plots)]
    except OSError as exc:
        print(f"{PROG} guide: error: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(headline(guide))
    for p in written:
        print(f"wrote {p}")
    return EXIT_OK
