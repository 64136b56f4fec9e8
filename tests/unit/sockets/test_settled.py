"""When a blocking writer counts as asleep for send space: read from /proc, no root needed."""

import socket

import pytest

from harness.sockets.sleeping import TaskState
from harness.sockets.writer import BlockingWriter

STACK = "[<0>] wait_woken+0x50/0x60\n[<0>] sk_stream_wait_memory+0x1a3/0x3a0\n[<0>] tcp_sendmsg_locked+0x5e9/0xe20\n"


def asleep(voluntary: int) -> TaskState:
    return TaskState("S", "wait_woken", voluntary, STACK)


def preempted(voluntary: int) -> TaskState:
    """TASK_INTERRUPTIBLE set, schedule() not reached: 'S' and the stack of the sleep, still
    on the run queue (since 5.16 no wchan); it sleeps, one voluntary switch more, once it runs."""
    return TaskState("S", "", voluntary, STACK)


def writer_reading(states: list[TaskState]) -> BlockingWriter:
    w = BlockingWriter(socket.socket(), 1)
    it = iter(states)
    last = [states[-1]]

    def state():
        last[0] = next(it, last[0])
        return last[0]

    w.state = state
    return w


def test_asleep_needs_the_function_on_the_stack_or_as_wchan():
    assert asleep(3).asleep_in("sk_stream_wait_memory", "wait_woken")
    # 5.10 names no wchan for a sleeping task: the stack decides
    assert TaskState("S", "", 3, STACK).asleep_in("sk_stream_wait_memory", "wait_woken")
    assert not TaskState("R", "", 3, STACK).asleep_in("sk_stream_wait_memory")
    assert not TaskState("S", "futex_wait_queue", 3, "[<0>] futex_wait_queue+0x60/0x90\n").asleep_in(
        "sk_stream_wait_memory", "wait_woken")
    # no stack readable: wchan alone names it, and an empty one is never taken for it
    assert TaskState("S", "sk_stream_wait_memory", 3).asleep_in("sk_stream_wait_memory", "wait_woken")
    assert not TaskState("S", "", 3).asleep_in("sk_stream_wait_memory", "wait_woken")


def test_settled_takes_the_same_sleep_read_twice():
    """A writer that reads asleep once but goes on sleeping (one more voluntary switch) once
    this thread blocks was on its way to sleep: settled waits for a state that holds."""
    w = writer_reading([asleep(1), asleep(2), asleep(2)])
    assert w.settled(1.0).voluntary == 2


def test_settled_after_a_wakeup_needs_a_new_sleep():
    """``since``: the switches at the wakeup; the old sleep, read again, is not the new one."""
    w = writer_reading([asleep(1), asleep(1), preempted(1), asleep(2), asleep(2)])
    assert w.settled(1.0, since=1).voluntary == 2


def test_settled_waits_for_a_preempted_writer_to_sleep():
    """Read once on its way to sleep, then its sleep (one switch more): that one is taken."""
    w = writer_reading([preempted(1), asleep(2), asleep(2)])
    assert w.settled(1.0).voluntary == 2


def test_settled_never_takes_another_sleep():
    w = writer_reading([TaskState("S", "futex_wait_queue", 4, "[<0>] futex_wait_queue+0x60/0x90\n")])
    with pytest.raises(AssertionError, match="neither slept for space nor returned"):
        w.settled(0.05)
