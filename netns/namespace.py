"""Network namespaces made by the suite, and threads that live inside them.

A :class:`Netns` owns one named namespace (``/run/netns/<name>``), a pyroute2 handle into it,
and a worker thread that entered it with ``setns()``.  Sockets, TUN devices and sysctl writes
are made from that thread, so they belong to the namespace for their whole life even though
the rest of the process stays in the namespace it started in.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping

from pyroute2 import NetNS
from pyroute2 import netns as _netns

from .cleanup import CleanupStack
from .defaults import TCP_SYSCTLS
from .names import new_name

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def netns_path(name: str) -> str:
    return os.path.join(_netns.NETNS_RUN_DIR, name)


def _setns(fd: int, what: str) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns({what}): {os.strerror(err)}")


def enter(path: str) -> None:
    """Move the calling thread (only it) into the network namespace at ``path``."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        _setns(fd, path)
    finally:
        os.close(fd)


@contextmanager
def visiting(path: str) -> Iterator[None]:
    """The calling thread inside the namespace at ``path`` for the block, then back in its own.

    What is made inside (a socket) keeps that namespace.  Cheaper than handing the work to
    the namespace's thread: two setns() calls instead of two wakeups across threads, which
    on a loaded machine cost a scheduler wait each.
    """
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        enter(path)
        try:
            yield
        finally:
            _setns(home, "back to the thread's own namespace")
    finally:
        os.close(home)


def _sysctl_path(name: str) -> str:
    return "/proc/sys/" + name.replace(".", "/")


def _read_sysctl(name: str) -> str:
    with open(_sysctl_path(name)) as f:
        return " ".join(f.read().split())


def _write_sysctl(name: str, value: str) -> str:
    with open(_sysctl_path(name), "w") as f:
        f.write(value)
    return _read_sysctl(name)


class Netns:
    """One namespace: ``call()`` runs a function in its thread, ``ipr`` speaks netlink in it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.path = netns_path(name)
        self._pool = ThreadPoolExecutor(1, f"ns-{name}", initializer=enter, initargs=(self.path,))
        self.ipr = NetNS(name)
        self.sysctls: dict[str, str | None] = {}

    def __repr__(self) -> str:
        return f"Netns({self.name!r})"

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` in the namespace's own thread and return its result."""
        return self._pool.submit(fn, *args, **kwargs).result()

    def socket(self, family: int = socket.AF_INET, type: int = socket.SOCK_STREAM, proto: int = 0) -> socket.socket:
        """A socket that belongs to this namespace (made by the calling thread, visiting it)."""
        with visiting(self.path):
            return socket.socket(family, type, proto)

    def thread(self, target: Callable[..., Any], *args: Any, name: str | None = None) -> threading.Thread:
        """A daemon thread that enters this namespace, then runs ``target`` (not started)."""

        def run() -> None:
            enter(self.path)
            target(*args)

        return threading.Thread(target=run, name=name or f"in-{self.name}", daemon=True)

    def sysctl(self, name: str, value: str | None = None) -> str:
        """Read (or write, then read back) a sysctl as this namespace sees it."""
        if value is None:
            return self.call(_read_sysctl, name)
        return self.call(_write_sysctl, name, value)

    def apply_sysctls(self, values: Mapping[str, str]) -> dict[str, str | None]:
        """Write each value and record what the kernel kept; ``None`` when it has no such knob."""
        for key, value in values.items():
            try:
                self.sysctls[key] = self.sysctl(key, value)
            except FileNotFoundError:
                self.sysctls[key] = None
        return self.sysctls

    def link_index(self, ifname: str) -> int:
        found = self.ipr.link_lookup(ifname=ifname)
        if not found:
            raise LookupError(f"{ifname} not found in {self.name}")
        return found[0]

    def close(self) -> None:
        self.ipr.close()
        self._pool.shutdown(wait=True)


@contextmanager
def namespace(tag: str = "", sysctls: Mapping[str, str] = TCP_SYSCTLS) -> Iterator[Netns]:
    """A new namespace with loopback up and the suite's TCP sysctls; removed on exit.

    The removal is registered before anything else is done in the namespace, so a failure
    half-way through set-up still removes it.
    """
    with CleanupStack() as stack:
        name = new_name(tag)
        _netns.create(name)
        stack.defer(_netns.remove, name)
        ns = Netns(name)
        stack.defer(ns.close)
        ns.ipr.link("set", index=ns.link_index("lo"), state="up")
        ns.apply_sysctls(sysctls)
        yield ns
