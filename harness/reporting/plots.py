"""Plots of the core EPOLLOUT series: send-buffer use against the ACK that caused it.

The kernel's writability test is ``free >= wmem_queued / 2`` (sk_stream_is_writeable),
so a plot of wmem_queued, free space and that threshold per ACK shows exactly where a
wakeup was due; the observed EPOLLOUT marks where the kernel actually delivered it.
One colour per kernel makes a shifted wakeup visible at a glance.

matplotlib is optional (the ``compare`` extra).  It is imported inside the functions,
with the Agg backend, so the rest of the comparison works without it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

Trace = tuple[str, Sequence[Mapping[str, Any]]]  # (kernel title, series points)
MARKERS = "osD^vP<>X"


def unavailable_reason() -> str | None:
    """None when plots can be drawn, else why not (shown in the HTML instead)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "matplotlib is not installed (install the 'compare' extra: pip install matplotlib)"
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def series_points(series: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """Columns for plotting; tolerant of points with missing fields.

    free and threshold are derived when absent, from the same definitions the suite
    uses (free = sndbuf - wmem_queued, threshold = wmem_queued // 2).
    """
    cols: dict[str, list] = {"ack": [], "wmem_queued": [], "free": [], "threshold": []}
    wake = writable = None
    for index, point in enumerate(series):
        if not isinstance(point, Mapping):
            continue
        ack = _number(point.get("ack"))
        ack = float(index) if ack is None else ack
        wmem = _number(point.get("wmem_queued"))
        sndbuf = _number(point.get("sndbuf"))
        free = _number(point.get("free"))
        if free is None and wmem is not None and sndbuf is not None:
            free = sndbuf - wmem
        threshold = _number(point.get("threshold"))
        if threshold is None and wmem is not None:
            threshold = float(int(wmem) // 2)
        cols["ack"].append(ack)
        cols["wmem_queued"].append(wmem)
        cols["free"].append(free)
        cols["threshold"].append(threshold)
        # The observed wakeup: an EPOLLOUT report, or the blocking writer woken.
        if wake is None and (point.get("epollout") is True or point.get("writer_woken") is True):
            wake = (ack, free)
        if writable is None and point.get("writable") is True:
            writable = (ack, free)
    cols["wake"] = [wake]
    cols["writable"] = [writable]
    return cols


def plot_series(title: str, traces: Sequence[Trace]) -> bytes:
    """PNG bytes of one scenario: for each kernel, wmem_queued (solid), free (dashed),
    threshold (dotted), the observed EPOLLOUT (filled star, vertical line) and the first
    point the kernel's test says writable (hollow circle)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    # A Figure not registered with pyplot: nothing global to clean up, thread-safe.
    fig = Figure(figsize=(8.4, 4.8), dpi=60, layout="constrained")
    ax = fig.add_subplot()
    kernel_handles = []
    for index, (name, series) in enumerate(traces):
        colour = f"C{index % 10}"  # matplotlib's default cycle, so colours match everywhere
        cols = series_points(series)
        ack = cols["ack"]
        # Kernels that agree draw identical lines; drawing earlier ones wider leaves a
        # coloured rim of each under the next, so agreement reads as nested stripes
        # rather than as a missing kernel.
        width = 1.3 + 1.6 * (len(traces) - 1 - index)
        # Every point marked, one marker shape per kernel, larger underneath: identical
        # series show as nested markers.
        marks = {"marker": MARKERS[index % len(MARKERS)], "markersize": 3 + 2.2 * (len(traces) - 1 - index),
                 "markerfacecolor": "none", "markeredgewidth": 1.1}
        ax.plot(ack, cols["wmem_queued"], color=colour, linestyle="-", linewidth=width, **marks)
        ax.plot(ack, cols["free"], color=colour, linestyle="--", linewidth=width, **marks)
        ax.plot(ack, cols["threshold"], color=colour, linestyle=":", linewidth=width)
        wake = cols["wake"][0]
        if wake is not None:
            ax.axvline(wake[0], color=colour, alpha=0.35, linewidth=4)
            if wake[1] is not None:
                ax.plot([wake[0]], [wake[1]], marker="*", markersize=16, color=colour,
                        markeredgecolor="black", linestyle="none")
        writable = cols["writable"][0]
        if writable is not None and writable[1] is not None:
            # Drawn above the star and larger, so it rings it when the wakeup was on time.
            ax.plot([writable[0]], [writable[1]], marker="o", markersize=20, fillstyle="none",
                    color=colour, markeredgewidth=1.8, linestyle="none", zorder=5)
        wake_text = f"woken at ack {wake[0]:g}" if wake else "no wakeup observed"
        kernel_handles.append(Line2D([], [], color=colour, linewidth=3, marker=marks["marker"],
                                     markerfacecolor="none", label=f"{name}: {wake_text}"))

    style_handles = [
        Line2D([], [], color="grey", linestyle="-", label="wmem_queued"),
        Line2D([], [], color="grey", linestyle="--", label="free = sndbuf \u2212 wmem_queued"),
        Line2D([], [], color="grey", linestyle=":", label="threshold = wmem_queued / 2"),
        Line2D([], [], color="grey", marker="*", markersize=12, linestyle="none",
               markeredgecolor="black", label="observed wakeup"),
        Line2D([], [], color="grey", marker="o", fillstyle="none", linestyle="none",
               label="first free \u2265 threshold"),
    ]
    # Legends go below the axes: inside they would hide the start of the lines.
    fig.legend(handles=kernel_handles, loc="outside lower left", fontsize=8, title="kernel",
               title_fontsize=8, alignment="left")
    fig.legend(handles=style_handles, loc="outside lower right", fontsize=8, ncols=2)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("relative ACK number")
    ax.set_ylabel("bytes")
    ax.grid(True, alpha=0.3)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return _paletted(buffer.getvalue())


def _paletted(png: bytes, colours: int = 64) -> bytes:
    """The same picture as an 8-bit paletted PNG: a plot uses a few dozen colours, and the
    page carries dozens of plots, so this keeps it small (about a third of RGBA)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        small = image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
        out = io.BytesIO()
        small.save(out, format="PNG", optimize=True)
    return out.getvalue()
