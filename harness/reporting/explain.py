"""A case's timeline as a reader wants it: trimmed around the step that matters, with the
model's reasoning up to there and the numbers the rule compared at that step.

The focus is the first divergence (the first check where the rule engine and the kernel
disagree); a case without one (a claim failed, or it passed) is focused on its first
write-space wakeup, else its last step.  The rule's numbers are those of
``__sk_stream_is_writeable()`` (include/net/sock.h, via ``sk_stream_write_space()``) applied to
the accounting read at the focus step: free >= queued/2, queued < sndbuf, and the unsent
bytes under TCP_NOTSENT_LOWAT.  Used by the failure output of the plugin and by
``epoll-semantics explain``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from harness.model.rules import threshold, writeable
from harness.record.timeline import Entry, Timeline

BEFORE = 15  # steps shown before the focus
AFTER = 5    # and after it


def focus(tl: Timeline) -> tuple[int, str]:
    """The step to start reading at, and why that one."""
    bad = tl.first_divergence()
    if bad is not None:
        return bad.step, "first divergence"
    wake = next((e for e in tl.entries if e.kind == "model" and e.text.startswith("write-space wakeup")), None)
    if wake is not None:
        return wake.step, "write-space wakeup"
    return tl.step, "last step"


def headline(tl: Timeline) -> str:
    """One line: the step, and what was required against what was observed."""
    bad = tl.first_divergence()
    if bad is None:
        return ""
    return (f"step {bad.step} ({tl.labels.get(bad.step, '')}): {bad.what} required {bad.expected}, "
            f"observed {bad.observed}" + (f" ({bad.why})" if bad.why else ""))


def accounting_at(tl: Timeline, step: int) -> dict[str, Any] | None:
    """The last accounting read at or before ``step`` (a Snapshot's dict)."""
    found = None
    for e in tl.entries:
        if e.step > step:
            break
        if e.kind == "acct" and "snapshot" in e.data:
            found = e.data["snapshot"]
    return found


def at_wakeup(tl: Timeline, step: int) -> tuple[dict[str, Any] | None, str]:
    """The accounting at a wakeup of ``step``, and where it was read: the witnessed
    write-space call that woke (its own numbers, read inside the ACK), else the first
    accounting read in that step (before the woken writer refilled the queue), else the
    last one before it."""
    for e in tl.entries:
        call = e.data.get("call") if e.step == step and e.kind == "kern" else None
        if isinstance(call, dict) and call.get("woke"):
            return {**call, "free": (call.get("sndbuf") or 0) - (call.get("wmem_queued") or 0)}, \
                str(call.get("site"))
    first = next((e.data["snapshot"] for e in tl.entries
                  if e.step == step and e.kind == "acct" and "snapshot" in e.data), None)
    if first is not None:
        return first, f"the first read of step {step}"
    return accounting_at(tl, step), f"the last read up to step {step}"


def rule_numbers(snap: dict[str, Any]) -> list[str]:
    """What the write-space rule compares, with the values read."""
    acct = SimpleNamespace(**{k: snap.get(k, 0) or 0 for k in ("sndbuf", "wmem_queued", "notsent", "notsent_lowat")})
    free = acct.sndbuf - acct.wmem_queued
    half = threshold(acct)
    lowat = acct.notsent_lowat or None
    yes = {True: "yes", False: "no"}
    lines = [f"free {free} >= queued/2 {half} (queued {acct.wmem_queued}): {yes[free >= half]}",
             f"queued {acct.wmem_queued} < sndbuf {acct.sndbuf}: {yes[acct.wmem_queued < acct.sndbuf]}"]
    if lowat:
        lines.append(f"notsent {acct.notsent} < TCP_NOTSENT_LOWAT {lowat} (half of it for a wakeup): "
                     f"{yes[acct.notsent < lowat]} / {yes[2 * acct.notsent < lowat]}")
    lines.append(f"writable for poll: {yes[writeable(acct, False)]}; "
                 f"for a write-space wakeup: {yes[writeable(acct, True)]}")
    return lines


def _once(why: str) -> str:
    # reports written before the model stopped repeating it say "witnessed: witnessed: SITE"
    return why.replace("witnessed: witnessed: ", "witnessed: ")


def _numbers(tl: Timeline, e: Entry) -> str:
    """A wakeup's numbers, from the accounting read at its step."""
    if not e.text.startswith("write-space wakeup"):
        return ""
    snap, _ = at_wakeup(tl, e.step)
    if snap is None:
        return ""
    queued = snap.get("wmem_queued", 0) or 0
    return f" (queued {queued}, free {snap.get('sndbuf', 0) - queued}, threshold queued/2 = {queued >> 1})"


def _entry_line(tl: Timeline, e: Entry, mark: bool) -> str:
    return f"{'>>' if mark else '  '} {(e.t - tl.t0) * 1000:9.3f} {e.step:>4}  {e.kind:<5} {_once(e.text)}"


def explain(tl: Timeline, *, full: bool = False, capture: str | None = None,
            before: int = BEFORE, after: int = AFTER, more: str = "--timelines full") -> str:
    """The timeline trimmed to ``before`` steps before the focus and ``after`` after it
    (everything with ``full``), preceded by the reasoning and the rule's numbers there."""
    at, why = focus(tl)
    bad = tl.first_divergence()
    lines = [f"timeline: {tl.title}" if tl.title else "timeline:"]
    head = headline(tl)
    if head:
        lines.append("first divergence at " + head)
    reasoning = [e for e in tl.entries if e.kind == "model" and e.step <= at]
    lines.append(f"model's reasoning up to step {at} ({why}, {tl.labels.get(at, '')}):")
    lines += [f"  step {e.step:>3}: {e.text}{_numbers(tl, e)}" for e in reasoning] or ["  (nothing recorded)"]
    checks = [c for c in tl.checks if c.step == at]
    if checks:
        lines.append(f"checks at step {at}:")
        lines += [f"  {c.what}: required {c.expected}, observed {c.observed}"
                  + ("" if c.ok else " [MISMATCH]") + (f" ({_once(c.why)})" if c.why else "") for c in checks]
    snap, where = at_wakeup(tl, at) if bad is None and why == "write-space wakeup" else (accounting_at(tl, at), "")
    if snap is not None:
        at_what = f"at the wakeup ({where})" if where else f"at step {at}"
        names = (("sndbuf", "sndbuf"), ("queued", "wmem_queued"), ("free", "free"), ("notsent", "notsent"),
                 ("outq", "outq"), ("inq", "inq"))
        lines.append(f"accounting {at_what}: " + " ".join(f"{n}={snap[k]}" for n, k in names if k in snap))
        lines.append("rule (__sk_stream_is_writeable):")
        lines += ["  " + line for line in rule_numbers(snap)]
    lo, hi = (0, tl.step) if full else (max(0, at - before), at + after)
    shown = [e for e in tl.entries if lo <= e.step <= hi]
    hidden_before = sum(1 for e in tl.entries if e.step < lo)
    hidden_after = sum(1 for e in tl.entries if e.step > hi)
    lines.append(f"{'':2} {'time(ms)':>9} {'step':>4}  {'kind':<5} event")
    if hidden_before:
        lines.append(f"   ... {hidden_before} entries of steps 0-{lo - 1} left out ({more} shows them)")
    last = -1
    for e in shown:
        if e.step != last:
            lines.append(f"{'>>' if e.step == at else '  '} {'':>9} {e.step:>4}  == {tl.labels.get(e.step, '')}")
            last = e.step
        lines.append(_entry_line(tl, e, e.step == at and (e.kind == "check" or bad is None and e.kind == "model")))
    if hidden_after:
        lines.append(f"   ... {hidden_after} entries of steps {hi + 1}-{tl.step} left out ({more} shows them)")
    if capture:
        lines.append(f"packets: {capture} (raw IP; tcpdump -r or Wireshark)")
    return "\n".join(lines)
