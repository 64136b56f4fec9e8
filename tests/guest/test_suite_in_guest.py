"""The suite's scenarios inside another kernel (EPS_GUEST_KERNEL, default 6.12), where
netem exists: the run must pass, write its report, and have run the netem cases rather than
skipped them.  `make test` selects this test, so every change exercises a guest kernel."""

import json
import os

import pytest

from harness.guests import kernel_runs, kernels, vm

pytestmark = [pytest.mark.guest, pytest.mark.timeout(1800),
              pytest.mark.skipif(not vm.qemu_available(),
                                 reason="qemu-system-x86_64 or virtiofsd not installed (Debian: qemu-system-x86)")]


@pytest.fixture(scope="module")
def guest_run():
    kernel = kernels.fetch(os.environ.get("EPS_GUEST_KERNEL", "6.12"))
    out = kernels.REPO / "reports" / "guest" / kernel.release
    result = vm.run_guest(kernel, kernel_runs.suite_command(), out, cwd=str(kernels.REPO),
                          accel="tcg", timeout=1500)
    assert result.status != "infra", f"{result.reason}; console: {out / 'console.log'}"
    return kernel, result, out


def test_suite_passes_in_guest(guest_run):
    kernel, result, out = guest_run
    log = (out / "stdout.log").read_text()[-4000:] if (out / "stdout.log").exists() else ""
    assert result.exit_code == 0, f"suite failed inside {kernel.release}:\n{log}"
    doc = json.loads((out / "report.json").read_text())
    assert doc["kernel"]["release"] == kernel.release and doc["label"] == "guest"
    assert doc["summary"]["failed"] == 0 and doc["summary"]["error"] == 0
    assert doc["capabilities"]["netem"]["ok"], doc["capabilities"]["netem"]


def test_netem_cases_ran_in_guest(guest_run):
    _, _, out = guest_run
    doc = json.loads((out / "report.json").read_text())
    netem = [r for r in doc["results"] if r.get("params", {}).get("ack_mode") == "netem"]
    assert netem, "no netem case in the guest's report"
    assert all(r["verdict"] == "pass" for r in netem), [(r["key"], r["verdict"], r["reason"]) for r in netem
                                                        if r["verdict"] != "pass"]
