"""The names a result carries outside the suite: KCIDB test paths, LAVA and KTAP case names.

A result's ``key`` (``topic/scenario[pytest id]``, the node's pytest id under its topic and
scenario) is the same on every kernel and every machine, but KCIDB's test path allows only
dot-separated segments of ``[a-zA-Z0-9_-]`` and LAVA's case names no spaces or slashes.  The
mapping is one way and the same everywhere, so one case has one name in every CI system:

- the path is ``epoll_semantics.<topic>.<scenario>.<pytest id>`` (no last segment when the
  key has no pytest id);
- in each segment, letters, digits and ``-`` stay; ``_`` becomes ``__``; any other character
  becomes ``_`` and the two lower-case hex digits of each of its UTF-8 bytes
  (``.`` -> ``_2e``, ``/`` -> ``_2f``, space -> ``_20``).

Doubling ``_`` keeps the mapping injective: an escape always has hex digits after its ``_``,
a literal underscore another ``_``, so two keys never share a name.  The mapping never
shortens a name, so no two results can collide by truncation either.
"""

from __future__ import annotations

import re

ROOT = "epoll_semantics"
KEEP = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
KEY = re.compile(r"(?P<topic>[^/\[\]]+)/(?P<scenario>[^/\[\]]+)(\[(?P<id>.+)\])?", re.S)
# KCIDB's own pattern for a test path (schema 5.x, $defs/path)
KCIDB_PATH = re.compile(r"^([a-zA-Z0-9_-]+(\.[a-zA-Z0-9_-]+)*)?$")


def segment(text: str) -> str:
    """One path segment: letters, digits and '-' kept, '_' doubled, the rest hex-escaped."""
    if not text:
        raise ValueError("an empty name has no path segment")
    out = []
    for ch in text:
        if ch in KEEP:
            out.append(ch)
        elif ch == "_":
            out.append("__")
        else:
            out.extend(f"_{b:02x}" for b in ch.encode("utf-8"))
    return "".join(out)


def parts(key: str) -> tuple[str, ...]:
    """The key's topic, scenario and (if it has one) pytest id."""
    m = KEY.fullmatch(key)
    if m is None:
        raise ValueError(f"not a result key (topic/scenario[id]): {key!r}")
    return tuple(p for p in (m["topic"], m["scenario"], m["id"]) if p is not None)


def case_name(key: str) -> str:
    """The name of a case without the suite's root: for LAVA and KTAP, where the suite is
    already the test definition or the stream."""
    return ".".join(segment(p) for p in parts(key))


def test_path(key: str) -> str:
    """The KCIDB test path of a result key: ``epoll_semantics.`` and its case name."""
    return f"{ROOT}.{case_name(key)}"
