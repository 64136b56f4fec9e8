"""An explicit cleanup stack.

Resources register their undo at the moment they are made (``defer(undo)``), and the stack
unwinds in reverse order.  Unlike ``contextlib.ExitStack`` it refuses new entries while it
unwinds, so a cleanup that tries to create something is a bug that shows, not a leak.
Every undo runs even if an earlier one failed; the first failure is re-raised at the end.

A child process the suite starts (a nested run of the suite, say) is tied to its parent with
:func:`die_with_parent`, so it cannot outlive a parent that was killed without a chance to
end it.
"""

from __future__ import annotations

import ctypes
import signal
from typing import Any, Callable

PR_SET_PDEATHSIG = 1  # include/uapi/linux/prctl.h


class CleanupStack:
    def __init__(self) -> None:
        self._undo: list[tuple[Callable[..., Any], tuple, dict]] = []
        self._unwinding = False

    def defer(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if self._unwinding:
            raise RuntimeError(f"cleanup stack is unwinding: refusing to defer {fn!r}")
        self._undo.append((fn, args, kwargs))

    def unwind(self) -> None:
        self._unwinding = True
        first: BaseException | None = None
        try:
            while self._undo:
                fn, args, kwargs = self._undo.pop()
                try:
                    fn(*args, **kwargs)
                except BaseException as exc:  # keep going: every resource gets its undo
                    first = first or exc
        finally:
            self._unwinding = False
        if first is not None:
            raise first

    def __enter__(self) -> "CleanupStack":
        return self

    def __exit__(self, *exc: object) -> None:
        self.unwind()


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies (PR_SET_PDEATHSIG).

    Meant as ``preexec_fn`` of ``subprocess.Popen``: it runs in the child before exec and
    survives the exec.  SIGTERM (not SIGKILL) lets a child that handles it tear down what it
    made.  The kernel sends it when the *thread* that forked the child exits, so children
    should be started from a thread that lives as long as they should.
    """
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
