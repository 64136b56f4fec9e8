"""SIGTERM and SIGHUP end a run the way Ctrl-C does: every fixture's teardown runs.

A CI runner cancelling a job sends SIGTERM (and SIGKILL after a grace period); a closed
terminal sends SIGHUP.  Python's default for both is to die at once, which leaves the
session's namespaces, TUN devices, qdiscs and NFQUEUE rules behind for the next sweep.  The
handler here raises :class:`Terminated` (a KeyboardInterrupt) in the main thread instead:
pytest stops the test in progress, tears down every fixture from the test's up to the
session's, writes the report, and exits with status 2 (interrupted).  Further signals
during that teardown are noted and ignored: they must not cut it short.

Only the process that installed the handlers tears down.  pyroute2 forks helper processes
(and ends them with SIGTERM); a forked child inherits the handlers, and one that ran the
session's teardown would remove the parent's namespaces under it.  A child therefore gets
the default action back at fork, and the handler passes any signal seen in another process
on to that default.
"""

from __future__ import annotations

import os
import signal
import threading

SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """The run was asked to stop by a signal; raised once, in the main thread."""


class Teardown:
    """The handlers, installed for a session and restored after it."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self._previous: dict[int, object] = {}
        self._pid = os.getpid()

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signal.signal() works only there; an embedded run keeps its host's handlers
        self._pid = os.getpid()
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        os.register_at_fork(after_in_child=_default_actions)

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: object) -> None:
        if os.getpid() != self._pid:  # a forked child that has not exec'd: not ours to tear down
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        self.received.append(signal.Signals(signum).name)
        if len(self.received) == 1:
            raise Terminated(f"{self.received[0]} received: tearing down (namespaces, devices, "
                             f"rules, child processes), then exiting")


def _default_actions() -> None:
    """In a freshly forked child: SIGTERM and SIGHUP do what they do by default."""
    for sig in SIGNALS:
        if signal.getsignal(sig) not in (signal.SIG_DFL, signal.SIG_IGN, None):
            signal.signal(sig, signal.SIG_DFL)
