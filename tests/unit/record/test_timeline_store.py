"""The model's reasoning on the timeline, and timelines kept beside a report."""

from harness.record import store
from harness.record.timeline import Timeline


def test_model_reasoning_lands_at_the_step_it_was_made():
    history: list[str] = []
    tl = Timeline("case")
    tl.follow(history)
    tl.follow(history)  # following twice copies once
    tl.begin("send(50000)")
    history.append("send eagain: SOCK_NOSPACE set")
    tl.add("call", "send(50000) = EAGAIN")
    tl.begin("ACK 19001")
    history.append("write-space wakeup (ACK): SOCK_NOSPACE cleared")
    tl.check("epoll_wait(ET)", "OUT", "OUT")
    model = [(e.step, e.text) for e in tl.entries if e.kind == "model"]
    assert model == [(1, "send eagain: SOCK_NOSPACE set"), (2, "write-space wakeup (ACK): SOCK_NOSPACE cleared")]
    # the reasoning comes before what the step then recorded
    kinds = [e.kind for e in tl.entries if e.step == 2]
    assert kinds == ["model", "check"]


def test_round_trip_through_the_store_drops_raw_packets(tmp_path):
    tl = Timeline("accept ipv4 cubic")
    tl.begin("ACK 1001")
    tl.add("in", "kernel <- . ack 1001", raw=b"\x45\x00")
    tl.add("acct", "queued=1000", snapshot={"sndbuf": 42000, "wmem_queued": 1000})
    tl.check("epoll_wait(ET)", "OUT", "-", "why")
    report = tmp_path / "6.1.json"
    store.write(report, [{"key": "k[a]", "nodeid": "t::k[a]", "capture": None, "timelines": [tl.to_dict()]}])
    assert store.path_for(report).name == "6.1.timelines.jsonl.gz"
    row = store.read(report)["k[a]"]
    back = Timeline.from_dict(row["timelines"][0])
    assert back.labels == tl.labels and back.step == 1
    assert [e.text for e in back.entries] == [e.text for e in tl.entries]
    assert "raw" not in back.entries[0].data
    assert back.entries[1].data["snapshot"]["sndbuf"] == 42000
    assert back.first_divergence().what == "epoll_wait(ET)"
    assert store.read(tmp_path / "none.json") == {}
