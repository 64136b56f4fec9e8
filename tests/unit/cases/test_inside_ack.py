"""The verdict of one ACK for a sleeper where no witness decides: "allowed, not required",
never "required" echoing what the sleeper did.  No root needed."""

from harness.cases.inside_ack import InsideAck, series_entry
from harness.model import masks as M
from harness.model.rules import EpollModel, KernelRules
from harness.model.transient import AckBound
from harness.record.timeline import Timeline
from tests.unit.made_up import SNDBUF, Acct

HEAD = 1280


def bounded_inside() -> InsideAck:
    """An InsideAck as on a host without tracing (no witness, the bound's head truesize)."""
    inside = InsideAck.__new__(InsideAck)
    inside.timeline, inside.witness, inside.head, inside.gso_max_segs, inside.calls = Timeline(), None, HEAD, None, []
    return inside


def asleep() -> EpollModel:
    m = EpollModel(KernelRules.for_release("6.12.117"), edge=True, events=M.OUT)
    m.ctl(Acct(0))
    m.wait(Acct(0))
    m.sent("blocked", Acct(44000))
    return m


def test_a_wakeup_inside_the_bound_is_allowed_not_required():
    inside, m = bounded_inside(), asleep()
    acct = Acct(28840)
    m.acked(acct, freed=True, **inside.observe(30001, acct, 3))
    for woke in (True, False):
        inside.check(30001, m, woke, "writer woken")
    text = inside.timeline.render()
    assert "allowed, not required; observed True" in text and "allowed, not required; observed False" in text
    assert "required True" not in text and not inside.timeline.checks
    entry = series_entry(30001, acct, m, False)
    assert entry["wakeup_undecided"] and entry["basis"] == "exact" and not entry["wakeup_required"]


def test_outside_the_bound_a_wakeup_is_a_failed_check():
    inside, m = bounded_inside(), asleep()
    acct = Acct(33000)
    m.acked(acct, freed=True, bound=AckBound(33000, SNDBUF, 0, 0, 3, HEAD))
    inside.check(30001, m, True, "writer woken")
    assert not inside.timeline.checks[-1].ok


def _no_tracing(*_a, **_k):
    from harness.sockets.kprobes import TracingUnavailable

    raise TracingUnavailable("kprobe ws (p sk_stream_write_space ...) refused: File exists")


def test_a_required_witness_that_cannot_attach_fails_with_the_reason(monkeypatch):
    import pytest

    import harness.cases.inside_ack as ia

    monkeypatch.setattr(ia, "KernelWitness", _no_tracing)
    monkeypatch.setattr(ia, "head_truesize", lambda *_: HEAD)
    monkeypatch.setenv("EPS_REQUIRE_WITNESS", "1")
    with pytest.raises(ia.WitnessMissing, match="File exists"):
        InsideAck(None, Timeline(), None, 2)
    monkeypatch.delenv("EPS_REQUIRE_WITNESS")
    inside = InsideAck(None, Timeline(), None, 2)  # a host without tracing: bounded, visibly
    assert inside.basis == ia.BOUNDED and "File exists" in inside.timeline.render()
