"""Watching one socket more than once: a second epoll instance, a dup'ed descriptor, poll.

fs/eventpoll.c keys an item by (file, fd): each registration has its own ready-list
membership while the socket's state (SOCK_NOSPACE, shutdown, errors) stays one, which the
model mirrors with :meth:`harness.model.rules.EpollModel.sibling`.  Mixed into
:class:`harness.cases.case.Case`.
"""

from __future__ import annotations

import select
from dataclasses import dataclass, field

from harness.model import masks as M
from harness.model.rules import EpollModel

from .epoll import Watch
from .waiters import make_watch, mechanism


class MultiWatch:
    """Steps on further watchers of the case's socket (needs the Case attributes)."""

    # -- further watchers of the same socket --------------------------------------------------
    def watch_too(self, label: str, waiter: str, events: int = M.READINESS, *,
                  ep: "select.epoll | None" = None, fd: int | None = None) -> "Also":
        """Watch the socket once more: in a new epoll instance, in ``ep`` under another
        descriptor ``fd`` of the same file (a dup), or by poll()/select().  Each epoll
        registration is its own epitem (fs/eventpoll.c keys items by file and fd) with its
        own ready-list membership; the socket state stays one."""
        self.timeline.begin(f"watch again: {label} ({waiter})")
        if mechanism(waiter) == "epoll":
            watch = Watch(self.sock, waiter == "ET", events, self.timeline, fd=fd)
            if ep is not None:
                watch.ep = ep
        else:
            watch = make_watch(waiter, self.sock, events, self.timeline)
        watch.add()
        also = Also(label, watch, self.model.sibling(waiter == "ET", events, mechanism(waiter)))
        also.model.ctl(self.snap())
        self.extra.append(also)
        return also

    def wait_too(self, also: "Also", label: str | None = None) -> int:
        """epoll_wait on a further watcher, checked against its own item of the model."""
        if label is not None:
            self.timeline.begin(label)
        required = also.model.wait(self.last if self.last is not None else self.snap())
        observed = also.watch.wait(0)
        self.timeline.check(f"{also.label} ({also.watch.mode})", M.name(required.mask),
                            M.name(observed), required.why)
        also.reports.append((self.timeline.step, self.timeline.labels[self.timeline.step], observed))
        return observed

    def wait_shared(self, also: "Also", label: str) -> tuple[int, int]:
        """One epoll_wait on the instance ``also`` shares with the case's watch: each item
        (the case's fd and ``also``'s) is checked against its own model."""
        self.timeline.begin(label)
        acct = self.last if self.last is not None else self.snap()
        got = self.watch.wait_fds(0)
        out = []
        for w, model, reports in ((self.watch, self.model, self.reports), (also.watch, also.model, also.reports)):
            required = model.wait(acct)
            observed = got.get(w.key, 0)
            self.timeline.check(f"epoll_wait item fd {w.key}", M.name(required.mask), M.name(observed), required.why)
            reports.append((self.timeline.step, label, observed))
            out.append(observed)
        return out[0], out[1]


@dataclass
class Also:
    """A further registration of a case's socket, with its own item in the model."""

    label: str
    watch: Watch
    model: EpollModel
    reports: list[tuple[int, str, int]] = field(default_factory=list)
