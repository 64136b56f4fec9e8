"""kprobe events through tracefs: defined with the suite's prefix, read, removed, swept.

Documentation/trace/kprobetrace.rst: a line written to ``kprobe_events`` defines an event
(``p:GROUP/NAME SYMBOL arg=+OFF(%di):u32 ...``, ``r:`` for a return probe), ``-:GROUP/NAME``
removes it; ``events/GROUP/NAME/enable`` and ``.../trigger`` (``stacktrace``) switch it on and
record the call path.  Events are read from ``trace_pipe``, which consumes what it returns.

The group is ``<prefix>_<pid>`` (the namespaces' prefix, dashes made underscores), so
:func:`sweep` at session start removes the groups of runs that are gone, as the namespace
sweep does.  Nothing here loads a module; on a kernel without kprobe events (or with tracefs
unmounted and not mountable) :func:`tracefs` names what is missing.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from netns.names import PREFIX

TRACEFS_MOUNTS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")


class TracingUnavailable(RuntimeError):
    pass


def group_prefix(prefix: str = PREFIX) -> str:
    return re.sub(r"\W", "_", prefix)


def group_name(prefix: str = PREFIX) -> str:
    return f"{group_prefix(prefix)}_{os.getpid()}"


def tracefs(mount: bool = False) -> Path:
    """The tracefs directory with kprobe events; with ``mount``, mount it where the kernel
    offers it (only inside a guest the suite owns: never on a machine it shares)."""
    for d in TRACEFS_MOUNTS:
        if Path(d, "kprobe_events").exists():
            return Path(d)
    if mount and Path(TRACEFS_MOUNTS[0]).is_dir():
        r = subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS_MOUNTS[0]], capture_output=True, text=True)
        if r.returncode == 0 and Path(TRACEFS_MOUNTS[0], "kprobe_events").exists():
            return Path(TRACEFS_MOUNTS[0])
        why = r.stderr.strip() or "no kprobe_events after mounting (CONFIG_KPROBE_EVENTS)"
        raise TracingUnavailable(f"kprobe tracing unavailable: tracefs: {why}")
    raise TracingUnavailable("kprobe tracing unavailable: tracefs with kprobe_events is not mounted "
                             "(CONFIG_KPROBES / CONFIG_KPROBE_EVENTS, or mount -t tracefs)")


def _write(path: Path, text: str, append: bool = True) -> None:
    fd = os.open(path, os.O_WRONLY | (os.O_APPEND if append else os.O_TRUNC))
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


class Probes:
    """A set of kprobe events in one group; a context manager that removes them all."""

    def __init__(self, root: Path, group: str | None = None) -> None:
        self.root = root
        self.group = group or group_name()
        self.names: list[str] = []

    def add(self, name: str, definition: str, stacktrace: bool = False, only: str = "") -> None:
        """``definition``: 'p sk_stream_write_space q=+376(%di):s32' ('r ...' for a return);
        ``only``: a filter on the fetched fields ('pid == 184'), for the event and its trigger."""
        kind, rest = definition.split(" ", 1)
        try:
            _write(self.root / "kprobe_events", f"{kind}:{self.group}/{name} {rest}\n")
        except OSError as exc:
            raise TracingUnavailable(f"kprobe {name} ({definition}) refused: {os.strerror(exc.errno)}") from exc
        self.names.append(name)
        if only:
            _write(self.root / "events" / self.group / name / "filter", only + "\n", append=False)
        if stacktrace:
            _write(self.root / "events" / self.group / name / "trigger",
                   "stacktrace" + (f" if {only}" if only else "") + "\n")
        _write(self.root / "events" / self.group / name / "enable", "1\n")

    def missed(self) -> dict[str, int]:
        """How many hits of each of these events the kernel could not record (kprobe_profile:
        a probe hit while another probe's handler ran on that CPU is skipped, not queued)."""
        try:
            text = (self.root / "kprobe_profile").read_text()
        except OSError:
            return {}
        out = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0].rsplit("/", 1)[-1] in self.names and parts[2].isdigit():
                out[parts[0].rsplit("/", 1)[-1]] = int(parts[2])
        return out

    def remove(self) -> None:
        for name in reversed(self.names):
            _remove_event(self.root, self.group, name)
        self.names.clear()

    def __enter__(self) -> "Probes":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _remove_event(root: Path, group: str, name: str) -> None:
    event = root / "events" / group / name
    for what, text in (("enable", "0\n"), ("trigger", "!stacktrace\n")):  # a filter need not be named
        try:
            _write(event / what, text)
        except OSError:
            pass
    try:
        _write(root / "kprobe_events", f"-:{group}/{name}\n")
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise


@contextmanager
def pipe(root: Path) -> Iterator["TracePipe"]:
    p = TracePipe(root)
    try:
        yield p
    finally:
        p.close()


class TracePipe:
    """trace_pipe opened non-blocking: :meth:`lines` returns what the kernel recorded so far."""

    def __init__(self, root: Path) -> None:
        self.fd = os.open(root / "trace_pipe", os.O_RDONLY | os.O_NONBLOCK)
        self._rest = b""

    def lines(self) -> list[str]:
        chunks = [self._rest]
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                break
            if not data:
                break
            chunks.append(data)
        text = b"".join(chunks)
        *done, self._rest = text.split(b"\n")
        return [line.decode(errors="replace") for line in done]

    def close(self) -> None:
        os.close(self.fd)


def sweep(prefix: str = PREFIX) -> list[str]:
    """Remove kprobe events of the suite's groups whose run is gone; returns 'group/name'."""
    try:
        root = tracefs()
    except TracingUnavailable:
        return []
    pattern = re.compile(rf"^[pr]\S*:({re.escape(group_prefix(prefix))}_(\d+))/(\S+) ")
    removed = []
    for line in (root / "kprobe_events").read_text().splitlines():
        m = pattern.match(line)
        if m and int(m.group(2)) != os.getpid() and not Path(f"/proc/{m.group(2)}").exists():
            _remove_event(root, m.group(1), m.group(3))
            removed.append(f"{m.group(1)}/{m.group(3)}")
    return removed
