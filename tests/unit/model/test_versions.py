"""Rule variants chosen from the upstream release a kernel carries, and how each was chosen."""

from harness.model.versions import XMIT_STALL, KernelRules, change, kallsyms_global, upstream_release

DEBIAN_5_10 = ("Linux version 5.10.0-46-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-10 (Debian 10.2.1-6) "
               "10.2.1 20210110, GNU ld (GNU Binutils for Debian) 2.35.2) #1 SMP Debian 5.10.262-1 (2026-01-01)")


def test_debian_proc_version_names_the_upstream_release():
    assert upstream_release(DEBIAN_5_10, "5.10.0-46-cloud-amd64") == ("5.10.262", "/proc/version (Debian 5.10.262)")


def test_other_kernels_fall_back_to_uname_and_say_so():
    release, source = upstream_release("Linux version 6.18.44-fc (builder) #1 SMP", "6.18.44-fc")
    assert release == "6.18.44-fc" and source.startswith("uname -r")


def test_xmit_stall_fix_is_backported_into_debian_5_10_262_but_not_in_5_10_0():
    debian = KernelRules.for_kernel(DEBIAN_5_10, "5.10.0-46-cloud-amd64")
    assert debian.check_space_per_skb
    assert "stable 5.10.114 <= 5.10.262" in debian.decided(change(XMIT_STALL))[1]
    series_only = KernelRules.for_release("5.10.0-46-cloud-amd64")
    assert not series_only.check_space_per_skb


def test_mainline_release_decides_after_5_18():
    assert KernelRules.for_release("6.1.192").check_space_per_skb
    assert not KernelRules.for_release("5.17.3").check_space_per_skb


def test_an_unknown_stable_series_is_decided_by_the_probe_and_says_so():
    unknown = KernelRules.for_release("5.15.30")
    applies, why = unknown.decided(change(XMIT_STALL))
    assert not applies and "no probe" in why
    probed = KernelRules.for_release("5.15.30", probes={XMIT_STALL: True})
    applies, why = probed.decided(change(XMIT_STALL))
    assert applies and why.startswith("probe")


def test_changes_name_commit_mainline_and_stable_series():
    row = next(c for c in KernelRules.for_release("6.1.192").changes() if c["title"] == XMIT_STALL)
    assert row["commit"] == "4bfe744ff164" and row["since"] == "5.18" and row["stable"] == ["5.10.114"]
    assert row["applies"] is True and row["decided_by"]


def test_kallsyms_probe():
    text = "ffffffff81000000 T tcp_check_space\nffffffff81000100 t tcp_new_space\n"
    assert kallsyms_global("tcp_check_space", text) is True
    assert kallsyms_global("tcp_new_space", text) is False
    assert kallsyms_global("tcp_event_new_data_sent", text) is None
