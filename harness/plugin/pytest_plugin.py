"""The suite's pytest plugin: session set-up, the report header, skips, and the JSON report.

* At session start: refuse an unwritable report path, make SIGTERM and SIGHUP tear down
  like Ctrl-C (``signals``), remove what killed runs left (namespaces and kprobe events with
  the prefix; what cannot be removed is a warning, never an error), probe the capabilities
  once, clear the previous run's pcaps (``--keep-captures`` keeps them).
* ``require(name)`` skips a test with the capability's reason, or fails it under
  ``--strict-skips`` (for CI on machines that must have everything): a failure of the test,
  not an error of its set-up. The capability markers (:mod:`.markers`, put on at collection)
  are required the same way before a test runs.
* Every test's outcome, with the facts its ``record`` gathered, becomes a result of the
  report written by ``--report-json``; the timelines go beside it (:mod:`harness.record.store`).
  A run of a subset writes its report under ``partial/`` and leaves the full one alone
  (:mod:`.scope`).  A failing test gets its timeline printed once, trimmed around the step
  that failed (:mod:`harness.reporting.explain`), and its packets saved as a pcap.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from typing import Any

import pytest

from harness.model.rules import KernelRules
from harness.reporting import report as R

from . import markers, scope
from .capabilities import available_congestion, default_congestion, probe_all
from .results import (
    Record,
    SessionState,
    capture_path,
    conditions,
    first_line,
    observed_facts,
    result_key,
    show_timelines,
)
from .running_kernel import running_kernel_rules
from .signals import Teardown

STATE = pytest.StashKey["SessionState"]()
RECORD = pytest.StashKey["Record"]()
SETUP_TIME = pytest.StashKey[float]()
TEARDOWN = pytest.StashKey[Teardown]()


class MissingCapability(pytest.fail.Exception):
    """A required capability is missing under --strict-skips: the test fails (not errors)."""


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
    g.addoption("--require-witness", action="store_true", default=os.environ.get("EPS_REQUIRE_WITNESS") == "1",
                help="a case whose kernel witness (kprobes) cannot attach fails with the reason instead of "
                     "being judged on bounds (also EPS_REQUIRE_WITNESS=1; the suite's own guests set it)")
    g.addoption("--partial-report", action="store_true",
                help="this run covers part of the suite (epoll-semantics run sets it when files are "
                     "named): the report goes under partial/ beside --report-json's path")
    g.addoption("--report-label", default=os.environ.get("EPS_REPORT_LABEL", "host"),
                help="where this run happens: host, guest, ... (recorded in the report)")


def _check_writable(option: str, path: str | None, is_dir: bool) -> None:
    """Refuse an output path that cannot be written, before any test runs."""
    if not path:
        return
    directory = os.path.abspath(path if is_dir else os.path.dirname(path) or ".")
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".eps-write-check-"):
            pass
    except OSError as exc:
        raise pytest.UsageError(f"{option} {path}: cannot write to {directory} ({exc.strerror or exc}); "
                                "nothing was run") from None


def pytest_configure(config: pytest.Config) -> None:
    from harness.sockets.kprobes import sweep as sweep_probes
    from netns import sweep

    _check_writable("--report-json", config.getoption("--report-json"), is_dir=False)
    if config.getoption("--require-witness"):  # read where the witness attaches (harness.cases.inside_ack)
        os.environ["EPS_REQUIRE_WITNESS"] = "1"
    captures = config.getoption("--captures-dir")
    _check_writable("--captures-dir", captures, is_dir=True)
    teardown = Teardown()
    teardown.install()
    config.stash[TEARDOWN] = teardown
    swept = sweep()
    for name, why in swept.failed:
        config.issue_config_time_warning(pytest.PytestWarning(
            f"sweep: cannot remove {name} left by a killed run ({why}); it stays, the run goes on"), stacklevel=2)
    try:
        swept.removed += sweep_probes()
    except OSError as exc:
        config.issue_config_time_warning(pytest.PytestWarning(
            f"sweep: cannot read or remove kprobe events left by a killed run ({exc}); the run goes on"), stacklevel=2)
    config.stash[STATE] = SessionState(
        caps=probe_all(), rules=running_kernel_rules(),
        strict=config.getoption("--strict-skips"), captures_dir=captures or "reports/captures",
        swept=swept.removed, sweep_failed=[f"{n} ({why})" for n, why in swept.failed])
    markers.register(config)
    # Only a run that owns a report clears: a bare `pytest` (or a child run of the hygiene
    # test) must not empty the pcaps of a run going on meanwhile.
    owns = captures is not None or config.getoption("--report-json")
    if owns and not config.getoption("--keep-captures") and not hasattr(config, "workerinput"):
        config.stash[STATE].cleared = scope.clear_captures(config.stash[STATE].captures_dir)


@pytest.hookimpl(tryfirst=True)  # before -m deselects: the topics must be registered by then
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Markers from what each test uses, and ``-k`` matching its dashed report names too
    (``-k out-of-space``)."""
    from harness.peers.realnet import NEEDS

    markers.apply(config, items, lambda item: _names(item)[0], lambda mode: NEEDS.get(mode, ()))
    for item in items:
        topic, scenario = _names(item)
        item.extra_keyword_matches.update({topic, scenario, f"{topic}/{scenario}"})


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


def pytest_unconfigure(config: pytest.Config) -> None:
    teardown = config.stash.get(TEARDOWN, None)
    if teardown is not None:
        teardown.restore()


def state(config: pytest.Config) -> SessionState:
    return config.stash[STATE]


def pytest_report_header(config: pytest.Config) -> list[str]:
    st = state(config)
    caps = ", ".join(f"{n}={'yes' if c.ok else 'no'}" for n, c in st.caps.items())
    lines = [f"kernel: {os.uname().release} ({os.uname().machine}); rule set for {'.'.join(map(str, st.rules.version))} "
             f"(from {st.rules.source})",
             f"congestion control: default {default_congestion()}, available {' '.join(available_congestion())}",
             f"capabilities: {caps}"]
    lines += [f"  {n}: {c.reason}" for n, c in st.caps.items() if not c.ok]
    if st.swept:
        lines.append(f"swept leftovers of killed runs: {' '.join(st.swept)}")
    if st.sweep_failed:
        lines.append(f"leftovers the sweep could not remove: {' '.join(st.sweep_failed)}")
    return lines


def require(config: pytest.Config, *names: str) -> None:
    """Skip (or fail, with --strict-skips) unless every named capability is present."""
    st = state(config)
    for name in names:
        cap = st.caps.get(name)
        if cap is None or not cap.ok:
            reason = cap.reason if cap else f"{name}: unknown capability"
            if st.strict:
                raise MissingCapability(f"required capability missing (--strict-skips): {reason}", pytrace=False)
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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    rep: pytest.TestReport = outcome.get_result()
    if rep.when == "setup" and call.excinfo is not None and call.excinfo.errisinstance(MissingCapability):
        rep.when = "call"  # a failure of the test (--strict-skips), not an error of its set-up
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
        verdict, reason = ("fail" if rep.when == "call" else "error"), first_line(rep)
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
            capture = write(capture_path(st, item.nodeid), packets)
    show_timelines(item.config, st, rep, timelines, capture)
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
        finding=rec.finding, facts=rec.facts, series=series, capture=capture,
        conditions=conditions(rec, series),
        duration_s=round(rep.duration + item.stash.get(SETUP_TIME, 0.0), 6)))


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
    from harness.record import store

    # A failed case and a finding point at where their timeline is kept: the file of
    # timelines beside the report, which holds every case's (record.store).
    kept = store.path_for(path)
    results = [replace(r, timeline=str(kept)) if r.key in st.timelines and (r.verdict in ("fail", "error") or r.finding)
               else r for r in st.results]
    doc = R.build(
        results,
        capabilities={n: c.to_dict() for n, c in st.caps.items()},
        sysctls=st.sysctls,
        congestion={"default": default_congestion(), "available": available_congestion()},
        rules={"kernel_rule_set": ".".join(map(str, st.rules.version)), "release_source": st.rules.source,
               "changes": st.rules.changes()},
        label=session.config.getoption("--report-label"),
    )
    if why is not None:
        doc["partial"] = {"why": why, "ran": len(st.results), "full_report": full}
    R.write(path, doc)
    store.write(path, (st.timelines[r.key] for r in st.results if r.key in st.timelines))
    st.report_lines.append(f"report: {path}" + (f" (a subset: {why}; the full report {full} is unchanged)"
                                                 if why is not None else ""))
    from harness.reporting.loading import ReportError, validate_report

    try:  # a report the comparison would refuse is the suite's own bug: fail the session
        validate_report(json.loads(json.dumps(doc)), path)
    except ReportError as exc:
        session.config.get_terminal_writer().line(f"report does not follow its schema: {exc}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
