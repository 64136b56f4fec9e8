"""The kernel mutants: what each changes, the rule it breaks, the cases that must catch it.

A mutant is a set of macros for ``module/eps_kmutant.c`` (see its header for what each
does).  ``rules`` are regular expressions over a failed case's first divergence (the timeline
check, what it required and what the kernel did): a case that fails elsewhere first did not
name the rule.
``cases`` is the subset of the suite run by default: small, and still holding a case whose
first divergence names the rule; ``--full`` runs the whole suite instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

IDENTITY = "identity"


@dataclass(frozen=True)
class Mutant:
    """One kernel mutant.  ``source`` is 'catalogue', or the path it came from."""

    name: str
    about: str
    flags: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()      # regular expressions over a divergence's line
    cases: tuple[str, ...] = ()      # pytest selection of the default subset
    source: str = "catalogue"
    patch: str | None = None         # a patch of the module's sources (outside the catalogue)
    module: str | None = None        # a built .ko (outside the catalogue)
    notes: dict = field(default_factory=dict)

    @property
    def expects_pass(self) -> bool:
        return self.name == IDENTITY

    def names_rule(self, line: str) -> bool:
        """Whether a divergence (``step N (label): CHECK required X, observed Y``) names this
        mutant's rule.  A mutant from outside the catalogue states none: any divergence counts."""
        if not self.rules:
            return True
        return any(re.search(r, line) for r in self.rules)

    def cflags(self) -> str:
        """The compiler flags that select this mutant in the module's source."""
        return " ".join([*(f"-D{f}" for f in self.flags), f'-DEPS_MUTANT=\\"{self.name}\\"'])


# Each mutant's cases: a few that the whole suite showed failing first at the mutant's rule,
# IPv4 only, one congestion control.  The rules are matched against the divergence's line:
# the check, what was required and what was observed.
_T = "tests/test_write_space_edges.py::test_threshold_boundary"
_E = "tests/test_epollout.py"
_S = "tests/test_state.py::test_state_change"
NOT_WOKEN = r"(epoll_wait\((ET|LT)\)|LT epoll on the same socket) required OUT, observed -|writer woken required True, observed False"
WOKEN = r"epoll_wait\(ET\) required -, observed OUT|writer woken required False, observed True"

MUTANTS: tuple[Mutant, ...] = (
    Mutant("wake-early", "write-space wakeup when free + 1280 >= queued/2 (one skb head's truesize "
           "early); tcp_poll unchanged", ("EPS_WAKE_EARLY",),
           (r"woke a sleeper held the rule required True, observed False", WOKEN),
           (f"{_T}[ET-ipv4-just-below]", f"{_T}[LT-ipv4-just-below]")),
    Mutant("wake-late", "write-space wakeup only when free - 384 >= queued/2", ("EPS_WAKE_LATE",),
           (NOT_WOKEN,), (f"{_T}[ET-ipv4-at-boundary]", f"{_T}[LT-ipv4-at-boundary]")),
    Mutant("wake-ignores-nospace", "tcp_check_space() wakes on every ACK (and skb sent) that leaves "
           "the socket writable, whether or not SOCK_NOSPACE is set", ("EPS_WAKE_IGNORES_NOSPACE",),
           (WOKEN,), (f"{_E}::test_small_write_then_acks[ET-bbr-ipv4]",
                      f"{_E}::test_full_without_eagain[ET-bbr-ipv4-no-poll-while-full]")),
    Mutant("poll-no-nospace", "tcp_poll() on an unwritable socket never sets SOCK_NOSPACE",
           ("EPS_POLL_NO_NOSPACE",), (NOT_WOKEN,),
           (f"{_E}::test_full_without_eagain[ET-bbr-ipv4-epoll-ctl-mod]",
            f"{_E}::test_full_without_eagain[LT-bbr-ipv4-epoll-ctl-mod]")),
    Mutant("poll-no-rdhup", "tcp_poll() omits EPOLLRDHUP after the peer's FIN", ("EPS_POLL_NO_RDHUP",),
           (r"required \S*RDHUP\S*, observed (?!\S*RDHUP)\S*",),
           (f"{_S}[ET-ipv4-peer-fin]", f"{_S}[select-ipv4-peer-fin]", f"{_S}[LT-ipv4-peer-rst-recv]")),
    Mutant("revert-4bfe744ff164", "tcp_check_space() no longer runs after each skb sent (the 5.18 "
           "change 'tcp: fix potential xmit stalls caused by TCP_NOTSENT_LOWAT' reverted)",
           ("EPS_REVERT_4BFE744FF164",), (r"a write-space test from tcp_write_xmit per skb sent \(0 for",),
           ("tests/test_xmit_check_space.py::test_write_space_test_after_each_skb_sent[bbr-ipv4]",
            "tests/test_xmit_check_space.py::test_write_space_test_after_each_skb_sent[cubic-ipv4]")),
)
# The identity runs every case that kills a mutant: a case that fails a mutant must pass the
# unmodified copy, or it proves nothing about the mutant.
CATALOGUE: tuple[Mutant, ...] = (
    Mutant(IDENTITY, "the copies unchanged: the kernel's own code, through the same livepatch",
           cases=tuple(dict.fromkeys(c for m in MUTANTS for c in m.cases))),
    *MUTANTS,
)


def by_name(name: str) -> Mutant:
    """The catalogue's mutant of that name (KeyError names the known ones)."""
    for m in CATALOGUE:
        if m.name == name:
            return m
    raise KeyError(f"no kernel mutant {name!r}; known: {', '.join(m.name for m in CATALOGUE)}")


def select(names: list[str]) -> list[Mutant]:
    """The identity first, then the named mutants (all of them when none is named)."""
    chosen = [by_name(n) for n in names if n != IDENTITY] if names else list(CATALOGUE[1:])
    return [CATALOGUE[0], *chosen]


def from_path(path: str) -> Mutant:
    """A mutant from outside the catalogue: a built module (``.ko``), a patch of the module's
    sources (``.patch``/``.diff``, applied to ``module/`` with ``patch -p1``), or a directory
    holding one of them and, optionally, ``rules`` (one regular expression per line: the
    check names that state the broken rule) and ``cases`` (one pytest selection per line).
    Raises ValueError when the path is none of these."""
    from pathlib import Path

    p = Path(path)
    rules: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    if p.is_dir():
        found = sorted([*p.glob("*.ko"), *p.glob("*.patch"), *p.glob("*.diff")])
        if len(found) != 1:
            raise ValueError(f"{path}: a mutant directory holds exactly one .ko or .patch "
                             f"(found {len(found)})")
        rules, cases = _lines(p / "rules"), _lines(p / "cases")
        p = found[0]
    if p.suffix == ".ko" and p.is_file():
        return Mutant(p.stem, f"module {p.name}", rules=rules, cases=cases, source=str(path),
                      module=str(p.resolve()))
    if p.suffix in (".patch", ".diff") and p.is_file():
        return Mutant(p.stem, f"patch {p.name} of the module's copies", rules=rules, cases=cases,
                      source=str(path), patch=str(p.resolve()))
    raise ValueError(f"{path}: not a mutant (a .ko, a .patch or a directory holding one)")


def _lines(f) -> tuple[str, ...]:
    """The non-empty lines of a file, or () when there is none."""
    if not f.is_file():
        return ()
    return tuple(line.strip() for line in f.read_text().splitlines() if line.strip())
