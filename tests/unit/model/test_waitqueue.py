"""The model of which waiters one wakeup reaches (harness.model.waitqueue)."""

from harness.model import masks as M
from harness.model import waitqueue as W


def instances(n, exclusive, edge, events=M.IN, sleepers=None):
    out = [W.Instance(i, exclusive, edge, events) for i in range(n)]
    for i, item in enumerate(out):
        item.sleepers = list(sleepers[i]) if sleepers else [i]
    return out


def test_exclusive_wakes_the_first_registered_instance_with_a_sleeper():
    items = instances(3, True, True)
    assert W.wake(items, M.KEY_DATA_READY) == [(0, 0)]
    assert W.wake(items, M.KEY_DATA_READY) == [(1, 1)]   # instance 0 has nobody asleep now


def test_exclusive_item_without_a_sleeper_is_queued_not_counted():
    items = instances(2, True, True, sleepers=[[], [1]])
    assert W.wake(items, M.KEY_DATA_READY) == [(1, 1)]
    assert items[0].ready and items[1].ready is False  # ET: reported, off the ready list


def test_exclusive_rejects_a_key_it_did_not_register():
    items = instances(2, True, True, events=M.IN)
    assert W.socket_wakeup(items, M.KEY_WRITE_SPACE) == []
    assert not W.counts(items[0], M.KEY_WRITE_SPACE)


def test_plain_instances_all_wake():
    assert [i for i, _ in W.wake(instances(3, False, True), M.KEY_DATA_READY)] == [0, 1, 2]


def test_threads_of_one_instance_wake_last_asleep_first():
    et = instances(1, False, True, sleepers=[[0, 1, 2]])
    assert W.wake(et, M.KEY_DATA_READY) == [(0, 2)]
    lt = instances(1, False, False, sleepers=[[0, 1, 2]])
    assert W.wake(lt, M.KEY_DATA_READY) == [(0, 2), (0, 1), (0, 0)]


def test_lt_chain_stops_when_the_readiness_is_consumed():
    lt = instances(1, False, False, sleepers=[[0, 1, 2]])
    assert W.wake(lt, M.KEY_DATA_READY, still_ready=False) == [(0, 2)]
