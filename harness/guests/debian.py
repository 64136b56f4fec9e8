"""Pure logic about Debian's archive: apt source entries, Packages indexes, version order.

Kept free of I/O (except reading files handed to it) so the unit tests can cover it without
network or root. The kernel fetcher (harness.guests.kernels) builds on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cmp_to_key
from pathlib import Path


@dataclass(frozen=True)
class AptSource:
    """One 'deb' entry of an apt configuration, reduced to what a private copy needs."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None = None

    @property
    def is_security(self) -> bool:
        """True for the security archive: its suites are named '<codename>-security'."""
        return any(s.endswith("-security") for s in self.suites)


# Codenames of Debian releases: how an entry is told apart from third-party repositories
# when its URI does not end in /debian or /debian-security.
DEBIAN_CODENAMES = {
    "buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid", "unstable",
    "testing", "stable", "oldstable", "experimental",
}


def _suite_base(suite: str) -> str:
    return suite.split("-", 1)[0].split("/", 1)[0]


def is_debian_archive(src: AptSource) -> bool:
    """Whether an apt entry points at Debian's own archive (main or security)."""
    last = src.uri.rstrip("/").rsplit("/", 1)[-1]
    if last in ("debian", "debian-security"):
        return True
    return bool(src.suites) and all(_suite_base(s) in DEBIAN_CODENAMES for s in src.suites)


def parse_deb822_sources(text: str) -> list[AptSource]:
    """Parse a deb822 '.sources' file; only enabled entries of type 'deb' are returned."""
    out = []
    for para in _paragraphs(text):
        if "deb" not in para.get("types", "").split():
            continue
        if para.get("enabled", "yes").lower() == "no":
            continue
        for uri in para.get("uris", "").split():
            out.append(AptSource(
                uri=uri,
                suites=tuple(para.get("suites", "").split()),
                components=tuple(para.get("components", "").split()),
                signed_by=(para.get("signed-by") or "").strip() or None,
            ))
    return out


_ONE_LINE = re.compile(r"^\s*deb\s+(?:\[(?P<opts>[^\]]*)\]\s+)?(?P<uri>\S+)\s+(?P<suite>\S+)(?P<comps>.*)$")


def parse_one_line_sources(text: str) -> list[AptSource]:
    """Parse the classic one-line 'sources.list' format ('deb [opts] uri suite comps')."""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        m = _ONE_LINE.match(line)
        if not m:
            continue
        opts = dict(o.split("=", 1) for o in (m["opts"] or "").split() if "=" in o)
        out.append(AptSource(uri=m["uri"], suites=(m["suite"],),
                             components=tuple(m["comps"].split()),
                             signed_by=opts.get("signed-by")))
    return out


def read_system_sources(etc_apt: Path = Path("/etc/apt")) -> list[AptSource]:
    """Every 'deb' entry of this machine's apt configuration, in both formats."""
    found: list[AptSource] = []
    main_list = etc_apt / "sources.list"
    if main_list.is_file():
        found += parse_one_line_sources(main_list.read_text(errors="replace"))
    parts = etc_apt / "sources.list.d"
    if parts.is_dir():
        for f in sorted(parts.iterdir()):
            if f.suffix == ".sources":
                found += parse_deb822_sources(f.read_text(errors="replace"))
            elif f.suffix == ".list":
                found += parse_one_line_sources(f.read_text(errors="replace"))
    return found


def archive_sources(sources: list[AptSource]) -> tuple[AptSource | None, AptSource | None]:
    """The machine's Debian archive entry and its security-archive entry (either may be None)."""
    main = sec = None
    for s in sources:
        if not is_debian_archive(s):
            continue
        if s.is_security:
            sec = sec or s
        else:
            main = main or s
    return main, sec


def render_sources_list(entries: list[tuple[AptSource, str]]) -> str:
    """One-line sources.list text for (template entry, suite) pairs, component 'main' only.

    Only the URI and keyring are taken from the template: the suite is substituted, which
    is how one machine's configuration reaches releases it does not itself use.
    """
    lines = []
    for src, suite in entries:
        opts = f"[arch=amd64 signed-by={src.signed_by}] " if src.signed_by else "[arch=amd64] "
        lines.append(f"deb {opts}{src.uri} {suite} main")
    return "\n".join(lines) + "\n"


def _paragraphs(text: str) -> list[dict[str, str]]:
    """Split deb822 text into paragraphs of lower-cased keys; continuation lines joined."""
    paras: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    key = None
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if cur:
                paras.append(cur)
            cur, key = {}, None
            continue
        if raw[0] in " \t" and key:
            cur[key] += "\n" + raw.strip()
            continue
        if ":" in raw:
            k, v = raw.split(":", 1)
            key = k.strip().lower()
            cur[key] = v.strip()
    if cur:
        paras.append(cur)
    return paras


@dataclass
class Package:
    """One binary package record of a Packages index."""

    name: str
    version: str
    depends: list[str] = field(default_factory=list)
    suite: str = ""


def parse_packages(text: str, name_filter: re.Pattern[str] | None = None,
                   suite: str = "") -> list[Package]:
    """Records of a Packages index, optionally only those whose name matches name_filter.

    The filter is applied before a paragraph is parsed in full: an index holds some 60,000
    records and only a few dozen kernels are wanted.
    """
    out = []
    for chunk in text.split("\n\n"):
        if not chunk.startswith("Package: "):
            chunk = chunk.lstrip("\n")
            if not chunk.startswith("Package: "):
                continue
        name = chunk[9:chunk.find("\n") if "\n" in chunk else None].strip()
        if name_filter is not None and not name_filter.fullmatch(name):
            continue
        para = _paragraphs(chunk)[0]
        deps = [d.strip().split()[0] for d in para.get("depends", "").split(",") if d.strip()]
        out.append(Package(name=name, version=para.get("version", ""), depends=deps, suite=suite))
    return out


def _order(c: str) -> int:
    # dpkg's character order: '~' sorts before everything, even the end of the string;
    # letters before other symbols.
    if c == "":
        return 0
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    if c == "~":
        return -1
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    """dpkg's comparison of an upstream version or revision string."""
    i = j = 0

    def at(s: str, k: int) -> str:
        return s[k] if k < len(s) else ""

    while i < len(a) or j < len(b):
        while (at(a, i) and not at(a, i).isdigit()) or (at(b, j) and not at(b, j).isdigit()):
            ac, bc = _order(at(a, i)), _order(at(b, j))
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while at(a, i) == "0":
            i += 1
        while at(b, j) == "0":
            j += 1
        first_diff = 0
        while at(a, i).isdigit() and at(b, j).isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if at(a, i).isdigit():
            return 1
        if at(b, j).isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def _split(v: str) -> tuple[int, str, str]:
    epoch, _, rest = v.partition(":") if ":" in v else ("0", "", v)
    upstream, _, rev = rest.rpartition("-") if "-" in rest else (rest, "", "")
    return int(epoch or 0), upstream, rev


def compare_versions(a: str, b: str) -> int:
    """Negative, zero or positive as Debian version a sorts before, equal to or after b."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return ea - eb
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


def newest(packages: list[Package]) -> Package | None:
    """The package with the highest version; ties go to the earlier entry."""
    if not packages:
        return None
    ordered = sorted(packages, key=cmp_to_key(lambda x, y: compare_versions(x.version, y.version)))
    best = ordered[-1]
    return next(p for p in packages if compare_versions(p.version, best.version) == 0)
