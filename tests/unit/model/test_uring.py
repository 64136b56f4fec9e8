"""The io_uring poll model on its own: made-up accounting, no ring."""

from harness.model import masks as M
from harness.model.rules import KernelRules
from harness.model.uring import UringModel
from tests.unit.made_up import Acct

RULES = KernelRules.for_release("6.12.0-test")


WRITABLE, FULL = Acct(), Acct(wmem_queued=44000)


def test_one_shot_completes_at_arm_then_nothing_until_rearmed():
    m = UringModel(RULES, False, M.IN | M.OUT)
    m.ctl(WRITABLE)
    assert (m.wait(WRITABLE).mask, m.completions) == (M.OUT, 1)
    m.data_ready(Acct(inq=10))      # not armed: the completion was reaped, no re-arm yet
    assert m.pending == []
    # the next wait re-arms, and the arm's poll finds the full mask: level-like
    assert (m.wait(Acct(inq=10)).mask, m.completions) == (M.IN | M.OUT, 1)


def test_one_shot_on_unwritable_socket_arms_nospace_and_waits_for_the_wakeup():
    m = UringModel(RULES, False, M.IN | M.OUT)
    m.ctl(FULL)
    assert m.sock.nospace and m.armed
    assert (m.wait(FULL).mask, m.completions) == (0, 0)
    m.acked(WRITABLE, freed=True)
    assert (m.wait(WRITABLE).mask, m.completions) == (M.OUT, 1)


def test_multishot_completes_with_the_wakeup_key_not_the_full_mask():
    m = UringModel(RULES, False, M.READINESS, multishot=True)
    m.ctl(WRITABLE)
    assert m.wait(WRITABLE).mask == M.OUT
    assert m.wait(WRITABLE).mask == 0     # no wakeup, no completion: not level-triggered
    m.data_ready(Acct(inq=10))
    assert (m.wait(Acct(inq=10)).mask, m.completions) == (M.IN | M.PRI, 1)


def test_multishot_folds_wakeups_and_repolls():
    m = UringModel(RULES, False, M.READINESS, multishot=True)
    m.ctl(WRITABLE)
    m.wait(WRITABLE)
    m.urgent_arrived(Acct(inq=2))          # two sk_data_ready() calls in one segment
    assert (m.wait(Acct(inq=2)).mask, m.completions) == (M.IN | M.PRI | M.OUT, 1)


def test_multishot_ignores_a_key_outside_the_events():
    m = UringModel(RULES, False, M.IN, multishot=True)
    m.ctl(FULL)
    m.acked(WRITABLE, freed=True)          # a write-space wakeup (EPOLLOUT key) for an IN request
    assert (m.wait(WRITABLE).mask, m.completions) == (0, 0)
