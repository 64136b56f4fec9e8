"""Which variant of each readiness rule a running kernel follows, and how that was decided.

A rule variant is a property of the *upstream release the kernel carries*, not of the series
its ``uname -r`` names: Debian's ``uname -r`` says "5.10.0-46-cloud-amd64" while the kernel is
upstream 5.10.262, and stable updates bring fixes from later mainline releases into old
series.  The release is read from ``/proc/version`` where the distribution writes it there
(Debian: "... Debian 5.10.262-1 (2026-...)"); otherwise ``uname -r`` is used and the rules
say so.  Each :class:`Change` names its commit, the mainline release that has it and the
first release of each stable series that carries it (only those checked against a
distribution's sources are listed).  Where no version settles a change, a probe of the
running kernel may (``probes``); the choice and its reason are kept in ``decided``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# "... #1 SMP Debian 5.10.262-1 (2026-...)": the package version, after the build number
# ("#1"), so that the compiler's "(Debian 12.2.0-14)" earlier in the line is not taken.
_DEBIAN = re.compile(r"#\d+ .*\bDebian (\d+\.\d+(?:\.\d+)?)[-~+]")


def parse_release(release: str) -> tuple[int, int, int]:
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release)
    if not m:
        raise ValueError(f"not a kernel release: {release!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def upstream_release(proc_version: str, uname_release: str) -> tuple[str, str]:
    """The upstream release the kernel carries, and where it was read.

    ``proc_version`` is the text of /proc/version.  Debian appends the package version
    (the upstream release plus a Debian revision) after the build number; a kernel without
    such a string falls back
    to ``uname -r``, which names the series only when the distribution numbers it that way.
    """
    m = _DEBIAN.search(proc_version or "")
    if m:
        return m.group(1), f"/proc/version (Debian {m.group(1)})"
    return uname_release, "uname -r (no distribution version in /proc/version)"


@dataclass(frozen=True)
class Change:
    title: str
    since: tuple[int, int]            # the mainline release that first has it
    about: str
    commit: str = ""
    stable: tuple[tuple[int, int, int], ...] = ()  # first release of each stable series with it
    probe: str = ""                   # the probe that decides it when no version does
    probe_symbol: str = ""            # ... a symbol that /proc/kallsyms lists as global text

    def by_version(self, version: tuple[int, int, int]) -> bool | None:
        """True/False when the release settles it; None when it cannot (an older series
        whose stable backports are not known)."""
        if version[:2] >= self.since:
            return True
        for first in self.stable:
            if version[:2] == first[:2]:
                return version >= first
        if not self.stable:
            return False  # never backported: the mainline release decides
        return None


XMIT_STALL = "tcp: fix potential xmit stalls caused by TCP_NOTSENT_LOWAT"

# The rule changes the model knows (shared SEMANTICS, section 5).  ``stable`` lists only the
# backports verified in a distribution's sources: 4bfe744ff164 is in Debian's 5.10 changelog
# under the upstream stable update ChangeLog-5.10.114, and tcp_event_new_data_sent() calls
# tcp_check_space() in the linux-source-5.10 (5.10.262) and linux-source-6.1 trees.
CHANGES = (
    Change("tcp: ensure epoll edge trigger wakeup when write queue is empty", (4, 4),
           "an EAGAIN with both send queues empty wakes writers directly", "ce5ec440994b"),
    Change("tcp: reduce POLLOUT events caused by TCP_NOTSENT_LOWAT", (5, 0),
           "the write-space wakeup needs notsent_bytes * 2 < notsent_lowat"),
    Change("tcp: remove SOCK_QUEUE_SHRUNK", (5, 10),
           "an ACK that frees no whole skb can wake a writer", "0cbe6a8f089e"),
    Change("tcp: return EPOLLOUT from tcp_poll only when notsent_bytes is half the limit", (5, 10),
           "tcp_poll uses the half rule for TCP_NOTSENT_LOWAT too"),
    Change(XMIT_STALL, (5, 18),
           "tcp_event_new_data_sent() calls tcp_check_space() after every skb sent: a write-space "
           "test in the middle of an ACK, before later tso_fragment() splits add their heads back",
           "4bfe744ff164", stable=((5, 10, 114),),
           probe="tcp_check_space is a global symbol (T in /proc/kallsyms): the fix made it "
                 "non-static to call it from tcp_output.c", probe_symbol="tcp_check_space"),
)


def change(title_start: str) -> Change:
    return next(c for c in CHANGES if c.title.startswith(title_start))


@dataclass(frozen=True)
class KernelRules:
    """The variant of each rule that a kernel follows, and how each was chosen."""

    release: str                       # what the variants were decided from
    version: tuple[int, int, int]
    source: str = "given"              # where ``release`` was read
    probes: dict[str, bool] = field(default_factory=dict, compare=False)  # change title -> probe result

    @classmethod
    def for_release(cls, release: str, source: str = "given", probes: dict[str, bool] | None = None) -> "KernelRules":
        return cls(release, parse_release(release), source, dict(probes or {}))

    @classmethod
    def for_kernel(cls, proc_version: str, uname_release: str,
                   probes: dict[str, bool] | None = None) -> "KernelRules":
        release, source = upstream_release(proc_version, uname_release)
        return cls.for_release(release, source, probes)

    def decided(self, c: Change) -> tuple[bool, str]:
        """Whether the change applies, and why: the release, a probe, or neither."""
        by = c.by_version(self.version)
        where = f"{'.'.join(map(str, self.version))} from {self.source}"
        if by is not None:
            if self.version[:2] >= c.since:
                return by, f"mainline {c.since[0]}.{c.since[1]} <= {where}"
            first = next((s for s in c.stable if s[:2] == self.version[:2]), None)
            if first is not None:
                return by, f"stable {'.'.join(map(str, first))} {'<=' if by else '>'} {where}"
            return by, f"mainline {c.since[0]}.{c.since[1]} > {where}, no backport known"
        if c.title in self.probes:
            return self.probes[c.title], f"probe ({c.probe}): {self.probes[c.title]}; the release {where} cannot say"
        return False, f"unknown for {where} (no stable backport known, no probe): assumed absent"

    def has(self, title_start: str) -> bool:
        return self.decided(change(title_start))[0]

    @property
    def queue_shrunk_required(self) -> bool:
        return not self.has("tcp: remove SOCK_QUEUE_SHRUNK")

    @property
    def wake_notsent_half(self) -> bool:
        return self.has("tcp: reduce POLLOUT")

    @property
    def poll_notsent_half(self) -> bool:
        return self.has("tcp: return EPOLLOUT from tcp_poll")

    @property
    def eagain_empty_wakes(self) -> bool:
        return self.has("tcp: ensure epoll edge")

    @property
    def check_space_per_skb(self) -> bool:
        """tcp_check_space() also runs after each skb sent (4bfe744ff164)."""
        return self.has(XMIT_STALL)

    def changes(self) -> list[dict]:
        out = []
        for c in CHANGES:
            applies, why = self.decided(c)
            out.append({"title": c.title, "since": "%d.%d" % c.since, "about": c.about, "commit": c.commit,
                        "stable": ["%d.%d.%d" % s for s in c.stable], "applies": applies, "decided_by": why})
        return out


def kallsyms_global(symbol: str, text: str) -> bool | None:
    """Whether /proc/kallsyms (``text``) lists ``symbol`` as a global text symbol ('T');
    None when it is not listed at all (inlined, or kallsyms unreadable)."""
    seen = None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] == symbol:
            if parts[1] == "T":
                return True
            seen = False
    return seen
