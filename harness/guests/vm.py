"""Boot one unpacked kernel under QEMU, run one command in it as root, collect the results.

The guest has no disk image: this machine's root is shared read-only through virtiofs, so
the repository, its .venv and every tool are where they are on the host. A second, writable
virtiofs share is the results directory, mounted in the guest at the same path. A generated
stage-2 init (a /bin/sh script passed with `init=`) mounts proc/sys/dev, puts tmpfs where
the command needs to write, makes the kernel's modules loadable, loads the ones the suite
needs, runs the command and powers off. Kernels without virtiofs built in go through a
small initramfs first (harness.guests.initramfs). The guest has no network device: its only
interface is loopback, and the namespaces the command makes itself.

Under TCG one guest uses the whole machine, so callers run guests one after another.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.record import machine

from . import initramfs
from .kernel import Kernel
from .stage2 import GUEST_PATH, render_init, work_share

QEMU = "qemu-system-x86_64"
# Set when the run is asked to stop (a signal, Ctrl-C): every guest still running is killed
# at its next check, its virtiofs daemons stopped, and its result says so.
STOPPING = threading.Event()
VIRTIOFSD_CANDIDATES = ("/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd")

@dataclass
class GuestResult:
    """What one boot produced. status: 'passed', 'failed' (command exit != 0) or 'infra'."""

    status: str
    reason: str = ""
    exit_code: int | None = None
    accel: str = "tcg"
    boot_seconds: float | None = None      # QEMU start to stage-2 init, host clock
    command_seconds: float | None = None   # guest clock, from command start to its exit
    total_seconds: float = 0.0             # QEMU start to QEMU exit
    guest_uptime_at_init: float | None = None
    modules: dict[str, str] = field(default_factory=dict)


def module_states(loaded: str, modules_dir: Path) -> dict[str, str]:
    """Classify the guest's modules.txt lines: builtin, loaded, missing or failed."""
    builtin = {initramfs.module_name(l) for l in _read(modules_dir / "modules.builtin").split()}
    modular = set(initramfs.parse_modules_dep(_read(modules_dir / "modules.dep")))
    states = {}
    for line in loaded.splitlines():
        name, _, ok = line.partition(" ")
        if name in builtin:
            states[name] = "builtin"
        elif ok == "ok":
            states[name] = "loaded"
        else:
            states[name] = "failed" if name in modular else "missing"
    return states


def _read(p: Path) -> str:
    try:
        return p.read_text()
    except OSError:
        return ""


def _virtiofsd() -> str:
    for c in VIRTIOFSD_CANDIDATES:
        if os.access(c, os.X_OK):
            return c
    raise FileNotFoundError("no virtiofsd: install Debian's qemu-system-common")


def qemu_available() -> bool:
    """Whether QEMU and virtiofsd are installed (the guest tests skip otherwise)."""
    return shutil.which(QEMU) is not None and any(os.access(c, os.X_OK) for c in VIRTIOFSD_CANDIDATES)


def qemu_command(kernel: Kernel, accel: str, socks: tuple[str, ...], console: Path,
                 initrd: Path | None, init_path: str, memory: str = "1G",
                 cpu: str = "max") -> list[str]:
    """The QEMU command line for one guest."""
    append = ("console=ttyS0 loglevel=4 panic=-1 random.trust_cpu=on mitigations=off "
              f"root=hostroot rootfstype=virtiofs ro init={init_path}")
    cmd = [
        QEMU, "-accel", accel, "-machine", "q35,memory-backend=mem", "-cpu", cpu,
        # One vCPU: under TCG with two, a static key patched by text_poke_bp() on one vCPU
        # (the suite toggles several: timestamping for captures, netfilter hooks) can leave
        # the other executing the breakpoint after the patch is done, and the guest dies with
        # "Oops: int3" (seen in netif_rx_internal on 6.12).  The suite needs no parallelism.
        "-smp", "1", "-m", memory, "-nodefaults", "-no-reboot", "-display", "none",
        # virtiofs needs guest memory the daemons can map: a shared memfd.
        "-object", f"memory-backend-memfd,id=mem,size={memory},share=on",
        "-chardev", f"socket,id=fs0,path={socks[0]}",
        "-device", "vhost-user-fs-pci,chardev=fs0,tag=hostroot",
        "-chardev", f"socket,id=fs1,path={socks[1]}",
        "-device", "vhost-user-fs-pci,chardev=fs1,tag=results",
        "-serial", f"file:{console}",
        "-kernel", kernel.vmlinuz, "-append", append,
    ]
    if len(socks) > 2:
        cmd += ["-chardev", f"socket,id=fs2,path={socks[2]}",
                "-device", "vhost-user-fs-pci,chardev=fs2,tag=work"]
    if initrd is not None:
        cmd += ["-initrd", str(initrd)]
    return cmd


def _start_virtiofsd(source: str, sock: str, cache: str, log) -> subprocess.Popen:
    # The namespace sandbox pivot_roots into the source, which fails for "/" itself
    # (EBUSY); a chroot into "/" does the same job there.
    sandbox = "chroot" if source == "/" else "namespace"
    proc = subprocess.Popen(
        [_virtiofsd(), f"--socket-path={sock}", "-o", f"source={source}", "-o", f"cache={cache}",
         "-o", f"sandbox={sandbox}", "-o", "no_xattr"], stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while not os.path.exists(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"virtiofsd for {source} did not start (see qemu.log)")
        time.sleep(0.02)
    return proc


def _stop(proc: subprocess.Popen | None) -> None:
    """Stop a process this module started, by its PID."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_guest(kernel: Kernel, command: str, out: Path, cwd: str, env: dict[str, str] | None = None,
              accel: str = "tcg", timeout: float = 900, boot_timeout: float = 60,
              use_initramfs: bool | None = None, cpu: str = "max", progress=lambda phase, elapsed, out: None,
              load: tuple[str, ...] = ()) -> GuestResult:
    """Boot kernel, run command (a shell string) in cwd as root, results in out.

    ``load``: module files insmod-ed before the command (harness.guests.stage2.render_load).
    Returns a GuestResult; infrastructure trouble (no boot, timeout, no result) is reported
    as status 'infra', never raised, so a caller can go on with the next kernel.
    """
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    genv = {"PATH": GUEST_PATH, "HOME": "/tmp", "LANG": "C.UTF-8", "TERM": "dumb",
            "PYTHONDONTWRITEBYTECODE": "1", "EPS_GUEST_OUT": str(out),
            "EPS_GUEST_KERNEL": kernel.release, **machine.as_env(), **(env or {})}
    init = out / "guest-init.sh"
    work = work_share(cwd, kernel.root)
    init.write_text(render_init(str(out), kernel.root, command.replace("{out}", str(out)), cwd, genv,
                                work=work, load=load))
    init.chmod(0o755)
    result = GuestResult(status="infra", accel=accel)
    if use_initramfs is None:
        use_initramfs = initramfs.needs_initramfs(kernel.config_value)
    initrd = None
    if use_initramfs:
        initrd = initramfs.build(kernel.modules_dir, Path(kernel.root).parent / "initramfs.cpio")
    sockdir = tempfile.mkdtemp(prefix="eps-vm-")  # short path: unix sockets allow 108 bytes
    socks = (os.path.join(sockdir, "root.sock"), os.path.join(sockdir, "out.sock"))
    if work is not None:
        socks += (os.path.join(sockdir, "work.sock"),)
    fsd: list[subprocess.Popen] = []
    qemu = None
    t0 = time.monotonic()
    with open(out / "qemu.log", "wb") as log:
        try:
            fsd.append(_start_virtiofsd("/", socks[0], "always", log))
            fsd.append(_start_virtiofsd(str(out), socks[1], "none", log))
            if work is not None:
                fsd.append(_start_virtiofsd(work, socks[2], "always", log))
            qemu = subprocess.Popen(qemu_command(kernel, accel, socks, out / "console.log", initrd,
                                                 str(init), cpu=cpu),
                                    stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            t0 = time.monotonic()
            result.reason = _watch(qemu, out, t0, timeout, boot_timeout, result, progress)
        except (OSError, RuntimeError) as e:
            result.reason = f"could not start the guest: {e}"
        finally:
            _stop(qemu)  # only if still running: a timeout already killed it
            for p in fsd:
                _stop(p)
            shutil.rmtree(sockdir, ignore_errors=True)
    result.total_seconds = round(time.monotonic() - t0, 2)
    _collect(out, kernel, result)
    return result


def _watch(qemu: subprocess.Popen, out: Path, t0: float, timeout: float, boot_timeout: float,
           result: GuestResult, progress) -> str:
    """Wait for QEMU, noting when init starts; kill it on a timeout. Returns a reason or ''."""
    phase = "booting"
    while qemu.poll() is None:
        elapsed = time.monotonic() - t0
        if phase == "booting" and (out / "init-started").exists():
            result.boot_seconds = round(elapsed, 2)
            phase = "running"
        progress(phase, elapsed, out)
        if STOPPING.is_set():
            qemu.kill()
            qemu.wait()
            return "interrupted: the run was asked to stop"
        if phase == "booting" and elapsed > boot_timeout:
            qemu.kill()
            qemu.wait()
            return f"boot timeout: init not reached in {boot_timeout:.0f}s (see console.log)"
        if elapsed > timeout:
            qemu.kill()
            qemu.wait()
            return f"timeout: guest still running after {timeout:.0f}s"
        time.sleep(0.1)
    if result.boot_seconds is None and (out / "init-started").exists():
        result.boot_seconds = round(time.monotonic() - t0, 2)
    return ""


def _collect(out: Path, kernel: Kernel, result: GuestResult) -> None:
    """Fill in result from what the guest wrote to the results share."""
    def num(name: str) -> float | None:
        try:
            return float((out / name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    result.guest_uptime_at_init = num("init-started")
    start, end = num("command-started"), num("command-finished")
    if start is not None and end is not None:
        result.command_seconds = round(end - start, 2)
    result.modules = module_states(_read(out / "modules.txt"), kernel.modules_dir)
    code = num("exit_code")
    if code is not None:
        result.exit_code = int(code)
        result.status = "passed" if code == 0 else "failed"
        if code != 0:
            result.reason = f"command exited {int(code)}"
    elif not result.reason:
        tail = _read(out / "console.log").strip().splitlines()[-3:]
        result.reason = ("guest stopped without a result"
                         + (": " + " | ".join(tail) if tail else " (empty console.log)"))


def choose_accel(kernel: Kernel, cache: Path, mode: str = "auto") -> str:
    """'kvm' or 'tcg'. In auto mode KVM is used only if a probe boot reached init with it.

    The probe's answer is cached per host kernel and QEMU version: on machines whose
    /dev/kvm cannot run stock kernels the probe costs one boot timeout, once.
    """
    if mode in ("tcg", "kvm"):
        return mode
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    qv = subprocess.run([QEMU, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    key = f"{os.uname().release} | {qv}"
    memo = cache / "kvm-probe.json"
    try:
        known = json.loads(memo.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        r = run_guest(kernel, "true", cache / "kvm-probe", cwd="/", accel="kvm",
                      timeout=40, boot_timeout=20)
        known[key] = r.status == "passed"
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(json.dumps(known, indent=2) + "\n")
    return "kvm" if known[key] else "tcg"
