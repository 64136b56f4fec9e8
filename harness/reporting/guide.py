"""The guide's model: every claim of :mod:`harness.reporting.guide_claims` judged on every
kernel of a comparison.

Reports of one kernel release (a full run and a run of some scenarios, say) are one column:
a claim holds there when every proof has a case that ran on that kernel and every such case
passed (with the value the claim states, where it states one); it fails when one of them
failed; it is unproven when a proof has no case that ran.  Where a claim holds on some
kernels and fails on others, the cause is the one the comparison found for the failing
cases (:func:`harness.reporting.causes.what_changed`), or none, said so.  A claim that holds
on no kernel is left out of the guide and only counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .causes import Cause, what_changed
from .comparison import Cell, Comparison
from .guide_claims import CLAIMS, Claim, Proof

HOLDS, FAILS, UNPROVEN = "holds", "fails", "unproven"


@dataclass(frozen=True)
class Column:
    """One kernel: the comparison's kernels (report files) of one release."""

    title: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    state: str
    passed: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    claim: Claim
    verdicts: dict[str, Verdict]          # by column title
    keys: tuple[str, ...]                 # the proving cases that passed, on any kernel
    causes: tuple[str, ...] = ()

    @property
    def everywhere(self) -> bool:
        return all(v.state == HOLDS for v in self.verdicts.values())

    @property
    def differs(self) -> bool:
        return any(v.state == FAILS for v in self.verdicts.values())

    def where(self, state: str) -> list[str]:
        return [t for t, v in self.verdicts.items() if v.state == state]


@dataclass(frozen=True)
class Guide:
    columns: tuple[Column, ...]
    lines: tuple[Line, ...]
    left_out: tuple[Claim, ...] = field(default_factory=tuple)

    @property
    def backed_everywhere(self) -> list[Line]:
        return [line for line in self.lines if line.everywhere]


def columns(comparison: Comparison) -> tuple[Column, ...]:
    """Kernels grouped by release, oldest first (the comparison's order)."""
    groups: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    for k in comparison.kernels:
        groups.setdefault(k.release, []).append(k.id)
        titles.setdefault(k.release, k.package_version or k.release)
    return tuple(Column(titles[r], tuple(ids)) for r, ids in groups.items())


def _cells(comparison: Comparison, proof: Proof, column: Column) -> list[tuple[str, Cell]]:
    out = []
    for row in comparison.rows:
        if not proof.matches(row.key, row.mode):
            continue
        for kid in column.ids:
            cell = row.cells.get(kid)
            if cell is not None and cell.ran:
                out.append((row.key, cell))
    return out


def judge(comparison: Comparison, claim: Claim, column: Column) -> Verdict:
    passed: list[str] = []
    failed: list[str] = []
    every_proof_ran = True
    for proof in claim.proofs:
        cells = _cells(comparison, proof, column)
        every_proof_ran &= bool(cells)
        for key, cell in cells:
            ok = cell.verdict == "pass" and proof.fact_holds(cell.facts)
            (passed if ok else failed).append(key)
    if failed:
        return Verdict(FAILS, tuple(passed), tuple(failed))
    return Verdict(HOLDS if every_proof_ran else UNPROVEN, tuple(passed))


def _causes(causes: list[Cause], failed: set[str]) -> tuple[str, ...]:
    found = [f"{c.kind}: {c.title}" for c in causes if failed & set(c.keys)]
    return tuple(dict.fromkeys(found))


def build_guide(comparison: Comparison, claims: tuple[Claim, ...] = CLAIMS) -> Guide:
    cols = columns(comparison)
    causes = what_changed(comparison)
    lines, left_out = [], []
    for claim in claims:
        verdicts = {col.title: judge(comparison, claim, col) for col in cols}
        if not any(v.state == HOLDS for v in verdicts.values()):
            left_out.append(claim)
            continue
        keys = tuple(dict.fromkeys(k for v in verdicts.values() for k in v.passed))
        failed = {k for v in verdicts.values() for k in v.failed}
        lines.append(Line(claim, verdicts, keys, _causes(causes, failed) if failed else ()))
    return Guide(cols, tuple(lines), tuple(left_out))
