"""Whether a run covered the whole suite, and where its report goes.

A run that selected a subset (``-k``, ``-m``, ``--lf``, a file or node id, ``-x`` stopping
early) must never replace the full report that ``make compare`` reads: its report is written
beside it, under ``partial/``, and the full one is left as it was.  A run in which nothing ran
writes no report at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Scope:
    collected: int       # items left after deselection
    deselected: int      # by -k, -m, --lf, --deselect
    ran: int             # items that produced a result
    narrowed: bool       # files or node ids named instead of the suite (--partial-report)
    last_failed: bool    # --lf / --ff / --sw reorder or cut the selection

    @property
    def why_partial(self) -> str | None:
        """None for a full run, else what made it a subset."""
        if self.deselected:
            return f"{self.deselected} deselected"
        if self.narrowed:
            return "files or node ids given"
        if self.last_failed:
            return "--lf/--sw selection"
        if self.ran < self.collected:
            return f"stopped after {self.ran} of {self.collected}"
        return None


def partial_path(report_path: str) -> str:
    """reports/6.12.json -> reports/partial/6.12.json"""
    p = Path(report_path)
    return str(p.parent / "partial" / p.name)


def clear_captures(directory: str) -> int:
    """Remove the pcaps a previous run left in ``directory``; returns how many."""
    d = Path(directory)
    if not d.is_dir():
        return 0
    gone = 0
    for f in d.glob("*.pcap"):
        f.unlink(missing_ok=True)
        gone += 1
    return gone
