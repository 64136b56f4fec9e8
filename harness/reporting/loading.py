"""Read epoll-semantics report files and check the parts a comparison cannot do without.

The suite writes one report JSON per kernel run (schema ``epoll-semantics.report``).
This module finds the files a command line names, reads them and refuses any that is not
a report this tool understands, with the file and the reason; it builds nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .report import SCHEMA, SCHEMA_VERSION


class ReportError(Exception):
    """A report that cannot be compared: unreadable, not JSON, or the wrong schema."""

    def __init__(self, source: str | Path, message: str):
        super().__init__(f"{source}: {message}")
        self.source = str(source)
        self.message = message



def collect_paths(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand the command-line inputs: a directory stands for its ``*.json`` files."""
    paths: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                raise ReportError(path, "directory holds no *.json report")
            paths.extend(found)
        elif path.exists():
            paths.append(path)
        else:
            raise ReportError(path, "no such file or directory")
    if not paths:
        raise ReportError("(arguments)", "no report files given")
    return paths


def load_report(path: str | Path) -> dict[str, Any]:
    """Read one report and check it is schema version 1; raise ReportError otherwise."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(path, f"cannot read: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(path, f"not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    validate_report(data, path)
    return data


def validate_report(data: Any, source: str | Path = "(report)") -> None:
    """Check the parts the comparison cannot do without; extra fields are ignored."""
    if not isinstance(data, dict):
        raise ReportError(source, "not a JSON object")
    if data.get("schema") != SCHEMA:
        raise ReportError(source, f"schema is {data.get('schema')!r}, expected {SCHEMA!r}")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ReportError(
            source, f"unsupported schema_version {version!r} (this tool reads {SCHEMA_VERSION})"
        )
    if not isinstance(data.get("results", []), list):
        raise ReportError(source, "'results' is not a list")


def parse_release(release: str) -> tuple[int, ...]:
    """Version numbers at the start of a release string, e.g. '6.1.0-18-amd64' -> (6, 1, 0)."""
    match = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", release or "")
    if not match:
        return ()
    return tuple(int(g) for g in match.groups() if g is not None)
