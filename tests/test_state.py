"""What epoll reports when a connection's state changes: FIN, shutdown(), RST.

Kernel rules (net/ipv4/tcp.c tcp_poll(), tcp_input.c tcp_fin() / tcp_reset(), af_inet.c
inet_shutdown()): a shut receive side gives EPOLLIN|EPOLLRDHUP, a shut send side makes
EPOLLOUT permanent whatever the buffer holds, both shut (or CLOSE) adds EPOLLHUP; a reset
sets sk_err (EPOLLERR until SO_ERROR or a failing call reads it) and closes both directions.
Every change runs sk_state_change(), which wakes every item whatever its events.
"""

import errno
import socket

import pytest

from harness.cases.scenarios import run_accepted, table
from harness.cases.verdict import claim
from harness.model import masks as M
from harness.peers.tunpeer import PeerOptions

PEER = PeerOptions(mss=1000, window=65535, wscale=0)
SNDBUF = 21000


def peer_fin(c, record):
    """Peer FIN: EPOLLIN|EPOLLRDHUP, with EPOLLOUT while writable; recv() returns 0."""
    c.peer_fin()
    got = c.wait("epoll_wait after FIN")
    c.wait("epoll_wait again")
    eof = c.recv(100)
    c.wait("epoll_wait after reading EOF")
    claim(got == c.view(M.IN | M.RDHUP | M.OUT), "FIN reports IN|RDHUP|OUT", c.timeline)
    claim(eof == b"", "recv() after FIN returns end of file", c.timeline)


def data_and_fin(c, record):
    """Data and FIN in one segment: one report with EPOLLIN|EPOLLRDHUP; the data is read
    before end of file."""
    c.peer_fin(b"d" * 100)
    got = c.wait("epoll_wait after data+FIN")
    data = c.recv(1000)
    c.wait("epoll_wait after reading the data")
    claim(got == c.view(M.IN | M.RDHUP | M.OUT), "data+FIN reports IN|RDHUP|OUT", c.timeline)
    claim(data == b"d" * 100, "the data comes before end of file", c.timeline)


def shut_rd(c, record):
    """Our own shutdown(SHUT_RD) shuts the receive side: EPOLLIN|EPOLLRDHUP at once."""
    c.shutdown(socket.SHUT_RD)
    got = c.wait("epoll_wait after SHUT_RD")
    claim(got & c.view(M.IN | M.RDHUP) == c.view(M.IN | M.RDHUP), "SHUT_RD reports IN|RDHUP", c.timeline)


def shut_wr_while_full(c, record):
    """shutdown(SHUT_WR) on a full send buffer: EPOLLOUT from then on, though the buffer is
    as full as before (tcp_poll() reports EPOLLOUT once SEND_SHUTDOWN is set)."""
    c.fill()
    full = c.wait("epoll_wait while full")
    c.shutdown(socket.SHUT_WR)
    got = c.wait("epoll_wait after SHUT_WR")
    c.wait("epoll_wait again")
    record.fact("writable_by_accounting_after_shut_wr", False)
    claim(not full & M.OUT and bool(got & M.OUT), "SHUT_WR makes a full socket report EPOLLOUT",
          c.timeline)


def shut_rdwr(c, record):
    """shutdown(SHUT_RDWR): both directions shut, EPOLLHUP with EPOLLIN|EPOLLRDHUP|EPOLLOUT."""
    c.shutdown(socket.SHUT_RDWR)
    got = c.wait("epoll_wait after SHUT_RDWR")
    claim(got & c.view(M.HUP) == c.view(M.HUP), "both directions shut reports EPOLLHUP", c.timeline)


def shut_wr_then_peer_fin(c, record):
    """We shut the send side, the peer acknowledges our FIN and sends its own: the socket
    ends in TIME_WAIT (tcp_done() closes it), EPOLLHUP."""
    c.shutdown(socket.SHUT_WR)
    c.wait("epoll_wait after SHUT_WR")
    c.ack(c.conn.received_end)
    c.peer_fin()
    got = c.wait("epoll_wait after the peer's FIN")
    record.fact("state_after", c.last.state)
    claim(got & c.view(M.HUP) == c.view(M.HUP), "both sides closed reports EPOLLHUP", c.timeline)


def peer_rst(c, record):
    """Peer RST: EPOLLERR|EPOLLHUP with EPOLLIN|EPOLLRDHUP (and EPOLLOUT: SEND_SHUTDOWN);
    SO_ERROR gives ECONNRESET and clears EPOLLERR; a later wait follows ET/LT."""
    c.peer_rst()
    got = c.wait("epoll_wait after RST")
    again = c.wait("epoll_wait again, error not read")
    err = c.so_error()
    after = c.wait("epoll_wait after SO_ERROR")
    eof = c.recv(100)
    record.fact("so_error", errno.errorcode.get(err, err))
    record.fact("recv_after", "EOF" if eof == b"" else eof)
    claim(err == errno.ECONNRESET, "SO_ERROR reports ECONNRESET", c.timeline)
    claim(got & c.view(M.ERR | M.HUP) == c.view(M.ERR | M.HUP), "RST reports ERR|HUP", c.timeline)
    claim(c.mode == "select" or not after & M.ERR, "EPOLLERR is gone once SO_ERROR read the error", c.timeline)
    record.fact("second_wait", M.name(again))
    # SEMANTICS section 4 lists ERR|HUP with IN|RDHUP; tcp_poll() adds OUT too, because
    # tcp_done() sets SHUTDOWN_MASK and a shut send side always reports EPOLLOUT.
    record.fact("semantics", "RST mask also holds EPOLLOUT (SEND_SHUTDOWN from tcp_done())")


def peer_rst_recv(c, record):
    """Peer RST, then recv(): the read returns ECONNRESET and consumes the error."""
    c.peer_rst()
    c.wait("epoll_wait after RST")
    got = c.recv(100)
    after = c.wait("epoll_wait after the failing recv")
    claim(got == -errno.ECONNRESET, f"recv() fails with ECONNRESET (got {got})", c.timeline)
    claim(c.mode == "select" or not after & M.ERR, "the failing recv consumed the error", c.timeline)


SCENARIOS = table("state", peer_fin, data_and_fin, shut_rd, shut_wr_while_full, shut_rdwr,
                  shut_wr_then_peer_fin, peer_rst, peer_rst_recv,
                  names={"shut_rdwr": "shut-rdwr-hup", "shut_wr_then_peer_fin": "shut-wr-then-peer-fin-hup",
                         "peer_rst": "peer-rst-so-error"})


@pytest.mark.parametrize("script", SCENARIOS)
def test_state_change(scripted, waiter, family, record, script):
    """Accept (SO_SNDBUF locked so a fill ends in EAGAIN), watch every event, take the first
    report, then run the script."""
    run_accepted(scripted, record, script, family=family, waiter=waiter, sndbuf=SNDBUF, opts=PEER)
