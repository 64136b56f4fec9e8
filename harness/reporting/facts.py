"""What each fact of a report means, and how a change of it reads as a change of readiness.

``MEANINGS`` is what ``epoll-semantics explain --fact NAME`` prints; ``change_words`` turns a
fact that differs between two kernels into one line a person reads ("ET EPOLLOUT after
EAGAIN arrives at ACK 9001 instead of 7001"), the kernel diff's lines.  A fact without words
of its own reads as "NAME: AFTER instead of BEFORE".
"""

from __future__ import annotations

from typing import Any

# name: (what it means, the readiness line of a change: {before} and {after} filled in)
FACTS: dict[str, tuple[str, str]] = {
    "waking_ack": ("the relative ACK (packetdrill numbering: first data byte is 1) after which the "
                   "waiter was first told the socket is writable",
                   "{mode}EPOLLOUT after EAGAIN arrives at ACK {after} instead of {before}"),
    "attributed_ack": ("the ACK the capture attributes the first EPOLLOUT to, with a real peer",
                       "the EPOLLOUT is attributed to ACK {after} instead of {before}"),
    "first_epollout_ack": ("the first ACK after which epoll reports EPOLLOUT to a second waiter while "
                           "a writer blocks", "EPOLLOUT beside a blocked writer first shows at ACK "
                                              "{after} instead of {before}"),
    "boundary_ack": ("the ACK at which the socket crosses the writability boundary",
                     "the writability boundary is crossed at ACK {after} instead of {before}"),
    "bytes_before_eagain": ("bytes send() accepted before the first EAGAIN",
                            "{after} bytes are accepted before EAGAIN instead of {before}"),
    "bytes_accepted": ("bytes the writer handed the kernel in the case",
                       "the writer hands the kernel {after} bytes instead of {before}"),
    "bytes_written": ("bytes written before the case's waits", "{after} bytes are written instead of {before}"),
    "bytes_before_block": ("bytes a blocking send() took before it slept",
                           "a blocking writer sleeps after {after} bytes instead of {before}"),
    "bytes_accepted_before_first_sleep": ("bytes a blocking writer handed the kernel before it first slept",
                                          "a blocking writer first sleeps after {after} bytes instead of {before}"),
    "wmem_queued_at_wake": ("sk_wmem_queued (bytes charged to the send queue) at the wakeup",
                            "{after} bytes are queued at the wakeup instead of {before}"),
    "sndbuf_at_wake": ("sk_sndbuf at the wakeup", "the send buffer is {after} bytes at the wakeup instead of {before}"),
    "wmem_queued_at_boundary": ("sk_wmem_queued where the writability boundary is crossed",
                                "{after} bytes are queued at the boundary instead of {before}"),
    "sndbuf_at_boundary": ("sk_sndbuf where the writability boundary is crossed",
                           "the send buffer is {after} bytes at the boundary instead of {before}"),
    "freed_per_ack": ("bytes of sk_wmem_queued each ACK frees", "an ACK frees {after} bytes instead of {before}"),
    "wmem_queued_per_mss": ("sk_wmem_queued charged for one MSS-sized skb (truesize + MSS)",
                            "one MSS-sized skb charges {after} bytes instead of {before}"),
    "skb_head_truesize": ("the truesize of an skb head with no payload (accounting scenarios)",
                          "an skb head costs {after} bytes of send buffer instead of {before}"),
    "acks_under_limit_before_wake": ("ACKs that brought the socket under its limit before the wakeup",
                                     "{after} ACKs pass under the limit before the wakeup instead of {before}"),
    "syns_sent": ("SYNs an unanswered connect() sent before it gave up",
                  "an unanswered connect sends {after} SYNs instead of {before}"),
    "tcp_syn_linear_timeouts": ("net.ipv4.tcp_syn_linear_timeouts in the case's namespace (null: absent)",
                                "tcp_syn_linear_timeouts is {after} instead of {before}"),
    "empty_socket_under_pressure": ("what one send() on an empty socket does under TCP memory pressure",
                                    "under memory pressure an empty socket's send does '{after}' instead "
                                    "of '{before}'"),
    "tcp_pages_held": ("pages TCP held (sockstat) with the ballast connection's queue full",
                       "the memory-pressure ballast holds {after} pages instead of {before}"),
    "tcp_mem_during_send": ("the net.ipv4.tcp_mem limit (pages) set for the memory-pressure send",
                            "the memory-pressure limit is {after} pages instead of {before}"),
    "masks": ("the epoll event masks the waiter saw, in order", "the waiter sees masks {after} instead of {before}"),
    "wakes": ("the ACKs after which the waiter was woken", "the waiter wakes at ACKs {after} instead of {before}"),
    "epollout_reports": ("how many EPOLLOUT reports epoll gave", "epoll reports EPOLLOUT {after} times instead "
                                                                  "of {before}"),
    "et_epollout_from_acks": ("ET EPOLLOUT reports that ACKs caused", "ET EPOLLOUT comes from {after} ACKs "
                                                                       "instead of {before}"),
    "verdict": ("the case's verdict", "verdict {after} instead of {before}"),
    "events_at": ("the epoll results of the case, step by step", "epoll reports {after} instead of {before}"),
}


# Facts with no readiness sentence of their own (a change reads "NAME: AFTER instead of BEFORE").
MEANINGS: dict[str, str] = {
    "ack_delay_ms": "how long the gate held each ACK back (a real peer with delayed ACKs)",
    "ack_mode": "how ACKs reached the kernel: scripted, or a real peer (gate: released one by one)",
    "acks_checked": "ACKs after which the write-space test after each skb sent was checked",
    "acks_released": "ACKs the gate released one at a time",
    "acks_seen": "ACKs the capture saw from the real peer",
    "attribution_exact": "whether the capture tied the wakeup to one ACK exactly",
    "blocking_send_returned": "what the blocking send() returned once woken",
    "ctl_del_closed_fd": "what EPOLL_CTL_DEL of a closed descriptor returned",
    "edge": "how the waiter's edge semantics were compared (poll and select have no edge mode)",
    "established_sndbuf": "the sndbuf tcp_sndbuf_expand() gives an established socket (accounting)",
    "exclusive": "whether the listeners were registered with EPOLLEXCLUSIVE",
    "fresh_sndbuf": "a new socket's sndbuf (tcp_wmem[1]; accounting)",
    "inside_ack_basis": "how the write-space tests inside an ACK were known: witnessed by kprobes, or bounded",
    "mask_after_so_error": "the epoll mask after SO_ERROR was read",
    "mode": "the waiter of the case (ET, LT, poll, select, blocking)",
    "notsent_at_first_wake": "unsent bytes at a blocking writer's first wakeup under TCP_NOTSENT_LOWAT",
    "notsent_at_wake": "unsent bytes at the first EPOLLOUT under TCP_NOTSENT_LOWAT",
    "notsent_before_after": "unsent bytes before and after the window update",
    "notsent_lowat": "the TCP_NOTSENT_LOWAT limit in force",
    "notsent_lowat_by": "how TCP_NOTSENT_LOWAT was set: the socket option or the sysctl",
    "observed_epollout": "the ACKs after which the waiter saw EPOLLOUT",
    "per_skb_check_applies": "whether the kernel tests write space after each skb sent (4bfe744ff164)",
    "poll_select": "what poll() and select() show for the same case",
    "poll_vs_lt_epoll": "where poll and LT epoll disagree, and why",
    "receiver_reads": "reads the real peer made",
    "recv_after": "what recv() returned after the event",
    "second_instance_masks": "the masks a second epoll instance on the same socket saw",
    "second_wait": "the mask of the wait after the first report",
    "segments_sent": "segments sent after each ACK (write-space test after each skb)",
    "semantics": "the kernel behaviour the case pins, in words",
    "sndbuf_before_after": "sk_sndbuf before and after the raise",
    "sndbuf_factor": "what SO_SNDBUF multiplies the value set by (sk_setsockopt doubles it)",
    "sndbuf_locked": "whether SOCK_SNDBUF_LOCK was set (autotuning off)",
    "sndbuf_moves": "the values autotuning gave sk_sndbuf, in order",
    "sndbuf_read": "the SO_SNDBUF read back",
    "sndbuf_set": "the SO_SNDBUF set",
    "sndbuf_tried": "the sndbufs tried to land the threshold on an ACK boundary",
    "so_error": "the socket's SO_ERROR at the end",
    "state_after": "the TCP state at the end",
    "tcp_syn_retries": "net.ipv4.tcp_syn_retries in the case's namespace",
    "tcp_wmem": "net.ipv4.tcp_wmem in the case's namespace",
    "transient_wakeups": "wakeups inside an ACK accepted within the bound (no kernel witness)",
    "twin_et_wakes": "the ACKs after which the ET epoll twin of the blocking writer was woken",
    "twin_wmem_queued_delta": "sk_wmem_queued of the twin minus the writer's, per ACK",
    "wakeups_at_connection": "the listeners woken at each connection",
    "window_updates_captured": "window updates the capture saw",
    "witnessed_wakeups": "the write-space calls inside ACKs that woke a sleeper: ACK, site and accounting",
    "wmem_queued_before_after": "sk_wmem_queued before and after the window update",
    "writable_by_accounting_after_shut_wr": "whether the accounting says writable after shutdown(SHUT_WR)",
    "writer_wakes": "the ACKs after which the blocking writer was woken (real peer)",
    "xmit_calls": "tcp_write_xmit() calls after each ACK",
}


def meaning(name: str) -> str | None:
    entry = FACTS.get(name)
    if entry:
        return entry[0]
    if name.startswith("masks_") and name != "masks_":
        return f"the epoll event masks the {name.removeprefix('masks_')} waiter saw, in order"
    return MEANINGS.get(name)


VALUE_LIMIT = 48


def _short(value: Any, limit: int = VALUE_LIMIT) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, list):
        text = "[" + ", ".join(_short(v, 10**6) for v in value) + "]"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k}: {_short(v, 10**6)}" for k, v in value.items()) + "}"
    else:
        text = "null" if value is None else str(value)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def change_words(name: str, before: Any, after: Any, mode: str = "") -> str:
    """One line that says what a change of ``name`` does to readiness."""
    entry = FACTS.get(name)
    words = entry[1] if entry else name + ": {after} instead of {before}"
    prefix = f"{mode} " if mode in ("ET", "LT") else ""
    return words.format(before=_short(before), after=_short(after), mode=prefix)
