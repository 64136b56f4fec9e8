"""The rules for state changes, urgent data, SO_RCVLOWAT and listeners.

Mixed into :class:`harness.model.rules.EpollModel`: each method is one kernel event, updating the
socket's hidden state (:class:`harness.model.rules.SockState`) and waking the items the kernel
wakes.  What the mask then holds is :meth:`EpollModel.poll` (tcp_poll()).
"""

from __future__ import annotations

import socket

from . import masks as M


class StateRules:
    """Needs ``sock`` (SockState), ``history``, ``state_change``, ``data_ready``, ``_wake_all``."""

    # -- state changes ------------------------------------------------------------------------
    def fin(self, acct) -> None:
        """tcp_fin(): RCV_SHUTDOWN, SOCK_DONE, sk_state_change; the FIN is also queued data
        and tcp_data_queue() calls tcp_data_ready(), which wakes once SOCK_DONE is set."""
        self.sock.rcv_shutdown = True
        self.history.append("peer FIN: RCV_SHUTDOWN set")
        self.state_change()
        self.data_ready(acct)

    def shutdown(self, how: int) -> None:
        """inet_shutdown(): sk_shutdown |= how (SHUT_RD -> RCV_SHUTDOWN, SHUT_WR ->
        SEND_SHUTDOWN), tcp_shutdown() sends a FIN for the send side, then sk_state_change()."""
        if how in (socket.SHUT_RD, socket.SHUT_RDWR):
            self.sock.rcv_shutdown = True
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            self.sock.send_shutdown = True
        self.history.append(f"shutdown({how}): rcv={self.sock.rcv_shutdown} send={self.sock.send_shutdown}")
        self.state_change()

    def done(self, err: int, why: str) -> None:
        """tcp_reset() / tcp_write_err(): sk_err set, tcp_done() (CLOSE, SHUTDOWN_MASK,
        sk_state_change), then sk_error_report() (a wakeup keyed EPOLLERR)."""
        self.sock.err = err
        self.sock.rcv_shutdown = self.sock.send_shutdown = True
        self.history.append(f"{why}: sk_err={err}, both directions shut")
        self.state_change()
        self._wake_all(M.ERR, f"error report ({why})")

    def error_read(self) -> None:
        """SO_ERROR (sock_error()) or a failing recv()/send() consumed the pending sk_err."""
        self.sock.err = 0

    def urgent_arrived(self, acct) -> None:
        """tcp_urg(): the urgent byte arrived: urg_data valid (EPOLLPRI), sk_data_ready();
        then tcp_data_queue() queues the segment's bytes and tcp_data_ready() wakes again
        (two wakeups: an io_uring poll request folds them and re-polls)."""
        self.sock.urgent = True
        self._wake_all(M.KEY_DATA_READY, "urgent data")
        self.data_ready(acct)

    def oob_read(self) -> None:
        """recv(MSG_OOB) took the urgent byte: urg_data becomes TCP_URG_READ, no EPOLLPRI."""
        self.sock.urgent = False

    def rcvlowat_set(self, acct) -> None:
        """setsockopt(SO_RCVLOWAT) -> tcp_set_rcvlowat() -> tcp_data_ready() (Linux 4.18,
        "tcp: avoid extra wakeups for SO_RCVLOWAT users"): wakes if the new target is met."""
        self.data_ready(acct)

    def child_queued(self) -> None:
        """A handshake completed on a listener: tcp_child_process() -> the listener's
        sk_data_ready() (sock_def_readable), one wakeup per connection queued for accept()."""
        self._wake_all(M.KEY_DATA_READY, "connection queued for accept")
