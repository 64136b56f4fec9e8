"""The suite's pytest plugin: session set-up, the report header, skips, and the JSON report.

* At session start: remove what killed runs left (namespaces with the prefix), probe the
  capabilities once, clear the previous run's pcaps (``--keep-captures`` keeps them).
* ``require(name)`` skips a test with the capability's reason, or fails it under
  ``--strict-skips`` (for CI on machines that must have everything); the capability markers
  (:mod:`.markers`, put on at collection) are required the same way before a test runs.
* Every test's outcome, with the facts its ``record`` gathered, becomes a result of the
  report written by ``--report-json``; the timelines go beside it (:mod:`harness.record.store`).
  A run of a subset writes its report under ``partial/`` and leaves the full one alone
  (:mod:`.scope`).  A failing test gets its timeline printed once, trimmed around the step
  that failed (:mod:`harness.reporting.explain`), and its packets saved as a pcap.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.model.rules import KernelRules
from harness.reporting import report as R

from . import markers, scope
from .capabilities import Capability, available_congestion, default_congestion, probe_all

STATE = pytest.StashKey["SessionState"]()
RECORD = pytest.StashKey["Record"]()
SETUP_TIME = pytest.StashKey[float]()


@dataclass
class SessionState:
    caps: dict[str, Capability]
    rules: KernelRules
    strict: bool
    captures_dir: str
    results: list[R.Result] = field(default_factory=list)
    timelines: dict[str, dict] = field(default_factory=dict)  # key -> row for harness.record.store
    passing_timelines: list[tuple[str, str]] = field(default_factory=list)  # --timelines: (nodeid, text)
    report_lines: list[str] = field(default_factory=list)  # said at the end of the terminal summary
    deselected: int = 0
    finished: int = 0   # tests that ran to the end of their teardown, with a record or not
    cleared: int = 0
    sysctls: dict[str, Any] = field(default_factory=dict)
    swept: list[str] = field(default_factory=list)


@dataclass
class Record:
    """What a test tells the report: its facts, a series for plots, a finding, a timeline."""

    topic: str
    scenario: str
    params: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)
    series: list[dict] | None = None
    finding: str | None = None
    timelines: list = field(default_factory=list)
    conditions: dict[str, Any] = field(default_factory=dict)
    cases: list = field(default_factory=list)

    def fact(self, name: str, value: Any) -> None:
        self.facts[name] = value

    def layout(self, name: str, gso_max_segs: int) -> None:
        """The skb layout the case ran with (see netns.defaults.LAYOUT_GSO_MAX_SEGS)."""
        self.conditions.update(layout=name, gso_max_segs=gso_max_segs,
                               timing_dependent=name != "pinned")

    def track(self, case) -> None:
        """A case whose series stays in the report even if the test fails before saving it."""
        self.cases.append(case)

    def attach(self, timeline) -> None:
        """Print this timeline and save its packets if the test fails."""
        self.timelines.append(timeline)


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("epoll-semantics")
    g.addoption("--report-json", default=None, help="write the suite's JSON report here")
    g.addoption("--captures-dir", default=None,
                help="where pcaps of failing cases (and of every case with --all-captures) go; "
                     "default reports/captures")
    g.addoption("--keep-captures", action="store_true",
                help="keep the pcaps of earlier runs (a run with --report-json or --captures-dir clears them)")
    g.addoption("--all-captures", action="store_true", help="save the pcap of every case, not only failures")
    g.addoption("--timelines", nargs="?", const="trimmed", default=None, choices=("trimmed", "full"),
                help="print the timeline of every case, passing ones too (no -rP needed), trimmed "
                     "around the step that matters; '--timelines full' prints every step, failures too")
    g.addoption("--strict-skips", action="store_true", default=os.environ.get("EPS_STRICT") == "1",
                help="a missing capability fails the test instead of skipping it (also EPS_STRICT=1)")
    g.addoption("--partial-report", action="store_true",
                help="this run covers part of the suite (epoll-semantics run sets it when files are "
                     "named): the report goes under partial/ beside --report-json's path")
    g.addoption("--report-label", default=os.environ.get("EPS_REPORT_LABEL", "host"),
                help="where this run happens: host, guest, ... (recorded in the report)")


def pytest_configure(config: pytest.Config) -> None:
    from netns import sweep

    from .capabilities import probe_root

    swept = sweep() if probe_root().ok else []
    captures = config.getoption("--captures-dir")
    config.stash[STATE] = SessionState(
        caps=probe_all(), rules=KernelRules.for_release(os.uname().release),
        strict=config.getoption("--strict-skips"), captures_dir=captures or "reports/captures",
        swept=swept)
    markers.register(config)
    # Only a run that owns a report clears: a bare `pytest` (or a child run of the hygiene
    # test) must not empty the pcaps of a run going on meanwhile.
    owns = captures is not None or config.getoption("--report-json")
    if owns and not config.getoption("--keep-captures") and not hasattr(config, "workerinput"):
        config.stash[STATE].cleared = scope.clear_captures(config.stash[STATE].captures_dir)


@pytest.hookimpl(tryfirst=True)  # before -m deselects: the topics must be registered by then
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from harness.peers.realnet import NEEDS

    markers.apply(config, items, lambda item: _names(item)[0], lambda mode: NEEDS.get(mode, ()))


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        state(items[0].config).deselected += len(items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    yield
    state(item.config).finished += 1


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A capability marker is a requirement: skip (or fail) before the test starts."""
    need = markers.required(item)
    if need:
        if "record" in item.fixturenames and RECORD not in item.stash:
            # a skipped scenario is still a result of the report, as when a fixture skips
            item.stash[RECORD] = Record(*_names(item), _params(item))
        require(item.config, *need)


def state(config: pytest.Config) -> SessionState:
    return config.stash[STATE]


def pytest_report_header(config: pytest.Config) -> list[str]:
    st = state(config)
    caps = ", ".join(f"{n}={'yes' if c.ok else 'no'}" for n, c in st.caps.items())
    lines = [f"kernel: {os.uname().release} ({os.uname().machine}); rule set for {'.'.join(map(str, st.rules.version))}",
             f"congestion control: default {default_congestion()}, available {' '.join(available_congestion())}",
             f"capabilities: {caps}"]
    lines += [f"  {n}: {c.reason}" for n, c in st.caps.items() if not c.ok]
    if st.swept:
        lines.append(f"swept leftovers of killed runs: {' '.join(st.swept)}")
    return lines


def require(config: pytest.Config, *names: str) -> None:
    """Skip (or fail, with --strict-skips) unless every named capability is present."""
    st = state(config)
    for name in names:
        cap = st.caps.get(name)
        if cap is None or not cap.ok:
            reason = cap.reason if cap else f"{name}: unknown capability"
            if st.strict:
                pytest.fail(f"required capability missing (--strict-skips): {reason}", pytrace=False)
            # reported at the test, not at this line (as a skip marker is)
            raise pytest.skip.Exception(reason, _use_item_location=True)


def _names(item: pytest.Item) -> tuple[str, str]:
    marker = item.get_closest_marker("scenario")
    if marker is not None:
        return marker.kwargs.get("topic") or marker.args[1], marker.args[0]
    module = item.module.__name__.rsplit(".", 1)[-1] if item.module else "misc"
    topic = module.removeprefix("test_").replace("_", "-")
    scenario = item.originalname.removeprefix("test_").replace("_", "-")
    return topic, scenario


def _params(item: pytest.Item) -> dict[str, Any]:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return {}
    return {k: (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in callspec.params.items()}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test also answers ``-k`` to its report names, dashed (``-k out-of-space``)."""
    for item in items:
        topic, scenario = _names(item)
        item.extra_keyword_matches.update({topic, scenario, f"{topic}/{scenario}"})


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Record:
    """Facts of the running scenario for the report (``record.fact(...)``), and its timelines."""
    rec = request.node.stash.get(RECORD, None)
    if rec is None:
        rec = request.node.stash[RECORD] = Record(*_names(request.node), _params(request.node))
    return rec


@pytest.fixture(scope="session")
def kernel_rules(pytestconfig: pytest.Config) -> KernelRules:
    """The rule variants of the running kernel (see harness.model.rules.CHANGES)."""
    return state(pytestconfig).rules


def _capture_path(st: SessionState, nodeid: str) -> str:
    return os.path.join(st.captures_dir, re.sub(r"[^\w.-]+", "_", nodeid).strip("_") + ".pcap")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    rep: pytest.TestReport = outcome.get_result()
    rec: Record | None = item.stash.get(RECORD, None)
    if rec is None:
        return
    st = state(item.config)
    if rep.when == "setup":
        item.stash[SETUP_TIME] = rep.duration
    done = rep.when == "call" or (rep.when == "setup" and not rep.passed)
    if rep.when == "teardown" and st.results and st.results[-1].nodeid == item.nodeid:
        st.results[-1].duration_s = round(st.results[-1].duration_s + rep.duration, 6)
        if rep.failed:
            st.results[-1].verdict = "error"
            st.results[-1].reason = str(rep.longrepr).splitlines()[-1][:500]
    if not done:
        return
    if rep.skipped:
        verdict, reason = "skip", (rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr))
    elif rep.failed:
        verdict, reason = ("fail" if rep.when == "call" else "error"), _first_line(rep)
    else:
        verdict, reason = "pass", None
    capture = None
    timelines = [t for t in rec.timelines if t.entries]
    # A failed case and a finding keep their packets and timeline: the comparison links them.
    keep = rep.failed or rec.finding is not None
    if timelines and (keep or item.config.getoption("--all-captures")):
        from harness.record.pcap import write

        packets = sorted(p for t in timelines for p in t.packets())
        if packets:
            capture = write(_capture_path(st, item.nodeid), packets)
    _show_timelines(item.config, st, rep, timelines, capture)
    timeline = None
    if timelines and keep:
        timeline = _write_timeline(st, item.nodeid, timelines)
    p = rec.params
    series = rec.series
    if rep.failed:  # the test stopped before saving them: keep what its case saw
        series = series if series is not None else next((c.series for c in rec.cases if c.series), None)
        observed_facts(rec)
    mode = str(p.get("waiter", p.get("mode", rec.facts.get("mode", "-"))))
    key = result_key(rec.topic, rec.scenario, item)
    st.timelines[key] = {"key": key, "nodeid": item.nodeid, "capture": capture,
                         "timelines": [t.to_dict() for t in timelines]}
    st.results.append(R.Result(
        key=key, nodeid=item.nodeid, topic=rec.topic,
        scenario=rec.scenario, mode=mode, params=p, verdict=verdict, reason=reason,
        finding=rec.finding, facts=rec.facts, series=series, capture=capture, timeline=timeline,
        conditions=conditions(rec, series),
        duration_s=round(rep.duration + item.stash.get(SETUP_TIME, 0.0), 6)))


def observed_facts(rec: Record) -> None:
    """What the first case observed, for a test that failed before recording its facts:
    the masks each wait reported and the steps they came at (never overriding a fact)."""
    case = rec.cases[0] if rec.cases else None
    if case is None:
        return
    for name in ("masks", "events_at"):
        read = getattr(case, name, None)
        if callable(read) and name not in rec.facts:
            rec.facts[name] = read()
    if getattr(case, "accepted", None) and "bytes_accepted" not in rec.facts:
        rec.facts["bytes_accepted"] = case.accepted


def result_key(topic: str, scenario: str, item: pytest.Item) -> str:
    """``topic/scenario[pytest id]``: the bracket is exactly the id pytest prints."""
    callspec = getattr(item, "callspec", None)
    return f"{topic}/{scenario}" + (f"[{callspec.id}]" if callspec is not None else "")


# What TCP_INFO said when the writer woke: the RTT the kernel measured sets the pacing rate,
# which sets the TSO chunk sizes of a natural layout (tcp_tso_autosize()).
WAKE_CONDITIONS = ("rtt_us", "min_rtt_us", "pacing_rate", "skb_overhead")


def conditions(rec: Record, series: list[dict] | None) -> dict[str, Any]:
    """The conditions that decide the case's layout-dependent facts, at the waking ACK."""
    out = dict(rec.conditions)
    wake = rec.facts.get("waking_ack")
    at = next((s for s in series or () if s.get("ack") == wake), None) if wake is not None else None
    if at is not None:
        out.update({k: at[k] for k in WAKE_CONDITIONS if k in at})
    return out


def _write_timeline(st: SessionState, nodeid: str, timelines: list) -> str | None:
    path = _capture_path(st, nodeid)[:-len(".pcap")] + ".timeline.txt"
    try:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as f:
            f.write("\n\n".join(f"timeline {t.title}\n{t.render()}" for t in timelines) + "\n")
    except OSError:
        return None
    return path


def _first_line(rep: pytest.TestReport) -> str:
    crash = getattr(rep.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(rep.longrepr)
    return text.splitlines()[0][:500] if text else "failed"


def _show_timelines(config: pytest.Config, st: SessionState, rep: pytest.TestReport,
                    timelines: list, capture: str | None) -> None:
    """A failure's timelines go under its report, once; with --timelines a passing case's
    go to the terminal summary (pytest prints a passing test's sections only with -rP)."""
    from harness.reporting.explain import explain

    how = config.getoption("--timelines")
    if not (rep.failed or how):
        return
    texts = [explain(t, full=how == "full", capture=capture) for t in timelines]
    if rep.failed:
        for t, text in zip(timelines, texts):
            rep.sections.append((f"timeline {t.title}", text))
    else:
        st.passing_timelines += [(rep.nodeid, text) for text in texts]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    st = state(config)
    for nodeid, text in st.passing_timelines:
        terminalreporter.write_sep("-", f"timeline of {nodeid}")
        terminalreporter.write_line(text)
    if st.cleared:
        terminalreporter.write_line(f"cleared {st.cleared} pcap(s) of the previous run from {st.captures_dir} "
                                    "(--keep-captures keeps them)")
    for line in st.report_lines:
        terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("--report-json")
    if not path:
        return
    st = state(session.config)
    config = session.config
    sc = scope.Scope(collected=len(session.items), deselected=st.deselected, ran=st.finished,
                     narrowed=config.getoption("--partial-report"),
                     last_failed=bool(config.getoption("lf", False) or config.getoption("stepwise", False)))
    if not st.results:
        st.report_lines.append(f"report: nothing ran, so no report was written; {path} is unchanged")
        return
    why = sc.why_partial
    if why is not None:
        full, path = path, scope.partial_path(path)
    doc = R.build(
        st.results,
        capabilities={n: c.to_dict() for n, c in st.caps.items()},
        sysctls=st.sysctls,
        congestion={"default": default_congestion(), "available": available_congestion()},
        rules={"kernel_rule_set": ".".join(map(str, st.rules.version)), "changes": st.rules.changes()},
        label=session.config.getoption("--report-label"),
    )
    if why is not None:
        doc["partial"] = {"why": why, "ran": len(st.results), "full_report": full}
    R.write(path, doc)
    from harness.record import store

    store.write(path, (st.timelines[r.key] for r in st.results if r.key in st.timelines))
    st.report_lines.append(f"report: {path}" + (f" (a subset: {why}; the full report {full} is unchanged)"
                                                 if why is not None else ""))
    from harness.reporting.loading import ReportError, validate_report

    try:  # a report the comparison would refuse is the suite's own bug: fail the session
        validate_report(json.loads(json.dumps(doc)), path)
    except ReportError as exc:
        session.config.get_terminal_writer().line(f"report does not follow its schema: {exc}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
