"""The rule set of the kernel this session runs on.

The variants come from the upstream release the kernel carries (Debian's ``/proc/version``
names it, ``uname -r`` only the series); a change that no release settles is decided by a
probe of the running kernel (its symbol in ``/proc/kallsyms``), and the report says which.
"""

from __future__ import annotations

import os

from harness.model.rules import KernelRules


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def running_kernel_rules() -> KernelRules:
    """The rule variants of this kernel: from the upstream release in /proc/version (else
    uname -r); a change that no release settles is decided by its probe (/proc/kallsyms)."""
    from harness.model.versions import CHANGES, kallsyms_global, upstream_release

    proc = _read("/proc/version")
    release, _ = upstream_release(proc, os.uname().release)
    version = KernelRules.for_release(release).version
    probes = {}
    for c in CHANGES:
        if c.probe_symbol and c.by_version(version) is None:
            found = kallsyms_global(c.probe_symbol, _read("/proc/kallsyms"))
            if found is not None:
                probes[c.title] = found
    return KernelRules.for_kernel(proc, os.uname().release, probes)
