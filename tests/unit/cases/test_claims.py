"""What a sleeper must do is taken from the model's series, never from the sleeper itself."""

import pytest

from harness.cases.claims import claim_woken_as_the_model_allows, first_required
from harness.record.timeline import Timeline

SLEEP = [{"ack": 1001, "wakeup_required": False, "wakeup_allowed": False},
         {"ack": 2001, "wakeup_required": False, "wakeup_allowed": True},   # inside the bound
         {"ack": 3001, "wakeup_required": True, "wakeup_allowed": True}]


def test_a_wakeup_the_model_allows_or_requires_passes():
    assert first_required(SLEEP) == 3001
    claim_woken_as_the_model_allows(SLEEP[:2], 2001, "sleep", Timeline())
    claim_woken_as_the_model_allows(SLEEP, 3001, "sleep", Timeline())


@pytest.mark.parametrize("woke", [1001, 4001], ids=["not-allowed", "after-the-required-one"])
def test_a_wakeup_the_model_does_not_allow_fails(woke):
    steps = SLEEP + [{"ack": 4001, "wakeup_required": False, "wakeup_allowed": True, "transient": True}]
    with pytest.raises(pytest.fail.Exception, match="the model requires"):
        claim_woken_as_the_model_allows([s for s in steps if s["ack"] <= woke], woke, "sleep", Timeline())
