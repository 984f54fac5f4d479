"""Cross-table checks of a scenario (an analysis plan the design cannot carry
out): refused when the scenario is built, in Python as from a file, and never
for what the design supports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from lupsim.errors import ScenarioError
from lupsim.scenario import (
    Scenario,
    bundled_scenarios,
    load_scenario,
    parse_scenario,
    scenario_problems,
)

ARMS = [{"name": "placebo"}, {"name": "active", "drug": "anti_baff", "dose_mg_per_kg": 10}]
INDUCTION = {"mycophenolate": 0.74, "euro_lupus_cyclophosphamide": 0.26}
LOOK = [{"name": "IA", "week": 52, "n_patients": 10}]


def _scenario(design: dict[str, Any], analysis: dict[str, Any]) -> Scenario:
    return parse_scenario(
        {"name": "t", "design": {"n_randomised": 20, "arms": ARMS, **design}, "analysis": analysis}
    )


@pytest.mark.parametrize("name", bundled_scenarios())
def test_every_bundled_plan_is_one_its_design_carries_out(name: str) -> None:
    assert scenario_problems(load_scenario(name).model_dump()) == []


@pytest.mark.parametrize(
    ("design", "analysis"),
    [
        ({"background": {"induction": INDUCTION}}, {"primary": {"endpoint": "perr"}}),
        ({"background": {"induction": INDUCTION}}, {"secondary": [{"endpoint": "crr"}]}),
        ({"milestones": [{"name": "IA", "week": 52, "n_patients": 10}]}, {"interim": {}}),
        ({"milestones": LOOK}, {"interim": {}, "multiplicity": "bonferroni"}),
        ({"milestones": LOOK}, {"interim": {}, "multiplicity": "none"}),
        ({}, {"multiplicity": "holm"}),
        ({}, {"primary": {"week": 24}, "secondary": [{"endpoint": "sri4", "week": 4}]}),
        ({"end_week": 60}, {"secondary": [{"endpoint": "sri4", "week": 60}]}),
        ({"visit_interval_weeks": 2, "visit_window_days": 3}, {"primary": {"week": 50}}),
    ],
)
def test_what_the_design_supports_loads(design: dict[str, Any], analysis: dict[str, Any]) -> None:
    assert _scenario(design, analysis).analysis is not None


def test_a_binomial_design_reads_its_primary_week() -> None:
    design = {
        "outcome": "binomial",
        "arms": [{"name": "c", "response_rate": 0.4}, {"name": "a", "response_rate": 0.6}],
    }
    s = _scenario(design, {"primary": {"endpoint": "sri4", "week": 52}})
    assert s.analysis is not None
    assert s.analysis.primary.week == 52


def test_a_scenario_built_in_python_is_checked_too() -> None:
    from lupsim.analysis.plan import AnalysisPlan, AnalysisSpec
    from lupsim.trial.design import Arm, TrialDesign

    design = TrialDesign(
        arms=(Arm(name="placebo"), Arm(name="b", drug="anti_baff", dose_mg_per_kg=10))
    )
    with pytest.raises(ValidationError, match=r"analysis\.primary\.endpoint: 'perr' is a renal"):
        Scenario.model_validate(
            {
                "name": "x",
                "design": design,
                "analysis": AnalysisPlan(primary=AnalysisSpec(endpoint="perr")),
            }
        )


def test_the_problems_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(
        'name = "t"\n[design]\n[[design.arms]]\nname = "a"\n[[design.arms]]\nname = "b"\n'
        '[analysis]\nmultiplicity = "hochberg"\n[analysis.interim]\n',
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).startswith(f"{path}: ")
    assert "analysis.multiplicity: group-sequential looks" in str(err.value)
    assert err.value.source == str(path)


def test_interim_boundaries_without_a_look_are_refused() -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(
            {"name": "t", "design": {"n_randomised": 20, "arms": ARMS}, "analysis": {"interim": {}}}
        )
    assert "analysis.interim: the design has no [[design.milestones]]" in str(err.value)
    assert "or remove [analysis.interim]" in str(err.value)


def test_binomial_designs_analyse_only_their_drawn_response() -> None:
    design = {
        "outcome": "binomial",
        "n_randomised": 100,
        "arms": [{"name": "c", "response_rate": 0.4}, {"name": "a", "response_rate": 0.6}],
    }
    ok = parse_scenario({"name": "b", "design": design, "analysis": {"primary": {}}})
    assert ok.analysis is not None
    assert ok.analysis.primary.endpoint == "sri4"
    with pytest.raises(ScenarioError) as err:
        parse_scenario(
            {
                "name": "b",
                "design": design,
                "analysis": {
                    "primary": {"endpoint": "bicla"},
                    "secondary": [{"endpoint": "sledai_change", "method": "ancova"}],
                },
            }
        )
    text = str(err.value)
    assert "analysis.primary.endpoint: 'bicla' needs the disease model" in text
    assert "analysis.secondary[0].endpoint: 'sledai_change' needs the disease model" in text
