"""The kernel mutants' catalogue and mutants given by path (no root, no guest)."""

import pytest

from harness.kmutants import catalogue as C


def test_identity_first_then_every_mutant():
    chosen = C.select([])
    assert chosen[0].name == C.IDENTITY and chosen[0].expects_pass
    assert {m.name for m in chosen[1:]} == {
        "wake-early", "wake-late", "wake-ignores-nospace", "poll-no-nospace", "poll-no-rdhup",
        "revert-4bfe744ff164"}


def test_every_mutant_states_its_rule_and_its_cases():
    for m in C.CATALOGUE[1:]:
        assert m.flags and m.rules and m.cases, m.name
        assert all(c.startswith("tests/test_") for c in m.cases)


def test_the_identity_runs_every_case_that_kills_a_mutant():
    ident = C.by_name(C.IDENTITY)
    assert {c for m in C.MUTANTS for c in m.cases} == set(ident.cases)
    assert len(ident.cases) == len(set(ident.cases))


def test_names_select_only_those_and_unknown_names_are_refused():
    assert [m.name for m in C.select(["poll-no-rdhup"])] == [C.IDENTITY, "poll-no-rdhup"]
    with pytest.raises(KeyError, match="known: identity"):
        C.select(["wake-sideways"])


def test_cflags_select_the_mutant_and_name_it():
    m = C.by_name("wake-late")
    assert m.cflags() == '-DEPS_WAKE_LATE -DEPS_MUTANT=\\"wake-late\\"'
    assert C.by_name(C.IDENTITY).cflags() == '-DEPS_MUTANT=\\"identity\\"'


def test_a_divergence_elsewhere_does_not_name_the_rule():
    rdhup = C.by_name("poll-no-rdhup")
    assert rdhup.names_rule("step 4 (epoll_wait after RST): epoll_wait(ET) required IN|OUT|ERR|HUP|RDHUP, "
                            "observed IN|OUT|ERR|HUP")
    assert not rdhup.names_rule("step 4 (x): epoll_wait(ET) required IN|RDHUP, observed IN|OUT|RDHUP")
    assert not rdhup.names_rule("step 2 (x): writer woken required True, observed False")


def test_a_missing_wakeup_is_told_from_one_too_many():
    late, ignores = C.by_name("wake-late"), C.by_name("wake-ignores-nospace")
    missing = "step 8 (ACK 2001): epoll_wait(ET) required OUT, observed -"
    extra = "step 4 (epoll_wait after the write): epoll_wait(ET) required -, observed OUT"
    assert late.names_rule(missing) and not late.names_rule(extra)
    assert ignores.names_rule(extra) and not ignores.names_rule(missing)


def test_an_early_wakeup_is_named_by_the_witness():
    early = C.by_name("wake-early")
    assert early.names_rule("step 8 (ACK 2001): a witnessed write-space call that woke a sleeper held "
                            "the rule required True, observed False")
    assert not early.names_rule("step 8 (ACK 2001): epoll_wait(ET) required OUT, observed -")


def test_a_mutant_from_outside_names_any_rule(tmp_path):
    ko = tmp_path / "mine.ko"
    ko.write_bytes(b"\x7fELF")
    m = C.from_path(str(ko))
    assert m.module == str(ko) and m.source == str(ko) and m.names_rule("anything")


def test_a_directory_brings_its_rules_and_cases(tmp_path):
    (tmp_path / "change.patch").write_text("--- a/eps_kmutant.c\n+++ b/eps_kmutant.c\n")
    (tmp_path / "rules").write_text("writer woken\n\n")
    (tmp_path / "cases").write_text("tests/test_epollout.py\n")
    m = C.from_path(str(tmp_path))
    assert m.patch.endswith("change.patch") and m.rules == ("writer woken",)
    assert m.cases == ("tests/test_epollout.py",)
    assert m.names_rule("step 3 (x): writer woken required True, observed False")
    assert not m.names_rule("step 3 (x): epoll_wait(LT) required OUT, observed -")


@pytest.mark.parametrize("files", [(), ("a.ko", "b.patch")], ids=["empty", "two"])
def test_a_directory_needs_exactly_one_mutant(tmp_path, files):
    for f in files:
        (tmp_path / f).write_text("x")
    with pytest.raises(ValueError, match="exactly one"):
        C.from_path(str(tmp_path))


def test_other_paths_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="not a mutant"):
        C.from_path(str(tmp_path / "notes.txt"))
    with pytest.raises(ValueError, match="not a mutant"):
        C.from_path(str(tmp_path / "missing.ko"))
