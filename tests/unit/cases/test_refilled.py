"""A blocking step whose woken writer ran before the accounting after the ACK was read:
judged on what that ACK left queued (payload and skb heads), never on the refilled buffer,
and recorded as bounded.  No root needed."""

from dataclasses import dataclass, field
from types import SimpleNamespace

from harness.cases.claims import woke_at
from harness.cases.realblocking import BlockingSteps
from harness.peers.attribution import AckSample
from harness.record.timeline import Timeline
from harness.sockets.sockinfo import Snapshot

SNDBUF = 46080
HEAD = 1280


def acct(acked: int, outq: int, queued: int) -> Snapshot:
    """The accounting with ``acked`` data bytes acknowledged and ``outq`` still queued."""
    return Snapshot(0.0, SNDBUF, queued, outq, 0, 0, 0, 1, "ESTABLISHED", {}, {"bytes_acked": acked + 1})


@dataclass
class Steps(BlockingSteps):
    last: Snapshot
    timeline: Timeline = field(default_factory=Timeline)
    samples: list = field(default_factory=list)
    series: list = field(default_factory=list)
    inside: SimpleNamespace = field(default_factory=lambda: SimpleNamespace(head=HEAD, witness=None))

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
    assert check.ok and entry["writer_ran_first"] == 30000 and entry["lowest_queued"] == 10000 + HEAD
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


def test_the_skb_heads_left_queued_count():
    """The issue's counter-example, reduced: 30000 bytes left queued pass the payload-only
    floor (free 16080 >= 15000) but not with the head of the skb that holds them (31280
    queued: free 14800 < 15640).  The old floor accepted this wakeup."""
    prev = acct(0, 40000, 44000)
    s = Steps(last=acct(10000, 40000, 44000))
    check, entry, sample = s.judge(prev, 10001)
    assert not check.ok and entry["lowest_queued"] == 30000 + HEAD
    assert not woke_at(entry) and not sample.writable


def test_a_writer_that_accepted_bytes_was_woken_whatever_its_state_read_says():
    """The floor forbids the wakeup; the writer was read as not runnable although it
    accepted 1000 bytes.  The old check compared 'not allowed' with 'not runnable' and passed."""
    prev = acct(0, 40000, 44000)
    s = Steps(last=acct(1000, 40000, 45000))
    check, entry, _ = s.judge(prev, 1001, runnable=False)
    assert not check.ok and check.observed is True


def test_an_accepted_step_is_recorded_as_bounded():
    prev = acct(0, 40000, 44000)
    s = Steps(last=acct(30000, 40000, 44000))
    _, entry, _ = s.judge(prev, 30001)
    assert entry["basis"] == "bounded" and entry["basis_bound"]["lowest_queued"] == 10000 + HEAD
    entry["writer_woken"] = True
    facts = {}
    s.writer_facts(SimpleNamespace(fact=facts.__setitem__))
    assert facts == {"writer_ran_first": [30001], "writer_wake_basis": "bounded at ACK 30001"}
