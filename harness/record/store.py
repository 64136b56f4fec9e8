"""Timelines kept beside a report: one JSON line per case, gzipped.

The report holds a case's verdict and facts; its timeline (every step, packet and accounting
read, with the model's reasoning) is kept here so a case can be explained after the run
(``epoll-semantics explain KEY``) without running it again.  The file sits next to the
report: ``reports/6.12.9.json`` has ``reports/6.12.9.timelines.jsonl.gz``.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any, Iterable

SUFFIX = ".timelines.jsonl.gz"


def path_for(report_path: str | Path) -> Path:
    p = Path(report_path)
    return p.with_name(p.name.removesuffix(".json") + SUFFIX)


def write(report_path: str | Path, rows: Iterable[dict[str, Any]]) -> Path:
    """Write ``rows`` ({key, nodeid, capture, timelines: [Timeline.to_dict()]}) atomically."""
    out = path_for(report_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as f:  # fast: written after every run
        for row in rows:
            f.write(json.dumps(row, default=str) + "\n")
    os.replace(tmp, out)
    return out


def read(report_path: str | Path) -> dict[str, dict[str, Any]]:
    """The rows of the file beside ``report_path``, by key ({} when there is none)."""
    src = path_for(report_path)
    if not src.is_file():
        return {}
    with gzip.open(src, "rt", encoding="utf-8") as f:
        return {row["key"]: row for row in map(json.loads, f) if row.get("key")}
