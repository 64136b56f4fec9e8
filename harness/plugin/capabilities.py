"""What this machine can do for the suite, probed for real once per session.

Each capability is a fact with a reason and a fix: a test that needs a missing one is skipped
with exactly that text (``netem unavailable: CONFIG_NET_SCH_NETEM is not set``), and the
report lists them all.  Kernel config is read from /proc/config.gz or /boot/config-<release>
to explain a failed probe; the probe itself decides.
"""

from __future__ import annotations

import gzip
import os
import shutil
import socket
from dataclasses import asdict, dataclass
from functools import lru_cache

CAP_NET_ADMIN = 12


@dataclass(frozen=True)
class Capability:
    ok: bool
    reason: str | None = None  # why it is missing, phrased for a skip message

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def kernel_config() -> dict[str, str]:
    release = os.uname().release
    for path in ("/proc/config.gz", f"/boot/config-{release}"):
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt") as f:
                text = f.read()
        except OSError:
            continue
        conf = {}
        for line in text.splitlines():
            if line.startswith("CONFIG_") and "=" in line:
                key, value = line.split("=", 1)
                conf[key] = value
            elif line.startswith("# CONFIG_") and line.endswith(" is not set"):
                conf[line[2:-11]] = "n"
        return conf
    return {}


def config_says(option: str) -> str:
    """'CONFIG_X is not set', 'CONFIG_X=m' or 'CONFIG_X unknown (no kernel config)'."""
    value = kernel_config().get(option)
    if value is None:
        return f"{option} unknown (no kernel config readable)" if not kernel_config() else f"{option} is not set"
    return f"{option} is not set" if value == "n" else f"{option}={value}"


def _has_cap(bit: int) -> bool:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> bit & 1)
    return False


def probe_root() -> Capability:
    if _has_cap(CAP_NET_ADMIN):
        return Capability(True)
    return Capability(False, "not root: network namespaces need CAP_NET_ADMIN (run as root, e.g. sudo make test)")


def probe_tun() -> Capability:
    if not os.path.exists("/dev/net/tun"):
        return Capability(False, f"TUN unavailable: no /dev/net/tun ({config_says('CONFIG_TUN')}; "
                                 "modprobe tun, or pass --device /dev/net/tun to the container)")
    try:
        os.close(os.open("/dev/net/tun", os.O_RDWR))
    except OSError as exc:
        return Capability(False, f"TUN unavailable: /dev/net/tun: {exc.strerror}")
    return Capability(True)


def probe_ipv6() -> Capability:
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()
    except OSError as exc:
        return Capability(False, f"IPv6 unavailable: {exc.strerror} ({config_says('CONFIG_IPV6')})")
    return Capability(True)


def probe_qdisc(kind: str, option: str, **params) -> Capability:
    """Try to attach the qdisc to loopback in a throwaway namespace of the suite's."""
    from netns import namespace

    try:
        with namespace("probe", sysctls={}) as ns:
            ns.ipr.tc("add", kind, ns.link_index("lo"), 0x10000, **params)
    except Exception as exc:  # NetlinkError(ENOENT) is tc's "Specified qdisc kind is unknown"
        code = getattr(exc, "code", None)
        detail = "the kernel does not know this qdisc" if code == 2 else str(exc)
        return Capability(False, f"{kind} unavailable: {config_says(option)} ({detail})")
    return Capability(True)


def probe_netem() -> Capability:
    return probe_qdisc("netem", "CONFIG_NET_SCH_NETEM", delay=1000)


def probe_nfqueue() -> Capability:
    """NFQUEUE through the xtables target: iptables, the kernel parts and a Python binding."""
    if shutil.which("iptables") is None:
        return Capability(False, "NFQUEUE unavailable: no iptables binary (apt-get install iptables)")
    for option in ("CONFIG_NETFILTER_NETLINK_QUEUE", "CONFIG_NETFILTER_XT_TARGET_NFQUEUE"):
        if kernel_config().get(option, "y") == "n":
            return Capability(False, f"NFQUEUE unavailable: {config_says(option)}")
    try:
        import netfilterqueue  # noqa: F401
    except ImportError as exc:
        return Capability(False, f"NFQUEUE unavailable: Python binding missing ({exc}; pip install NetfilterQueue)")
    return Capability(True)


def probe_sched_fifo() -> Capability:
    """Can a thread of ours run at SCHED_FIFO (needed to freeze a woken writer in place)?"""
    import threading

    result: list[Capability] = []

    def attempt() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        except OSError as exc:
            result.append(Capability(False, f"SCHED_FIFO not permitted ({exc.strerror}): needs CAP_SYS_NICE "
                                            "and real-time runtime for the process (run as root outside a "
                                            "restricted cgroup)"))
        else:
            result.append(Capability(True))

    t = threading.Thread(target=attempt)  # a throwaway thread: its policy dies with it
    t.start()
    t.join()
    return result[0]


def available_congestion() -> list[str]:
    try:
        with open("/proc/sys/net/ipv4/tcp_available_congestion_control") as f:
            return f.read().split()
    except OSError:
        return []


def default_congestion() -> str:
    try:
        with open("/proc/sys/net/ipv4/tcp_congestion_control") as f:
            return f.read().strip()
    except OSError:
        return "cubic"


def probe_all() -> dict[str, Capability]:
    caps = {"root": probe_root(), "tun": probe_tun(), "ipv6": probe_ipv6(), "sched_fifo": probe_sched_fifo()}
    if caps["root"].ok:
        caps["netem"] = probe_netem()
        caps["nfqueue"] = probe_nfqueue()
    else:
        caps["netem"] = Capability(False, "netem not probed: " + caps["root"].reason)
        caps["nfqueue"] = Capability(False, "NFQUEUE not probed: " + caps["root"].reason)
    return caps
