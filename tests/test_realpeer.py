"""When epoll reports EPOLLOUT with a real Linux receiver on the far side of a veth pair.

The rule is the scripted peer's (net/ipv4/tcp.c tcp_poll, net/core/stream.c
sk_stream_write_space, net/ipv4/tcp_input.c tcp_check_space): writable when free >= queued/2;
an ACK delivers EPOLLOUT only if the writer ran out of space before.  Here the ACKs come from
a real receiver's TCP, held by the gate, delayed, or paced only by the receiver's reading
(see harness.peers.realnet), and a capture on the sender's link is the ground truth: every EPOLLOUT
is attributed to the captured ACK that the sender's accounting confirms at wake time.
"""

import pytest

from harness.cases.claims import claim_single_wakeup, claim_woken_as_the_model_allows
from harness.cases.verdict import claim, flag_unexplained_wakeups, settle

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
    record.fact("attribution_exact", a.exact)
    return a


def _wake_facts(c, first, wake, a, record):
    """The waking ACK and the accounting at the wake, for the report.

    Gate modes: the step-exact ACK and the accounting read right after it.  Otherwise a step
    spans many ACKs, so the report takes the ACK the witness's read confirmed, and that read.
    """
    if c.control.gated:
        record.fact("waking_ack", first)
        record.fact("wmem_queued_at_wake", wake["wmem_queued"])
        record.fact("sndbuf_at_wake", wake["sndbuf"])
    else:
        acct = c.witness.wakes[0].acct
        record.fact("waking_ack", a.waking_ack)
        record.fact("wmem_queued_at_wake", acct.wmem_queued)
        record.fact("sndbuf_at_wake", acct.sndbuf)


@pytest.mark.ack_modes("gate-delay", "netem")
def test_fill_until_eagain_with_delayed_acks(real, ack_mode, mode, cc, family, record):
    """Fill until EAGAIN while every ACK is delayed (netem, or the gate releasing each after a
    fixed delay): exactly one ET EPOLLOUT, attributed to the first ACK after which
    free >= queued/2; none before; LT reports it from that ACK on."""
    c = real.connect(family, cc, sndbuf=SNDBUF, edge=mode == "ET")
    accepted = c.run_out_of_space("eagain")
    since = c.timeline.step
    _drive_acks(c)
    c.ground_truth()
    settle(c.timeline)
    first, wake = claim_single_wakeup(c, mode, since, "eagain")
    a = _attributed(c, mode, first, record)
    record.fact("bytes_before_eagain", accepted)
    _wake_facts(c, first, wake, a, record)
    record.series = c.series


@pytest.mark.ack_modes("gate")
@pytest.mark.parametrize("write", ["eagain", "short"], ids=["fill-until-eagain", "one-short-write"])
def test_gate_releases_one_ack_at_a_time(real, ack_mode, mode, cc, family, record, write):
    """The receiver's ACKs released one at a time: after each, the sender's accounting and
    the epoll result are checked against the rule engine, the same step-exact verdict as with
    the scripted peer.  EAGAIN and a short write both set SOCK_NOSPACE in tcp_sendmsg."""
    c = real.connect(family, cc, sndbuf=SNDBUF, edge=mode == "ET")
    accepted = c.run_out_of_space(write)
    since = c.timeline.step
    c.release_all()
    c.ground_truth()
    settle(c.timeline)
    first, wake = claim_single_wakeup(c, mode, since, write)
    a = _attributed(c, mode, first, record)
    claim(len(c.samples) == len([x for x in c.timeline.checks if x.step > since]),
          "every released ACK was followed by a checked epoll_wait", c.timeline)
    record.fact("bytes_before_eagain" if write == "eagain" else "bytes_accepted", accepted)
    _wake_facts(c, first, wake, a, record)
    record.fact("acks_released", len(c.samples))
    record.series = c.series


@pytest.mark.ack_modes("gate", "natural", "netem")
def test_writer_that_never_ran_out_of_space(real, ack_mode, mode, cc, family, record):
    """Writes that always fit, each followed by all of its ACKs: SOCK_NOSPACE is never set,
    so no ACK delivers a write-space wakeup.  ET reports nothing over the whole transfer;
    LT reports EPOLLOUT at every wait because the socket stays writable."""
    c = real.connect(family, cc, sndbuf=SNDBUF, edge=mode == "ET")
    c.register()
    c.wait()
    since = c.timeline.step
    for _ in range(8):
        claim(c.send(CHUNK) == "full", f"a {CHUNK}-byte write fits", c.timeline)
        c.wait("epoll_wait after the write")
        _drive_acks(c)
    c.ground_truth()
    settle(c.timeline)
    outs = c.out_reports(since)
    waits = [r for r in c.reports if r[0] > since]
    if mode == "ET":
        claim(outs == [], f"ET: no EPOLLOUT over the whole transfer (got {len(outs)})", c.timeline)
    else:
        claim(len(outs) == len(waits), "LT: EPOLLOUT at every wait", c.timeline)
    if c.witness is not None:
        claim(c.witness.wakes == [], "no write-space wakeup happened at all (witness)", c.timeline)
    record.fact("bytes_written", c.accepted)
    record.fact("acks_seen", len(c.capture.acks()))
    record.fact("epollout_reports", len(outs))
    record.fact("waking_ack", None)
    record.fact("attributed_ack", None)


RCVBUF = 4096  # doubled to 8192: the receiver's window closes long before the sender's buffer


@pytest.mark.ack_modes("gate", "natural")
def test_zero_window_then_reads(real, ack_mode, mode, cc, family, record):
    """The receiver stops reading: its window closes, the sender runs out of space with data
    unsent.  Window updates (the receiver reads) acknowledge nothing and free nothing; only the
    ACKs of the data sent into the reopened window free queue space, and EPOLLOUT comes at the
    first of them after which free >= queued/2."""
    c = real.connect(family, cc, sndbuf=SNDBUF, rcvbuf=RCVBUF, edge=mode == "ET")
    accepted = c.run_out_of_space("eagain")
    since = c.timeline.step
    _drive_acks(c)
    claim(c.last.notsent > 0 and (c.capture.peer_window() or 0) < c.last.info["snd_mss"],
          "the window is closed and data waits unsent", c.timeline)
    claim(c.out_reports(since) == [], "no EPOLLOUT while the window is closed", c.timeline)
    reads = 0
    while c.last.outq > 0:
        claim(reads < 100, "the transfer ends", c.timeline)
        claim(c.read(1 << 20) > 0, "the receiver has data to read", c.timeline)
        reads += 1
        _drive_acks(c)
    c.ground_truth()
    settle(c.timeline)
    first, wake = claim_single_wakeup(c, mode, since, "zero-window")
    a = _attributed(c, mode, first, record)
    prev = None
    updates = 0
    for s in c.series:
        if prev is not None and s["ack"] == prev["ack"]:
            # A window update: the model requires no wakeup where the accounting after it
            # leaves the rule false, and ET must report nothing.  (wmem_queued may still move
            # by skb heads either way while the kernel sends into the new window: a split adds
            # one (tso_fragment), filling an skb from the next one can free one.)
            updates += 1
            claim(not s["wakeup_required"], f"a window update (ACK {s['ack']} again) wakes nobody", c.timeline)
            if mode == "ET":
                claim(not s.get("epollout"), f"ET: no EPOLLOUT at a window update (ACK {s['ack']})", c.timeline)
        prev = s
    if c.control.gated:
        claim(updates > 0, "window updates were seen on their own (gate)", c.timeline)
    window_updates = sum(1 for a, b in zip(c.capture.acks(), c.capture.acks()[1:])
                         if b.ack == a.ack and b.window > a.window)
    record.fact("bytes_before_eagain", accepted)
    record.fact("receiver_reads", reads)
    record.fact("window_updates_captured", window_updates)
    _wake_facts(c, first, wake, a, record)
    record.series = c.series


@pytest.mark.ack_modes("gate")
@pytest.mark.sched_fifo
def test_blocking_writer(real, ack_mode, mode, cc, family, record, pytestconfig):
    """A thread writes three buffers' worth with blocking send(): each time it runs out of
    space it sleeps in sk_stream_wait_memory with SOCK_NOSPACE set.  Released one ACK at a
    time, the writer becomes runnable exactly at the first ACK after which free >= queued/2
    (sk_stream_write_space), never before, or, on kernels that test the rule after each skb
    sent (4bfe744ff164), at an ACK inside which a write-space test held (witnessed by
    kprobes, or inside the bound the accounting allows); the epoll item sees the same
    wakeup.  The receiver reads whenever its closed window stalls the transfer."""
    c = real.connect(family, cc, sndbuf=SNDBUF, edge=mode == "ET", blocking=True)
    c.watch_inside_acks()
    c.register()
    c.wait()
    since = c.timeline.step
    c.start_writer(3 * 2 * SNDBUF)
    blocked_at = c.kernel_accepted(c.last)
    c.release_all_blocking()
    c.ground_truth()
    flag_unexplained_wakeups(record, c.timeline, "blocked writer woken")
    settle(c.timeline)
    claim(c.writer.error is None, f"the writer's send() failed: {c.writer.error!r}", c.timeline)
    claim(c.writer.done.is_set() and c.writer.written == 3 * 2 * SNDBUF, "the writer wrote everything", c.timeline)
    claim(len(c.writer_wakes) >= 1, "the writer was woken at least once", c.timeline)
    # Each sleep ends at the first ACK with a wakeup (the rule held after it, or inside it).
    episodes, current = [], []
    for s in c.series:
        current.append(s)
        if s.get("writer_woken"):
            episodes.append(current)
            current = []
    for ep in episodes:
        claim_woken_as_the_model_allows(ep, ep[-1]["ack"], "the writer's sleep", c.timeline)
    for a in c.attributions:
        claim(a.ok, f"attribution of the writer's wakeup: {'; '.join(a.problems)}", c.timeline)
    record.fact("bytes_accepted_before_first_sleep", blocked_at)
    record.fact("writer_wakes", c.writer_wakes)
    record.fact("waking_ack", c.writer_wakes[0])
    record.fact("attributed_ack", c.attributions[0].to_fact() if c.attributions else None)
    record.fact("epollout_reports", len(c.out_reports(since)))
    c.writer_facts(record)
    record.fact("receiver_reads", sum(1 for label in c.timeline.labels.values() if label.startswith("receiver reads")))
    c.inside.facts(record, c.series)
    record.series = c.series
