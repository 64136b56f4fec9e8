"""io_uring poll requests (IORING_OP_POLL_ADD) as a waiter: what each must complete with.

io_uring/poll.c (io_poll_add, __io_arm_poll_handler, io_poll_wake, io_poll_check_events):

* Arming a request polls the file once (``vfs_poll`` -> ``tcp_poll()``, which sets
  SOCK_NOSPACE on an unwritable socket like any poll).  A non-empty mask completes at once,
  with the mask of that moment.
* A wakeup whose key does not meet the requested events is ignored.  One that does queues
  task work, and **the key is kept as the result**: the completion carries the wakeup's key
  masked by the requested events, not the socket's full mask (a data arrival on a writable
  socket completes with EPOLLIN, and EPOLLPRI too when it was requested, since
  sock_def_readable() wakes with EPOLLIN|EPOLLPRI|EPOLLRDNORM|EPOLLRDBAND).  A wakeup without
  a key (sock_def_wakeup(): connect, FIN, RST) re-polls the file for the mask.  Wakeups that
  arrive before the task work runs are folded into one completion (poll_refs), and then the
  key is dropped and the file re-polled ("only the first wakeup uses the key"): an urgent
  byte (two sk_data_ready() calls) completes with the full mask.
* One-shot (a plain POLL_ADD): one completion, then nothing until the request is submitted
  again.  The waiter re-arms it at the next wait after it reaped the completion, as an event
  loop does, and that arm polls: on a ready socket it completes at once (so a loop that
  re-arms after every completion sees readiness like level-triggered epoll).
* Multishot (IORING_POLL_ADD_MULTI, 5.13): stays armed and posts one completion (with
  IORING_CQE_F_MORE) per wakeup that yields a non-empty mask: reported once per wakeup like
  ET, but with the wakeup's key instead of a re-polled mask, and never re-polled like LT.

The scenarios check the mask and the number of completions at every wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import masks as M
from .rules import EpollModel, Prediction

URING_WAITERS = ("uring-oneshot", "uring-multishot")


@dataclass
class UringModel(EpollModel):
    """One poll request (one-shot or multishot) on the case's socket, in one ring."""

    multishot: bool = False
    armed: bool = False
    pending: list[int] = field(default_factory=list)  # keys of wakeups not yet completed
    posted: list[int] = field(default_factory=list)   # completions in the CQ ring, not reaped
    completions: int = 0                                # how many the last wait reaped

    def __post_init__(self) -> None:
        self.mechanism = "uring"
        self.sock.items.append(self)

    @property
    def kind(self) -> str:
        return "multishot" if self.multishot else "one-shot"

    def arm(self, acct, why: str) -> None:
        """POLL_ADD: poll once; a non-empty mask completes at once (a one-shot is then done)."""
        self.armed = True
        mask = self.poll(acct) & self._registered_events()
        if mask:
            self._post(mask, f"{why}: the arm's poll found {M.name(mask)}")

    def _post(self, mask: int, why: str) -> None:
        self.posted.append(mask)
        if not self.multishot:
            self.armed = False
        self.history.append(f"{self.kind} poll completes ({why})")

    def ctl(self, acct, events: int | None = None) -> None:
        """Submit the request (add), or cancel it and submit it again (mod): completions of
        the cancelled request are the waiter's to drop."""
        if events is not None:
            self.events = events
        self.registered = True
        self.pending.clear()
        self.posted.clear()
        self.arm(acct, "armed")

    def wake(self, key: int, why: str) -> None:
        """io_poll_wake(): a key that misses the requested events is ignored."""
        if not self.registered or not self.armed:
            return
        if key != M.KEY_ANY and not key & self._registered_events():
            return
        self.pending.append(key)

    def flush(self, acct) -> None:
        """The task work of the wakeups so far: one completion, with the wakeup's key (masked
        by the events) when there was one wakeup with a key, else the re-polled mask."""
        if not self.pending:
            return
        keys, self.pending = self.pending, []
        if len(keys) == 1 and keys[0] != M.KEY_ANY:
            mask, how = keys[0] & self._registered_events(), "the wakeup's key"
        else:
            how = "a wakeup without key" if len(keys) == 1 else f"{len(keys)} wakeups folded"
            mask, how = self.poll(acct) & self._registered_events(), how + ": re-polled"
        if mask:
            self._post(mask, f"{how}: {M.name(mask)}")

    def wait(self, acct) -> Prediction:
        """What one wait (re-arm a finished one-shot, then reap the CQ ring) must show."""
        self.flush(acct)
        if not self.armed and not self.posted:
            self.arm(acct, "re-armed after its completion was reaped")
        got, self.posted = self.posted, []
        self.completions = len(got)
        mask = 0
        for m in got:
            mask |= m
        if not got:
            why = f"{self.kind} poll: no completion since the last wait"
        else:
            why = f"{self.kind} poll: {len(got)} completion(s) since the last wait"
        return Prediction(M.visible(mask), why)
