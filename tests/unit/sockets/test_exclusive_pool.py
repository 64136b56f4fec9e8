"""The waiter pool (harness.sockets.exclusive) on a socketpair: no root, no namespace.

A Unix stream socket wakes its readers through sock_def_readable() with one exclusive
wakeup, as TCP does, so the wait-queue model's answers hold there too."""

from __future__ import annotations

import socket

import pytest

from harness.model import masks as M
from harness.model import waitqueue as W
from harness.sockets.exclusive import pool


def test_one_edge_triggered_wakeup_returns_the_thread_that_slept_last():
    a, b = socket.socketpair()
    with a, b, pool(a, M.IN | M.ET, instances=1, per_instance=3, deadline=2.0) as p:
        p.sleep(0, 1, 2)
        b.send(b"x")
        got = p.settle()
    model = [W.Instance(0, False, True, M.IN, [0, 1, 2])]
    assert [t for t, _ in got] == [t for _, t in W.wake(model, M.KEY_DATA_READY)] == [2]
    assert got[0][1] & M.IN


def test_a_thread_that_cannot_block_is_rejected():
    """Level-triggered on a socket that is already readable: epoll_wait returns at once, so
    the thread never sleeps and the pool refuses to go on (a wakeup would prove nothing)."""
    a, b = socket.socketpair()
    b.send(b"x")
    with a, b, pool(a, M.IN, deadline=0.5) as p:
        with pytest.raises(AssertionError, match="never blocked"):
            p.sleep(0)
