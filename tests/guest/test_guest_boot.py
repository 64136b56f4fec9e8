"""Boot one Debian kernel (EPS_GUEST_KERNEL, default 6.12) and check the guest is fit for
the suite: the right kernel runs, network namespaces can be made, and netem (absent on
the host kernel) works inside a fresh namespace."""

import os
from pathlib import Path

import pytest

from harness.guests import kernels, vm

pytestmark = [pytest.mark.guest,
              pytest.mark.timeout(900),
              pytest.mark.skipif(not vm.qemu_available(),
                                 reason="qemu-system-x86_64 or virtiofsd not installed "
                                        "(Debian: qemu-system-x86)")]

# Each check leaves a file in the results share; `|| true` keeps one failure from
# hiding the others.
CHECKS = """
uname -r > {out}/uname.txt
ip netns add eps-probe && echo ok > {out}/netns.txt || true
ip netns exec eps-probe tc qdisc add dev lo root netem delay 10ms 2> {out}/netem.err \
  && echo ok > {out}/netem.txt || true
ip netns exec eps-probe tc qdisc show dev lo > {out}/qdisc.txt 2>&1 || true
"""


@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    kernel = kernels.fetch(os.environ.get("EPS_GUEST_KERNEL", "6.12"))
    out = tmp_path_factory.mktemp("guest") / kernel.release
    result = vm.run_guest(kernel, CHECKS, out, cwd="/", accel="tcg", timeout=300)
    assert result.status != "infra", f"{result.reason}; console: {out / 'console.log'}"
    return kernel, result, out


def _read(out: Path, name: str) -> str:
    p = out / name
    return p.read_text().strip() if p.exists() else ""


def test_guest_runs_the_requested_kernel(guest):
    kernel, result, out = guest
    assert result.exit_code == 0
    assert _read(out, "uname.txt") == kernel.release


def test_guest_can_create_a_network_namespace(guest):
    _, _, out = guest
    assert _read(out, "netns.txt") == "ok"


def test_netem_works_in_a_fresh_namespace(guest):
    _, result, out = guest
    assert _read(out, "netem.txt") == "ok", _read(out, "netem.err")
    assert "netem" in _read(out, "qdisc.txt") and "delay 10" in _read(out, "qdisc.txt")
    assert result.modules.get("sch_netem") in ("loaded", "builtin")
