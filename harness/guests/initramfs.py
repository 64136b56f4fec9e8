"""A tiny initramfs for kernels that build virtio-pci or virtiofs as modules.

Such a kernel cannot mount the host's root share by itself. The initramfs holds a static
busybox, just those modules (decompressed, so busybox's insmod needs no xz or zstd) and a
stage-1 /init that loads them, mounts the share read-only and switch_roots into it, handing
over to the stage-2 init named by `init=` on the kernel command line (see harness.guests.vm).
Kernels that have all of it built in boot without one. The cpio archive is written here in
Python (newc format), so no cpio program is needed.
"""

from __future__ import annotations

import lzma
import os
import shutil
import struct
import subprocess
from pathlib import Path

# What the root share needs; their dependencies (virtio, virtio_ring, fuse, ...) follow
# from modules.dep.
ROOT_MODULES = ("virtio_pci", "virtiofs")
# All of these built in means no initramfs is needed.
BUILTIN_OPTIONS = ("VIRTIO", "VIRTIO_PCI", "FUSE_FS", "VIRTIO_FS")
STAGE1_VERSION = "1"  # bump when the script or layout changes, to rebuild cached archives


def needs_initramfs(config_value) -> bool:
    """Whether a kernel (given its config lookup function) needs the initramfs to boot."""
    return any(config_value(opt) != "y" for opt in BUILTIN_OPTIONS)


def module_name(path: str) -> str:
    """'kernel/fs/fuse/virtiofs.ko.xz' -> 'virtiofs' (dashes read as underscores, as kmod does)."""
    base = path.rsplit("/", 1)[-1]
    for ext in (".xz", ".zst", ".gz"):
        base = base.removesuffix(ext)
    return base.removesuffix(".ko").replace("-", "_")


def parse_modules_dep(text: str) -> dict[str, tuple[str, list[str]]]:
    """modules.dep -> {name: (path, [dependency paths])}."""
    out = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        path, deps = line.split(":", 1)
        out[module_name(path)] = (path.strip(), deps.split())
    return out


def load_order(wanted: tuple[str, ...] | list[str], dep: dict[str, tuple[str, list[str]]]) -> list[str]:
    """Module paths to insmod, dependencies before dependents; built-in (absent) ones skipped."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name not in dep:
            return  # built in, or not in this kernel at all
        path, deps = dep[name]
        if path in order:
            return
        for d in deps:
            visit(module_name(d))
        order.append(path)

    for w in wanted:
        visit(w)
    return order


def render_stage1(module_files: list[str]) -> str:
    """The initramfs /init: load modules, mount the host root read-only, switch_root."""
    loads = "\n".join(f"$bb insmod /modules/{m} || echo 'stage1: insmod {m} failed'"
                      for m in module_files)
    return f"""#!/bin/busybox sh
# Stage 1: load what the root share needs, mount it, hand over to the stage-2 init.
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t devtmpfs dev /dev
{loads}
init=
for w in $($bb cat /proc/cmdline); do
  case "$w" in init=*) init="${{w#init=}}" ;; esac
done
if ! $bb mount -t virtiofs -o ro hostroot /newroot; then
  echo "stage1: cannot mount the root share"; $bb poweroff -f
fi
$bb umount /proc
$bb umount /dev
exec $bb switch_root /newroot "$init"
"""


def _cpio_entry(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0),
                ino: int = 0) -> bytes:
    """One newc record: header, NUL-terminated name and data, each padded to 4 bytes."""
    nameb = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nameb), 0)
    head = b"070701" + b"".join(b"%08x" % f for f in fields)
    rec = head + nameb
    rec += b"\0" * (-len(rec) % 4)
    rec += data + b"\0" * (-len(data) % 4)
    return rec


def write_cpio(entries: list[tuple[str, int, bytes, tuple[int, int]]], dest: Path) -> None:
    """Write (name, mode, data, rdev) entries as an uncompressed newc archive."""
    with open(dest, "wb") as f:
        for ino, (name, mode, data, rdev) in enumerate(entries, start=1):
            f.write(_cpio_entry(name, mode, data, rdev, ino))
        f.write(_cpio_entry("TRAILER!!!", 0))


def is_static_elf(path: Path) -> bool:
    """True if an ELF64 binary has no program interpreter (so it runs without a libc)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return False
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            if struct.unpack("<I", f.read(4))[0] == 3:  # PT_INTERP
                return False
    return True


def _read_module(path: Path) -> bytes:
    if path.suffix == ".xz":
        return lzma.decompress(path.read_bytes())
    if path.suffix == ".zst":  # no zstd in the 3.11 stdlib: use the zstd program
        return subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=True).stdout
    return path.read_bytes()


def find_busybox() -> Path:
    """The static busybox of Debian's busybox-static package."""
    for cand in (Path("/bin/busybox"), Path("/usr/bin/busybox"), Path(shutil.which("busybox") or "/nonexistent")):
        if cand.is_file() and is_static_elf(cand):
            return cand
    raise FileNotFoundError("no static busybox found: install Debian's busybox-static")


def build(modules_dir: Path, dest: Path) -> Path:
    """Build (or reuse) the initramfs for the kernel whose modules are in modules_dir."""
    busybox = find_busybox()
    stamp = f"{STAGE1_VERSION} {busybox} {os.stat(busybox).st_mtime_ns}"
    stamp_file = dest.with_suffix(".stamp")
    if dest.is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        return dest
    dep = parse_modules_dep((modules_dir / "modules.dep").read_text())
    paths = load_order(ROOT_MODULES, dep)
    files = [module_name(p) + ".ko" for p in paths]
    entries: list[tuple[str, int, bytes, tuple[int, int]]] = [
        (d, 0o040755, b"", (0, 0)) for d in ("bin", "dev", "proc", "sys", "newroot", "modules")
    ]
    entries += [("dev/console", 0o020600, b"", (5, 1)), ("dev/null", 0o020666, b"", (1, 3))]
    entries.append(("bin/busybox", 0o100755, busybox.read_bytes(), (0, 0)))
    entries.append(("init", 0o100755, render_stage1(files).encode(), (0, 0)))
    for p, fname in zip(paths, files):
        entries.append((f"modules/{fname}", 0o100644, _read_module(modules_dir / p), (0, 0)))
    tmp = dest.with_suffix(".partial")
    write_cpio(entries, tmp)
    tmp.rename(dest)
    stamp_file.write_text(stamp)
    return dest
