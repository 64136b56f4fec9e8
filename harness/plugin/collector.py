"""No garbage collection inside a case: the harness must not pause between two of its reads.

A case reads the kernel's accounting right after each of its own actions and assumes nothing
happened in between but what it did.  CPython's cyclic collector runs whenever allocations
cross its thresholds, and a full (generation 2) pass walks every live object: 0.18 s on a
normal host late in a session, over ten times that under TCG, where the guests run.  An ACK
the netem qdisc releases meanwhile is then processed between a send() and the read that
should describe it.  So the collector is off while a test runs its steps and runs between
cases (reference counting still frees everything acyclic at once); what the interpreter and
the imported libraries hold when collection ends is frozen out of every later pass.

So is what a test leaves behind: after each test one pass over what is not frozen yet (that
test's leftovers: its garbage cycles go) and a freeze of what survives (its result, timelines
and record, kept to the session's end anyway).  Without it the passes after every test walk
the timelines of all earlier tests again and again: a tenth of the suite's CPU time here,
seconds per kernel under TCG.
"""

from __future__ import annotations

import gc

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()  # the modules, the collected items: long-lived, never garbage


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    yield
    gc.collect()  # only the objects not frozen yet: this test's
    gc.freeze()
