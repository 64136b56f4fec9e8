"""A kernel of your own, by path: a bzImage, or a kernel build tree with its modules.

``make kernels KERNELS=/path/to/bzImage`` (or ``=/path/to/linux``, a tree after ``make``)
boots it under the same runner as Debian's kernels (harness.guests.vm).  What it needs:

* the release, read from the image itself (the x86 boot header's ``kernel_version`` string,
  Documentation/arch/x86/boot.rst), so the guest's ``uname -r`` and the report agree;
* its config: ``.config`` of the tree, else ``config-<release>`` beside the image;
* its modules, if it has any: a tree's ``modules.order`` is staged into the cache as
  ``lib/modules/<release>`` (what ``make modules_install`` does) and ``depmod`` is run;
  beside an image, ``../lib/modules/<release>`` (an unpacked package's layout) is used.

Options it must have, built in or (with modules found) as modules, are in REQUIRED; one
missing is an error naming it, before anything boots.  Those in OPTIONAL only make some
cases skip, and are said as a warning.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

from .kernel import Kernel
from .kernels import FetchError, cache_dir

# CONFIG_<name>: why the runner or the suite needs it.
REQUIRED = {
    "VIRTIO_PCI": "the guest's devices are virtio-pci",
    "VIRTIO_FS": "the host's root and the results are virtiofs shares",
    "FUSE_FS": "virtiofs is built on FUSE",
    "DEVTMPFS": "the init mounts /dev as devtmpfs",
    "TMPFS": "the read-only root gets tmpfs where the suite writes",
    "BINFMT_SCRIPT": "the init is a shell script",
    "SERIAL_8250_CONSOLE": "the console (console=ttyS0) is the log of the boot",
    "NET_NS": "every case runs in network namespaces",
    "VETH": "the real-peer cases join two namespaces with a veth pair",
    "TUN": "the scripted peer answers on a TUN device",
}
OPTIONAL = {
    "IPV6": "the IPv6 variants",
    "NET_SCH_NETEM": "the netem cases",
    "NETFILTER_NETLINK_QUEUE": "the ACK gate (NFQUEUE)",
    "TCP_CONG_BBR": "bbr as a second congestion control",
}


def is_path(spec: str) -> bool:
    """Whether a KERNELS entry names a file or directory rather than a Debian series."""
    return "/" in spec or spec.startswith(".") or os.path.exists(spec)


def image_release(image: Path) -> str:
    """The release string of an x86 bzImage, from its setup header (boot protocol >= 2.00)."""
    with open(image, "rb") as f:
        head = f.read(0x4000)
    if len(head) < 0x210 or head[0x202:0x206] != b"HdrS":
        raise FetchError(f"{image}: not an x86 bzImage (no 'HdrS' setup header)")
    (offset,) = struct.unpack_from("<H", head, 0x20E)
    start = offset + 0x200
    if start >= len(head):
        with open(image, "rb") as f:
            f.seek(start)
            text = f.read(256)
    else:
        text = head[start:start + 256]
    release = text.split(b"\0", 1)[0].decode(errors="replace").split(" ", 1)[0]
    if not release:
        raise FetchError(f"{image}: the setup header has no kernel version string")
    return release


def read_config(path: Path) -> dict[str, str]:
    """CONFIG_X=value lines of a kernel config, as {X: value}."""
    out = {}
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            k, v = line[len("CONFIG_"):].split("=", 1)
            out[k] = v.strip()
    return out


def check_config(config: dict[str, str], has_modules: bool, source: str) -> list[str]:
    """Raise FetchError naming the first required option missing; return warnings."""
    for name, why in REQUIRED.items():
        value = config.get(name)
        if value == "y" or (value == "m" and has_modules):
            continue
        state = "=m but no modules were found with the image" if value == "m" else "is not set"
        raise FetchError(f"{source}: CONFIG_{name} {state}: {why}; build it in (=y)")
    return [f"CONFIG_{name} is not set: {what} will skip" for name, what in OPTIONAL.items()
            if config.get(name) not in ("y", "m")]


def stage_modules(tree: Path, release: str, dest: Path) -> Path:
    """Copy a build tree's modules (modules.order) into dest/lib/modules/<release>, depmod."""
    moddir = dest / "lib" / "modules" / release
    shutil.rmtree(moddir, ignore_errors=True)
    (moddir / "kernel").mkdir(parents=True)
    for line in (tree / "modules.order").read_text().split():
        rel = line.removeprefix("kernel/")
        ko = tree / (rel[:-2] + ".ko" if rel.endswith(".o") else rel)
        if ko.is_file():
            target = moddir / "kernel" / ko.relative_to(tree)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ko, target)
    for name in ("modules.order", "modules.builtin", "modules.builtin.modinfo"):
        if (tree / name).is_file():
            text = (tree / name).read_text(errors="replace") if name != "modules.builtin.modinfo" else None
            if text is not None:
                lines = [l if l.startswith("kernel/") else "kernel/" + l for l in text.split()]
                (moddir / name).write_text("\n".join(l[:-2] + ".ko" if l.endswith(".o") else l
                                                     for l in lines) + "\n")
            else:
                shutil.copy2(tree / name, moddir / name)
    subprocess.run(["depmod", "-b", str(dest), release], check=True)
    return dest


def from_path(spec: str, log=lambda msg: None) -> Kernel:
    """The Kernel a path names, checked for what the runner needs; FetchError otherwise."""
    p = Path(spec).expanduser().resolve()
    if p.is_dir():
        image = p / "arch" / "x86" / "boot" / "bzImage"
        config_file = p / ".config"
        if not image.is_file():
            raise FetchError(f"{spec}: a directory without arch/x86/boot/bzImage (build the kernel first)")
        release_file = p / "include" / "config" / "kernel.release"
        release = release_file.read_text().strip() if release_file.is_file() else image_release(image)
        root = cache_dir() / "local" / release / "root"
        if (p / "modules.order").is_file():
            log(f"staging the modules of {release}")
            stage_modules(p, release, root)
        else:
            root.mkdir(parents=True, exist_ok=True)
    elif p.is_file():
        image = p
        release = image_release(p)
        config_file = next((c for c in (p.parent / f"config-{release}", p.parent / ".config")
                            if c.is_file()), p.parent / f"config-{release}")
        root = p.parent.parent if (p.parent.parent / "lib" / "modules" / release).is_dir() \
            else cache_dir() / "local" / release / "root"
        root.mkdir(parents=True, exist_ok=True)
    else:
        raise FetchError(f"{spec}: no such file or directory (a kernel is a Debian series such as 6.1, "
                         "a bzImage, or a kernel build tree)")
    if not config_file.is_file():
        raise FetchError(f"{spec}: no kernel config ({config_file.name} beside the image, or .config "
                         "of a build tree): it is needed to check what the kernel has built in")
    modules = root / "lib" / "modules" / release
    warnings = check_config(read_config(config_file), (modules / "modules.dep").is_file(), spec)
    for w in warnings:
        log(w)
    return Kernel(spec=spec, release=release, package=str(image), version=release, suite="local",
                  root=str(root), vmlinuz=str(image), config=str(config_file))
