"""What every guest run of the suite would otherwise rebuild under TCG, built once on the host.

Inside a guest Python runs about ten times slower than on its host, and the root share is
read-only: what a run builds there is lost at power-off and built again at the next boot.
Two such things are built here instead, before the guests boot:

* the bytecode of the repository's modules and pytest's rewritten test modules and plugins,
  which a host that never wrote them (``PYTHONDONTWRITEBYTECODE``, a fresh clone) leaves to
  every guest to compile: written next to the sources, where Python keeps them
  (``__pycache__``, ignored by git), by compiling the packages and collecting the scenarios;
* scapy's tables (manufacturers, services, ethertypes), parsed from text at import and
  pickled into ``$XDG_CACHE_HOME/scapy``, a tmpfs in the guest: pickled here into the kernel
  cache, which the guests' ``XDG_CACHE_HOME`` names (scapy only reads a pickle whose source
  file is unchanged, and only warns where it cannot write).

A failure costs time only: a guest builds whatever it does not find, as before.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Sequence

# What the suite imports of scapy (harness.peers.capture, harness.record.pcap)
SCAPY_MODULES = ("scapy.layers.l2", "scapy.arch.linux", "scapy.utils")
PACKAGES = ("harness", "netns", "tests")
TIMEOUT_S = 300

_SCRIPT = f"""
import compileall, importlib, sys
for d in {PACKAGES!r}:
    compileall.compile_dir(d, quiet=2)
for m in {SCAPY_MODULES!r}:
    importlib.import_module(m)
import pytest
sys.exit(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", *sys.argv[1:]]))
"""


def xdg_cache(cache: Path) -> Path:
    return cache / "xdg-cache"


def guest_env(cache: Path) -> dict[str, str]:
    """The environment a guest needs to find what was built here."""
    return {"XDG_CACHE_HOME": str(xdg_cache(cache))}


def command(python: Path, scenario_args: Sequence[str]) -> list[str]:
    return [str(python), "-c", _SCRIPT, *scenario_args]


def environment(cache: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The host's environment, writing bytecode, with the guests' scapy cache."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(guest_env(cache))
    return env


def warm(python: Path, repo: Path, cache: Path, scenario_args: Sequence[str],
         log: Callable[[str], None] = lambda m: None) -> bool:
    """Build bytecode and scapy's tables for the guests; False (and a line) if it failed."""
    xdg_cache(cache).mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(command(python, scenario_args), cwd=repo, env=environment(cache),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log(f"warming the guests' bytecode and scapy tables failed ({exc}); each guest builds them")
        return False
    if done.returncode != 0:
        tail = " | ".join(done.stdout.strip().splitlines()[-3:])
        log(f"warming the guests' bytecode and scapy tables failed (exit {done.returncode}: {tail}); "
            "each guest builds them")
        return False
    return True
