"""Fetch Debian kernels for the cross-kernel runs: resolve a spec, download, unpack.

A spec such as "6.1" names an upstream series; it is resolved to the newest
linux-image-*-<flavour> package of the Debian release that ships that series. The download
goes through a private apt configuration (own sources list, lists, cache and status under the
project's cache) whose archive URIs and keyrings are copied from this machine's own apt
sources, so nothing here names a mirror and the machine's apt state is never touched.
Packages are unpacked with `dpkg -x` into the cache, never installed.

Run `python -m harness.guests --help` for the command line (harness.guests.kernel_runs).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

from . import debian
from .kernel import REPO, Kernel

# Which Debian suites ship which kernel series. The security suite carries the newest
# stable-update kernels, so both are consulted and the highest version wins.
SPEC_SUITES: dict[str, tuple[str, ...]] = {
    "5.10": ("bullseye", "bullseye-security"),
    "6.1": ("bookworm", "bookworm-security"),
    "6.12": ("trixie", "trixie-security"),
    "7": ("sid",),
}
DEFAULT_SPECS = ("5.10", "6.1", "6.12", "7")
DEFAULT_FLAVOUR = "cloud-amd64"


class FetchError(RuntimeError):
    """A kernel could not be resolved, downloaded or unpacked (an infrastructure failure)."""


def cache_dir() -> Path:
    """The kernel cache: $EPS_CACHE, else .cache/kernels in the repository."""
    env = os.environ.get("EPS_CACHE")
    return Path(env).resolve() if env else REPO / ".cache" / "kernels"


def package_pattern(flavour: str) -> re.Pattern[str]:
    """Names of kernel image packages of a flavour, e.g. linux-image-6.12.9+deb13-cloud-amd64.

    Anchored at the flavour so that -dbg and -unsigned variants are left out.
    """
    return re.compile(r"linux-image-\d+\.\d+[^\s]*-" + re.escape(flavour))


def upstream_of(version: str) -> str:
    """The upstream part of a Debian version: '6.1.192-2' -> '6.1.192'."""
    v = version.split(":", 1)[-1]
    return v.rsplit("-", 1)[0] if "-" in v else v


def matches_spec(version: str, spec: str) -> bool:
    """Whether a package version belongs to the series a spec names ('6.1' is not '6.12')."""
    up = upstream_of(version)
    return up == spec or up.startswith(spec + ".")


def pick_kernel(packages: list[debian.Package], spec: str) -> debian.Package | None:
    """The newest kernel package of the spec's series, or None."""
    return debian.newest([p for p in packages if matches_spec(p.version, spec)])


def suites_for(spec: str) -> tuple[str, ...]:
    """The Debian suites to search for a spec: the table, else the series' major version."""
    if spec in SPEC_SUITES:
        return SPEC_SUITES[spec]
    major = spec.split(".", 1)[0]
    if major in SPEC_SUITES:
        return SPEC_SUITES[major]
    raise FetchError(f"no Debian suite known for kernel spec {spec!r}; "
                     f"known: {', '.join(SPEC_SUITES)}")


class PrivateApt:
    """apt-get and friends pointed at a private state directory, never the machine's."""

    def __init__(self, state: Path, suites: tuple[str, ...]):
        self.state = state
        self.suites = suites

    def _opts(self) -> list[str]:
        s = self.state
        return [
            "-o", f"Dir::Etc::sourcelist={s / 'sources.list'}",
            "-o", f"Dir::Etc::sourceparts={s / 'sources.list.d'}",
            "-o", f"Dir::Etc::preferences={s / 'preferences'}",
            "-o", f"Dir::Etc::preferencesparts={s / 'preferences.d'}",
            "-o", f"Dir::State::Lists={s / 'lists'}",
            "-o", f"Dir::State::status={s / 'status'}",
            "-o", f"Dir::Cache={s / 'cache'}",
            "-o", "Acquire::Languages=none",
            "-o", "APT::Architectures=amd64",
            # The cache lives in the repository, which the unprivileged _apt user may not
            # be allowed to write: download as root instead of warning about it.
            "-o", "APT::Sandbox::User=root",
        ]

    def prepare(self) -> None:
        """Write the private sources list, derived from this machine's apt configuration."""
        main, sec = debian.archive_sources(debian.read_system_sources())
        if main is None:
            raise FetchError("no Debian archive entry found in this machine's apt sources")
        entries = []
        for suite in self.suites:
            if suite.endswith("-security"):
                if sec is not None:  # a machine without the security archive goes without
                    entries.append((sec, suite))
            else:
                entries.append((main, suite))
        for d in ("sources.list.d", "preferences.d", "lists/partial", "cache/archives/partial"):
            (self.state / d).mkdir(parents=True, exist_ok=True)
        (self.state / "status").touch()
        (self.state / "sources.list").write_text(debian.render_sources_list(entries))

    def run(self, *args: str, cwd: Path | None = None) -> str:
        cmd = ["apt-get", "-q", *self._opts(), *args]
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        if r.returncode != 0:
            raise FetchError(f"{' '.join(args[:2])} failed ({r.returncode}): "
                             f"{(r.stderr or r.stdout).strip()[-800:]}")
        return r.stdout

    def packages(self, name_filter: re.Pattern[str]) -> list[debian.Package]:
        """Matching records of every Packages index in the private lists."""
        out = []
        for f in sorted((self.state / "lists").glob("*_Packages*")):
            if not re.search(r"_Packages(\.\w+)?$", f.name):
                continue
            # apt-helper decompresses whatever format apt chose to keep (lz4, zstd, ...).
            text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", str(f)],
                                  capture_output=True, text=True, check=True).stdout
            suite = f.name.split("_dists_", 1)[-1].split("_", 1)[0]
            out += debian.parse_packages(text, name_filter, suite=suite)
        return out


def resolve(spec: str, flavour: str, apt: PrivateApt) -> tuple[debian.Package, list[str]]:
    """The image package for a spec, and the names of every package to download with it.

    Newer Debian kernels split the image into linux-binary-*, linux-modules-* and
    linux-base-* packages that the image depends on; those carry the release in their name.
    """
    found = apt.packages(package_pattern(flavour))
    best = pick_kernel(found, spec)
    if best is None:
        have = sorted({upstream_of(p.version) for p in found})
        raise FetchError(f"no {flavour} kernel of series {spec} in {' '.join(apt.suites)} "
                         f"(found: {', '.join(have) or 'none'})")
    release = best.name[len("linux-image-"):]
    parts = [d for d in best.depends if d.startswith("linux-") and d.endswith("-" + release)]
    return best, [best.name, *parts]


def _unpack(debs: list[Path], dest: Path, release: str) -> tuple[Path, Path]:
    """dpkg -x the debs into dest; return (vmlinuz, config). Makes modules findable."""
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for deb in debs:
        subprocess.run(["dpkg", "-x", str(deb), str(tmp)], check=True)
    # Merged-/usr packages put modules under usr/lib/modules; modprobe -d and depmod -b
    # look under lib/modules, so give them the same view as a merged-/usr system has.
    if not (tmp / "lib").exists() and (tmp / "usr" / "lib").is_dir():
        (tmp / "lib").symlink_to("usr/lib")
    moddir = tmp / "lib" / "modules" / release
    if not moddir.is_dir():
        raise FetchError(f"package has no lib/modules/{release}")
    # The packages ship no modules.dep (their postinst makes it): build it here.
    subprocess.run(["depmod", "-b", str(tmp), release], check=True)
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    moddir = dest / "lib" / "modules" / release
    vmlinuz = next((p for p in (dest / "boot" / f"vmlinuz-{release}", moddir / "vmlinuz")
                    if p.is_file()), None)
    config = next((p for p in (dest / "boot" / f"config-{release}", moddir / "config")
                   if p.is_file()), None)
    if vmlinuz is None or config is None:
        raise FetchError(f"no vmlinuz/config for {release} in the unpacked packages")
    return vmlinuz, config


def fetch(spec: str, flavour: str = DEFAULT_FLAVOUR, refresh: bool = False,
          log=lambda msg: None) -> Kernel:
    """Resolve, download and unpack a kernel, reusing the cache whenever it can.

    A spec resolved once is remembered, so a second run needs no network at all; pass
    refresh=True to look for a newer package.
    """
    cache = cache_dir()
    memo = cache / "specs" / f"{spec}-{flavour}.json"
    if memo.is_file() and not refresh:
        k = Kernel(**json.loads(memo.read_text()))
        if Path(k.vmlinuz).is_file() and k.modules_dir.is_dir():
            k.download_seconds = 0.0
            return k
    t0 = time.monotonic()
    suites = suites_for(spec)
    apt = PrivateApt(cache / "apt" / "-".join(s for s in suites if "-" not in s), suites)
    apt.prepare()
    log("updating package lists")
    apt.run("update")
    best, names = resolve(spec, flavour, apt)
    release = best.name[len("linux-image-"):]
    debs_dir = cache / "debs"
    debs_dir.mkdir(parents=True, exist_ok=True)
    wanted = [f"{n}={best.version}" for n in names]
    debs = [debs_dir / f"{n}_{best.version.split(':')[-1]}_amd64.deb" for n in names]
    if not all(d.is_file() for d in debs):
        log(f"downloading {' '.join(names)} {best.version}")
        apt.run("download", *wanted, cwd=debs_dir)
    missing = [d.name for d in debs if not d.is_file()]
    if missing:
        raise FetchError(f"download left no {', '.join(missing)}")
    log(f"unpacking {release}")
    try:
        vmlinuz, config = _unpack(debs, cache / release / "root", release)
    except subprocess.CalledProcessError as e:
        raise FetchError(f"unpacking {release} failed: {e}") from e
    k = Kernel(spec=spec, release=release, package=best.name, version=best.version,
               suite=best.suite, root=str(cache / release / "root"), vmlinuz=str(vmlinuz),
               config=str(config), download_seconds=round(time.monotonic() - t0, 2))
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(json.dumps(asdict(k), indent=2) + "\n")
    return k

