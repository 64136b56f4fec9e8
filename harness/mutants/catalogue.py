"""The mutants: each replaces one exact piece of text in one file, once.

``files`` and ``select`` (a pytest ``-k`` expression) name the scenarios that must kill the
mutant (IPv4 and one congestion control are enough to notice a change of rule; ``--full``
runs the whole host suite instead).  A mutant whose text no longer occurs exactly once is reported as not
applying: the catalogue must follow the code it mutates.
"""

from __future__ import annotations

from dataclasses import dataclass

RULES = "harness/model/rules.py"
VERSIONS = "harness/model/versions.py"  # the rule variants of each kernel release
EPOLLOUT = "tests/test_epollout.py"
WRITERS = "tests/test_writers.py"
EDGES = "tests/test_write_space_edges.py"
STATE = "tests/test_state.py"
LOOPS = "tests/test_event_loops.py"      # the patterns event loops got wrong
MANY = "tests/test_many_waiters.py"      # several waiters on one socket
WAITQUEUE = "harness/model/waitqueue.py"
READERS = "tests/test_readers.py"
URING = "harness/model/uring.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    what: str
    path: str
    old: str
    new: str
    files: tuple[str, ...]
    select: str

    @property
    def pytest_args(self) -> tuple[str, ...]:
        return (*self.files, "-k", self.select)


def baseline_args(mutants) -> tuple[str, ...]:
    """One pytest selection holding every mutant's scenarios: they must pass unmutated."""
    files = tuple(dict.fromkeys(f for m in mutants for f in m.files))
    return (*files, "-k", " or ".join(f"({m.select})" for m in mutants))


MUTANTS: tuple[Mutant, ...] = (
    # -- the model ---------------------------------------------------------------------------
    Mutant("lost-et-edge", "a write-space wakeup queues no epoll item", RULES,
           '        self._wake_all(M.KEY_WRITE_SPACE, f"write space, {why}")\n',
           "        pass\n",
           (EPOLLOUT,), "out_of_space and ipv4 and cubic"),
    Mutant("spurious-epollout", "an ACK wakes writers although SOCK_NOSPACE is clear", RULES,
           "        if not self.nospace:\n            return False\n        if self.rules.queue_shrunk_required",
           "        if self.rules.queue_shrunk_required",
           (EPOLLOUT,), "(small_write or full_without) and ipv4 and cubic"),
    Mutant("lt-as-et", "a level-triggered item leaves the ready list after a report", RULES,
           "        if self.edge:\n            self.ready = False\n",
           "        if True:\n            self.ready = False\n",
           (EPOLLOUT,), "first_epollout and ipv4 and cubic"),
    Mutant("masks-not-full", "epoll_wait reports the wakeup's key, not the full mask (IN without OUT)", RULES,
           "        return Prediction(M.visible(mask), why)\n",
           "        return Prediction(M.visible(mask & ~M.OUT if mask & M.IN else mask), why)\n",
           (EPOLLOUT,), "data_on_writable and ipv4 and cubic"),
    Mutant("threshold-off-by-one", "writable needs free > queued/2 instead of >=", RULES,
           "if acct.sndbuf - acct.wmem_queued < acct.wmem_queued >> 1:",
           "if acct.sndbuf - acct.wmem_queued <= acct.wmem_queued >> 1:",
           (EDGES,), "threshold_boundary and ipv4"),
    Mutant("threshold-slack", "writable already 2 bytes short of free == queued/2", RULES,
           "if acct.sndbuf - acct.wmem_queued < acct.wmem_queued >> 1:",
           "if acct.sndbuf - acct.wmem_queued < (acct.wmem_queued >> 1) - 2:",
           (EDGES,), "threshold_boundary and ipv4"),
    Mutant("nospace-never-armed-by-poll", "tcp_poll() on an unwritable socket leaves SOCK_NOSPACE clear", RULES,
           "                sk.nospace = True\n",
           "                pass\n",
           (EPOLLOUT,), "full_without and ipv4 and cubic"),
    Mutant("short-write-does-not-arm", "a short write leaves SOCK_NOSPACE clear (pre-5.10 rule)", RULES,
           'if result in ("short", "eagain", "blocked"):',
           'if result in ("eagain", "blocked"):',
           (EPOLLOUT,), "one-short-write and ipv4 and cubic"),
    Mutant("queue-shrunk-required", "an ACK must free a whole skb to wake (SOCK_QUEUE_SHRUNK, pre-5.10)", VERSIONS,
           '        return not self.has("tcp: remove SOCK_QUEUE_SHRUNK")\n',
           "        return True\n",
           (EDGES,), "window_update and ipv4"),
    Mutant("wake-without-notsent-half", "the write-space wakeup needs only notsent < lowat", VERSIONS,
           '    def wake_notsent_half(self) -> bool:\n        return self.has("tcp: reduce POLLOUT")\n',
           "    def wake_notsent_half(self) -> bool:\n        return False\n",
           (EDGES,), "notsent_lowat_blocking and ipv4"),
    Mutant("poll-without-notsent-half", "tcp_poll() reports EPOLLOUT once notsent < lowat (pre-5.10)", VERSIONS,
           '    def poll_notsent_half(self) -> bool:\n        return self.has("tcp: return EPOLLOUT from tcp_poll")\n',
           "    def poll_notsent_half(self) -> bool:\n        return False\n",
           (WRITERS,), "notsent_lowat_acks and ipv4"),
    Mutant("state-change-wakes-nobody", "connection established, FIN, RST wake no item", RULES,
           '        self._wake_all(M.KEY_ANY, "state change")\n',
           "        pass\n",
           (EPOLLOUT,), "first_epollout_after_connect and ipv4 and cubic"),
    Mutant("oneshot-never-disarms", "EPOLLONESHOT keeps reporting without EPOLL_CTL_MOD", RULES,
           "            self.oneshot_disarmed = True\n",
           "            pass\n",
           ("tests/test_epoll_objects.py",), "oneshot and ipv4"),
    Mutant("fin-without-rdhup", "a peer FIN reports EPOLLIN but not EPOLLRDHUP", RULES,
           "            mask |= M.IN | M.RDHUP\n",
           "            mask |= M.IN\n",
           (STATE,), "peer-fin and ipv4"),
    Mutant("error-not-polled", "a pending sk_err does not show as EPOLLERR", RULES,
           "        if sk.err:\n            mask |= M.ERR\n",
           "        if sk.err:\n            pass\n",
           ("tests/test_connect.py",), "refused and ipv4"),
    Mutant("rcvlowat-ignored", "tcp_poll() reports EPOLLIN below SO_RCVLOWAT", RULES,
           "            if acct.inq >= max(1, acct.rcvlowat):\n",
           "            if acct.inq >= 1:\n",
           ("tests/test_readers.py",), "rcvlowat and ipv4"),
    # -- the patterns event loops got wrong, several waiters ------------------------------------
    Mutant("rdhup-cleared-after-one-report", "level-triggered epoll reports EPOLLRDHUP once, not until close", RULES,
           "        return Prediction(M.visible(mask), why)\n",
           "        told = getattr(self, '_rdhup_told', False)\n        self._rdhup_told = told or bool(mask & M.RDHUP)\n"
           "        return Prediction(M.visible(mask & ~M.RDHUP if told else mask), why)\n",
           (LOOPS,), "until-close and ipv4"),
    Mutant("lt-epollout-once", "level-triggered epoll reports an armed EPOLLOUT once, not at every wait", RULES,
           '            why = "level-triggered: reported while the mask is non-empty"\n',
           '            why = "level-triggered: reported while the mask is non-empty"\n'
           "            mask &= ~M.OUT if getattr(self, '_out_told', False) else ~0\n            self._out_told = True\n",
           (LOOPS,), "left-armed and ipv4"),
    Mutant("fin-reports-hup", "a peer FIN alone reports EPOLLHUP (RDHUP taken for a hang-up)", RULES,
           'if (sk.rcv_shutdown and sk.send_shutdown) or state == "CLOSE":',
           'if sk.rcv_shutdown or state == "CLOSE":',
           (LOOPS,), "fin-on-full and ipv4"),
    Mutant("mod-does-not-repoll", "EPOLL_CTL_MOD queues nothing although the new events are ready", RULES,
           "        self.oneshot_disarmed = False\n        if self.poll(acct) & self._registered_events():\n",
           "        self.oneshot_disarmed = False\n        if events is None and self.poll(acct) & self._registered_events():\n",
           (LOOPS,), "rearm-while-writable and ipv4"),
    Mutant("exclusive-wakes-all", "EPOLLEXCLUSIVE items do not stop the walk: every instance wakes", WAITQUEUE,
           "        if item.exclusive and counts(item, key):\n            break\n",
           "        pass\n",
           (MANY,), "one_wakeup and instances-exclusive and ipv4"),
    Mutant("epoll-wait-fifo", "threads in one instance wake first-asleep first (FIFO), not last-asleep first", WAITQUEUE,
           "        woken.append(item.sleepers.pop())",
           "        woken.append(item.sleepers.pop(0))",
           (MANY,), "one_wakeup and threads-one-instance and ipv4"),
    Mutant("lt-no-chain-wakeup", "a level-triggered report wakes no further thread of the instance", WAITQUEUE,
           "        item.ready = not item.edge and still_ready\n",
           "        item.ready = False\n",
           (MANY,), "one_wakeup and threads-one-instance and ipv4"),
    Mutant("pool-drops-exclusive", "the waiter pool registers the socket without EPOLLEXCLUSIVE", "harness/sockets/exclusive.py",
           "            ep.register(self.sock.fileno(), self.events)\n",
           "            ep.register(self.sock.fileno(), self.events & ~M.EXCLUSIVE)\n",
           (MANY,), "one_wakeup and instances-exclusive and ipv4"),
    # -- the observation layer -----------------------------------------------------------------
    Mutant("stale-accounting", "each step reuses the accounting read at an earlier step", "harness/cases/case.py",
           "        s = snapshot(self.sock)\n        if self.notsent_lowat_sysctl",
           "        s = self.last if self.last is not None else snapshot(self.sock)\n        if self.notsent_lowat_sysctl",
           (EPOLLOUT,), "out_of_space and ipv4 and cubic"),
    Mutant("wrong-queue-counter", "wmem_queued read from sk_wmem_alloc (skbs in flight below TCP)",
           "harness/sockets/sockinfo.py",
           '        wmem_queued=mem["wmem_queued"],\n        outq=outq(sock),',
           '        wmem_queued=mem["wmem_alloc"],\n        outq=outq(sock),',
           (EPOLLOUT,), "out_of_space and ipv4 and cubic"),
    Mutant("notsent-unread", "the unsent bytes are never read (SIOCOUTQNSD taken as 0)", "harness/sockets/sockinfo.py",
           "        notsent=outq_nsd(sock),\n",
           "        notsent=0,\n",
           (WRITERS,), "notsent_lowat_acks and ipv4"),
    Mutant("et-registered-as-lt", "the watch asks epoll for level-triggered when the case is ET", "harness/sockets/epoll.py",
           "        return events | (M.ET if self.edge else 0)\n",
           "        return events\n",
           (EPOLLOUT,), "first_epollout_after_accept and ipv4 and cubic"),
    Mutant("sndbuf-setsockopt-silent", "setsockopt(SO_SNDBUF) is not told to the model as a wakeup", "harness/cases/steps.py",
           '        self.model.write_space(acct, "SO_SNDBUF")\n',
           "        pass\n",
           (WRITERS,), "sndbuf_raise and ipv4"),
    # -- io_uring poll requests -----------------------------------------------------------------
    Mutant("multishot-like-et", "a multishot completion re-polls for the full mask, like ET epoll", URING,
           "        if len(keys) == 1 and keys[0] != M.KEY_ANY:\n",
           "        if False:\n",
           (EPOLLOUT,), "data_on_writable and ipv4 and cubic and multishot"),
    Mutant("multishot-like-lt", "a multishot request completes at every wait while the mask holds", URING,
           "        if not self.armed and not self.posted:\n",
           "        if not self.posted:\n",
           (EPOLLOUT,), "first_epollout_after_accept and ipv4 and cubic and multishot"),
    Mutant("oneshot-rearms-itself", "a one-shot request stays armed after its completion", URING,
           "        if not self.multishot:\n            self.armed = False\n",
           "        if not self.multishot:\n            pass\n",
           (EPOLLOUT,), "first_epollout_after_accept and ipv4 and cubic and oneshot"),
    Mutant("wakeups-not-folded", "each wakeup before the task work runs is a completion of its own", URING,
           '        if mask:\n            self._post(mask, f"{how}: {M.name(mask)}")\n',
           '        for _ in keys if mask else ():\n            self._post(mask, f"{how}: {M.name(mask)}")\n',
           (READERS,), "urgent and ipv4 and multishot"),
    Mutant("completion-miscounted", "the waiter counts a completion at every wait, also when it reaped none",
           "harness/sockets/uring.py",
           "        self.last_completions = n\n",
           "        self.last_completions = max(n, 1)\n",
           (EPOLLOUT,), "first_epollout_after_accept and ipv4 and cubic and uring"),
    Mutant("oneshot-never-rearmed", "the one-shot waiter never submits its request again", "harness/sockets/uring.py",
           "            if not c.more:\n                self.armed = False\n",
           "            if not c.more:\n                pass\n",
           (EPOLLOUT,), "first_epollout_after_accept and ipv4 and cubic and oneshot"),
)
