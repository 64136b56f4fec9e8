"""The mutation check's pure logic: applying a mutant, judging a run, the table, the catalogue."""

from pathlib import Path

import pytest

from harness.mutants.catalogue import MUTANTS, Mutant, baseline_args
from harness.mutants.mutate import DoesNotApply, Outcome, apply, first_failure, judge, table

ROOT = Path(__file__).resolve().parents[3]
M = Mutant("flip", "turns >= into >", "x.py", "a >= b", "a > b", ("tests/test_x.py",), "ipv4")

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_x" name="test_ok[ET]" time="0.1"/>
<testcase classname="tests.test_x" name="test_bad[LT]" time="0.2">
<failure message="step 8 (ACK 2001): epoll_wait(ET) required -, observed OUT&#10;timeline...">trace</failure>
</testcase></testsuite></testsuites>"""


def test_apply_replaces_the_one_occurrence():
    assert apply("if a >= b:\n    pass\n", M) == "if a > b:\n    pass\n"


@pytest.mark.parametrize("text", ["nothing here", "a >= b or a >= b"], ids=["absent", "twice"])
def test_apply_refuses_text_that_is_not_there_exactly_once(text):
    with pytest.raises(DoesNotApply, match="not once"):
        apply(text, M)


def test_first_failure_names_the_test_and_the_divergence():
    assert first_failure(JUNIT) == ("tests/test_x.py::test_bad[LT]: step 8 (ACK 2001): "
                                    "epoll_wait(ET) required -, observed OUT")


@pytest.mark.parametrize("rc, status", [(0, "survived"), (1, "killed"), (2, "broken"), (5, "broken"), (124, "broken")])
def test_only_a_failing_test_kills(rc, status):
    assert judge(M, rc, JUNIT if rc == 1 else "", 1.0).status == status


def test_table_lists_each_mutant_and_who_survived():
    out = table([Outcome("flip", "turns >= into >", "killed", "tests/test_x.py::test_bad", 1.25),
                 Outcome("keep", "changes nothing seen", "survived", "every selected test passed", 2.0)], 3.3)
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["mutant", "what", "it"]
    assert "flip" in lines[2] and "tests/test_x.py::test_bad" in lines[2] and lines[2].endswith("1.2")
    assert lines[-1] == "1/2 mutants killed in 3.3s; not killed: keep"


def test_baseline_selects_every_mutant_s_scenarios():
    other = Mutant("b", "", "y.py", "x", "y", ("tests/test_y.py", "tests/test_x.py"), "lt")
    assert baseline_args([M, other]) == ("tests/test_x.py", "tests/test_y.py", "-k", "(ipv4) or (lt)")


@pytest.mark.parametrize("m", MUTANTS, ids=lambda m: m.name)
def test_every_mutant_applies_to_the_tree_and_names_real_tests(m):
    apply((ROOT / m.path).read_text(), m)
    assert all((ROOT / f).exists() for f in m.files)


def test_mutant_names_are_unique():
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
