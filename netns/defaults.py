"""The TCP sysctls pinned in every namespace the suite makes: the one place they live.

Modelled on packetdrill's defaults: behaviour that would make a step depend on timing,
history or host tuning is switched off, the rest is set to the kernel's documented default
so that a host's own tuning cannot leak into a namespace (new namespaces copy some values
from init_net on recent kernels).  Each value is applied and read back; what a kernel does
not have is recorded as missing, not treated as an error, so old kernels still run.
"""

from __future__ import annotations

TCP_SYSCTLS: dict[str, str] = {
    # Buffers: min/default/max.  SO_SNDBUF locks the send side where a scenario needs it.
    "net.ipv4.tcp_wmem": "4096 16384 4194304",
    "net.ipv4.tcp_rmem": "4096 131072 6291456",
    # Options offered on our own SYNs; the scripted peer chooses what it offers.
    "net.ipv4.tcp_timestamps": "1",
    "net.ipv4.tcp_sack": "1",
    "net.ipv4.tcp_window_scaling": "1",
    "net.ipv4.tcp_ecn": "0",
    "net.ipv4.tcp_fastopen": "0",
    # History and timing out of the picture.
    "net.ipv4.tcp_slow_start_after_idle": "0",
    "net.ipv4.tcp_no_metrics_save": "1",
    "net.ipv4.tcp_autocorking": "0",
    "net.ipv4.tcp_moderate_rcvbuf": "0",
    # Tail loss probes would retransmit while the harness holds an ACK for a step; the
    # retransmission would change the skbs behind wmem_queued.  RACK stays at its default.
    "net.ipv4.tcp_early_retrans": "0",
    "net.ipv4.tcp_recovery": "1",
    "net.ipv4.tcp_min_tso_segs": "2",
    "net.ipv4.tcp_tso_win_divisor": "3",
    "net.ipv4.tcp_notsent_lowat": "4294967295",
    # A connect to a peer that never answers gives up soon: one retry, about 3 s in all on
    # kernels whose tcp_syn_linear_timeouts keeps early SYN timeouts at 1 s (tcp_write_timeout()).
    "net.ipv4.tcp_syn_retries": "1",
    "net.ipv4.tcp_synack_retries": "1",
    # IPv6 addresses are usable at once, without duplicate address detection.
    "net.ipv6.conf.all.accept_dad": "0",
    "net.ipv6.conf.default.accept_dad": "0",
    "net.ipv6.conf.all.forwarding": "0",
}

# The congestion control the suite picks per socket unless a test asks for another.
# cubic is deterministic in slow start; the host default is run as a second variant.
DEFAULT_CC = "cubic"

# The skb layout of the scripted-peer cases: one MSS per skb.  The device's gso_max_segs
# becomes sk_gso_max_segs at connect/accept (sk_setup_caps()); with 1, tcp_xmit_size_goal()
# builds one-MSS skbs and tcp_tso_segs() never lets tso_fragment() split one, so no TSO
# chunk size (tcp_tso_autosize(): pacing rate, hence the RTT the kernel measured) and no
# tcp_min_tso_segs can change how many skb heads wmem_queued carries.  "natural" is the
# device's own value (GSO_MAX_SEGS): the layout then follows the harness's speed.
LAYOUT_GSO_MAX_SEGS: dict[str, int] = {"pinned": 1, "natural": 65535}
