"""An unpacked kernel in the project's cache: the type the fetcher makes and the runner boots.

It lives apart from ``kernels`` (which fetches) so that the runner (``vm``) and the stage-2
init can name it without importing the download logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The repository this package was imported from (harness/guests/kernel.py -> repo).
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Kernel:
    """An unpacked kernel in the cache, with everything a boot needs."""

    spec: str
    release: str          # what `uname -r` prints in the guest
    package: str
    version: str
    suite: str
    root: str             # unpack dir; `modprobe -d <root>` finds lib/modules/<release>
    vmlinuz: str
    config: str
    download_seconds: float = 0.0

    def config_value(self, option: str) -> str | None:
        """The value of CONFIG_<option> in the kernel's config ('y', 'm', ...) or None."""
        prefix = f"CONFIG_{option}="
        with open(self.config) as f:
            for line in f:
                if line.startswith(prefix):
                    return line[len(prefix):].strip()
        return None

    @property
    def modules_dir(self) -> Path:
        return Path(self.root) / "lib" / "modules" / self.release
