"""Which waiters one wakeup reaches: several epoll instances on one socket, several threads
in ``epoll_wait`` on one instance.

Two wait queues are in play (fs/eventpoll.c, kernel/sched/wait.c):

* the socket's queue (``sk_sleep(sk)``) holds one entry per epoll item.  ``epoll_ctl(ADD)``
  puts a plain item at the head (``add_wait_queue``) and an ``EPOLLEXCLUSIVE`` one at the
  tail (``add_wait_queue_exclusive``), so exclusive items are visited in the order they were
  registered.  The socket wakes with ``nr_exclusive = 1`` (``sk_stream_write_space``,
  ``sock_def_readable``): ``__wake_up_common()`` calls every plain entry, then exclusive
  entries until one of them reports a wakeup.  ``ep_poll_callback()`` queues the item on its
  instance's ready list in every case, but an exclusive item reports a wakeup only when a
  thread sleeps in its instance (``waitqueue_active(&ep->wq)``) and the key's IN/OUT bit is
  one it registered; a plain item always counts.
* the instance's own queue (``ep->wq``) holds the threads asleep in ``epoll_wait``.  Each
  sleeps exclusive (``__add_wait_queue_exclusive()`` puts it at the *head*), so a wakeup of
  the instance wakes one thread, the one that went to sleep last.  After reporting, a
  level-triggered item goes back on the ready list and ``ep_done_scan()`` wakes the next
  thread (``wake_up(&ep->wq)`` when the ready list is not empty): while the readiness lasts
  every thread of the instance wakes, one after the other.  An edge-triggered item is not
  put back: one thread.

Pure logic: the harness feeds the order in which waiters went to sleep and reads the
prediction; :mod:`harness.sockets.exclusive` observes the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import masks as M


@dataclass
class Instance:
    """One epoll instance watching the socket, and the threads asleep in it (last to sleep
    last in ``sleepers``)."""

    index: int
    exclusive: bool
    edge: bool
    events: int = M.IN
    sleepers: list[int] = field(default_factory=list)   # thread ids, in the order they slept
    ready: bool = False


def counts(item: Instance, key: int) -> bool:
    """ep_poll_callback()'s return value for ``item`` under wakeup ``key``: whether
    ``__wake_up_common()`` counts it against ``nr_exclusive``."""
    if not item.exclusive:
        return True
    if key and not key & item.events:
        return False  # the key matches nothing registered: not queued, not counted
    if not item.sleepers:
        return False
    bits = key & (M.IN | M.OUT)
    return bits == 0 or bool(bits & item.events)


def socket_wakeup(instances: list[Instance], key: int) -> list[int]:
    """One wakeup of the socket's queue: the instances whose threads it wakes.

    Plain items sit at the head, exclusive items after them in registration order; every
    item the walk visits and whose events match the key is queued (``ready``)."""
    order = [i for i in instances if not i.exclusive] + [i for i in instances if i.exclusive]
    woken = []
    for item in order:
        if key and not key & item.events:
            continue
        item.ready = True
        if item.sleepers:
            woken.append(item.index)
        if item.exclusive and counts(item, key):
            break
    return woken


def instance_wakeup(item: Instance, still_ready: bool) -> list[int]:
    """The threads of ``item`` that return from ``epoll_wait``, in order, after its ready list
    got the item: the last to sleep first; in LT mode, while ``still_ready`` (the mask stays
    non-empty, nobody consumed it), each thread's report wakes the next one."""
    woken = []
    while item.sleepers and item.ready:
        woken.append(item.sleepers.pop())       # head of ep->wq: the last one that slept
        item.ready = not item.edge and still_ready
    return woken


def wake(instances: list[Instance], key: int, still_ready: bool = True) -> list[tuple[int, int]]:
    """(instance, thread) of every thread one socket wakeup makes return, in order."""
    out = []
    for index in socket_wakeup(instances, key):
        item = instances[index]
        out += [(index, t) for t in instance_wakeup(item, still_ready)]
    return out
