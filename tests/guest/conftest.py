"""Guest tests boot a Debian kernel under QEMU (tens of seconds, a download the first time).

They run only when asked for, with `-m guest` or EPS_GUEST=1, so a plain `pytest` stays
fast; selecting them without QEMU installed skips them with the reason.
"""

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "guest: boots another kernel under QEMU (select with -m guest)")


def pytest_collection_modifyitems(config, items):
    wanted = "guest" in (config.option.markexpr or "") or os.environ.get("EPS_GUEST") == "1"
    if wanted:
        return
    skip = pytest.mark.skip(reason="boots a kernel under QEMU: select with -m guest or EPS_GUEST=1")
    for item in items:
        if "guest" in item.keywords:
            item.add_marker(skip)
