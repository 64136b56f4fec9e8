"""Deciding that the suite owns its kernel: all three facts or nothing, and no write otherwise."""

from pathlib import Path

import pytest

from harness.guests import stage2, vm
from netns import own_kernel as K

GUEST_MOUNTS = "none / virtiofs ro,relatime 0 0\nproc /proc proc rw 0 0\n"
HOST_MOUNTS = "/dev/vda1 / ext4 rw,relatime 0 0\n"
RELEASE = "6.12.48+deb13-cloud-amd64"
ENV = {K.GUEST_ENV: RELEASE}


def test_a_guest_of_the_suite_is_recognised():
    assert K.not_own_kernel(ENV, RELEASE, K.GUEST_HOSTNAME, GUEST_MOUNTS) is None


@pytest.mark.parametrize("env, hostname, mounts, why", [
    pytest.param({}, K.GUEST_HOSTNAME, GUEST_MOUNTS, "does not name", id="no-env"),
    pytest.param({K.GUEST_ENV: "6.12"}, K.GUEST_HOSTNAME, GUEST_MOUNTS, "does not name", id="env-is-a-spec"),
    pytest.param(ENV, "build-host", GUEST_MOUNTS, "hostname", id="other-hostname"),
    pytest.param(ENV, K.GUEST_HOSTNAME, HOST_MOUNTS, "ext4", id="root-not-virtiofs"),
])
def test_any_missing_fact_means_not_ours(env, hostname, mounts, why):
    assert why in K.not_own_kernel(env, RELEASE, hostname, mounts)


def test_the_guest_init_sets_the_hostname_checked_here():
    init = stage2.render_init("/out", "/mod", "true", "/repo", {})
    assert f"echo {K.GUEST_HOSTNAME} >/proc/sys/kernel/hostname" in init


def test_the_guest_runner_names_the_release_in_the_variable_checked_here():
    assert f'"{K.GUEST_ENV}": kernel.release' in Path(vm.__file__).read_text()


def test_global_sysctl_refuses_outside_a_guest(monkeypatch, tmp_path):
    monkeypatch.setattr(K, "own_kernel_reason", lambda: "not a guest")
    monkeypatch.setattr(K, "_path", lambda name: str(tmp_path / name))
    with pytest.raises(PermissionError, match="not the suite's own kernel"):
        with K.global_sysctl("net.ipv4.tcp_mem", "1 1 1"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_global_sysctl_restores_the_original(monkeypatch, tmp_path):
    (tmp_path / "x").write_text("4 5 6\n")
    monkeypatch.setattr(K, "own_kernel_reason", lambda: None)
    monkeypatch.setattr(K, "_path", lambda name: str(tmp_path / name))
    with pytest.raises(RuntimeError):
        with K.global_sysctl("x", "1 1 1") as orig:
            assert orig == "4 5 6" and (tmp_path / "x").read_text() == "1 1 1"
            raise RuntimeError("the case failed")
    assert (tmp_path / "x").read_text() == "4 5 6"


def test_tcp_mem_pages_from_sockstat():
    text = "sockets: used 7\nTCP: inuse 3 orphan 0 tw 0 alloc 5 mem 12\nUDP: inuse 0 mem 0\n"
    assert K.tcp_mem_pages(text) == 12
