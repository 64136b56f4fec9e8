"""Steps that change a connection's state or the socket's options, for the readiness matrix.

Each step acts (the peer sends FIN/RST/urgent data, or the socket calls recv, shutdown,
getsockopt, setsockopt), collects the packets, reads the accounting and tells the rule
engine what the kernel does with it.  Mixed into :class:`harness.cases.case.Case`.
"""

from __future__ import annotations

import errno
import socket

from harness.sockets.sockinfo import Snapshot


class StateSteps:
    """FIN, RST, urgent data, recv, shutdown, SO_ERROR and setsockopt steps."""

    def peer_fin(self, payload: bytes = b"") -> None:
        """The peer closes its side (FIN, with ``payload`` in the same segment if any)."""
        self.timeline.begin(f"peer FIN{f' with {len(payload)} bytes' if payload else ''}")
        self.conn.fin(payload)
        self.conn.drain()
        self.model.fin(self.snap())

    def peer_rst(self) -> None:
        """The peer resets the connection: tcp_reset() sets ECONNRESET and closes."""
        self.timeline.begin("peer RST")
        self.conn.rst()
        self.conn.drain()
        self.snap()
        self.model.done(errno.ECONNRESET, "peer RST")

    def peer_urgent(self, payload: bytes) -> None:
        """The peer sends ``payload`` with URG; its last byte is the urgent (OOB) byte."""
        self.timeline.begin(f"peer sends {len(payload)} bytes, the last one urgent")
        self.conn.urgent(payload)
        self.conn.drain()
        self.model.urgent_arrived(self.snap())

    # -- our own calls ----------------------------------------------------------------------
    def recv(self, n: int, flags: int = 0) -> bytes | int:
        """One non-blocking recv(); the bytes, or -errno (which consumes a pending sk_err)."""
        self.timeline.begin(f"recv({n}{', MSG_OOB' if flags & socket.MSG_OOB else ''})")
        try:
            got: bytes | int = self.sock.recv(n, flags | socket.MSG_DONTWAIT)
        except BlockingIOError:
            got = -errno.EAGAIN
        except OSError as exc:
            got = -exc.errno
            self.model.error_read()
        text = f"{len(got)} bytes" if isinstance(got, bytes) else errno.errorcode.get(-got, got)
        self.timeline.add("call", f"recv({n}) = {text}")
        if flags & socket.MSG_OOB and isinstance(got, bytes) and got:
            self.model.oob_read()
        self.conn.drain()
        self.snap()
        return got

    def shutdown(self, how: int) -> None:
        names = {socket.SHUT_RD: "SHUT_RD", socket.SHUT_WR: "SHUT_WR", socket.SHUT_RDWR: "SHUT_RDWR"}
        self.timeline.begin(f"shutdown({names[how]})")
        self.sock.shutdown(how)
        self.timeline.add("call", f"shutdown({names[how]})")
        if self.conn is not None:
            self.conn.drain()
        self.snap()
        self.model.shutdown(how)

    def so_error(self) -> int:
        """getsockopt(SO_ERROR): returns and clears the pending error (sock_error())."""
        self.timeline.begin("getsockopt(SO_ERROR)")
        err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        self.timeline.add("call", f"SO_ERROR = {errno.errorcode.get(err, err)}")
        self.model.error_read()
        self.snap()
        return err

    def setsockopt(self, level: int, opt: int, value: int, label: str) -> Snapshot:
        """A setsockopt step; the caller tells the model what the kernel does with it."""
        self.timeline.begin(f"setsockopt({label}, {value})")
        self.sock.setsockopt(level, opt, value)
        self.timeline.add("call", f"setsockopt({label}, {value})")
        return self.snap()

    def set_rcvlowat(self, value: int) -> None:
        """SO_RCVLOWAT: tcp_set_rcvlowat() checks at once whether EPOLLIN is due."""
        self.model.rcvlowat_set(self.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, value, "SO_RCVLOWAT"))

    def set_sndbuf(self, value: int) -> None:
        """SO_SNDBUF: sock_setsockopt() calls sk_write_space() whatever the new value."""
        acct = self.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, value, "SO_SNDBUF")
        self.model.write_space(acct, "SO_SNDBUF")

    def set_notsent_lowat(self, value: int) -> None:
        """TCP_NOTSENT_LOWAT: do_tcp_setsockopt() calls sk_write_space() directly."""
        from harness.sockets.sockinfo import TCP_NOTSENT_LOWAT

        acct = self.setsockopt(socket.IPPROTO_TCP, TCP_NOTSENT_LOWAT, value, "TCP_NOTSENT_LOWAT")
        self.model.write_space(acct, "TCP_NOTSENT_LOWAT")
