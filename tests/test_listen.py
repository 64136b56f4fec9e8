"""What a listening socket reports: EPOLLIN per pending connection; EPOLLEXCLUSIVE.

Kernel rules (net/ipv4/inet_connection_sock.c inet_csk_listen_poll(), tcp_minisocks.c
tcp_child_process()): a listener is readable while its accept queue is not empty; each
completed handshake calls the listener's sk_data_ready() once, so edge-triggered epoll
reports once per new connection even if earlier ones were never accepted; accept() wakes
nobody.  EPOLLEXCLUSIVE (fs/eventpoll.c ep_poll_callback()): of several epoll instances with
a thread asleep in each, one connection wakes one of them, not all.
"""

import pytest

from harness.cases.scenarios import record_masks
from harness.cases.verdict import claim, settle
from harness.model import masks as M
from harness.sockets.exclusive import sleepers


def test_accept_queue(scripted, waiter, family, record):
    """Two connections, accepted one by one: EPOLLIN after each (ET again for the second,
    the first still queued); level-triggered until the queue is empty."""
    lst = scripted.listen(family, waiter=waiter)
    c = lst.case
    c.register(M.IN)
    c.wait("epoll_wait on an empty queue")
    lst.peer_connects()
    first = c.wait("epoll_wait after one connection")
    c.wait("epoll_wait again")
    lst.peer_connects()
    second = c.wait("epoll_wait after a second connection, the first not accepted")
    lst.accept()
    one_left = c.wait("epoll_wait after accepting one")
    lst.accept()
    c.wait("epoll_wait after accepting both")
    settle(c.timeline)
    claim(first == M.IN and second == M.IN, "EPOLLIN after each queued connection", c.timeline)
    claim(one_left == (0 if waiter == "ET" else M.IN), "accept() wakes nobody; level-triggered "
          "reports while a connection is queued", c.timeline)
    record_masks(c, record, waiter)


SLEEPERS = 3


@pytest.mark.parametrize("exclusive", [True, False], ids=["exclusive-wakes-one", "shared-wakes-all"])
def test_exclusive_listener(scripted, mode, family, record, exclusive):
    """Three epoll instances on one listener, a thread asleep in each.  With EPOLLEXCLUSIVE
    each connection wakes exactly one sleeper (the k-th connection the k-th sleeper to stay
    asleep); without it the first connection wakes all three."""
    lst = scripted.listen(family, waiter=mode)
    events = M.IN | (M.ET if mode == "ET" else 0) | (M.EXCLUSIVE if exclusive else 0)
    steps = []
    with sleepers(lst.case.sock, SLEEPERS, events) as s:
        for k in range(1, SLEEPERS + 1):
            s.step = k
            lst.peer_connects()
            got = s.collect(k if exclusive else SLEEPERS)
            steps.append(sorted(step for _, step, _ in got))
            if not exclusive:
                break
    woke_at = [step for _, step, _ in s.results]
    record.fact("exclusive", exclusive)
    record.fact("wakeups_at_connection", woke_at)
    record.fact("masks", [M.name(m) for _, _, m in s.results])
    record.fact("poll_select", "n/a: EPOLLEXCLUSIVE is an epoll flag; poll()/select() callers all wake")
    if exclusive:
        claim(sorted(woke_at) == list(range(1, SLEEPERS + 1)),
              f"one sleeper per connection (woken at connections {woke_at})", lst.case.timeline)
    else:
        claim(woke_at == [1] * SLEEPERS, f"every sleeper wakes at the first connection ({woke_at})",
              lst.case.timeline)
    claim(all(m == M.IN for _, _, m in s.results), "each sleeper is woken with EPOLLIN", lst.case.timeline)
