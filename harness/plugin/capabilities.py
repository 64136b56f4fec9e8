"""What this machine can do for the suite, probed for real once per session.

Each capability is a fact with a reason and a fix: a test that needs a missing one is skipped
with exactly that text (``netem unavailable: CONFIG_NET_SCH_NETEM is not set``), and the
report lists them all.  Kernel config is read from /proc/config.gz or /boot/config-<release>
to explain a failed probe; the probe itself decides.
"""

from __future__ import annotations

import errno
import gzip
import os
import shutil
import socket
import stat
import subprocess
from dataclasses import asdict, dataclass
from functools import lru_cache

CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_SYS_NICE = 12, 21, 23  # include/uapi/linux/capability.h
TUN_DEVICE = (10, 200)  # Documentation/admin-guide/devices.txt: misc 200 is /dev/net/tun


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


def _missing(cap: str, why: str) -> str:
    """The skip reason for a missing capability, in the words that fit who we are."""
    if os.geteuid() != 0:
        return f"not root: {why}, and that needs {cap} (run as root, e.g. sudo make test)"
    return (f"root without {cap}: {why} (a container needs --privileged or --cap-add "
            f"{cap.removeprefix('CAP_')}; do not drop it from the bounding set)")


def probe_net_admin() -> Capability:
    if _has_cap(CAP_NET_ADMIN):
        return Capability(True)
    return Capability(False, _missing("CAP_NET_ADMIN", "the scenarios run in network namespaces"))


def probe_sys_admin() -> Capability:
    """CAP_SYS_ADMIN: a named namespace is a bind mount under /run/netns, entered by setns()."""
    if _has_cap(CAP_SYS_ADMIN):
        return Capability(True)
    return Capability(False, _missing("CAP_SYS_ADMIN", "the suite's network namespaces are mounted "
                                                       "under /run/netns and entered with setns()"))


def tun_device_problem() -> str | None:
    """What is wrong with /dev/net/tun before any ioctl, or None when it looks like TUN."""
    try:
        st = os.stat("/dev/net/tun")
    except FileNotFoundError:
        return (f"no /dev/net/tun ({config_says('CONFIG_TUN')}; modprobe tun, or pass "
                "--device /dev/net/tun to the container)")
    except OSError as exc:
        return f"/dev/net/tun: {exc.strerror}"
    if not stat.S_ISCHR(st.st_mode) or (os.major(st.st_rdev), os.minor(st.st_rdev)) != TUN_DEVICE:
        kind = f"char {os.major(st.st_rdev)}:{os.minor(st.st_rdev)}" if stat.S_ISCHR(st.st_mode) else "not a device"
        return (f"/dev/net/tun is not the TUN device ({kind}, TUN is char 10:200; something is "
                "mounted over it?): bind the host's /dev/net/tun (docker --device /dev/net/tun)")
    try:
        os.close(os.open("/dev/net/tun", os.O_RDWR))
    except OSError as exc:
        return f"/dev/net/tun: {exc.strerror}"
    return None


def probe_tun(ns) -> Capability:
    """Make a TUN device in the probe namespace (TUNSETIFF), as the scripted peer does."""
    from netns.tun import open_tun

    problem = tun_device_problem()
    try:
        os.close(ns.call(open_tun, "eps-probe0"))
    except OSError as exc:
        if exc.errno == errno.ENOTTY:
            detail = problem or "/dev/net/tun does not answer TUNSETIFF: it is not the TUN device"
        elif exc.errno == errno.EPERM:
            detail = _missing("CAP_NET_ADMIN", "TUNSETIFF creates a device")
        else:
            detail = problem or f"TUNSETIFF: {exc.strerror}"
        return Capability(False, f"TUN unusable: {detail}")
    return Capability(True)


def probe_ipv6() -> Capability:
    try:
        socket.socket(socket.AF_INET6, socket.SOCK_STREAM).close()
    except OSError as exc:
        return Capability(False, f"IPv6 unavailable: {exc.strerror} ({config_says('CONFIG_IPV6')})")
    return Capability(True)


def probe_qdisc(ns, kind: str, option: str, **params) -> Capability:
    """Attach the qdisc to loopback of the probe namespace, and take it away again."""
    index = ns.link_index("lo")
    try:
        ns.ipr.tc("add", kind, index, 0x10000, **params)
        ns.ipr.tc("del", kind, index, 0x10000)
    except Exception as exc:  # NetlinkError(ENOENT) is tc's "Specified qdisc kind is unknown"
        code = getattr(exc, "code", None)
        detail = "the kernel does not know this qdisc" if code == 2 else str(exc)
        return Capability(False, f"{kind} unavailable: {config_says(option)} ({detail})")
    return Capability(True)


def probe_netem(ns) -> Capability:
    return probe_qdisc(ns, "netem", "CONFIG_NET_SCH_NETEM", delay=1000)


def probe_nfqueue(ns) -> Capability:
    """NFQUEUE as the gate uses it: the rule installed in a namespace, the queue bound there."""
    from harness.peers.gate import bind, install_rules

    if shutil.which("iptables") is None or shutil.which("ip6tables") is None:
        return Capability(False, "NFQUEUE unavailable: no iptables/ip6tables binary (apt-get install iptables)")
    try:
        import netfilterqueue  # noqa: F401
    except ImportError as exc:
        return Capability(False, f"NFQUEUE unavailable: Python binding missing ({exc}; pip install NetfilterQueue)")
    try:
        install_rules(ns)
        ns.call(bind, lambda packet: packet.accept()).unbind()
    except Exception as exc:
        options = ", ".join(config_says(o) for o in ("CONFIG_NETFILTER_NETLINK_QUEUE",
                                                      "CONFIG_NETFILTER_XT_TARGET_NFQUEUE"))
        return Capability(False, f"NFQUEUE unavailable: {str(exc).strip()[:300]} ({options})")
    return Capability(True)


def probe_sched_fifo() -> Capability:
    """Can a thread of ours run at SCHED_FIFO, at the harness's priority (needed to freeze a
    woken writer in place)?  RLIMIT_RTPRIO can allow a lower priority and not that one."""
    import threading

    from harness.sockets.writer import WAKER_PRIORITY

    result: list[Capability] = []

    def attempt() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(WAKER_PRIORITY))
        except OSError as exc:
            if not _has_cap(CAP_SYS_NICE):
                why = _missing("CAP_SYS_NICE", "a SCHED_FIFO thread freezes a woken writer in place")
            else:
                why = (f"SCHED_FIFO refused with CAP_SYS_NICE ({exc.strerror}): this process's cgroup "
                       "has no real-time runtime (cpu.rt_runtime_us); run it outside such a cgroup")
            result.append(Capability(False, why))
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


TRACING_CHECK = """
set -e
t=/sys/kernel/tracing
[ -e "$t/kprobe_events" ] || mount -t tracefs nodev "$t"
[ -w "$t/kprobe_events" ]
head -c 1 "$t/available_filter_functions" >/dev/null
"""


def probe_tracing() -> Capability:
    """tracefs with kprobe events, looked at in a private mount namespace (nothing stays mounted)."""
    if shutil.which("unshare") is None:
        return Capability(False, "tracing not probed: no unshare binary (apt-get install util-linux)")
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", TRACING_CHECK],
                          capture_output=True, text=True)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "kprobe_events not writable"
        return Capability(False, f"tracing unavailable: {detail} ({config_says('CONFIG_KPROBE_EVENTS')}; "
                                 "needs CAP_SYS_ADMIN and a kernel with tracefs and kprobes)")
    return Capability(True)


def probe_all() -> dict[str, Capability]:
    """Every capability, each probed the way the cases use it.

    ``root`` is what every namespace needs (CAP_NET_ADMIN, CAP_SYS_ADMIN, and a namespace
    really made); TUN, netem and NFQUEUE are tried inside one throwaway namespace of the
    suite's, so nothing is ever made outside the suite's namespaces.
    """
    from netns import namespace

    caps = {"net_admin": probe_net_admin(), "sys_admin": probe_sys_admin()}
    missing = [c for c in caps.values() if not c.ok]
    caps["root"] = missing[0] if missing else Capability(True)
    caps.update(ipv6=probe_ipv6(), sched_fifo=probe_sched_fifo())
    if caps["root"].ok:
        try:
            with namespace("probe", sysctls={}) as ns:
                caps.update(tun=probe_tun(ns), netem=probe_netem(ns), nfqueue=probe_nfqueue(ns))
        except Exception as exc:  # the namespace itself: a read-only /run, no netns support, ...
            caps["root"] = Capability(False, f"network namespaces unusable: {exc} "
                                             f"({config_says('CONFIG_NET_NS')})")
    for name in ("tun", "netem", "nfqueue"):
        if name not in caps:
            caps[name] = Capability(False, f"{name} not probed: {caps['root'].reason}")
    caps["tracing"] = probe_tracing()
    caps.update(uring=probe_uring(), uring_multishot=probe_uring_multishot())
    return caps


def probe_uring() -> Capability:
    """A ring set up for real: kernel.io_uring_disabled, a seccomp filter or a kernel without
    io_uring each name themselves in the reason."""
    from harness.sockets.uring import uring_problem

    problem = uring_problem()
    return Capability(problem is None, problem)


def probe_uring_multishot() -> Capability:
    """A multishot poll request on a pipe that must stay armed after its first completion."""
    from harness.sockets.uring import multishot_problem

    problem = multishot_problem()
    return Capability(problem is None, problem)
