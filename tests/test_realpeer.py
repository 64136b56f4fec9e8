"""When epoll reports EPOLLOUT with a real Linux receiver on the far side of a veth pair.

The rule is the scripted peer's (net/ipv4/tcp.c tcp_poll, net/core/stream.c
sk_stream_write_space, net/ipv4/tcp_input.c tcp_check_space): writable when free >= queued/2;
an ACK delivers EPOLLOUT only if the writer ran out of space before.  Here the ACKs come from
a real receiver's TCP, held by the gate, delayed, or paced only by the receiver's reading
(see harness.realnet), and a capture on the sender's link is the ground truth: every EPOLLOUT
is attributed to the captured ACK that the sender's accounting confirms at wake time.
"""

import pytest

from harness import masks as M
from harness.claims import claim_single_wakeup
from harness.verdict import claim, settle

SNDBUF = 21000  # doubled by the kernel to 42000 bytes and locked against autotuning
CHUNK = 4000    # a write that always fits


def _drive_acks(c):
    """Let every outstanding ACK reach the sender: one at a time (gate) or on their own."""
    if c.control.gated:
        c.release_all()
    else:
        c.settle()


def _attributed(c, mode, first, record):
    """The EPOLLOUT's attribution: exact in the gate modes, confirmed by timing otherwise."""
    claim(len(c.attributions) >= 1, "every write-space wakeup is attributed to a captured ACK", c.timeline)
    a = c.attributions[0]
    claim(a.ok, f"attribution of the EPOLLOUT to ACK {a.waking_ack}: {'; '.join(a.problems)}", c.timeline)
    if c.control.gated:
        claim(a.waking_ack == first, f"the EPOLLOUT is attributed to ACK {first}, the first after which "
              f"free >= queued/2 (got {a.waking_ack})", c.timeline)
        claim(a.held_after is True and a.held_before is False,
              "the rule held after the waking ACK and not after the one before it", c.timeline)
    if mode == "ET":
        claim(len(c.attributions) == 1, f"ET: one wakeup attributed (got {len(c.attributions)})", c.timeline)
    record.fact("attributed_ack", a.to_fact())
    return a


@pytest.mark.ack_modes("gate-delay", "netem")
def test_fill_until_eagain_with_delayed_acks(real, ack_mode, mode, cc, family, record):
    """Fill until EAGAIN while every ACK is delayed (netem, or the gate releasing each after a
    fixed delay): exactly one ET EPOLLOUT, attributed to the first ACK after which
    free >= queued/2; none before; LT reports it from that ACK on."""
    c = real.connect(family, cc, sndbuf=SNDBUF, edge=mode == "ET")
    c.register()
    c.wait()
    accepted = c.fill()
    c.wait("epoll_wait while out of space")
    since = c.timeline.step
    _drive_acks(c)
    c.ground_truth()
    settle(c.timeline)
    first, wake = claim_single_wakeup(c, mode, since, "eagain")
    _attributed(c, mode, first, record)
    record.fact("bytes_before_eagain", accepted)
    record.fact("waking_ack", first)
    record.fact("wmem_queued_at_wake", wake["wmem_queued"])
    record.fact("sndbuf_at_wake", wake["sndbuf"])
    record.series = c.series


@pytest.mark.ack_modes("gate")
@pytest.mark.parametrize("write", ["eagain", "short"], ids=["fill-until-eagain", "one-short-write"])
def test_gate_releases_one_ack_at_a_time(real, ack_mode, mode, cc, family, record, write):
    """The receiver's ACKs released one at a time: after each, the sender's accounting and
    the epoll result are checked against the rule engine, the same step-exact verdict as with
    the scripted peer.  EAGAIN and a short write both set SOCK_NOSPACE in tcp_sendmsg."""
    c = real.connect(family, cc, sndbuf=SNDBUF, edge=mode == "ET")
    c.register()
    c.wait()
    if write == "eagain":
        accepted = c.fill()
    else:
        claim(c.send(4 * SNDBUF) == "short", "a write larger than the buffer is short", c.timeline)
        accepted = c.accepted
    c.wait("epoll_wait while out of space")
    since = c.timeline.step
    c.release_all()
    c.ground_truth()
    settle(c.timeline)
    first, wake = claim_single_wakeup(c, mode, since, write)
    _attributed(c, mode, first, record)
    claim(len(c.samples) == len([x for x in c.timeline.checks if x.step > since]),
          "every released ACK was followed by a checked epoll_wait", c.timeline)
    record.fact("bytes_before_eagain" if write == "eagain" else "bytes_accepted", accepted)
    record.fact("waking_ack", first)
    record.fact("wmem_queued_at_wake", wake["wmem_queued"])
    record.fact("sndbuf_at_wake", wake["sndbuf"])
    record.fact("acks_released", len(c.samples))
    record.series = c.series
