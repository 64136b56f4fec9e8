"""Whether the suite owns the kernel it runs on, and the global sysctls it may then change.

Some rules need a machine-wide setting: TCP memory pressure needs ``net.ipv4.tcp_mem``
(sysctl_tcp_mem, one value for every namespace: ``ipv4_table`` is registered for init_net
only) below what TCP has allocated.  On a machine the suite shares with others that is
never allowed; inside a guest booted by ``python -m harness.guests`` the suite is the only
user of its kernel and may, restoring the value afterwards.

"Inside such a guest" is decided from three facts together, none of which a host has by
accident: the guest runner's ``EPS_GUEST_KERNEL`` names exactly the running release, the
guest's init set the hostname ``eps-guest``, and the root filesystem is the host's root
shared through virtiofs.  :func:`global_sysctl` refuses to write unless all three hold.
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from typing import Iterator

# Set by the guest's stage-2 init (harness.guests.stage2.render_init) and the guest runner
# (harness.guests.vm.run_guest); tests/unit/netns/test_own_kernel.py checks they agree.
GUEST_HOSTNAME = "eps-guest"
GUEST_ENV = "EPS_GUEST_KERNEL"


def root_fstype(mounts: str) -> str:
    """The filesystem type of the last mount on ``/`` in /proc/self/mounts text."""
    kinds = [line.split()[2] for line in mounts.splitlines() if len(line.split()) > 2 and line.split()[1] == "/"]
    return kinds[-1] if kinds else ""


def not_own_kernel(env: dict[str, str], release: str, hostname: str, mounts: str) -> str | None:
    """Why this is not a guest of the suite's own (None when it is)."""
    if env.get(GUEST_ENV) != release:
        return f"{GUEST_ENV}={env.get(GUEST_ENV)!r} does not name the running kernel {release}"
    if hostname != GUEST_HOSTNAME:
        return f"hostname {hostname!r} is not the guest's {GUEST_HOSTNAME!r}"
    if root_fstype(mounts) != "virtiofs":
        return f"the root filesystem is {root_fstype(mounts) or 'unknown'}, not the guest's virtiofs share"
    return None


def own_kernel_reason() -> str | None:
    """None inside a guest of the suite; else why not, phrased for a skip."""
    try:
        with open("/proc/self/mounts") as f:
            mounts = f.read()
    except OSError:
        mounts = ""
    return not_own_kernel(dict(os.environ), os.uname().release, socket.gethostname(), mounts)


def _path(name: str) -> str:
    return "/proc/sys/" + name.replace(".", "/")


def read_sysctl(name: str) -> str:
    with open(_path(name)) as f:
        return f.read().strip()


@contextmanager
def global_sysctl(name: str, value: str) -> Iterator[str]:
    """Set a machine-wide sysctl for the duration of the block; yields the original value.

    Raises PermissionError outside a guest of the suite, before touching anything.  The
    original value is read first and its restore guaranteed before the change.
    """
    reason = own_kernel_reason()
    if reason is not None:
        raise PermissionError(f"refusing to change the global sysctl {name}: not the suite's own kernel ({reason})")
    orig = read_sysctl(name)
    try:
        with open(_path(name), "w") as f:
            f.write(value)
        yield orig
    finally:
        with open(_path(name), "w") as f:
            f.write(orig)


def tcp_mem_pages(sockstat: str) -> int:
    """The pages TCP has allocated (tcp_memory_allocated), from /proc/net/sockstat text:
    ``TCP: inuse 3 orphan 0 tw 0 alloc 5 mem 12``."""
    for line in sockstat.splitlines():
        if line.startswith("TCP:"):
            words = line.split()
            return int(words[words.index("mem") + 1])
    raise ValueError("no TCP line in sockstat")
