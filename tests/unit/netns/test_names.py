"""Which namespace names the sweep claims: every name the suite makes, and nothing else."""

import pytest

from netns.names import owner


@pytest.mark.parametrize("name, pid", [
    ("eps-12-0", 12),
    ("eps-12-3-tun", 12),
    ("eps-12-3-probe", 12),
    ("eps-hyg40-12-0-tun", 12),      # a nested run of the hygiene tests
    ("eps-ci-deg7-m2-12-1-snd", 12),  # sub-prefixes of sub-prefixes
])
def test_names_the_suite_makes_belong_to_their_run(name, pid):
    assert owner(name, "eps") == pid


@pytest.mark.parametrize("name", ["eps-tun0", "eps-12", "epsilon-12-0", "xeps-12-0", "eps-12-0-", "other"])
def test_other_names_are_not_the_suites(name):
    assert owner(name, "eps") is None


def test_a_longer_prefix_claims_only_its_own_names():
    assert owner("eps-h1-12-0", "eps-h1") == 12
    assert owner("eps-h2-12-0", "eps-h1") is None
    assert owner("eps-12-0", "eps-h1") is None
