"""Which machine produced a report: its ``host`` field, ``{"name": ..., "id": ...}``.

Reports are merged from many machines (a CI job per kernel, a lab, a colleague's laptop),
and the comparison and the KCIDB export must tell two runs of one kernel on two machines
from two kernels.  ``name`` is for people: ``EPS_HOST_NAME``, else the host name.  ``id``
is for machines: ``EPS_HOST_ID``, else a digest of ``/etc/machine-id`` (systemd asks that the
id itself never leave the machine, so only a salted hash of it does), else a digest of the
name.  A guest of ours has its own host name (``eps-guest``) but reads the host's root; the
guest runner hands it the host's values in ``EPS_HOST_NAME``/``EPS_HOST_ID`` (``as_env``), so
a guest's report names the machine that ran QEMU.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Mapping

MACHINE_ID = "/etc/machine-id"
# a fixed salt, so the digest is stable across runs and useless as the machine id itself
SALT = b"epoll-semantics host id\n"
ID_CHARS = 16


def _digest(text: str) -> str:
    return hashlib.sha256(SALT + text.encode()).hexdigest()[:ID_CHARS]


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def host(environ: Mapping[str, str] | None = None, machine_id: str = MACHINE_ID) -> dict[str, str]:
    """This machine's name and id, overrides first; blank overrides count as unset."""
    env = os.environ if environ is None else environ
    name = " ".join(env.get("EPS_HOST_NAME", "").split()) or socket.gethostname() or "unknown"
    given = "".join(env.get("EPS_HOST_ID", "").split())
    mid = _read(machine_id)
    return {"name": name, "id": given or _digest(mid or name)}


def as_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment that makes a guest report this machine as its host."""
    h = host(environ)
    return {"EPS_HOST_NAME": h["name"], "EPS_HOST_ID": h["id"]}


def run_key(report: Mapping) -> str:
    """The machine a report came from, for telling runs apart: its host id, or its name for a
    report written before reports carried ``host.id``; "" for one that says neither."""
    h = report.get("host") if isinstance(report.get("host"), Mapping) else {}
    return str(h.get("id") or h.get("name") or "")
