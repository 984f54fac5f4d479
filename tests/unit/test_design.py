"""TrialDesign validation (every problem at once, with its path), dosing days,
visit days, and the cross-field checks on raw mappings."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from lupsim.errors import ScenarioError
from lupsim.scenario import parse_scenario
from lupsim.trial.design import Arm, TrialDesign, design_problems

PLACEBO = {"name": "placebo"}
DRUG = {"name": "bel10", "drug": "anti_baff", "dose_mg_per_kg": 10.0}


def _problems(design: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario({"name": "x", "design": design})
    return info.value.problems


# -- one bad field at a time --------------------------------------------------------


@pytest.mark.parametrize(
    ("design", "expected"),
    [
        (
            {"arms": [PLACEBO, DRUG], "allocation": [1, 0]},
            "design.allocation: every ratio must be a whole number >= 1, got [1, 0]; "
            "remove an arm instead of giving it 0",
        ),
        (
            {"arms": [PLACEBO, {**DRUG, "dose_mg_per_kg": -1}]},
            "design.arms[1].dose_mg_per_kg: must be > 0, got -1",
        ),
        (
            {"arms": [PLACEBO, {**DRUG, "dose_mg_per_kg": 0}]},
            "design.arms[1].dose_mg_per_kg: must be > 0, got 0",
        ),
        (
            {"arms": [PLACEBO, {"name": "sc", "drug": "anti_baff", "route": "sc", "dose_mg": 0}]},
            "design.arms[1].dose_mg: must be > 0, got 0",
        ),
        (
            {"arms": [PLACEBO, DRUG], "control": "standard_care"},
            "design.control: 'standard_care' is not an arm; arms are ['placebo', 'bel10']",
        ),
        (
            {"arms": [PLACEBO, DRUG], "milestones": [{"name": "IA", "week": 60, "n_patients": 10}]},
            "design.milestones[0].week: 60 is after the last visit (week 52)",
        ),
        (
            {"arms": [PLACEBO, DRUG], "randomisation": {"stratify_by": ["foo_bar >= 3"]}},
            "design.randomisation.stratify_by[0]: rule 'foo_bar >= 3': unknown variable "
            "'foo_bar'; see docs/variables.md for the list",
        ),
        (
            {"arms": [PLACEBO, DRUG], "allocation": [2, 1], "randomisation": {"block_sizes": [4]}},
            "design.randomisation.block_sizes: each must be a positive multiple of the "
            "allocation total 3, got [4]",
        ),
        (
            {"arms": [PLACEBO, {**DRUG, "loading_days": [14, 0]}]},
            "design.arms[1].loading_days: must be >= 0 and increasing, got [14.0, 0.0]",
        ),
        (
            {"arms": [{**PLACEBO, "dose_mg_per_kg": 1.0}, DRUG]},
            "design.arms[0].drug: a placebo arm takes no dose; remove dose_mg_per_kg/dose_mg",
        ),
    ],
)
def test_one_problem_one_line_with_its_path(design: dict[str, Any], expected: str) -> None:
    assert _problems(design) == (expected,)


def test_every_problem_of_a_bad_design_in_one_error() -> None:
    design = {
        "arms": [PLACEBO, {**DRUG, "dose_mg_per_kg": -1}, {**DRUG, "name": "bel1"}],
        "allocation": [1, 0, 1],
        "control": "nope",
        "milestones": [{"name": "IA", "week": 60, "n_patients": 10}],
        "randomisation": {"stratify_by": ["selena_sledai >= 10", "foo_bar >= 3"]},
    }
    with pytest.raises(ScenarioError) as info:
        parse_scenario({"name": "x", "design": design}, source="trial.toml")
    problems = info.value.problems
    expected = {
        "design.arms[1].dose_mg_per_kg: must be > 0, got -1",
        "design.allocation: every ratio must be a whole number >= 1, got [1, 0, 1]; "
        "remove an arm instead of giving it 0",
        "design.control: 'nope' is not an arm; arms are ['placebo', 'bel10', 'bel1']",
        "design.milestones[0].week: 60 is after the last visit (week 52)",
        "design.randomisation.stratify_by[1]: rule 'foo_bar >= 3': unknown variable "
        "'foo_bar'; see docs/variables.md for the list",
    }
    assert set(problems) == expected
    assert len(problems) == len(expected)  # each problem once
    message = str(info.value)
    assert message.startswith("trial.toml: 5 problems:")
    for p in expected:
        assert p in message
    # A ScenarioError is also a ValueError.
    assert isinstance(info.value, ValueError)


def test_block_size_and_control_problems_together() -> None:
    problems = _problems(
        {
            "arms": [PLACEBO, DRUG],
            "allocation": [2, 1],
            "control": "zz",
            "randomisation": {"block_sizes": [6, 4]},
        }
    )
    assert set(problems) == {
        "design.control: 'zz' is not an arm; arms are ['placebo', 'bel10']",
        "design.randomisation.block_sizes: each must be a positive multiple of the "
        "allocation total 3, got [4]",
    }


def test_a_dose_after_the_last_visit_is_rejected() -> None:
    problems = _problems({"arms": [PLACEBO, DRUG], "primary_week": 24})
    assert problems == (
        "design.arms[0].last_dose_day: day 336 is after the last visit (day 168)",
        "design.arms[1].last_dose_day: day 336 is after the last visit (day 168)",
    )


def test_the_bundled_design_is_valid(bliss52) -> None:  # type: ignore[no-untyped-def]
    assert design_problems(bliss52.design.model_dump()) == []


def test_the_model_itself_refuses_a_bad_design() -> None:
    with pytest.raises(ValidationError, match="allocation total 2"):
        TrialDesign(
            arms=(Arm(name="a"), Arm(name="b")),
            randomisation={"block_sizes": (3,)},  # type: ignore[arg-type]
        )


def test_a_boolean_allocation_is_rejected() -> None:
    assert _problems({"arms": [PLACEBO, DRUG], "allocation": [True, 1]})


# -- design_problems on raw mappings -------------------------------------------------

TWO = [{"name": "a"}, {"name": "b"}]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"arms": TWO}, []),
        ({"arms": TWO, "allocation": [2, 1], "randomisation": {"block_sizes": [3, 6]}}, []),
        (
            {"arms": [{"name": "a"}, {"name": "a"}]},
            ["arms: arm names must be unique, ['a'] repeated"],
        ),
        (
            {"arms": TWO, "allocation": [1, 1, 1]},
            ["allocation: one ratio per arm (2 arms), got [1, 1, 1]"],
        ),
        (
            {"arms": TWO, "allocation": [1.5, 1]},
            [
                "allocation: every ratio must be a whole number >= 1, got [1.5, 1]; "
                "remove an arm instead of giving it 0"
            ],
        ),
        (
            {"arms": TWO, "allocation": [2, 1], "randomisation": {"block_sizes": [6, 4, 0]}},
            [
                "randomisation.block_sizes: each must be a positive multiple of the "
                "allocation total 3, got [4, 0]"
            ],
        ),
        (
            {"arms": TWO, "primary_week": 50},
            ["primary_week (50) must be a visit: a multiple of visit_interval_weeks (4)"],
        ),
        (
            {"arms": TWO, "visit_window_days": 14},
            [
                "visit_window_days (14) must be less than half the visit interval "
                "(28 days) so visits keep their order"
            ],
        ),
        (
            {"arms": TWO, "milestones": [{"name": "I", "week": 24, "n_patients": 900}]},
            ["milestones[0].n_patients: 900 is more than n_randomised (865)"],
        ),
        (
            {
                "arms": TWO,
                "end_week": 60,
                "milestones": [{"name": "I", "week": 56, "n_patients": 9}],
            },
            [],
        ),
        (
            {"arms": TWO, "steroids": {"failure_window_weeks": [52, 44]}},
            ["steroids.failure_window_weeks: need 0 <= start <= end, got [52, 44]"],
        ),
        (
            {"arms": TWO, "steroids": {"forced_taper_weeks": [30, 20]}},
            ["steroids.forced_taper_weeks: need 0 <= start <= end, got [30, 20]"],
        ),
        (
            {"arms": [{"name": "a", "last_dose_day": 400}, {"name": "b"}]},
            ["arms[0].last_dose_day: day 400 is after the last visit (day 364)"],
        ),
        (
            {"arms": TWO, "end_week": 40},
            [
                "end_week (40) must not be before primary_week (52)",
                "arms[0].last_dose_day: day 336 is after the last visit (day 280)",
                "arms[1].last_dose_day: day 336 is after the last visit (day 280)",
            ],
        ),
    ],
)
def test_design_problems_on_raw_mappings(raw: dict[str, Any], expected: list[str]) -> None:
    assert design_problems(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"arms": "nope"},
        {"arms": TWO, "primary_week": "x"},
        {"arms": TWO, "milestones": [{"name": "I", "week": "y", "n_patients": 1}]},
        {"arms": TWO, "milestones": [{"name": "I"}]},
        {"arms": [{"name": "a", "last_dose_day": None}, {"name": "b"}]},
    ],
)
def test_design_problems_skips_checks_it_cannot_read(raw: dict[str, Any]) -> None:
    # Field errors are reported by validation; the cross-field pass must not crash.
    assert design_problems(raw) == []


def test_design_problems_keeps_the_checks_it_can_read() -> None:
    raw = {"arms": TWO, "primary_week": "x", "control": "c", "allocation": [1, 0]}
    assert design_problems(raw) == [
        "allocation: every ratio must be a whole number >= 1, got [1, 0]; "
        "remove an arm instead of giving it 0",
        "control: 'c' is not an arm; arms are ['a', 'b']",
    ]


# -- dosing and visit days ------------------------------------------------------------


def test_bliss_dose_days() -> None:
    arm = Arm(name="bel", drug="anti_baff", dose_mg_per_kg=10.0)
    assert arm.dose_days() == [0.0, 14.0, 28.0, *[28.0 * k for k in range(2, 13)]]
    assert arm.dose_days()[-1] == 336.0
    assert len(arm.dose_days()) == 14


@pytest.mark.parametrize(
    ("kwargs", "days"),
    [
        (
            {"loading_days": (0.0,), "interval_days": 14.0, "last_dose_day": 56.0},
            [0, 14, 28, 42, 56],
        ),
        ({"loading_days": (0.0, 14.0, 28.0), "last_dose_day": 20.0}, [0, 14]),
        ({"loading_days": (0.0, 14.0, 28.0), "last_dose_day": 0.0}, [0]),
        (
            {"loading_days": (0.0, 7.0), "interval_days": 10.0, "last_dose_day": 30.0},
            [0, 7, 17, 27],
        ),
        ({"loading_days": (0.0,), "interval_days": 28.0, "last_dose_day": 83.0}, [0, 28, 56]),
    ],
)
def test_dose_days_hand_cases(kwargs: dict[str, Any], days: list[float]) -> None:
    arm = Arm(name="x", drug="anti_baff", dose_mg_per_kg=1.0, **kwargs)
    assert arm.dose_days() == [float(d) for d in days]


def test_subcutaneous_weekly_dose_days() -> None:
    arm = Arm(
        name="sc",
        drug="anti_baff",
        route="sc",
        dose_mg=200.0,
        loading_days=(0.0,),
        interval_days=7.0,
        last_dose_day=49.0,
    )
    assert arm.dose_days() == [0.0, 7.0, 14.0, 21.0, 28.0, 35.0, 42.0, 49.0]


def test_visit_days_and_weeks(bliss52) -> None:  # type: ignore[no-untyped-def]
    d = bliss52.design
    assert d.visit_days() == [28.0 * k for k in range(14)]
    assert d.visit_weeks() == [4.0 * k for k in range(14)]
    d2 = TrialDesign(
        arms=(Arm(name="a", last_dose_day=100.0), Arm(name="b", last_dose_day=100.0)),
        primary_week=24,
        end_week=36,
        visit_interval_weeks=12,
    )
    assert d2.visit_weeks() == [0.0, 12.0, 24.0, 36.0]
    assert d2.last_week == 36
    assert d2.control_arm == "a"
    assert d2.allocation == (1, 1)
    assert d2.block_sizes() == (4,)
