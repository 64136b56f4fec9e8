"""Load epoll-semantics report files and build a kernel-by-kernel comparison model.

The suite writes one report JSON per kernel run (schema ``epoll-semantics.report``,
version 1).  This module reads any number of them, orders the kernels by version and
lines up the results by their stable ``key`` so that one row shows how each kernel
behaved for one scenario.  Reading the files is ``loading``'s; rendering lives in
``compare_md`` and ``compare_html`` (written by ``writing``), so the model can be
checked on its own.

What counts as a difference: among the kernels that *ran* a result (present and not
skipped), the verdicts differ, or a fact differs that was recorded under pinned conditions
(a fact recorded with the natural skb layout follows the harness's speed; its differences
are listed apart as timing-dependent).  A skip is displayed but is no
evidence about behaviour, so it never makes a row differ; a result absent from a
report shows as a dash and does not make a row differ either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.record import machine, store

from .loading import check_distinct, collect_paths, load_report, parse_release
from .report import bounded_steps

# Facts always shown when a row has them: they are the observable answer of the core
# EPOLLOUT scenarios (which ACK woke the writer, how much fitted before EAGAIN, which
# event masks were seen).  Any other fact is shown only where kernels disagree on it.
KEY_FACTS = ("waking_ack", "bytes_before_eagain", "masks")

VERDICTS = ("pass", "fail", "skip", "error")
MISSING = "\u2014"  # em dash: result absent from that kernel's report


@dataclass(frozen=True)
class Kernel:
    """One report file, i.e. one column of the comparison."""

    id: str
    title: str
    release: str
    label: str
    version: tuple[int, ...]
    machine: str
    source: str
    generated_at: str
    tools: Mapping[str, Any]
    capabilities: Mapping[str, Any]
    sysctls: Mapping[str, Any]
    congestion_control: Mapping[str, Any]
    rules: Mapping[str, Any]
    counts: Mapping[str, int]
    package_version: str | None = None
    path: str = ""  # the source as given (source is its file name only)
    # the machine that produced the report (its ``host``): name, and id to tell machines apart
    host: str = ""
    host_id: str = ""

    @property
    def identity(self) -> tuple[str, str]:
        """What makes columns one kernel: release and package version, whoever ran it."""
        return (self.release, self.package_version or "")


@dataclass(frozen=True)
class Cell:
    """One result of one kernel."""

    verdict: str
    reason: str | None = None
    finding: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    series: Sequence[Mapping[str, Any]] | None = None
    capture: str | None = None
    duration_s: float | None = None
    conditions: Mapping[str, Any] = field(default_factory=dict)
    timeline: str | None = None

    @property
    def ran(self) -> bool:
        """The case ran on this kernel: it passed or failed, or it was skipped because the
        kernel never took the branch it exists for (an ``unreached_branch`` fact): that is a
        finding about the kernel, compared like any other."""
        return self.verdict != "skip" or "unreached_branch" in self.facts


@dataclass(frozen=True)
class Row:
    """One result key across all kernels; ``cells`` maps kernel id to a cell or None."""

    key: str
    topic: str
    scenario: str
    mode: str
    params: Mapping[str, Any]
    cells: Mapping[str, Cell | None]
    verdict_differs: bool
    shown_facts: tuple[str, ...]
    differing_facts: frozenset[str]
    # Per kernel id: "verdict" and the facts whose value differs from the nearest kernel to
    # its left that ran the row; only these are highlighted (where the behaviour changed).
    changed: Mapping[str, frozenset[str]] = field(default_factory=dict)

    # True when every kernel recorded the row's facts under conditions that depend on timing
    # (the natural skb layout: conditions.timing_dependent); see ``differs``.
    timing_dependent: bool = False

    @property
    def differs(self) -> bool:
        """The verdicts differ, or facts recorded under pinned conditions do.  Facts that
        depend on the harness's speed are no evidence about the kernel: their differences
        are ``timing_differs``, listed apart."""
        return self.verdict_differs or (bool(self.differing_facts) and not self.timing_dependent)

    @property
    def timing_differs(self) -> bool:
        return not self.verdict_differs and bool(self.differing_facts) and self.timing_dependent

    @property
    def incomplete(self) -> bool:
        """True when some kernel lacks the result or skipped it."""
        return any(c is None or not c.ran for c in self.cells.values())

    @property
    def series_cells(self) -> list[tuple[str, Cell]]:
        return [(k, c) for k, c in self.cells.items() if c is not None and c.series]


@dataclass(frozen=True)
class Comparison:
    """The whole comparison: kernel columns in version order and rows by topic, key."""

    kernels: tuple[Kernel, ...]
    rows: tuple[Row, ...]
    warnings: tuple[str, ...] = ()

    @property
    def differing_rows(self) -> list[Row]:
        return [r for r in self.rows if r.differs]

    @property
    def findings(self) -> list[tuple[Kernel, Row, str]]:
        out = []
        for row in self.rows:
            for kernel in self.kernels:
                cell = row.cells.get(kernel.id)
                if cell is not None and cell.finding:
                    out.append((kernel, row, cell.finding))
        return out

    def kernel(self, kernel_id: str) -> Kernel:
        return next(k for k in self.kernels if k.id == kernel_id)


def _kernel_version(kernel: Mapping[str, Any]) -> tuple[int, ...]:
    version = kernel.get("version")
    if isinstance(version, list) and version and all(isinstance(v, int) for v in version):
        return tuple(version)
    return parse_release(str(kernel.get("release", "")))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _count_verdicts(results: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = {v: 0 for v in VERDICTS}
    for result in results:
        verdict = str(result.get("verdict", "error"))
        counts[verdict] = counts.get(verdict, 0) + 1
    counts["bounded"] = bounded_steps(results)
    return counts


def _result_key(result: Mapping[str, Any]) -> str | None:
    key = result.get("key") or result.get("nodeid")
    return str(key) if key else None


def _cell(result: Mapping[str, Any], source: str | Path = "") -> Cell:
    series = result.get("series")
    return Cell(
        verdict=str(result.get("verdict") or "error"),
        reason=result.get("reason") or None,
        finding=result.get("finding") or None,
        facts=_mapping(result.get("facts")),
        series=series if isinstance(series, list) and series else None,
        capture=result.get("capture") or None,
        duration_s=result.get("duration_s"),
        conditions=_mapping(result.get("conditions")),
        timeline=_timeline(result.get("timeline"), source),
    )


def _timeline(pointer: Any, source: str | Path) -> str | None:
    """Where a cell's timeline is kept: the file of timelines beside its report (record.store),
    found from the report's own path; an older report's text file as it names it."""
    if not pointer:
        return None
    return str(store.path_for(source)) if str(pointer).endswith(store.SUFFIX) and source else str(pointer)


# --------------------------------------------------------------------------- model


def build_comparison(reports: Sequence[tuple[str | Path, Mapping[str, Any]]]) -> Comparison:
    """Turn (source, report dict) pairs into the comparison model."""
    warnings: list[str] = []
    entries = []
    for source, data in reports:
        kernel = _mapping(data.get("kernel"))
        results = [r for r in data.get("results") or [] if isinstance(r, dict)]
        entries.append((source, data, kernel, results))
    # Oldest kernel first, so a reader scans left to right through history.
    entries.sort(key=lambda e: (_kernel_version(e[2]), str(e[1].get("label", "")), str(e[0])))

    hosts = {machine.run_key(data) for _, data, _, _ in entries}
    kernels: list[Kernel] = []
    per_kernel: dict[str, dict[str, tuple[Mapping[str, Any], Cell]]] = {}
    seen_titles: dict[str, int] = {}
    for index, (source, data, kernel, results) in enumerate(entries):
        release = str(kernel.get("release") or "unknown")
        label = str(data.get("label") or "")
        package = kernel.get("package_version") or None
        title = release + (f" [{package}]" if package else "") + (f" ({label})" if label else "")
        host = _mapping(data.get("host"))
        if len(hosts) > 1:  # reports from several machines: each column says whose it is
            title += f" on {host.get('name') or 'a machine not recorded'}"
        seen_titles[title] = seen_titles.get(title, 0) + 1
        if seen_titles[title] > 1:
            # Two runs on the same kernel stay separate columns; number them apart.
            title = f"{title} #{seen_titles[title]}"
        kid = f"k{index}"
        kernels.append(
            Kernel(
                id=kid,
                title=title,
                release=release,
                label=label,
                version=_kernel_version(kernel),
                machine=str(kernel.get("machine") or ""),
                source=Path(source).name,
                generated_at=str(data.get("generated_at") or ""),
                tools=_mapping(data.get("tools")),
                capabilities=_mapping(data.get("capabilities")),
                sysctls=_mapping(data.get("sysctls")),
                congestion_control=_mapping(data.get("congestion_control")),
                rules=_mapping(data.get("rules")),
                counts=_count_verdicts(results),
                package_version=package,
                path=str(source),
                host=str(host.get("name") or ""),
                host_id=str(host.get("id") or ""),
            )
        )
        cells: dict[str, tuple[Mapping[str, Any], Cell]] = {}
        for position, result in enumerate(results):
            key = _result_key(result)
            if key is None:
                warnings.append(f"{Path(source).name}: result #{position} has no key; ignored")
                continue
            if key in cells:
                warnings.append(f"{Path(source).name}: duplicate key {key}; first one kept")
                continue
            cells[key] = (result, _cell(result, source))
        per_kernel[kid] = cells

    keys = sorted({key for cells in per_kernel.values() for key in cells})
    rows = [_build_row(key, kernels, per_kernel) for key in keys]
    rows.sort(key=lambda r: (r.topic, r.key))
    return Comparison(kernels=tuple(kernels), rows=tuple(rows), warnings=tuple(warnings))


def _build_row(key: str, kernels: Sequence[Kernel], per_kernel: Mapping[str, Mapping]) -> Row:
    cells: dict[str, Cell | None] = {}
    meta: Mapping[str, Any] = {}
    for kernel in kernels:
        entry = per_kernel[kernel.id].get(key)
        cells[kernel.id] = entry[1] if entry else None
        if entry and not meta:
            meta = entry[0]
    ran = [c for c in cells.values() if c is not None and c.ran]
    verdict_differs = len({c.verdict for c in ran}) > 1

    fact_names: list[str] = []
    for cell in cells.values():
        for name in (cell.facts if cell else {}):
            if name not in fact_names:
                fact_names.append(name)
    differing = frozenset(
        name for name in fact_names if len(ran) > 1 and _values_differ([c.facts.get(name) for c in ran])
    )
    key_facts = [n for n in KEY_FACTS if n in fact_names]
    other = [n for n in fact_names if n in differing and n not in KEY_FACTS]
    # Keys look like "topic/scenario[...]"; fall back on that when the field is absent.
    topic = str(meta.get("topic") or (key.split("/", 1)[0] if "/" in key else ""))
    return Row(
        key=key,
        topic=topic or "(no topic)",
        scenario=str(meta.get("scenario") or ""),
        mode=str(meta.get("mode") or ""),
        params=_mapping(meta.get("params")),
        cells=cells,
        verdict_differs=verdict_differs,
        shown_facts=tuple(key_facts + other),
        differing_facts=differing,
        changed=_changed(kernels, cells, differing),
        timing_dependent=bool(ran) and all(c.conditions.get("timing_dependent") for c in ran),
    )


def _changed(kernels: Sequence[Kernel], cells: Mapping[str, Cell | None],
             differing: frozenset[str]) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    previous: Cell | None = None
    for kernel in kernels:
        cell = cells.get(kernel.id)
        if cell is None or not cell.ran:
            continue
        if previous is not None:
            names = {n for n in differing if _values_differ([cell.facts.get(n), previous.facts.get(n)])}
            if cell.verdict != previous.verdict:
                names.add("verdict")
            out[kernel.id] = frozenset(names)
        previous = cell
    return out


def _values_differ(values: Sequence[Any]) -> bool:
    # JSON values compare structurally; canonical dumps make lists/dicts hashable.
    return len({json.dumps(v, sort_keys=True) for v in values}) > 1


# --------------------------------------------------------------------------- loading


def load_comparison(inputs: Iterable[str | Path]) -> Comparison:
    """Collect, load and validate the inputs, then build the model."""
    reports = [(path, load_report(path)) for path in collect_paths(inputs)]
    check_distinct(reports)
    return build_comparison(reports)
