"""Build a kernel mutant: Debian's headers for the guest kernel, then the livepatch module.

The headers are the packages of the exact kernel the guest boots (same release, same Debian
version): ``linux-headers-<release>``, and what it depends on (``linux-headers-*-common``,
``linux-kbuild-<series>``), downloaded through a private apt configuration
(harness.guests.kernels.PrivateApt: its own sources list, lists, cache and status under the
kernel cache) and unpacked with ``dpkg -x``: never installed, the machine's apt state,
/usr/src and /lib/modules are never touched.  The headers' Makefile includes the common
part by its installed path; the unpacked copy is pointed at its own.

A module is built once per (kernel, sources, flags, patch): the build directory's name is
their hash, and a second run reuses the .ko.  Debian builds 6.1 with gcc-12, the compiler
the headers' Makefile names; a module built by another compiler is not offered to the guest.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

from harness.guests import kernels
from harness.guests.kernel import Kernel

from .catalogue import Mutant

MODULE_SRC = Path(__file__).resolve().parent / "module"
MODULE_NAME = "eps_kmutant"
# The series whose source the module's copies come from (linux-source-6.1, 6.1.192-3).
COPIES_OF = "6.1"


class BuildError(RuntimeError):
    """Headers could not be fetched, or a module did not build (an infrastructure failure,
    except for a patch that does not apply, which says so)."""


def cache_root() -> Path:
    """Where headers and built modules live: beside the kernels (EPS_CACHE, else .cache)."""
    return kernels.cache_dir() / "kmutants"


def header_packages(release: str, depends: list[str]) -> list[str]:
    """The packages a module build needs: the flavour's headers and, of what they depend
    on, the common headers and kbuild (not the compiler: that is the machine's own)."""
    return [f"linux-headers-{release}",
            *[d for d in depends if d.startswith(("linux-headers-", "linux-kbuild-"))]]


def point_makefile(text: str, unpacked: Path) -> str:
    """The headers' Makefile with its ``include /usr/src/...`` pointed into ``unpacked``."""
    out = re.sub(r"^include /usr/src/", f"include {unpacked}/usr/src/", text, flags=re.M)
    if out == text:
        raise BuildError("the headers' Makefile includes no /usr/src/ path: an unknown layout")
    return out


def headers(kernel: Kernel, log=lambda msg: None) -> Path:
    """The build directory of the headers for ``kernel`` (fetched and unpacked once)."""
    root = cache_root() / kernel.release
    build_dir = root / "headers" / "usr" / "src" / f"linux-headers-{kernel.release}"
    stamp = root / "headers.version"
    if stamp.is_file() and stamp.read_text().strip() == kernel.version and build_dir.is_dir():
        return build_dir
    apt = kernels.PrivateApt(cache_root() / "apt" / kernel.suite.split("-")[0],
                             kernels.suites_for(kernel.spec))
    apt.prepare()
    log("updating package lists (private apt configuration)")
    apt.run("update")
    name = f"linux-headers-{kernel.release}"
    found = [p for p in apt.packages(re.compile(re.escape(name))) if p.version == kernel.version]
    if not found:
        raise BuildError(f"no {name} {kernel.version} in {' '.join(apt.suites)}: the headers must "
                         "match the kernel the guest boots")
    names = header_packages(kernel.release, found[0].depends)
    debs_dir = cache_root() / "debs"
    debs_dir.mkdir(parents=True, exist_ok=True)
    log(f"downloading {' '.join(names)} {kernel.version}")
    apt.run("download", *[f"{n}={kernel.version}" for n in names], cwd=debs_dir)
    tmp = root / "headers.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for n in names:
        deb = next(debs_dir.glob(f"{n}_*{kernel.version.split(':')[-1]}_*.deb"), None)
        if deb is None:
            raise BuildError(f"download left no {n} {kernel.version}")
        subprocess.run(["dpkg", "-x", str(deb), str(tmp)], check=True)
    final = root / "headers"
    mk = tmp / "usr" / "src" / f"linux-headers-{kernel.release}" / "Makefile"
    mk.write_text(point_makefile(mk.read_text(), final))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    stamp.write_text(kernel.version + "\n")
    return build_dir


def build_key(kernel: Kernel, mutant: Mutant, sources: dict[str, bytes]) -> str:
    """What decides a build: the kernel, the module's sources, the flags and the patch."""
    h = hashlib.sha256(f"{kernel.release}\0{kernel.version}\0{mutant.cflags()}\0".encode())
    for name in sorted(sources):
        h.update(name.encode() + b"\0" + sources[name] + b"\0")
    if mutant.patch:
        h.update(Path(mutant.patch).read_bytes())
    return h.hexdigest()[:16]


def build(kernel: Kernel, mutant: Mutant, log=lambda msg: None) -> Path:
    """The livepatch module of ``mutant`` for ``kernel``: a module given by path as it is,
    else built (or taken from the cache).  Raises BuildError."""
    if mutant.module:
        return Path(mutant.module)
    if not (kernel.version.startswith(COPIES_OF + ".") or kernel.release.startswith(COPIES_OF + ".")):
        raise BuildError(f"the module's copies are Linux {COPIES_OF}'s; {kernel.release} is another "
                         "series: give a module built for it (--mutant PATH.ko)")
    sources = {p.name: p.read_bytes() for p in sorted(MODULE_SRC.iterdir()) if p.is_file()}
    out = cache_root() / kernel.release / "build" / f"{mutant.name}-{build_key(kernel, mutant, sources)}"
    ko = out / f"{MODULE_NAME}.ko"
    if ko.is_file():
        return ko
    hdr = headers(kernel, log)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name, data in sources.items():
        (out / name).write_bytes(data)
    if mutant.patch:
        r = subprocess.run(["patch", "-p1", "--forward", "--batch", "-i", mutant.patch],
                           cwd=out, capture_output=True, text=True)
        if r.returncode != 0:
            raise BuildError(f"{mutant.patch} does not apply to the module's sources "
                             f"(patch -p1 in {MODULE_SRC.name}/): {(r.stdout + r.stderr).strip()[-400:]}")
    log(f"building {mutant.name} against {kernel.release}")
    r = subprocess.run(["make", "-s", "-C", str(hdr), f"M={out}", f"EPS_KMUTANT_CFLAGS={mutant.cflags()}",
                        "modules"], capture_output=True, text=True)
    if r.returncode != 0 or not ko.is_file():
        raise BuildError(f"building {mutant.name} failed: {(r.stdout + r.stderr).strip()[-1200:]}")
    return ko
