"""Pure logic of the cross-kernel harness: apt sources, Packages indexes, version order,
kernel picking, the initramfs and init scripts. No root, no network, no QEMU."""

import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from harness.guests import debian, initramfs, kernel_runs, kernels, stage2, vm

DEB822 = textwrap.dedent("""\
    Types: deb
    # a comment
    URIs: http://archive.example/debian
    Suites: bookworm bookworm-updates
    Components: main
    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

    Types: deb
    URIs: http://archive.example/debian-security
    Suites: bookworm-security
    Components: main
    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

    Types: deb-src
    URIs: http://archive.example/debian
    Suites: bookworm
    Components: main

    Types: deb
    URIs: https://thirdparty.example/node
    Suites: nodistro
    Components: main
    """)


def test_deb822_sources_keep_deb_entries_only():
    srcs = debian.parse_deb822_sources(DEB822)
    assert [s.uri for s in srcs] == ["http://archive.example/debian",
                                     "http://archive.example/debian-security",
                                     "https://thirdparty.example/node"]
    assert srcs[0].suites == ("bookworm", "bookworm-updates")
    assert srcs[0].signed_by == "/usr/share/keyrings/debian-archive-keyring.gpg"


def test_disabled_deb822_entry_is_ignored():
    assert debian.parse_deb822_sources("Types: deb\nURIs: http://a/debian\nSuites: sid\n"
                                       "Components: main\nEnabled: no\n") == []


def test_one_line_sources_with_options_and_comments():
    text = ("# deb http://old/debian buster main\n"
            "deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bullseye main contrib\n"
            "deb-src http://m.example/debian bullseye main\n"
            "deb http://m.example/debian-security bullseye-security main # trailing\n")
    srcs = debian.parse_one_line_sources(text)
    assert [(s.uri, s.suites, s.signed_by) for s in srcs] == [
        ("http://m.example/debian", ("bullseye",), "/k.gpg"),
        ("http://m.example/debian-security", ("bullseye-security",), None),
    ]
    assert srcs[0].components == ("main", "contrib")


def test_archive_sources_pick_main_and_security_not_third_party():
    main, sec = debian.archive_sources(debian.parse_deb822_sources(DEB822))
    assert main.uri == "http://archive.example/debian"
    assert sec.uri == "http://archive.example/debian-security"


def test_read_system_sources_reads_both_formats(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("deb http://x/debian sid main\n")
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    (tmp_path / "sources.list.d" / "ignored.sources.disabled").write_text(DEB822)
    assert len(debian.read_system_sources(tmp_path)) == 4


def test_rendered_private_sources_substitute_the_suite():
    main, sec = debian.archive_sources(debian.parse_deb822_sources(DEB822))
    text = debian.render_sources_list([(main, "trixie"), (sec, "trixie-security")])
    assert text.splitlines() == [
        "deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
        "http://archive.example/debian trixie main",
        "deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
        "http://archive.example/debian-security trixie-security main",
    ]


@pytest.mark.parametrize("a,b,sign", [
    ("6.1.192-2", "6.1.192-1", 1),
    ("6.12.107-1", "6.12.94-1", 1),       # numeric, not lexical
    ("6.1.0-1", "6.1.0-1", 0),
    ("1.0~rc1-1", "1.0-1", -1),           # tilde sorts before the release
    ("1:1.0-1", "2.0-1", 1),              # epoch wins
    ("1.0a-1", "1.0-1", 1),
    ("1.0+deb13-1", "1.0-1", 1),
    ("7.2.13-1", "6.12.117-1", 1),
])
def test_debian_version_order(a, b, sign):
    c = debian.compare_versions(a, b)
    assert (c > 0) - (c < 0) == sign
    c = debian.compare_versions(b, a)
    assert (c > 0) - (c < 0) == -sign


PACKAGES = textwrap.dedent("""\
    Package: linux-image-6.1.0-47-cloud-amd64
    Source: linux-signed-amd64 (6.1.170+3)
    Version: 6.1.170-3
    Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
    Description: Linux 6.1 for x86-64 cloud
     The Linux kernel 6.1 and modules for use on cloud platforms including
     Amazon EC2.

    Package: linux-image-6.1.0-47-cloud-amd64-dbg
    Version: 6.1.170-3

    Package: linux-image-6.12.9+deb13-cloud-amd64
    Version: 6.12.9-1
    Depends: linux-base-6.12.9+deb13-cloud-amd64 (= 6.12.9-1), linux-binary-6.12.9+deb13-cloud-amd64 (= 6.12.9-1), linux-modules-6.12.9+deb13-cloud-amd64 (= 6.12.9-1), dracut | initramfs-tools

    Package: linux-image-6.1.0-50-cloud-amd64
    Version: 6.1.176-1

    Package: linux-image-6.1.0-50-cloud-amd64-unsigned
    Version: 6.1.176-1

    Package: linux-image-6.1.0-50-amd64
    Version: 6.1.176-1

    Package: python3
    Version: 3.11.2-1
    """)


def test_parse_packages_filters_by_name_and_reads_depends():
    pkgs = debian.parse_packages(PACKAGES, kernels.package_pattern("cloud-amd64"), suite="x")
    assert [p.name for p in pkgs] == ["linux-image-6.1.0-47-cloud-amd64",
                                      "linux-image-6.12.9+deb13-cloud-amd64",
                                      "linux-image-6.1.0-50-cloud-amd64"]
    assert pkgs[0].depends == ["kmod", "linux-base", "initramfs-tools"]
    assert pkgs[1].suite == "x"


def test_pick_kernel_newest_of_series_and_61_is_not_612():
    pkgs = debian.parse_packages(PACKAGES, kernels.package_pattern("cloud-amd64"))
    assert kernels.pick_kernel(pkgs, "6.1").name == "linux-image-6.1.0-50-cloud-amd64"
    assert kernels.pick_kernel(pkgs, "6.12").name == "linux-image-6.12.9+deb13-cloud-amd64"
    assert kernels.pick_kernel(pkgs, "7") is None


def test_resolve_brings_the_split_packages_along():
    class FakeApt:
        suites = ("trixie",)

        def packages(self, pattern):
            return debian.parse_packages(PACKAGES, pattern)

    best, names = kernels.resolve("6.12", "cloud-amd64", FakeApt())
    assert names == ["linux-image-6.12.9+deb13-cloud-amd64",
                     "linux-base-6.12.9+deb13-cloud-amd64",
                     "linux-binary-6.12.9+deb13-cloud-amd64",
                     "linux-modules-6.12.9+deb13-cloud-amd64"]
    with pytest.raises(kernels.FetchError, match="found: 6.1.170, 6.1.176, 6.12.9"):
        kernels.resolve("5.10", "cloud-amd64", FakeApt())


def test_spec_to_suites():
    assert kernels.suites_for("6.1") == ("bookworm", "bookworm-security")
    assert kernels.suites_for("7") == ("sid",)
    assert kernels.suites_for("7.1") == ("sid",)
    with pytest.raises(kernels.FetchError):
        kernels.suites_for("4.19")


def test_matches_spec():
    assert kernels.matches_spec("6.1.192-2", "6.1")
    assert not kernels.matches_spec("6.12.9-1", "6.1")
    assert kernels.matches_spec("1:7.0-1", "7")
    assert not kernels.matches_spec("17.0-1", "7")


def test_cache_dir_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("EPS_CACHE", str(tmp_path))
    assert kernels.cache_dir() == tmp_path
    monkeypatch.delenv("EPS_CACHE")
    assert kernels.cache_dir() == kernels.REPO / ".cache" / "kernels"


MODULES_DEP = textwrap.dedent("""\
    kernel/fs/fuse/virtiofs.ko.xz: kernel/fs/fuse/fuse.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz kernel/drivers/virtio/virtio.ko.xz
    kernel/fs/fuse/fuse.ko.xz:
    kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz kernel/drivers/virtio/virtio.ko.xz
    kernel/drivers/virtio/virtio_pci_modern_dev.ko.xz:
    kernel/drivers/virtio/virtio_ring.ko.xz:
    kernel/drivers/virtio/virtio.ko.xz:
    kernel/net/sched/sch_netem.ko.xz:
    """)


def test_module_load_order_puts_dependencies_first_once():
    dep = initramfs.parse_modules_dep(MODULES_DEP)
    order = [initramfs.module_name(p) for p in initramfs.load_order(("virtio_pci", "virtiofs"), dep)]
    assert sorted(order) == ["fuse", "virtio", "virtio_pci", "virtio_pci_modern_dev",
                             "virtio_ring", "virtiofs"]
    assert order.index("virtio_ring") < order.index("virtio_pci")
    assert order.index("virtio_pci_modern_dev") < order.index("virtio_pci")
    assert order.index("fuse") < order.index("virtiofs")
    # built-in modules are simply not in modules.dep: nothing to load
    assert initramfs.load_order(("virtio_blk",), dep) == []


def test_module_name_normalises():
    assert initramfs.module_name("kernel/x/nf-nat.ko.zst") == "nf_nat"
    assert initramfs.module_name("kernel/x/tun.ko") == "tun"


def test_needs_initramfs():
    builtin = {"VIRTIO": "y", "VIRTIO_PCI": "y", "FUSE_FS": "y", "VIRTIO_FS": "y"}
    assert not initramfs.needs_initramfs(builtin.get)
    assert initramfs.needs_initramfs({**builtin, "VIRTIO_PCI": "m"}.get)
    assert initramfs.needs_initramfs({}.get)


def test_cpio_newc_records(tmp_path):
    dest = tmp_path / "x.cpio"
    initramfs.write_cpio([("init", 0o100755, b"#!/bin/sh\n", (0, 0)),
                          ("dev/console", 0o020600, b"", (5, 1))], dest)
    data = dest.read_bytes()
    names, off = [], 0
    while True:
        assert data[off:off + 6] == b"070701"
        fields = [int(data[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = fields[11], fields[6]
        name = data[off + 110: off + 110 + namesize - 1].decode()
        off += 110 + namesize
        off += -off % 4
        body = data[off: off + filesize]
        off += filesize + (-filesize % 4)
        names.append((name, oct(fields[1]), body, fields[9:11]))
        if name == "TRAILER!!!":
            break
    assert names[0] == ("init", "0o100755", b"#!/bin/sh\n", [0, 0])
    assert names[1][:2] == ("dev/console", "0o20600") and names[1][3] == [5, 1]
    assert off == len(data)
    if shutil.which("cpio"):  # cross-check with the real tool where it is installed
        listing = subprocess.run(["cpio", "-it"], input=data, capture_output=True).stdout.decode()
        assert listing.split() == ["init", "dev/console"]


def test_static_elf_detection(tmp_path):
    def elf(with_interp: bool) -> bytes:
        head = bytearray(64)
        head[:5] = b"\x7fELF\x02"
        head[0x20:0x28] = (64).to_bytes(8, "little")       # e_phoff
        head[0x36:0x38] = (56).to_bytes(2, "little")       # e_phentsize
        head[0x38:0x3a] = (1).to_bytes(2, "little")        # e_phnum
        ph = bytearray(56)
        ph[:4] = (3 if with_interp else 1).to_bytes(4, "little")
        return bytes(head + ph)

    (tmp_path / "s").write_bytes(elf(False))
    (tmp_path / "d").write_bytes(elf(True))
    assert initramfs.is_static_elf(tmp_path / "s")
    assert not initramfs.is_static_elf(tmp_path / "d")


def test_stage1_loads_modules_then_switches_root():
    text = initramfs.render_stage1(["virtio.ko", "virtiofs.ko"])
    assert text.index("insmod /modules/virtio.ko") < text.index("insmod /modules/virtiofs.ko")
    assert "mount -t virtiofs -o ro hostroot /newroot" in text
    assert 'switch_root /newroot "$init"' in text
    _sh_syntax_ok(text)


def _sh_syntax_ok(text: str) -> None:
    r = subprocess.run(["sh", "-n"], input=text, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_stage2_init_renders_quoted_and_parses():
    cmd = "cd x && python -c 'print(1)' > {out}/o"
    text = stage2.render_init("/res dir", "/cache/k root", cmd, "/repo", {"A": "b c", "EPS_GUEST_OUT": "/res dir"},
                          modules=("tun", "sch_netem"))
    _sh_syntax_ok(text)
    assert "OUT='/res dir'" in text
    assert "mount -t virtiofs results \"$OUT\"" in text
    assert "mount -t tmpfs -o mode=1777 tmpfs /tmp" in text
    assert "mount -t tmpfs -o mode=0755 tmpfs /run" in text
    assert "/run/netns" in text
    assert "modprobe -a tun sch_netem" in text
    assert "/proc/sys/kernel/modprobe" in text
    assert "ip link set lo up" in text
    assert "'A=b c'" in text
    # the command reaches sh -c as one argument, exactly
    m = re.search(r"/bin/sh -c (.*) \)", text)
    assert subprocess.run(["sh", "-c", f"printf %s {m.group(1)}"], capture_output=True,
                          text=True).stdout == cmd


def test_module_states(tmp_path):
    (tmp_path / "modules.builtin").write_text("kernel/net/ipv4/tcp_cubic.ko\n")
    (tmp_path / "modules.dep").write_text("kernel/net/sched/sch_netem.ko:\nkernel/drivers/net/tun.ko:\n")
    states = vm.module_states("tun ok\ntcp_cubic ok\nsch_netem failed\nsch_plug failed\n", tmp_path)
    assert states == {"tun": "loaded", "tcp_cubic": "builtin", "sch_netem": "failed",
                      "sch_plug": "missing"}


def test_qemu_command_uses_tcg_virtiofs_and_initrd(tmp_path):
    k = kernels.Kernel(spec="6.1", release="r", package="p", version="v", suite="s",
                       root="/c/r/root", vmlinuz="/c/vmlinuz", config="/c/config")
    cmd = vm.qemu_command(k, "tcg", ("/s/a", "/s/b"), tmp_path / "console.log",
                          tmp_path / "initrd", "/out/guest-init.sh")
    line = " ".join(cmd)
    assert cmd[:3] == ["qemu-system-x86_64", "-accel", "tcg"]
    assert "-nodefaults" in cmd and "-no-reboot" in cmd
    assert "memory-backend-memfd,id=mem,size=1G,share=on" in cmd
    assert "vhost-user-fs-pci,chardev=fs0,tag=hostroot" in cmd
    assert "init=/out/guest-init.sh" in line
    assert cmd[-2:] == ["-initrd", str(tmp_path / "initrd")]


def test_overall_exit_codes():
    assert kernel_runs.overall_exit(["passed", "passed"]) == 0
    assert kernel_runs.overall_exit(["passed", "failed"]) == 1
    assert kernel_runs.overall_exit(["failed", "infra"]) == 2


def test_paths_hidden_in_guest():
    repo = Path("/srv/repo")
    assert kernel_runs.hidden_in_guest(Path("/tmp/x"), repo) == "/tmp"
    assert kernel_runs.hidden_in_guest(Path("/run"), repo) == "/run"
    assert kernel_runs.hidden_in_guest(Path("/srv/repo/.cache"), repo) is None
    assert kernel_runs.hidden_in_guest(Path("/runner/x"), repo) is None
    # a clone under /tmp is shared into the guest as a whole, its cache with it
    assert kernel_runs.hidden_in_guest(Path("/tmp/clone/.cache"), Path("/tmp/clone")) is None


def test_run_without_command_is_a_usage_error():
    with pytest.raises(SystemExit) as e:
        kernel_runs.main(["run", "--kernels", "6.12"])
    assert e.value.code == 2


def test_work_share_covers_a_repository_hidden_by_the_guest_tmpfs(monkeypatch):
    monkeypatch.setattr(stage2, "REPO", Path("/tmp/clone"))
    assert stage2.work_share("/", "/tmp/clone/.cache/kernels/6.12/root") == "/tmp/clone"
    assert stage2.work_share("/tmp/clone", "/tmp/clone/.cache/kernels/6.12/root") == "/tmp/clone"
    monkeypatch.setattr(stage2, "REPO", Path("/srv/repo"))
    assert stage2.work_share("/srv/repo", "/srv/repo/.cache/kernels/6.12/root") is None


def test_work_share_is_mounted_before_the_results_share():
    init = stage2.render_init("/tmp/clone/reports/guest/k", "/tmp/clone/.cache/root", "true", "/tmp/clone", {},
                          work="/tmp/clone")
    assert init.index("work /tmp/clone") < init.index('results "$OUT"')


def test_kernels_boot_side_by_side_and_are_listed_in_the_order_given(monkeypatch, tmp_path):
    """--jobs 2: two guests at a time (one per CPU by default), the summary in spec order.
    The first two runs meet at a barrier, which only two runs at once can pass."""
    import threading

    both = threading.Barrier(2, timeout=5)

    def fake_run_one(i, n, spec, args, command, out_root):
        if i <= 2:
            both.wait()  # BrokenBarrierError (the run fails) unless the other one runs meanwhile
        return {"spec": spec, "status": "passed"}

    monkeypatch.setattr(kernel_runs, "run_one", fake_run_one)
    monkeypatch.setattr(kernel_runs, "check_specs", lambda specs: None)
    monkeypatch.setattr(kernel_runs.vm, "qemu_available", lambda: True)
    rc = kernel_runs.main(["run", "--kernels", "6.1 6.12 7", "--jobs", "2", "--out", str(tmp_path), "--", "true"])
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert rc == 0 and [k["spec"] for k in summary["kernels"]] == ["6.1", "6.12", "7"]
    assert summary["jobs"] == 2
    assert kernel_runs.default_jobs(1) == 1
    assert 1 <= kernel_runs.default_jobs(64) <= len(os.sched_getaffinity(0))


def test_sigterm_stops_every_guest_and_is_an_infrastructure_exit(monkeypatch, tmp_path):
    """A cancelled job (SIGTERM) sets vm.STOPPING, which every running guest's watch loop
    obeys (QEMU killed, daemons stopped); kernels not yet started are not booted; exit 2."""
    import signal
    import threading

    started = []

    def fake_run_one(i, n, spec, args, command, out_root):
        if kernel_runs.vm.STOPPING.is_set():
            return {"spec": spec, "status": "infra"}
        started.append(spec)
        if spec == "6.1":
            os.kill(os.getpid(), signal.SIGTERM)
        assert kernel_runs.vm.STOPPING.wait(5), "the guest was never told to stop"
        return {"spec": spec, "status": "infra", "reason": "interrupted"}

    monkeypatch.setattr(kernel_runs, "run_one", fake_run_one)
    monkeypatch.setattr(kernel_runs, "check_specs", lambda specs: None)
    monkeypatch.setattr(kernel_runs.vm, "qemu_available", lambda: True)
    before = signal.getsignal(signal.SIGTERM)
    assert threading.current_thread() is threading.main_thread()
    rc = kernel_runs.main(["run", "--kernels", "6.1 6.12 7 5.10", "--jobs", "2", "--out", str(tmp_path), "--", "true"])
    assert rc == 2 and started[0] == "6.1" and set(started) <= {"6.1", "6.12"}  # 7 and 5.10 never booted
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_running_guest_is_killed_when_the_run_stops(tmp_path):
    qemu = subprocess.Popen(["sleep", "30"])
    vm.STOPPING.set()
    try:
        reason = vm._watch(qemu, tmp_path, vm.time.monotonic(), 60, 60, vm.GuestResult(status="infra"),
                           lambda *a: None)
    finally:
        vm.STOPPING.clear()
        if qemu.poll() is None:
            qemu.kill()
    assert reason.startswith("interrupted") and qemu.returncode is not None
