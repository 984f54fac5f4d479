"""Scenario errors of the trial engine name the scenario's file."""

from __future__ import annotations

import pytest

from lupsim.errors import ScenarioError
from lupsim.scenario import load_scenario
from lupsim.trial import simulate_trial


def test_no_design_names_the_file() -> None:
    scenario = load_scenario("bliss52").model_copy(update={"design": None})
    with pytest.raises(
        ScenarioError, match=r"scenario 'bliss52' \(bliss52\.toml\) has no \[design\]"
    ):
        simulate_trial(scenario, seed=1)


def test_enrolment_shortfall_names_the_file() -> None:
    bliss = load_scenario("bliss52")
    design = bliss.design
    assert design is not None
    slow = design.enrolment.model_copy(update={"sites": 1, "screening_rate_per_site_week": 0.01})
    scenario = bliss.model_copy(update={"design": design.model_copy(update={"enrolment": slow})})
    with pytest.raises(ScenarioError) as err:
        simulate_trial(scenario, seed=1)
    message = str(err.value)
    assert message.startswith("scenario 'bliss52' (bliss52.toml): design.enrolment: after 15 years")
    assert "patients were enrolled" in message
