"""compare.html as a browser shows it: headless Chromium renders the page from sample
reports, and the rendered DOM and a screenshot are checked.

Only a real renderer proves the page is self-contained and readable: that the data URI
plots decode, the CSS highlights apply, and nothing waits on a resource from elsewhere.
Skipped when Chromium is absent (Debian package ``chromium``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from compare_samples import three_kernels, write_reports

from harness.reporting import load_comparison, write_comparison

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed: apt-get install chromium")

WIDTH, HEIGHT = 1400, 3000
# Chromium must not reach out (updates, sync, metrics) or need a sandbox as root.
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
)


def run_chromium(tmp_path: Path, *args: str, timeout: float = 45) -> subprocess.CompletedProcess:
    """Run Chromium with a fresh profile; on a hang kill its whole process group,
    since Chromium's helper processes would otherwise outlive the test."""
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium did not finish within {timeout}s")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def page(tmp_path: Path) -> Path:
    pytest.importorskip("matplotlib")  # the checks below expect drawn plots
    write_reports(tmp_path / "in", three_kernels())
    write_comparison(load_comparison([tmp_path / "in"]), tmp_path / "out")
    return tmp_path / "out" / "compare.html"


def test_rendered_dom_has_tables_and_plots(page: Path, tmp_path: Path):
    done = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert dom.count('<table class="results">') == 3  # epollin, epollout, epollrdhup
    assert dom.count('class="cell c-pass differs"') == 1  # where the waking ACK changed
    assert "\u2014</td>" in dom  # the result the older kernels lack
    assert dom.count('<img class="plot"') == 2
    assert dom.count('src="data:image/png;base64,') == 2
    assert '<table class="capabilities">' in dom and "CONFIG_NET_SCH_NETEM" in dom
    assert "tcp: remove SOCK_QUEUE_SHRUNK" in dom


def test_screenshot_is_not_blank(page: Path, tmp_path: Path):
    import numpy as np
    from matplotlib import image

    shot = tmp_path / "compare.png"
    done = run_chromium(tmp_path, f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}",
                        page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.stat().st_size > 50_000

    pixels = image.imread(shot)[..., :3]  # floats in 0..1
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    not_white = (pixels < 0.95).any(axis=-1).mean()
    assert not_white > 0.02, f"only {not_white:.1%} of the page is not white"

    def share(rgb: tuple[int, int, int], tolerance: float = 0.03) -> float:
        target = np.array(rgb) / 255
        return (np.abs(pixels - target) < tolerance).all(axis=-1).mean()

    # The highlight behind differing cells (#fff4d6), i.e. the CSS applied...
    assert share((0xFF, 0xF4, 0xD6)) > 0.001
    # ...and matplotlib's first kernel colour (#1f77b4), i.e. the plots decoded (a few
    # hundred pixels: the plots are drawn small to keep the page small).
    assert share((0x1F, 0x77, 0xB4), tolerance=0.06) > 0.0001


FOLD = (1400, 900)  # a laptop's first screen


def test_the_neighbouring_diffs_are_above_the_fold(page: Path, tmp_path: Path):
    """The kernel-by-kernel diffs are the first thing a reader sees: painted in a colour
    nothing else uses, they show in a screenshot of the first screen only; the rule table
    and the causes come before the big table."""
    import numpy as np
    from matplotlib import image

    html = page.read_text()
    assert html.index('id="diffs"') < html.index('id="rules"') < html.index('id="what-changed"') \
        < html.index('id="results"')
    # the guests' diff only: the host of the sample is not mixed in
    assert "5.4.0-old (guest) \u2192 6.1.0-18-amd64 (guest)" in html and "6.18.44" not in html.split('id="rules"')[0]
    marked = tmp_path / "marked.html"
    marked.write_text(html.replace(
        "</style>", "section.diffs pre { background: #ff00ff !important; }</style>", 1))
    shot = tmp_path / "fold.png"
    done = run_chromium(tmp_path, f"--window-size={FOLD[0]},{FOLD[1]}", f"--screenshot={shot}",
                        marked.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    pixels = image.imread(shot)[..., :3]
    magenta = (np.abs(pixels - np.array([1.0, 0.0, 1.0])) < 0.03).all(axis=-1)
    rows = np.nonzero(magenta.any(axis=1))[0]
    assert rows.size > 40, "the kernel-by-kernel diffs are not on the first screen"
    assert rows.max() < FOLD[1] - 1 or magenta[: FOLD[1] // 2].any()
