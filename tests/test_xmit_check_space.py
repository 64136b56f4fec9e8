"""The write-space test after every skb sent: "tcp: fix potential xmit stalls caused by
TCP_NOTSENT_LOWAT" (4bfe744ff164, mainline 5.18, stable 5.10.114), on its own.

Before it, tcp_check_space() ran once per ACK, after tcp_data_snd_check() pushed what the
ACK allowed; since, tcp_event_new_data_sent() also calls it after each skb sent.  A writer
fills its buffer until EAGAIN (SOCK_NOSPACE set) and the peer acknowledges one MSS at a
time, so each ACK frees a little and lets the kernel send a little while the socket stays
unwritable (SOCK_NOSPACE stays set; each epoll_wait re-arms it through tcp_poll()).  A kernel
witness (kprobes on sk_stream_write_space) shows, at every such ACK:

* with the change: one test from the transmit path (tcp_write_xmit) for each skb sent, at
  least one and no more than the segments the peer received, plus the ACK's own test;
* without it: only the ACK's own test, after the push.

The variant comes from the upstream release the kernel carries (harness.model.versions);
the witness needs kprobe events (the guests), and the case skips without them.
"""

import pytest

from harness.cases.inside_ack import InsideAck
from harness.cases.scripted import FAMILIES
from harness.cases.verdict import claim, settle
from harness.peers.tunpeer import PeerOptions
from harness.plugin.pytest_plugin import state

PEER = PeerOptions(mss=1000, window=50000, wscale=0)
SNDBUF = 21000
XMIT = "transmit inside the ACK (tcp_write_xmit)"
PUSH = "after the ACK's push (tcp_data_snd_check)"


def test_write_space_test_after_each_skb_sent(scripted, cc, family, kernel_rules, record, pytestconfig):
    """Each ACK that lets the kernel send while SOCK_NOSPACE stays set: tests from the
    transmit path (one per skb) exactly where the kernel has 4bfe744ff164, and one after
    the push everywhere."""
    c = scripted.accept(family, cc, sndbuf=SNDBUF, opts=PEER, title="fill, then ACK one MSS at a time")
    c.inside = InsideAck(c.sock, c.timeline, scripted.net.ns.socket, FAMILIES[family])
    if c.inside.witness is None:
        if state(pytestconfig).strict:
            pytest.fail(f"required capability missing (--strict-skips): {c.inside.unavailable}", pytrace=False)
        pytest.skip(c.inside.unavailable)
    c.run_out_of_space("eagain")
    per_ack = []
    while True:
        c.conn.wait_until_sent(c.sent_end)
        if c.conn.acked >= c.conn.received_end or c.series and c.series[-1]["writable"]:
            break
        seen = len(c.conn.segments)
        ack = min(c.conn.acked + PEER.mss, c.conn.received_end)
        c.ack(ack)
        sent = sum(1 for s in c.conn.segments[seen:] if s.payload)
        c.wait(None)
        calls = [call for a, call in c.inside.calls if a == ack]
        per_ack.append({"ack": ack, "segments_sent": sent, "xmit_calls": sum(x.site == XMIT for x in calls),
                        "push_calls": sum(x.site == PUSH for x in calls),
                        "unwritable": not c.series[-1]["writable"], "held": any(x.held() for x in calls)})
    settle(c.timeline)
    # A test that held (a transient wakeup) clears SOCK_NOSPACE: the later ones do nothing.
    steps = [s for s in per_ack if s["unwritable"] and s["segments_sent"] and not s["held"]]
    claim(bool(steps), "some ACK let the kernel send while the socket stayed unwritable", c.timeline)
    for s in steps:
        if kernel_rules.check_space_per_skb:
            claim(1 <= s["xmit_calls"] <= s["segments_sent"],
                  f"ACK {s['ack']}: a write-space test from tcp_write_xmit per skb sent "
                  f"({s['xmit_calls']} for {s['segments_sent']} segments)", c.timeline)
        else:
            claim(s["xmit_calls"] == 0, f"ACK {s['ack']}: no write-space test from the transmit path "
                  f"({s['xmit_calls']})", c.timeline)
        claim(s["push_calls"] == 1, f"ACK {s['ack']}: the ACK's own test after the push ({s['push_calls']})",
              c.timeline)
    c.inside.facts(record, c.series)
    record.fact("per_skb_check_applies", kernel_rules.check_space_per_skb)
    record.fact("acks_checked", len(steps))
    record.fact("xmit_calls", [s["xmit_calls"] for s in steps])
    record.fact("segments_sent", [s["segments_sent"] for s in steps])
    record.series = c.series
