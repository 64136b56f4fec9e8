"""When EPOLLIN and EPOLLPRI are reported on a connected TCP socket, step by step.

Kernel rules (net/ipv4/tcp_input.c tcp_data_ready(), net/core/sock.c sock_def_readable(),
net/ipv4/tcp.c tcp_poll()): every in-order data arrival calls sk_data_ready() once the
readable bytes reach SO_RCVLOWAT, which queues the epoll item again even if earlier data was
never read; reading wakes nobody.  Level-triggered epoll, poll() and select() report EPOLLIN
while the readable bytes reach the target.  setsockopt(SO_RCVLOWAT) re-checks at once
(tcp_set_rcvlowat()).  An urgent byte (tcp_urg()) sets EPOLLPRI until recv(MSG_OOB) takes it.

Each scenario is a script of steps run under every waiter (epoll ET and LT, poll, select, and
io_uring poll one-shot and multishot); every wait is checked against the rule engine, poll and
select also against an LT epoll watch of the same socket.  A multishot poll request completes
with the wakeup's key: a data arrival gives EPOLLIN|EPOLLPRI when EPOLLPRI was asked for,
urgent byte or not (sock_def_readable() wakes with EPOLLIN|EPOLLPRI|EPOLLRDNORM|EPOLLRDBAND).
"""

import socket

import pytest

from harness.cases.claims import wakeup_driven
from harness.cases.scenarios import run_accepted, table
from harness.cases.verdict import claim
from harness.model import masks as M
from harness.peers.tunpeer import PeerOptions
from harness.sockets.waiters import WAITERS_AND_URING

PEER = PeerOptions(mss=1000, window=65535, wscale=0)


@pytest.fixture(params=WAITERS_AND_URING)
def waiter(request: pytest.FixtureRequest) -> str:
    """The conftest's waiters and the io_uring poll requests, one-shot and multishot."""
    return request.param


def data_again_unread(c, record):
    """Two arrivals, nothing read in between: ET reports EPOLLIN after each of them."""
    c.peer_data(b"a" * 100)
    first = c.wait("epoll_wait after the first data")
    c.wait("epoll_wait again, nothing new")
    c.peer_data(b"b" * 100)
    second = c.wait("epoll_wait after more data, the first still unread")
    claim(bool(first & M.IN) and bool(second & M.IN),
          "each in-order arrival is reported, read or not", c.timeline)


def partial_read(c, record):
    """A partial read wakes nobody: ET stays silent, LT keeps reporting EPOLLIN."""
    c.peer_data(b"a" * 100)
    c.wait("epoll_wait after data")
    c.recv(50)
    after = c.wait("epoll_wait after reading half")
    c.recv(50)
    c.wait("epoll_wait after reading the rest")
    claim(after == (0 if wakeup_driven(c.mode) else M.IN | M.OUT),
          "ET: nothing after a partial read; level: EPOLLIN while data remains", c.timeline)


def rcvlowat_reached(c, record):
    """SO_RCVLOWAT 300: 100 bytes neither wake nor make EPOLLIN; 250 more do both."""
    c.set_rcvlowat(300)
    c.wait("epoll_wait after SO_RCVLOWAT")
    c.peer_data(b"a" * 100)
    below = c.wait("epoll_wait with 100 bytes, below the target")
    c.peer_data(b"b" * 250)
    above = c.wait("epoll_wait with 350 bytes")
    claim(not below & M.IN and bool(above & M.IN), "EPOLLIN only once SO_RCVLOWAT is reached", c.timeline)


def rcvlowat_lowered(c, record):
    """Lowering SO_RCVLOWAT under the queued bytes wakes the waiter, with no data arriving."""
    c.set_rcvlowat(300)
    c.peer_data(b"a" * 100)
    c.wait("epoll_wait with 100 bytes, below the target")
    c.set_rcvlowat(50)
    got = c.wait("epoll_wait after lowering SO_RCVLOWAT to 50")
    claim(bool(got & M.IN), "tcp_set_rcvlowat() reports the data at once", c.timeline)


def urgent_byte(c, record):
    """An urgent byte: EPOLLPRI (with EPOLLIN for the normal bytes before it) until it is
    read with MSG_OOB; reading it is no wakeup."""
    c.peer_urgent(b"abc")
    got = c.wait("epoll_wait after urgent data")
    oob = c.recv(1, socket.MSG_OOB)
    after = c.wait("epoll_wait after recv(MSG_OOB)")
    c.recv(10)
    c.wait("epoll_wait after reading the normal bytes")
    claim(oob == b"c", f"MSG_OOB returns the urgent byte (got {oob!r})", c.timeline)
    claim(bool(got & M.PRI), "urgent data reports EPOLLPRI", c.timeline)
    claim(not after & M.PRI, "EPOLLPRI ends when the urgent byte is read", c.timeline)


SCENARIOS = table("readers", data_again_unread, partial_read, rcvlowat_reached, rcvlowat_lowered,
                  urgent_byte, names={"rcvlowat_lowered": "rcvlowat-lowered-wakes",
                                      "urgent_byte": "urgent-byte-pri"})


@pytest.mark.parametrize("script", SCENARIOS)
def test_reader(scripted, waiter, family, record, script):
    """Accept, watch every event, take the first report (EPOLLOUT), then run the script."""
    run_accepted(scripted, record, script, family=family, waiter=waiter, opts=PEER)
