"""Names the suite gives to what it creates, and the sweep of what a killed run left.

Every namespace is called ``<prefix>-<pid>-<n>``: the prefix (``eps`` unless ``EPS_PREFIX``
says otherwise) marks it as the suite's, the pid says which run made it.  The sweep removes
only namespaces with the prefix whose run is gone, so two sessions may run side by side.
"""

from __future__ import annotations

import itertools
import os
import re

from pyroute2 import netns as _netns

PREFIX = os.environ.get("EPS_PREFIX", "eps")
_counter = itertools.count()


def new_name(tag: str = "") -> str:
    """A fresh namespace name for this process: ``eps-1234-7`` (``eps-1234-7-tag``)."""
    name = f"{PREFIX}-{os.getpid()}-{next(_counter)}"
    return f"{name}-{tag}" if tag else name


def owner(name: str, prefix: str = PREFIX) -> int | None:
    """The pid of the run that made namespace ``name``; None if the name is not ours."""
    m = re.fullmatch(rf"{re.escape(prefix)}-(\d+)-\d+(?:-[\w.-]+)?", name)
    return int(m.group(1)) if m else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(prefix: str = PREFIX) -> list[str]:
    """Remove namespaces with the suite's prefix whose creating process is gone."""
    removed = []
    for name in _netns.listnetns():
        pid = owner(name, prefix)
        if pid is None or pid == os.getpid() or _alive(pid):
            continue
        try:
            _netns.remove(name)
        except FileNotFoundError:
            continue
        removed.append(name)
    return removed
