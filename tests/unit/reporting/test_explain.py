"""A timeline trimmed around its focus, with the reasoning and the rule's numbers there."""

import re

from harness.record.timeline import Timeline
from harness.reporting.explain import explain, focus, rule_numbers


def acct(queued: int, sndbuf: int = 42000, notsent: int = 0, lowat: int = 0) -> dict:
    return {"sndbuf": sndbuf, "wmem_queued": queued, "free": sndbuf - queued, "notsent": notsent,
            "notsent_lowat": lowat, "outq": queued, "inq": 0}


def long_case(diverge_at: int | None, steps: int = 40) -> Timeline:
    history: list[str] = []
    tl = Timeline("accept ipv4 cubic")
    tl.follow(history)
    tl.begin("send")
    history.append("send eagain: SOCK_NOSPACE set")
    tl.add("call", "send(99999) = EAGAIN")
    for i in range(2, steps + 1):
        tl.begin(f"ACK {i}001")
        queued = 42000 - 1000 * i
        if i == 15:
            history.append("write-space wakeup (ACK): SOCK_NOSPACE cleared")
        tl.add("acct", f"queued={queued}", snapshot=acct(queued))
        tl.check("epoll_wait(ET)", "OUT" if i == diverge_at else "-", "-")
    return tl


def test_focus_is_the_first_divergence_else_the_wakeup():
    assert focus(long_case(diverge_at=20)) == (20, "first divergence")
    assert focus(long_case(diverge_at=None)) == (15, "write-space wakeup")


def test_trimmed_to_fifteen_steps_before_and_five_after():
    text = explain(long_case(diverge_at=20), capture="reports/captures/x.pcap")
    steps = sorted({int(re.search(r"(\d+)  == ACK", line)[1]) for line in text.splitlines() if "== ACK" in line})
    assert steps[0] == 5 and steps[-1] == 25
    assert "first divergence at step 20 (ACK 20001)" in text
    assert "left out (--timelines full shows them)" in text
    assert "step   1: send eagain: SOCK_NOSPACE set" in text
    assert "step  15: write-space wakeup" in text
    assert "accounting at step 20: sndbuf=42000 queued=22000 free=20000" in text
    assert "free 20000 >= queued/2 11000 (queued 22000): yes" in text
    assert text.rstrip().endswith("packets: reports/captures/x.pcap (raw IP; tcpdump -r or Wireshark)")
    marked = [line for line in text.splitlines() if line.startswith(">>")]
    assert marked and all(" 20 " in line for line in marked)


def test_full_shows_every_step():
    text = explain(long_case(diverge_at=20), full=True)
    assert "left out" not in text and "== ACK 40001" in text and "== send" in text


def test_rule_numbers_name_what_fails():
    lines = rule_numbers(acct(30000))
    assert lines[0] == "free 12000 >= queued/2 15000 (queued 30000): no"
    assert lines[-1] == "writable for poll: no; for a write-space wakeup: no"
    lowat = rule_numbers(acct(10000, notsent=3000, lowat=4000))
    assert any("notsent 3000 < TCP_NOTSENT_LOWAT 4000" in line and line.endswith("yes / no") for line in lowat)
