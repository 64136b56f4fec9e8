"""Parametrizations shared by the scenarios, stacked into matrices by using several.

``mode``   edge- or level-triggered epoll
``cc``     congestion control, chosen per socket and named by algorithm: cubic (deterministic
           in slow start) and bbr (a case skips naming CONFIG_TCP_CONG_BBR where it is missing)
``family`` IPv4 or IPv6
``waiter`` epoll ET, epoll LT, poll() or select(): the waiting mechanism
"""

import pytest

from netns import DEFAULT_CC

# Named by algorithm, never "the default": the same key means the same thing on every kernel.
CONGESTION = [DEFAULT_CC, "bbr"]


@pytest.fixture(params=["ET", "LT"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=CONGESTION)
def cc(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=["ipv4", "ipv6"])
def family(request: pytest.FixtureRequest, pytestconfig: pytest.Config) -> str:
    if request.param == "ipv6":
        from harness.plugin.pytest_plugin import require

        require(pytestconfig, "ipv6")
    return request.param


@pytest.fixture(params=["ET", "LT", "poll", "select"])
def waiter(request: pytest.FixtureRequest) -> str:
    """The waiting mechanism: epoll ET or LT, poll() or select().

    poll() and select() have no edge mode: a scenario's ET claims do not apply to them, and
    at every step they are compared with a level-triggered epoll watch of the same socket.
    """
    return request.param
