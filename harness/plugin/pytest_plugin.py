"""The suite's pytest plugin: session set-up, the report header, skips, and the JSON report.

* At session start: remove what killed runs left (namespaces and kprobe events with the
  prefix), probe the capabilities once.
* ``require(name)`` skips a test with the capability's reason, or fails it under
  ``--strict-skips`` (for CI on machines that must have everything).
* Every test's outcome, with the facts its ``record`` gathered, becomes a result of the
  report written by ``--report-json``.  A failing test gets its timeline printed and its
  packets saved as a pcap under ``--captures-dir``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.model.rules import KernelRules
from harness.reporting import report as R

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

    def fact(self, name: str, value: Any) -> None:
        self.facts[name] = value

    def attach(self, timeline) -> None:
        """Print this timeline and save its packets if the test fails."""
        self.timelines.append(timeline)


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("epoll-semantics")
    g.addoption("--report-json", default=None, help="write the suite's JSON report here")
    g.addoption("--captures-dir", default="reports/captures",
                help="where pcaps of failing cases (and of every case with --keep-captures) go")
    g.addoption("--keep-captures", action="store_true", help="save the pcap of every case, not only failures")
    g.addoption("--timelines", action="store_true", help="print the timeline of every case, not only failures")
    g.addoption("--strict-skips", action="store_true", default=os.environ.get("EPS_STRICT") == "1",
                help="a missing capability fails the test instead of skipping it (also EPS_STRICT=1)")
    g.addoption("--report-label", default=os.environ.get("EPS_REPORT_LABEL", "host"),
                help="where this run happens: host, guest, ... (recorded in the report)")


def pytest_configure(config: pytest.Config) -> None:
    from netns import sweep

    from .capabilities import probe_root

    from harness.sockets.kprobes import sweep as sweep_probes

    swept = sweep() + sweep_probes() if probe_root().ok else []
    config.stash[STATE] = SessionState(
        caps=probe_all(), rules=running_kernel_rules(),
        strict=config.getoption("--strict-skips"), captures_dir=config.getoption("--captures-dir"),
        swept=swept)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def running_kernel_rules() -> KernelRules:
    """The rule variants of this kernel: from the upstream release in /proc/version (else
    uname -r); a change that no release settles is decided by its probe (/proc/kallsyms)."""
    from harness.model.versions import CHANGES, kallsyms_global, upstream_release

    proc = _read("/proc/version")
    release, _ = upstream_release(proc, os.uname().release)
    version = KernelRules.for_release(release).version
    probes = {}
    for c in CHANGES:
        if c.probe_symbol and c.by_version(version) is None:
            found = kallsyms_global(c.probe_symbol, _read("/proc/kallsyms"))
            if found is not None:
                probes[c.title] = found
    return KernelRules.for_kernel(proc, os.uname().release, probes)


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
            pytest.skip(reason)


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
    topic, scenario = _names(request.node)
    rec = Record(topic, scenario, _params(request.node))
    request.node.stash[RECORD] = rec
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
    if timelines and (rep.failed or item.config.getoption("--keep-captures")):
        from harness.record.pcap import write

        packets = sorted(p for t in timelines for p in t.packets())
        if packets:
            capture = write(_capture_path(st, item.nodeid), packets)
            rep.sections.append(("pcap", capture))
    if rep.failed or item.config.getoption("--timelines"):
        for t in timelines:
            rep.sections.append((f"timeline {t.title}", t.render()))
    p = rec.params
    key_params = "-".join(str(v) for v in p.values())
    mode = str(p.get("mode", rec.facts.get("mode", "-")))
    st.results.append(R.Result(
        key=f"{rec.topic}/{rec.scenario}[{key_params}]", nodeid=item.nodeid, topic=rec.topic,
        scenario=rec.scenario, mode=mode, params=p, verdict=verdict, reason=reason,
        finding=rec.finding, facts=rec.facts, series=rec.series, capture=capture,
        duration_s=round(rep.duration + item.stash.get(SETUP_TIME, 0.0), 6)))


def _first_line(rep: pytest.TestReport) -> str:
    crash = getattr(rep.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(rep.longrepr)
    return text.splitlines()[0][:500] if text else "failed"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("--report-json")
    if not path:
        return
    st = state(session.config)
    doc = R.build(
        st.results,
        capabilities={n: c.to_dict() for n, c in st.caps.items()},
        sysctls=st.sysctls,
        congestion={"default": default_congestion(), "available": available_congestion()},
        rules={"kernel_rule_set": ".".join(map(str, st.rules.version)), "release_source": st.rules.source,
               "changes": st.rules.changes()},
        label=session.config.getoption("--report-label"),
    )
    R.write(path, doc)
