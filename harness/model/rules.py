"""The kernel's readiness rules, as a model that predicts what epoll must report.

The model is fed the accounting the kernel reported after each step (a Snapshot or anything
with the same attributes) and tracks the two bits of hidden state the rules depend on:

* SOCK_NOSPACE ("armed"): set when tcp_sendmsg ran out of space (EAGAIN, a short write, a
  blocking writer going to sleep) and by tcp_poll() when it finds the socket unwritable;
  cleared by sk_stream_write_space() when it wakes.  net/ipv4/tcp.c, net/core/stream.c.
* the epoll item's place on the ready list: joined by a wakeup whose key matches the
  registered events (ep_poll_callback) or by EPOLL_CTL_ADD/MOD finding a non-empty mask;
  left when a re-poll finds nothing, and after each report in edge-triggered mode.
  fs/eventpoll.c.

Beyond these, the socket's shutdown bits, a pending sk_err and a valid urgent byte are
followed in :class:`SockState`, shared by every watcher of the socket (several epoll items,
poll/select callers); the events that change them are in :mod:`harness.model.rules_state`.

Which variant of a rule applies depends on the upstream release the kernel carries
(:class:`harness.model.versions.KernelRules`); the write-space tests inside one ACK are in
:mod:`harness.model.transient`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import masks as M
from .rules_state import StateRules
from .transient import AckBound, Call
from .versions import CHANGES, KernelRules, parse_release

__all__ = ["CHANGES", "AckBound", "Call", "EpollModel", "KernelRules", "parse_release", "threshold", "writeable"]

UINT_MAX = 0xFFFFFFFF


def writeable(acct, wake: bool, notsent_half: bool = True) -> bool:
    """__sk_stream_is_writeable(sk, wake) for TCP (include/net/sock.h, include/net/tcp.h).

    free >= queued/2, queued < sndbuf, and the unsent bytes under TCP_NOTSENT_LOWAT (under
    half of it when ``wake`` and the kernel has the half rule).
    """
    if acct.sndbuf - acct.wmem_queued < acct.wmem_queued >> 1:
        return False
    if acct.wmem_queued >= acct.sndbuf:
        return False
    lowat = acct.notsent_lowat or UINT_MAX
    shift = 1 if (wake and notsent_half) else 0
    return (acct.notsent << shift) < lowat


def threshold(acct) -> int:
    """The free space at which the first condition starts to hold: wmem_queued / 2."""
    return acct.wmem_queued >> 1


@dataclass(frozen=True)
class AckOutcome:
    """What the write-space tests of one ACK must (``required``) or may (``allowed``) do."""

    required: bool
    allowed: bool
    why: str
    call: Call | None = None
    bound: AckBound | None = None

    @property
    def undecided(self) -> bool:
        """Nothing decides this ACK's wakeup: inside the bound a test may have held, none is
        known to have (no witness).  A wakeup is allowed, not required: neither is a verdict."""
        return self.allowed and not self.required

    @property
    def verdict(self) -> str:
        if self.call is not None:
            return "witnessed"
        return "bounded, no kernel witness" if self.bound is not None else "by the accounting after the ACK"


@dataclass
class Prediction:
    mask: int
    why: str


@dataclass
class SockState:
    """The socket's hidden state, shared by every item that watches it.

    SOCK_NOSPACE, the sk_shutdown bits, a pending sk_err and a valid urgent byte are not
    readable by a getsockopt; the model follows them from the steps that change them.
    ``items`` are the watchers a socket-side wakeup reaches (one per epoll item, poll call).
    """

    nospace: bool = False
    rcv_shutdown: bool = False
    send_shutdown: bool = False
    err: int = 0
    urgent: bool = False
    items: list["EpollModel"] = field(default_factory=list, repr=False)


# Which mechanism an item stands for: an epoll item keeps a ready list; poll() and select()
# have none and call tcp_poll() on every call (fs/select.c do_pollfd, do_select).
MECHANISMS = ("epoll", "poll", "select")


@dataclass
class EpollModel(StateRules):
    """One socket (send side and read side) registered in one epoll instance.

    ``mechanism`` "poll" or "select" turns the item into a poll()/select() caller: no ready
    list, the current mask at every call (select sees it through its three fd sets).
    Further watchers of the same socket are made with :meth:`sibling`.
    """

    rules: KernelRules
    edge: bool
    events: int = M.IN | M.OUT
    ready: bool = False
    registered: bool = False
    oneshot_disarmed: bool = False
    mechanism: str = "epoll"
    history: list[str] = field(default_factory=list)
    sock: SockState = field(default_factory=SockState, repr=False)
    ack_outcome: AckOutcome | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.mechanism not in MECHANISMS:
            raise ValueError(f"unknown mechanism {self.mechanism!r}")
        self.sock.items.append(self)

    def sibling(self, edge: bool, events: int = M.IN | M.OUT, mechanism: str = "epoll") -> "EpollModel":
        """Another watcher (a second epoll instance, a poll caller) of the same socket."""
        return EpollModel(self.rules, edge, events, mechanism=mechanism, history=self.history, sock=self.sock)

    def forget(self) -> None:
        """The item is gone (EPOLL_CTL_DEL, or the last reference to the file closed)."""
        self.registered = False
        self.ready = False
        if self in self.sock.items:
            self.sock.items.remove(self)

    # SOCK_NOSPACE and SEND_SHUTDOWN belong to the socket: every watcher sees one value.
    @property
    def nospace(self) -> bool:
        return self.sock.nospace

    @nospace.setter
    def nospace(self, value: bool) -> None:
        self.sock.nospace = value

    @property
    def send_shutdown(self) -> bool:
        return self.sock.send_shutdown

    @send_shutdown.setter
    def send_shutdown(self, value: bool) -> None:
        self.sock.send_shutdown = value

    # -- what tcp_poll() returns ------------------------------------------------------
    def poll(self, acct) -> int:
        """tcp_poll(): the current mask; an unwritable socket gets SOCK_NOSPACE set.

        net/ipv4/tcp.c tcp_poll(): a listener reports EPOLLIN while its accept queue holds a
        connection (inet_csk_listen_poll); EPOLLHUP when both directions are shut or the
        state is CLOSE; EPOLLIN|EPOLLRDHUP once the receive side is shut; outside SYN_SENT /
        SYN_RECV readable data, EPOLLOUT (always once the send side is shut) and EPOLLPRI
        for a valid urgent byte; EPOLLERR while sk_err is set.
        """
        mask = 0
        sk = self.sock
        state = getattr(acct, "state", "ESTABLISHED")
        if state == "LISTEN":
            return M.IN if getattr(acct, "accept_queue", 0) > 0 else 0
        if (sk.rcv_shutdown and sk.send_shutdown) or state == "CLOSE":
            mask |= M.HUP
        if sk.rcv_shutdown:
            mask |= M.IN | M.RDHUP
        if state not in ("SYN_SENT", "SYN_RECV"):
            if acct.inq >= max(1, acct.rcvlowat):
                mask |= M.IN
            if sk.send_shutdown:
                mask |= M.OUT
            elif writeable(acct, wake=self.rules.poll_notsent_half, notsent_half=True):
                mask |= M.OUT
            else:
                if not sk.nospace:
                    self.history.append("poll found the socket unwritable: SOCK_NOSPACE set")
                sk.nospace = True
            if sk.urgent:
                mask |= M.PRI
        if sk.err:
            mask |= M.ERR
        return mask

    def _registered_events(self) -> int:
        return self.events | M.ERR | M.HUP  # epoll_ctl() always adds ERR and HUP

    # -- epoll side ---------------------------------------------------------------------
    def ctl(self, acct, events: int | None = None) -> None:
        """EPOLL_CTL_ADD / MOD: poll once, queue the item if the mask is already non-empty."""
        if events is not None:
            self.events = events
        self.registered = True
        self.oneshot_disarmed = False
        if self.poll(acct) & self._registered_events():
            self.ready = True

    def wake(self, key: int, why: str) -> None:
        """ep_poll_callback(): a wakeup queues the item if its key matches the events."""
        if not self.registered or self.oneshot_disarmed:
            return
        if key == M.KEY_ANY or key & self._registered_events():
            if not self.ready:
                self.history.append(f"wakeup ({why}) queued the item")
            self.ready = True

    def wait(self, acct) -> Prediction:
        """What one epoll_wait() must report for this item (0 when nothing)."""
        if self.mechanism != "epoll":
            return self._poll_call(acct)
        if not self.ready:
            return Prediction(0, "item not on the ready list: no wakeup since it left")
        mask = self.poll(acct) & self._registered_events()
        if not mask:
            self.ready = False
            return Prediction(0, "re-poll found nothing: item leaves the ready list")
        if self.edge:
            self.ready = False
            why = "edge-triggered: reported once for this wakeup"
        else:
            why = "level-triggered: reported while the mask is non-empty"
        if self.events & M.ONESHOT:
            self.oneshot_disarmed = True
            self.ready = False
        return Prediction(M.visible(mask), why)

    # -- socket side ----------------------------------------------------------------------
    def sent(self, result: str, acct, before=None) -> None:
        """A send() finished: 'full' (all accepted), 'short' (partial) or 'eagain'.

        tcp_sendmsg_locked() sets SOCK_NOSPACE at wait_for_space before returning a short
        count or -EAGAIN; with both send queues empty an EAGAIN also calls
        sk_stream_write_space() directly (Linux 4.4).  ``before``: the accounting read just
        before the send().  An EAGAIN adds nothing, but ACKs processed before the read after
        it (a harness stalled in between) can have emptied the queues since: they were empty
        at the EAGAIN only if they were empty before it too.
        """
        if result in ("short", "eagain", "blocked"):
            self.nospace = True
            self.history.append(f"send {result}: SOCK_NOSPACE set")
        empty = acct.wmem_queued == 0 and (before is None or before.wmem_queued == 0)
        if result == "eagain" and self.rules.eagain_empty_wakes and empty:
            self.write_space(acct, "EAGAIN with empty queues")

    def acked(self, acct, freed: bool, calls: list[Call] | None = None, bound: AckBound | None = None) -> bool:
        """An ACK was processed: tcp_check_space() -> tcp_new_space() -> sk_write_space().

        Before 5.10 the ACK must also have freed queue space (SOCK_QUEUE_SHRUNK).  Kernels
        with the per-skb check (:attr:`KernelRules.check_space_per_skb`) also test the rule
        after each skb the ACK lets tcp_write_xmit() send (:mod:`harness.model.transient`):
        ``calls`` are those tests as a kernel witness saw them, replayed in order (the first
        that holds wakes and clears SOCK_NOSPACE); without a witness, ``bound`` says whether
        one of them may have held although the accounting read after the ACK says no.  Such
        a wakeup is allowed, not required (``ack_outcome``), and :meth:`transient_observed`
        tells the model whether a sleeper saw it.  Returns True when a wakeup is required.
        """
        self.ack_outcome = AckOutcome(False, False, "SOCK_NOSPACE clear: tcp_check_space() does nothing")
        if not self.nospace:
            return False
        if self.rules.queue_shrunk_required and not freed:
            self.ack_outcome = AckOutcome(False, False, "no skb freed (SOCK_QUEUE_SHRUNK clear, before 5.10)")
            return False
        if self.rules.check_space_per_skb and calls:
            for call in calls:
                if call.held(self.rules.wake_notsent_half):
                    self.ack_outcome = AckOutcome(True, True, call.site, call)
                    return self._wake_on_write_space(f"ACK, {call.site}")
            self.ack_outcome = AckOutcome(False, False, "no witnessed write-space test inside the ACK held")
            return False
        if self.write_space(acct, "ACK"):
            self.ack_outcome = AckOutcome(True, True, "the accounting after the ACK satisfies the rule")
            return True
        if self.rules.check_space_per_skb and bound is not None and bound.may_hold(self.rules.wake_notsent_half):
            self.ack_outcome = AckOutcome(False, True, bound.brief(), bound=bound)
        else:
            self.ack_outcome = AckOutcome(False, False, "the rule fails after the ACK"
                                          + (f"; {bound.brief()}" if bound is not None else ""))
        return False

    def writer_continues(self, acct) -> bool:
        """A blocking writer woken in sk_stream_wait_memory() re-checks only
        sk_stream_memory_free(): queued < sndbuf and the unsent bytes under the limit
        (tcp_stream_memory_free(sk, wake=0)); if that holds it returns to tcp_sendmsg and
        writes on, else it sets SOCK_NOSPACE and sleeps again."""
        lowat = acct.notsent_lowat or UINT_MAX
        return acct.wmem_queued < acct.sndbuf and acct.notsent < lowat

    def transient_observed(self, woke: bool) -> None:
        """A sleeper showed whether the allowed transient wakeup of the last ACK happened."""
        if woke and self.ack_outcome is not None and self.ack_outcome.allowed and not self.ack_outcome.required:
            self._wake_on_write_space("ACK, a transmit inside it (bounded, no kernel witness)")

    def _wake_on_write_space(self, why: str) -> bool:
        self.nospace = False
        self.history.append(f"write-space wakeup ({why}): SOCK_NOSPACE cleared")
        self._wake_all(M.KEY_WRITE_SPACE, f"write space, {why}")
        return True

    def write_space(self, acct, why: str) -> bool:
        """sk_stream_write_space(): wake writers only if writable with wake=1."""
        if writeable(acct, wake=True, notsent_half=self.rules.wake_notsent_half):
            return self._wake_on_write_space(why)
        return False

    def data_ready(self, acct) -> None:
        """tcp_data_ready() -> sk_data_ready() when the readable bytes reach SO_RCVLOWAT,
        or at any data once the receive side is done (SOCK_DONE after a FIN)."""
        if acct.inq >= max(1, acct.rcvlowat) or self.sock.rcv_shutdown:
            self._wake_all(M.KEY_DATA_READY, "data ready")

    def state_change(self) -> None:
        """sock_def_wakeup(): connection established, FIN, RST wake every item."""
        self._wake_all(M.KEY_ANY, "state change")

    # -- every watcher of the socket --------------------------------------------------------
    def _wake_all(self, key: int, why: str) -> None:
        """A wakeup on the socket's wait queue reaches every item registered on it."""
        for item in list(self.sock.items):
            item.wake(key, why)

    def _poll_call(self, acct) -> Prediction:
        """poll()/select(): tcp_poll() at every call, no ready list and no edge mode.

        do_pollfd() filters the mask with the requested events plus EPOLLERR|EPOLLHUP;
        select() sees it through its sets (fs/select.c POLLIN_SET, POLLOUT_SET, POLLEX_SET).
        """
        mask = self.poll(acct) & self._registered_events()
        if self.mechanism == "select":
            mask = M.select_view(mask, self.events)
        return Prediction(M.visible(mask), f"{self.mechanism}() re-polls at every call")
