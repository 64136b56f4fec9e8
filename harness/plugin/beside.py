"""Cases that wait seconds on a kernel timer run beside the others, in a thread of their own.

``connect/connect-never-answered`` waits for the SYN retries to run out (``tcp_syn_retries``:
about 3 s per address family) while the harness does nothing.  A test marked
``@pytest.mark.beside_others(body=...)`` goes last, and its body starts with the session's
first test, in a side thread, against a namespace, TUN link and scripted peer of its own: it
shares no socket, peer or namespace with the cases running meanwhile.  When the test's turn comes, its ``beside``
fixture waits for that body and takes its outcome: the facts, conditions and timelines it
recorded, or the exception it raised (a failed claim, a skip), as if it had run there.

Only with two CPUs or more: the main thread may hold a CPU at SCHED_FIFO while a blocked
writer wakes (harness.sockets.writer), which would stall a side thread sharing that CPU.
``EPS_BESIDE=0`` turns it off; off, the body runs in place with the session's scripted peer,
as any test.  The body is ``body(scripted, record, **params)`` (the test's parameters).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Callable

import pytest

from . import markers
from .fixtures import own_scripted_net, scripted_cases
from .pytest_plugin import Record, _names, _params, require, state

MARK = "beside_others"  # not "beside": a topic marker is named after its test file
JOBS = pytest.StashKey[dict]()
Body = Callable[..., None]


def enabled(environ=os.environ, cpus: int | None = None) -> bool:
    """Whether bodies run beside the others: two CPUs or more, and EPS_BESIDE is not 0."""
    cpus = len(os.sched_getaffinity(0)) if cpus is None else cpus
    return environ.get("EPS_BESIDE", "1") != "0" and cpus >= 2


@dataclass
class Job:
    """One body running beside the others: its record, and what it raised."""

    record: Record
    thread: threading.Thread | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def take(self, record: Record) -> None:
        """Wait for the body; put what it recorded into the test's record; raise what it raised."""
        self.done.wait()
        record.facts.update(self.record.facts)
        record.conditions.update(self.record.conditions)
        record.timelines += self.record.timelines
        record.cases += self.record.cases
        record.series = self.record.series if self.record.series is not None else record.series
        record.finding = self.record.finding or record.finding
        if self.error is not None:
            raise self.error


def _params_of(item: pytest.Item) -> dict:
    callspec = getattr(item, "callspec", None)
    return dict(callspec.params) if callspec is not None else {}


def start(item: pytest.Item, body: Body) -> Job:
    """Start ``body`` for ``item`` in a thread, on a scripted peer of its own."""
    config = item.config
    params = _params_of(item)
    job = Job(Record(*_names(item), _params(item)))

    def run() -> None:
        try:
            require(config, *markers.required(item))  # what the test's set-up will require
            with own_scripted_net(config) as net, \
                    scripted_cases(net, state(config).rules, job.record, params.get("layout", "pinned")) as s:
                body(s, job.record, **params)
        except BaseException as exc:  # noqa: BLE001 - the test raises it in its own turn
            job.error = exc
        finally:
            job.done.set()

    job.thread = threading.Thread(target=run, name=f"beside {item.name}", daemon=True)
    job.thread.start()
    return job


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARK}(body): the test's body waits on kernel timers; it runs "
                                       "beside the other cases when there are two CPUs (EPS_BESIDE=0: in place)")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Beside, a body's test goes last: by its turn, the body has had the whole run to wait."""
    if enabled():
        items.sort(key=lambda item: item.get_closest_marker(MARK) is not None)  # stable


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Start every selected ``beside`` body before the first test runs."""
    jobs = session.config.stash[JOBS] = {}
    if session.config.option.collectonly or not enabled():
        return
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        return  # collection failed: the loop will not run
    for item in session.items:
        marker = item.get_closest_marker(MARK)
        if marker is not None:
            jobs[item.nodeid] = start(item, marker.kwargs["body"])


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A run stopped early (-x, Ctrl-C) still waits for the bodies: their namespaces go."""
    for job in session.config.stash.get(JOBS, {}).values():
        job.done.wait()


@pytest.fixture
def beside(request: pytest.FixtureRequest, scripted_net, record: Record) -> Callable[[], None]:
    """Call it to run the test's ``beside`` body: the outcome of the run started beside the
    others, or, when that is off, the body run here on the session's scripted peer.
    Depends on ``scripted_net``: the test needs what a scripted case needs (root, tun)."""
    marker = request.node.get_closest_marker(MARK)
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses the beside fixture without @pytest.mark.{MARK}(body=...)")
    job = request.config.stash.get(JOBS, {}).get(request.node.nodeid)
    if job is not None:
        return lambda: job.take(record)
    scripted = request.getfixturevalue("scripted")
    params = _params_of(request.node)
    return lambda: marker.kwargs["body"](scripted, record, **params)
