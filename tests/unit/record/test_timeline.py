"""Timeline rendering: order, steps, and the marked first divergence."""

from harness.record.timeline import Timeline


def clock(values):
    it = iter(values)
    return lambda: next(it)


def test_render_marks_first_divergence_only():
    tl = Timeline("case", clock=clock([100.0, 100.001, 100.002, 100.003, 100.004, 100.005]))
    tl.begin("send(1000)")
    tl.add("call", "send(1000) = 1000")
    tl.begin("ACK 1001")
    tl.check("epoll_wait(ET)", "-", "OUT", "why")
    tl.begin("ACK 2001")
    tl.check("epoll_wait(ET)", "OUT", "-")
    text = tl.render()
    assert "first divergence at step 2 (ACK 1001)" in text
    marked = [line for line in text.splitlines() if line.startswith(">>")]
    assert len(marked) == 2 and all(" 2 " in line for line in marked)
    assert text.index("send(1000) = 1000") < text.index("== ACK 1001")
    assert "1.000" in text  # milliseconds since the timeline started


def test_no_divergence():
    tl = Timeline()
    tl.begin("wait")
    tl.check("epoll_wait(LT)", "OUT", "OUT")
    assert tl.first_divergence() is None
    assert ">>" not in tl.render()


def test_packets_for_pcap_in_order():
    tl = Timeline()
    tl.add("in", "a", t=1.0, raw=b"\x45a")
    tl.add("note", "not a packet", t=1.5)
    tl.add("out", "b", t=2.0, raw=b"\x45b")
    assert tl.packets() == [(1.0, b"\x45a"), (2.0, b"\x45b")]


def test_unexplained_wakeup_becomes_a_finding():
    from types import SimpleNamespace

    from harness.cases.verdict import flag_unexplained_wakeups

    tl = Timeline()
    tl.begin("ACK 10001")
    tl.check("writer woken", False, True)
    tl.begin("ACK 30001")
    tl.check("writer woken", True, True)
    record = SimpleNamespace(finding=None)
    flag_unexplained_wakeups(record, tl, "writer woken")
    assert record.finding is not None and "ACK 10001" in record.finding and "ACK 30001" not in record.finding
    quiet = SimpleNamespace(finding=None)
    flag_unexplained_wakeups(quiet, Timeline(), "writer woken")
    assert quiet.finding is None
