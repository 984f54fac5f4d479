"""Population validation: every impossible figure is rejected, with a message that
names the field, the value and the rule, and all problems come in one error."""

from __future__ import annotations

from typing import Any

import pytest

import lupsim.cohort.calibration
import lupsim.cohort.cohort
import lupsim.cohort.model
from lupsim.cohort.population import Bound, Population, parse_bound
from lupsim.errors import LupsimError, ScenarioError


def problems_of(data: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ScenarioError) as info:
        Population.from_mapping(data)
    return info.value.problems


def only_problem(data: dict[str, Any]) -> str:
    problems = problems_of(data)
    assert len(problems) == 1, problems
    return problems[0]


# --- the error type -----------------------------------------------------------


def test_scenario_error_is_a_value_error_and_a_lupsim_error() -> None:
    assert issubclass(ScenarioError, ValueError)
    assert issubclass(ScenarioError, LupsimError)
    with pytest.raises(ValueError, match="female_pct"):
        Population.from_mapping({"female_pct": 120})


def test_valid_population_is_accepted() -> None:
    pop = Population.from_mapping(
        {
            "female_pct": 94.9,
            "age_mean": 35.5,
            "age_sd": 11.1,
            "race_pct": {"white": 60, "black": 40},
            "bilag_any_a_pct": 19.0,
            "bilag_a_or_2b_pct": 58.3,
            "prednisone_pct": 96.0,
            "prednisone_gt_7_5_pct": 69.4,
        }
    )
    assert pop.female_pct == 94.9
    assert pop.race_shares() == {"white": 60.0, "black": 40.0}


# --- single fields --------------------------------------------------------------


def test_share_above_100_names_field_rule_and_value() -> None:
    assert only_problem({"female_pct": 120}) == "population.female_pct: must be <= 100, got 120"


def test_negative_share_rejected() -> None:
    assert only_problem({"ana_pct": -5}) == "population.ana_pct: must be >= 0, got -5"


@pytest.mark.parametrize(
    "field", ["age_sd", "sledai_sd", "disease_duration_sd", "prednisone_sd_mg"]
)
def test_negative_sd_rejected(field: str) -> None:
    assert only_problem({field: -1}) == f"population.{field}: must be > 0, got -1"


def test_share_inside_a_table_above_100_names_its_path() -> None:
    problems = problems_of({"race_pct": {"white": 120, "black": -20}})
    assert set(problems) == {
        "population.race_pct.white: must be <= 100, got 120",
        "population.race_pct.black: must be >= 0, got -20",
    }


def test_wrong_type_rejected() -> None:
    assert (
        only_problem({"female_pct": "abc"}) == "population.female_pct: must be a number, got 'abc'"
    )


def test_table_of_wrong_type_rejected() -> None:
    msg = only_problem({"race_pct": [1, 2]})
    assert msg.startswith("population.race_pct: must be a table")
    assert "[1, 2]" in msg


def test_boolean_is_not_a_percentage() -> None:
    msg = only_problem({"female_pct": True})
    assert msg.startswith("population.female_pct: must be a number")


# --- unknown keys -----------------------------------------------------------------


def test_unknown_top_level_key_rejected() -> None:
    msg = only_problem({"femal_pct": 90})
    assert msg.startswith("population.femal_pct: unknown key 'femal_pct'")


def test_unknown_top_level_key_suggests_the_close_one() -> None:
    msg = only_problem({"femal_pct": 90})
    assert "did you mean 'female_pct'?" in msg


@pytest.mark.parametrize(
    ("table", "bad", "good", "another"),
    [
        ("race_pct", "whit", "white", "indigenous_american"),
        ("region_pct", "latin_americ", "latin_america", "eastern_europe"),
        ("domain_pct", "renall", "renal", "haematological"),
    ],
)
def test_unknown_key_inside_a_table_suggests_and_lists(
    table: str, bad: str, good: str, another: str
) -> None:
    msg = only_problem({table: {bad: 100}})
    assert msg.startswith(f"population.{table}: unknown key {bad!r}")
    assert f"(did you mean {good!r}?)" in msg
    assert another in msg  # the allowed keys are listed


# --- shares that must add up ----------------------------------------------------------


@pytest.mark.parametrize("table", ["race_pct", "region_pct"])
def test_shares_within_rounding_tolerance_accepted(table: str) -> None:
    keys = {"race_pct": ("white", "black"), "region_pct": ("latin_america", "asia_pacific")}[table]
    pop = Population.from_mapping({table: {keys[0]: 50, keys[1]: 50.7}})  # sums to 100.7
    assert sum(getattr(pop, table).values()) == pytest.approx(100.7)


def test_shares_not_summing_to_100_rejected() -> None:
    msg = only_problem({"race_pct": {"white": 50, "black": 48}})
    assert msg.startswith("population.race_pct: shares must sum to 100")
    assert "got 98" in msg


def test_region_shares_not_summing_to_100_rejected() -> None:
    msg = only_problem({"region_pct": {"latin_america": 50, "asia_pacific": 52}})
    assert msg.startswith("population.region_pct: shares must sum to 100")
    assert "got 102" in msg


# --- bounds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "relation", "value"),
    [("<16", "<", 16.0), ("<=5", "<=", 5.0), (" >= 2.5 ", ">=", 2.5), (">0", ">", 0.0)],
)
def test_bound_parsed(text: str, relation: str, value: float) -> None:
    assert parse_bound(text) == Bound(relation=relation, value=value)
    pop = Population.from_mapping({"domain_pct": {"renal": text}})
    assert pop.domain_pct is not None
    assert pop.domain_pct["renal"] == Bound(relation=relation, value=value)


def test_bound_16_is_what_bliss52_uses() -> None:
    pop = Population.from_mapping({"domain_pct": {"renal": "<16", "mucocutaneous": 82}})
    assert pop.domain_targets() == {"renal": Bound(relation="<", value=16), "mucocutaneous": 82.0}
    assert str(pop.domain_targets()["renal"]) == "<16"


@pytest.mark.parametrize("text", ["<x", "abc", "16<", "<<16", "=16"])
def test_malformed_bound_rejected(text: str) -> None:
    msg = only_problem({"domain_pct": {"renal": text}})
    assert msg.startswith("population.domain_pct.renal: a bound must look like '<16'")
    assert repr(text) in msg


def test_bound_above_100_rejected() -> None:
    msg = only_problem({"domain_pct": {"renal": "<120"}})
    assert msg.startswith("population.domain_pct.renal")
    assert "<= 100" in msg
    assert "120" in msg


# --- figures that contradict each other -------------------------------------------------


def test_bilag_any_a_above_a_or_2b_rejected() -> None:
    msg = only_problem({"bilag_any_a_pct": 60, "bilag_a_or_2b_pct": 50})
    assert msg.startswith("population.bilag_any_a_pct (60) cannot exceed bilag_a_or_2b_pct (50)")


def test_bilag_equal_accepted() -> None:
    assert Population.from_mapping({"bilag_any_a_pct": 50, "bilag_a_or_2b_pct": 50})


def test_prednisone_gt_7_5_above_prednisone_rejected() -> None:
    msg = only_problem({"prednisone_pct": 50, "prednisone_gt_7_5_pct": 60})
    assert msg == "population.prednisone_gt_7_5_pct (60) cannot exceed prednisone_pct (50)"


def test_serologically_active_above_anti_dsdna_rejected() -> None:
    msg = only_problem({"anti_dsdna_pct": 40, "serologically_active_pct": 50})
    assert "serologically_active_pct (50) cannot exceed anti_dsdna_pct (40)" in msg


@pytest.mark.parametrize(("age_min", "age_max"), [(50, 40), (50, 50)])
def test_age_min_not_below_age_max_rejected(age_min: int, age_max: int) -> None:
    msg = only_problem({"age_min": age_min, "age_max": age_max})
    assert msg == f"population.age_min ({age_min}) must be below age_max ({age_max})"


@pytest.mark.parametrize("age_mean", [10, 80])
def test_age_mean_outside_age_range_rejected(age_mean: float) -> None:
    msg = only_problem({"age_mean": age_mean})
    assert msg == (
        f"population.age_mean ({age_mean}) must lie between age_min (18) and age_max (75)"
    )


def test_age_mean_checked_against_stated_range() -> None:
    assert Population.from_mapping({"age_mean": 15, "age_min": 12, "age_max": 17}).age_mean == 15
    msg = only_problem({"age_mean": 40, "age_min": 12, "age_max": 17})
    assert "age_mean (40) must lie between age_min (12) and age_max (17)" in msg


# --- all problems at once -----------------------------------------------------------------


def test_several_field_problems_listed_in_one_error() -> None:
    with pytest.raises(ScenarioError) as info:
        Population.from_mapping(
            {
                "female_pct": 120,
                "age_sd": -1,
                "ana_pct": "abc",
                "femal": 3,
                "race_pct": {"whit": 100},
            }
        )
    problems = info.value.problems
    assert len(problems) == 5, problems
    assert "population.female_pct: must be <= 100, got 120" in problems
    assert "population.age_sd: must be > 0, got -1" in problems
    assert "population.ana_pct: must be a number, got 'abc'" in problems
    assert any(p.startswith("population.femal: unknown key 'femal'") for p in problems)
    assert any(p.startswith("population.race_pct: unknown key 'whit'") for p in problems)
    message = str(info.value)
    assert message.startswith("5 problems:")
    for p in problems:
        assert f"  - {p}" in message


def test_several_cross_field_problems_listed_in_one_error() -> None:
    problems = problems_of(
        {
            "age_min": 50,
            "age_max": 40,
            "bilag_any_a_pct": 60,
            "bilag_a_or_2b_pct": 50,
            "prednisone_pct": 50,
            "prednisone_gt_7_5_pct": 60,
            "race_pct": {"white": 50, "black": 48},
        }
    )
    assert len(problems) == 4, problems
    assert problems[0].startswith("population.race_pct: shares must sum to 100")
    assert "population.age_min (50) must be below age_max (40)" in problems
    assert any(p.startswith("population.bilag_any_a_pct (60) cannot exceed") for p in problems)
    assert "population.prednisone_gt_7_5_pct (60) cannot exceed prednisone_pct (50)" in problems


def test_field_and_cross_field_problems_listed_together() -> None:
    problems = problems_of({"female_pct": 120, "race_pct": {"white": 50, "black": 48}})
    assert len(problems) == 2, problems


def test_custom_path_prefix() -> None:
    with pytest.raises(ScenarioError) as info:
        Population.from_mapping({"female_pct": 120}, path="arms.placebo")
    assert info.value.problems == ("arms.placebo.female_pct: must be <= 100, got 120",)


# --- nothing is generated before validation -----------------------------------------------


def test_rejection_happens_before_any_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    class Generated(Exception):
        pass

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise Generated("generation started before validation")

    for module in (lupsim.cohort.model, lupsim.cohort.cohort, lupsim.cohort.calibration):
        monkeypatch.setattr(module, "build_patients", boom)
    monkeypatch.setattr(lupsim.cohort.cohort, "calibrate", boom)

    with pytest.raises(ScenarioError) as info:
        Population.from_mapping({"female_pct": 120, "race_pct": {"whit": 100}})
    assert len(info.value.problems) == 2

    # a bad cohort size is also refused before the model is fitted or run
    with pytest.raises(ScenarioError, match="n: the number of patients"):
        lupsim.cohort.cohort.generate_cohort(Population(), 0, seed=1)

    # and the patch is live: generation would have raised Generated
    with pytest.raises(Generated):
        lupsim.cohort.cohort.generate_cohort(Population(), 5, seed=1)
