"""A blocking step whose woken writer ran before the accounting after the ACK was read:
judged on the payload that ACK left queued, never on the refilled buffer.  No root needed."""

from dataclasses import dataclass, field

from harness.cases.claims import woke_at
from harness.cases.realblocking import BlockingSteps
from harness.peers.attribution import AckSample
from harness.record.timeline import Timeline
from harness.sockets.sockinfo import Snapshot

SNDBUF = 46080


def acct(acked: int, outq: int, queued: int) -> Snapshot:
    """The accounting with ``acked`` data bytes acknowledged and ``outq`` still queued."""
    return Snapshot(0.0, SNDBUF, queued, outq, 0, 0, 0, 1, "ESTABLISHED", {}, {"bytes_acked": acked + 1})


@dataclass
class Steps(BlockingSteps):
    last: Snapshot
    timeline: Timeline = field(default_factory=Timeline)
    samples: list = field(default_factory=list)
    series: list = field(default_factory=list)

    def judge(self, prev: Snapshot, ack: int, runnable: bool = True):
        self.samples.append(AckSample(ack, self.last.wmem_queued, SNDBUF, False))
        self.series.append({"ack": ack, "wakeup_required": False, "writable": False})
        self._judge_refilled(prev, self.kernel_accepted(self.last) - self.kernel_accepted(prev), runnable)
        return self.timeline.checks[-1], self.series[-1], self.samples[-1]


def test_an_ack_that_left_little_queued_explains_the_wakeup():
    # asleep with 40000 bytes queued (not writable); the ACK covers 30000 of them, and the
    # writer refilled the buffer to "not writable" before the read
    prev = acct(0, 40000, 44000)
    s = Steps(last=acct(30000, 40000, 44000))
    check, entry, sample = s.judge(prev, 30001)
    assert check.ok and entry["writer_ran_first"] == 30000 and entry["lowest_queued"] == 10000
    assert woke_at(entry) and sample.writable
    assert "ran before the accounting was read" in s.timeline.render()


def test_a_wakeup_the_rule_cannot_explain_even_at_the_floor_fails():
    # the ACK covers 1000 bytes: at least 39000 stay queued, over two thirds of sndbuf
    prev = acct(0, 40000, 44000)
    s = Steps(last=acct(1000, 42000, 45000))
    check, entry, sample = s.judge(prev, 1001)
    assert not check.ok and check.expected is False and check.observed is True
    assert not woke_at(entry) and not sample.writable
    assert "the rule cannot hold" in check.why
