"""Your own kernel by path: its release from the image, the options it needs, the specs."""

import os
import shutil
import struct

import pytest

from harness.guests import kernel_runs, local
from harness.guests.kernels import FetchError

GOOD = {name: "y" for name in local.REQUIRED}


def fake_bzimage(path, release="6.13.0-rc1-mine"):
    head = bytearray(0x1000)
    head[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", head, 0x20E, 0x400)
    text = f"{release} (me@box) #1 SMP".encode() + b"\0"
    head[0x600:0x600 + len(text)] = text
    path.write_bytes(bytes(head))
    return path


def test_release_comes_from_the_setup_header(tmp_path):
    assert local.image_release(fake_bzimage(tmp_path / "bzImage")) == "6.13.0-rc1-mine"
    (tmp_path / "junk").write_bytes(b"\0" * 0x400)
    with pytest.raises(FetchError, match="not an x86 bzImage"):
        local.image_release(tmp_path / "junk")


def test_a_missing_option_is_named():
    assert local.check_config(GOOD, has_modules=False, source="k") == [
        f"CONFIG_{n} is not set: {what} will skip" for n, what in local.OPTIONAL.items()]
    with pytest.raises(FetchError, match="CONFIG_VETH is not set"):
        local.check_config({**GOOD, "VETH": "n"}, False, "k")
    with pytest.raises(FetchError, match="CONFIG_VIRTIO_FS =m but no modules"):
        local.check_config({**GOOD, "VIRTIO_FS": "m"}, False, "k")
    assert local.check_config({**GOOD, "VIRTIO_FS": "m", **{n: "y" for n in local.OPTIONAL}}, True, "k") == []


def test_an_image_with_its_config_beside_it(tmp_path, monkeypatch):
    monkeypatch.setenv("EPS_CACHE", str(tmp_path / "cache"))
    boot = tmp_path / "boot"
    boot.mkdir()
    image = fake_bzimage(boot / "vmlinuz-6.13.0-rc1-mine")
    with pytest.raises(FetchError, match="no kernel config"):
        local.from_path(str(image))
    (boot / "config-6.13.0-rc1-mine").write_text("".join(f"CONFIG_{k}=y\n" for k in GOOD))
    k = local.from_path(str(image))
    assert (k.release, k.vmlinuz, k.suite) == ("6.13.0-rc1-mine", str(image), "local")


def test_specs_are_checked_before_anything_runs(tmp_path):
    assert "KERNELS is empty" in kernel_runs.check_specs([])
    assert "banana" in kernel_runs.check_specs(["6.1", "banana"])
    assert "no such file" in kernel_runs.check_specs([str(tmp_path / "bzImage")])
    assert kernel_runs.check_specs(["5.10", "6.1", "6.12", "7"]) is None
    assert local.is_path("./bzImage") and local.is_path("/boot/vmlinuz") and not local.is_path("6.1")


def test_a_bad_spec_writes_nothing(tmp_path):
    out = tmp_path / "kernels"
    assert kernel_runs.main(["run", "--suite", "--kernels", "banana", "--out", str(out)]) == 2
    assert kernel_runs.main(["run", "--suite", "--kernels", "", "--out", str(out)]) == 2
    assert not out.exists()


@pytest.mark.skipif(shutil.which("depmod") is None and not os.path.exists("/sbin/depmod"),
                    reason="depmod not installed (Debian: kmod)")
def test_a_build_trees_modules_are_staged_where_modprobe_finds_them(tmp_path):
    tree = tmp_path / "linux"
    (tree / "net" / "core").mkdir(parents=True)
    (tree / "net" / "core" / "pktgen.ko").write_bytes(b"not really a module")
    (tree / "modules.order").write_text("net/core/pktgen.ko\n")
    (tree / "modules.builtin").write_text("fs/proc/proc.ko\n")
    root = local.stage_modules(tree, "6.13.0-mine", tmp_path / "root")
    moddir = root / "lib" / "modules" / "6.13.0-mine"
    assert (moddir / "kernel" / "net" / "core" / "pktgen.ko").is_file()
    assert (moddir / "modules.builtin").read_text().split() == ["kernel/fs/proc/proc.ko"]
    assert "kernel/net/core/pktgen.ko:" in (moddir / "modules.dep").read_text()
