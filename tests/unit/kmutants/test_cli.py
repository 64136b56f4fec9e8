"""The kernel mutants' command line and table, without building or booting anything."""

import pytest

from harness.frontdoor.commands import build_parser
from harness.kmutants import build, catalogue as C, run
from harness.kmutants.judge import Divergence, Verdict


def test_list_prints_the_catalogue_without_a_guest(capsys):
    assert run.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(m.name in out for m in C.CATALOGUE)


def test_a_bad_mutant_path_is_bad_input(tmp_path, capsys):
    assert run.main(["--mutant", str(tmp_path / "nothing.txt")]) == run.EXIT_INFRA
    assert "not a mutant" in capsys.readouterr().err


def test_an_unknown_name_is_bad_input(capsys):
    assert run.main(["wake-sideways"]) == run.EXIT_INFRA
    assert "known:" in capsys.readouterr().err


def test_only_outside_mutants_run_with_the_identity(tmp_path):
    ko = tmp_path / "x.ko"
    ko.write_text("x")
    args = run.parse(["--mutant", str(ko)])
    assert [m.name for m in run.chosen(args)] == [C.IDENTITY, "x"]
    args = run.parse(["poll-no-rdhup", "--mutant", str(ko)])
    assert [m.name for m in run.chosen(args)] == [C.IDENTITY, "poll-no-rdhup", "x"]


def test_front_door_has_the_command():
    args = build_parser().parse_args(["kernel-mutants", "--full", "--kernel", "6.1", "wake-late"])
    assert args.full and args.names == ["wake-late"] and args.run is run.execute


def test_subset_or_whole_suite_in_the_guest():
    m = C.by_name("poll-no-rdhup")
    subset, whole = run.guest_command(m, full=False), run.guest_command(m, full=True)
    assert " 'tests/test_state.py::test_state_change[ET-ipv4-peer-fin]' " in subset
    assert " tests " not in subset
    assert "test_state.py" not in whole and " tests " in whole


def test_exit_code_and_table():
    ident, late = C.by_name(C.IDENTITY), C.by_name("wake-late")
    passed = Verdict("identity", "passed", {"pass": 3})
    killed = Verdict("wake-late", "killed", {"fail": 1},
                     Divergence("k[ET]", "epoll_wait(ET)", 3, "step 3 (ACK 2001): epoll_wait(ET) required OUT, observed -"))
    survived = Verdict("wake-late", "survived", {"pass": 2}, reason="no case failed")
    assert run.overall([passed, killed]) == run.EXIT_OK
    assert run.overall([passed, survived]) == run.EXIT_SURVIVED
    assert run.overall([passed, Verdict("x", "infra")]) == run.EXIT_INFRA
    text = run.table([(ident, passed, 20.0), (late, killed, 25.5)], 45.5, full=False)
    assert "epoll_wait(ET) required OUT, observed -  [k[ET]]" in text and "1/1 mutants killed, identity passed" in text


def test_headers_makefile_is_pointed_at_the_unpacked_copy(tmp_path):
    text = "include /usr/src/linux-headers-6.1.0-57-common/Makefile\n"
    assert build.point_makefile(text, tmp_path) == \
        f"include {tmp_path}/usr/src/linux-headers-6.1.0-57-common/Makefile\n"
    with pytest.raises(build.BuildError, match="unknown layout"):
        build.point_makefile("include ../common/Makefile\n", tmp_path)


def test_header_packages_take_common_and_kbuild_but_not_the_compiler():
    deps = ["linux-headers-6.1.0-57-common", "linux-kbuild-6.1", "linux-compiler-gcc-12-x86"]
    assert build.header_packages("6.1.0-57-cloud-amd64", deps) == [
        "linux-headers-6.1.0-57-cloud-amd64", "linux-headers-6.1.0-57-common", "linux-kbuild-6.1"]


def test_a_build_is_reused_only_for_the_same_kernel_sources_flags_and_patch(tmp_path):
    from harness.guests.kernel import Kernel

    k = Kernel("6.1", "6.1.0-57-cloud-amd64", "p", "6.1.192-3", "s", "/r", "/v", "/c")
    src = {"eps_kmutant.c": b"int x;"}
    key = build.build_key(k, C.by_name("wake-late"), src)
    assert key == build.build_key(k, C.by_name("wake-late"), dict(src))
    assert key != build.build_key(k, C.by_name("wake-early"), src)
    assert key != build.build_key(k, C.by_name("wake-late"), {"eps_kmutant.c": b"int y;"})
    patch = tmp_path / "p.patch"
    patch.write_text("one")
    mine = C.Mutant("p", "mine", patch=str(patch))
    first = build.build_key(k, mine, src)
    patch.write_text("two")
    assert build.build_key(k, mine, src) != first


def test_the_copies_are_built_only_for_their_own_series():
    from harness.guests.kernel import Kernel

    k = Kernel("6.12", "6.12.57+deb13-cloud-amd64", "p", "6.12.57-1", "trixie", "/r", "/v", "/c")
    with pytest.raises(build.BuildError, match="copies are Linux 6.1's"):
        build.build(k, C.by_name("wake-late"))
    assert build.build(k, C.Mutant("x", "mine", module="/m/x.ko")) == build.Path("/m/x.ko")
