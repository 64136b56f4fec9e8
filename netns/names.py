"""Names the suite gives to what it creates, and the sweep of what a killed run left.

Every namespace is called ``<prefix>-<pid>-<n>[-<tag>]``: the prefix (``eps`` unless
``EPS_PREFIX`` says otherwise) marks it as the suite's, the pid says which run made it.  A
prefix may carry sub-prefixes of its own (``eps-ci``, ``eps-hyg1234``: a word, then digits):
the sweep of ``eps`` covers them too, so no name the suite makes escapes it.  The sweep
removes only namespaces whose run is gone, so two sessions may run side by side; what it
cannot remove (no CAP_SYS_ADMIN to unmount, say) it reports and leaves, never failing.
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass, field

from pyroute2 import netns as _netns

PREFIX = os.environ.get("EPS_PREFIX", "eps")
_counter = itertools.count()


def new_name(tag: str = "") -> str:
    """A fresh namespace name for this process: ``eps-1234-7`` (``eps-1234-7-tag``)."""
    name = f"{PREFIX}-{os.getpid()}-{next(_counter)}"
    return f"{name}-{tag}" if tag else name


def owner(name: str, prefix: str = PREFIX) -> int | None:
    """The pid of the run that made namespace ``name``; None if the name is not ours."""
    m = re.fullmatch(rf"{re.escape(prefix)}(?:-[a-z]+\d*)*-(\d+)-\d+(?:-[a-z][\w.-]*)?", name)
    return int(m.group(1)) if m else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Swept:
    """What a sweep removed, and what it found but could not remove (name, why)."""

    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def sweep(prefix: str = PREFIX) -> Swept:
    """Remove namespaces with the suite's prefix whose creating process is gone."""
    out = Swept()
    try:
        found = _netns.listnetns()
    except OSError as exc:
        out.failed.append((_netns.NETNS_RUN_DIR, exc.strerror or str(exc)))
        return out
    for name in found:
        pid = owner(name, prefix)
        if pid is None or pid == os.getpid() or _alive(pid):
            continue
        try:
            _netns.remove(name)
        except FileNotFoundError:
            continue
        except Exception as exc:  # pyroute2 raises OSError or its own errors for a failed umount
            out.failed.append((name, getattr(exc, "strerror", None) or str(exc) or type(exc).__name__))
            continue
        out.removed.append(name)
    return out
