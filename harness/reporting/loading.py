"""Read epoll-semantics report files and refuse any that does not follow the schema.

The suite writes one report JSON per kernel run (schema ``epoll-semantics.report``), whose
JSON Schema is ``schema/report-v<version>.json`` next to this module.  This module finds the
files a command line names, reads them and validates each against that schema; a report
that does not validate is refused with the file and the field (``results[3].verdict: ...``),
and so is a set of reports in which the same file, or the same kernel and label, appears
twice.  It builds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from harness.model import versions
from harness.record import machine

from .report import SCHEMA, SCHEMA_VERSION

SCHEMA_FILE = Path(__file__).with_name("schema") / f"report-v{SCHEMA_VERSION}.json"


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


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with each ``{"$ref": "#/$defs/NAME"}`` replaced by that definition.

    The validator resolves a reference at every instance it checks (one per result and per
    step: thousands in a report); the same schema without them validates the same way in
    a fraction of the time.  A definition that refers to itself keeps its reference.
    """
    defs = schema.get("$defs", {})

    def walk(node: Any, inside: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if len(node) == 1 and isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name in defs and name not in inside:
                    return walk(defs[name], inside + (name,))
            return {k: walk(v, inside) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, inside) for v in node]
        return node

    return walk(schema, ())


@cache
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(inline_refs(json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))))


def field_path(path: Iterable[Any]) -> str:
    """``results[3].verdict`` from a jsonschema error path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validate_report(data: Any, source: str | Path = "(report)") -> None:
    """Validate ``data`` against the report schema; raise ReportError naming the first bad field."""
    if not isinstance(data, dict):
        raise ReportError(source, "not a JSON object")
    if data.get("schema") != SCHEMA:
        raise ReportError(source, f"schema: {data.get('schema')!r}, expected {SCHEMA!r}")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ReportError(
            source, f"schema_version: {version!r} unsupported (this tool reads {SCHEMA_VERSION})"
        )
    error = min(_validator().iter_errors(data), key=lambda e: (list(e.absolute_path), e.message),
                default=None)
    if error is None:
        return
    where = list(error.absolute_path)
    if error.validator == "required":
        missing = next((f for f in error.validator_value if f not in error.instance), None)
        where.append(missing)
        raise ReportError(source, f"{field_path(where)}: missing")
    message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    raise ReportError(source, f"{field_path(where)}: {message}")


def check_distinct(reports: Iterable[tuple[str | Path, dict[str, Any]]]) -> None:
    """Refuse the same file twice, or two reports of the same kernel release and label from
    the same machine (``host``, harness.record.machine): the same kernel run on two machines
    is two runs of one kernel, and both are kept."""
    files: dict[Path, str] = {}
    runs: dict[tuple[str, str, str], str] = {}
    for source, data in reports:
        real = Path(source).resolve()
        if real in files:
            raise ReportError(source, f"given twice (also as {files[real]})")
        files[real] = str(source)
        run = (data["kernel"]["release"], data["label"], machine.run_key(data))
        if run in runs:
            where = f" on {host_name(data)}" if run[2] else ""
            raise ReportError(source, f"kernel.release/label: {run[0]} ({run[1]}){where} is also the run of "
                                      f"{runs[run]}; give one of them another --report-label")
        runs[run] = str(source)


def host_name(data: dict[str, Any]) -> str:
    """The name of the machine a report came from, "" when it does not say."""
    host = data.get("host")
    return str(host.get("name") or "") if isinstance(host, dict) else ""


def parse_release(release: str) -> tuple[int, ...]:
    """The sort key of a release string: its version numbers as the model reads them
    (harness.model.versions: '6.1.0-18-amd64' -> (6, 1, 0), '5.10' -> (5, 10, 0)), or ()
    for a string that is none (so that it sorts first)."""
    try:
        return versions.parse_release(release or "")
    except ValueError:
        return ()
