"""The GitHub workflow, parsed: one job per kernel of the matrix (and one for a kernel given
by hand), each uploading its report, KCIDB document and KTAP stream, and a merge job that
compares them all, writes one KCIDB document and diffs neighbours where `diff` exists.
The helper scripts the jobs call run here on sample reports."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.guests.kernels import DEFAULT_SPECS

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "unit" / "reporting"))
from compare_samples import make_report, result  # noqa: E402  (the reporting tests' sample reports)
WORKFLOW = yaml.safe_load((REPO / ".github" / "workflows" / "kernels.yml").read_text())
JOBS = WORKFLOW["jobs"]
KERNEL_JOBS = ("test", "guest", "given")
CLI = Path(sys.executable).parent / "epoll-semantics"


def runs(job: str) -> str:
    return "\n".join(step.get("run", "") for step in JOBS[job]["steps"])


def uses(job: str, action: str) -> list[dict]:
    return [s for s in JOBS[job]["steps"] if s.get("uses", "").startswith(action)]


def test_one_job_per_kernel_of_the_matrix():
    assert JOBS["guest"]["strategy"]["matrix"]["kernel"] == list(DEFAULT_SPECS)
    assert JOBS["guest"]["strategy"]["fail-fast"] is False
    assert '--kernels "${{ matrix.kernel }}"' in runs("guest")


def test_a_kernel_given_by_hand_has_its_own_job():
    on = WORKFLOW.get("on", WORKFLOW.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "kernel" in on["workflow_dispatch"]["inputs"]
    assert "inputs.kernel != ''" in JOBS["given"]["if"]
    assert ".ci/given-kernel" in runs("given") and '"$KERNEL_PATH"' in runs("given")
    assert "${{ inputs.kernel }}" not in runs("given"), "the input reaches the shell as a variable, never as code"


@pytest.mark.parametrize("job", KERNEL_JOBS)
def test_every_kernel_job_uploads_report_kcidb_and_ktap(job):
    assert ".ci/exports" in runs(job)
    (upload,) = uses(job, "actions/upload-artifact")
    assert upload["if"] == "always()" and upload["with"]["path"].startswith("artifact/")
    assert JOBS[job]["container"]["image"] == "debian:12"
    assert "--privileged" in JOBS[job]["container"]["options"]


def test_the_merge_job_compares_exports_and_diffs_everything():
    merge = JOBS["merge"]
    assert set(merge["needs"]) == set(KERNEL_JOBS) and merge["if"] == "always()"
    assert uses("merge", "actions/download-artifact")
    text = runs("merge")
    assert "epoll-semantics compare" in text and "epoll-semantics kcidb" in text
    assert "diff --help" in text and "exit 0" in text, "diff runs only where the command exists"


def test_exports_and_merge_inputs_on_sample_reports(tmp_path):
    if not CLI.exists():
        pytest.skip(f"no {CLI}: the package is not installed in this Python's environment")
    made = []
    for release, version, label, host in (("6.12.0-x", [6, 12, 0], "guest", "b"), ("5.10.0-x", [5, 10, 0], "guest", "a"),
                                          ("6.18.0-x", [6, 18, 0], "host", "a")):
        r = make_report(release, version, label, [result("epollout/x[ET-ipv4]")], host={"name": host, "id": host})
        path = tmp_path / f"{release}.json"
        path.write_text(json.dumps(r))
        made.append(path)
    env = dict(os.environ, EPS_CLI=str(CLI))
    for path in made:
        subprocess.run(["sh", str(REPO / ".ci" / "exports"), str(path), str(tmp_path / "collected" / path.stem)],
                       check=True, env=env, capture_output=True)
        dest = tmp_path / "collected" / path.stem
        assert {p.name for p in dest.iterdir()} == {"report.json", "kcidb.json", "results.ktap"}
    order = subprocess.run([str(REPO / ".ci" / "merge-inputs"), str(tmp_path / "collected")], check=True,
                           capture_output=True, text=True).stdout.split()
    assert [Path(p).parent.name for p in order] == ["5.10.0-x", "6.12.0-x", "6.18.0-x"]
    guests = subprocess.run([str(REPO / ".ci" / "merge-inputs"), "--guests", str(tmp_path / "collected")],
                            check=True, capture_output=True, text=True).stdout.split()
    assert [Path(p).parent.name for p in guests] == ["5.10.0-x", "6.12.0-x"]


@pytest.mark.skipif(not shutil.which("dpkg-deb") or not shutil.which("depmod"), reason="needs dpkg-deb and depmod")
@pytest.mark.parametrize("modules", ["lib/modules", "usr/lib/modules"])  # before and after merged /usr
def test_a_given_package_is_unpacked_to_its_image(tmp_path, modules):
    pkg = tmp_path / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "DEBIAN" / "control").write_text("Package: linux-image-9.9.9-test\nVersion: 1\nArchitecture: amd64\n"
                                            "Maintainer: nobody <n@example.org>\nDescription: test\n")
    (pkg / "boot").mkdir()
    (pkg / "boot" / "vmlinuz-9.9.9-test").write_bytes(b"not really a kernel")
    (pkg / modules / "9.9.9-test").mkdir(parents=True)
    subprocess.run(["dpkg-deb", "--build", str(pkg), str(tmp_path / "k.deb")], check=True, capture_output=True)
    given = subprocess.run(["sh", str(REPO / ".ci" / "given-kernel"), str(tmp_path / "k.deb"), str(tmp_path / "u")],
                           check=True, capture_output=True, text=True).stdout.strip()
    assert given == str(tmp_path / "u" / "root" / "boot" / "vmlinuz-9.9.9-test")
    assert (tmp_path / "u" / "root" / "lib" / "modules" / "9.9.9-test" / "modules.dep").exists()
    # a package without an image is refused
    (pkg / "boot" / "vmlinuz-9.9.9-test").unlink()
    subprocess.run(["dpkg-deb", "--build", str(pkg), str(tmp_path / "empty.deb")], check=True, capture_output=True)
    refused = subprocess.run(["sh", str(REPO / ".ci" / "given-kernel"), str(tmp_path / "empty.deb"), str(tmp_path / "v")],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "not a kernel image package" in refused.stderr
    # anything that is no package is passed through as the path it is
    assert subprocess.run(["sh", str(REPO / ".ci" / "given-kernel"), "/boot/bzImage"], check=True,
                          capture_output=True, text=True).stdout.strip() == "/boot/bzImage"
