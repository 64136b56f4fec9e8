"""An explicit cleanup stack.

Resources register their undo at the moment they are made (``defer(undo)``), and the stack
unwinds in reverse order.  Unlike ``contextlib.ExitStack`` it refuses new entries while it
unwinds, so a cleanup that tries to create something is a bug that shows, not a leak.
Every undo runs even if an earlier one failed; the first failure is re-raised at the end.
"""

from __future__ import annotations

from typing import Any, Callable


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
