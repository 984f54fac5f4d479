"""The endpoints a subgroup analysis refuses, and what it says instead."""

from __future__ import annotations

import pytest

from lupsim.analysis.binary import BINARY_ENDPOINTS
from lupsim.analysis.subgroups import subgroup_odds_ratios
from lupsim.errors import AnalysisError
from lupsim.scenario import parse_scenario
from lupsim.trial import TrialDataset, simulate_trial


@pytest.fixture(scope="module")
def small() -> TrialDataset:
    arms = [
        {"name": "placebo", "last_dose_day": 56},
        {"name": "active", "drug": "anti_baff", "dose_mg_per_kg": 10, "last_dose_day": 56},
    ]
    design = {"n_randomised": 40, "primary_week": 12, "arms": arms}
    return simulate_trial(parse_scenario({"name": "small", "design": design}), seed=3)


def test_an_unknown_endpoint_lists_every_binary_endpoint(small: TrialDataset) -> None:
    with pytest.raises(AnalysisError) as err:
        subgroup_odds_ratios(small, "time_to_severe_flare")
    message = str(err.value)
    assert f"use one of {', '.join(BINARY_ENDPOINTS)}, or pass" in message
    assert "perr, crr" in message


def test_a_renal_endpoint_without_renal_data_says_why(small: TrialDataset) -> None:
    for endpoint in ("perr", "crr"):
        with pytest.raises(AnalysisError) as err:
            subgroup_odds_ratios(small, endpoint)
        message = str(err.value)
        assert message.startswith(f"endpoint {endpoint!r} is a renal response"), message
        assert "not a binary endpoint" not in message
        assert "[design.background] induction" in message
