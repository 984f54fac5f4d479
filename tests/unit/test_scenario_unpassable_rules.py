"""Eligibility rules that no patient of the population can pass are scenario
errors naming the rule, its pass rate and the fix, found before any trial runs
(not an enrolment that gives up after years of simulated screening)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lupsim.cli import main
from lupsim.cohort import generate_cohort
from lupsim.cohort.eligibility import Eligibility
from lupsim.cohort.population import Population
from lupsim.errors import ScenarioError

SCENARIO = """
name = "unpassable"

[population]
female_pct = 90

[eligibility]
include = ["selena_sledai >= 6"]
{extra}

[design]
n_randomised = 40
[[design.arms]]
name = "placebo"
[[design.arms]]
name = "active"
drug = "anti_baff"
dose_mg_per_kg = 10
"""


def test_an_enrich_rule_nobody_passes_is_named_with_its_pass_rate() -> None:
    rules = Eligibility(include=("selena_sledai >= 6",), enrich=("selena_sledai >= 100",))
    with pytest.raises(ScenarioError) as info:
        generate_cohort(Population(female_pct=90.0), 20, seed=1, eligibility=rules)
    (problem,) = info.value.problems
    assert problem.startswith(
        "eligibility.enrich[0]: no candidate passes the rule 'selena_sledai >= 100' (pass rate 0 "
    )
    assert "pilot candidates who pass include and exclude" in problem
    assert "selena_sledai ranges 6 to" in problem
    assert "relax the rule or remove it" in problem


def test_an_include_rule_nobody_passes_is_named() -> None:
    rules = Eligibility(include=("selena_sledai >= 6", "age > 200"))
    with pytest.raises(ScenarioError) as info:
        generate_cohort(Population(age_mean=60.0), 20, seed=1, eligibility=rules)
    (problem,) = info.value.problems
    assert problem.startswith("eligibility.include[1]: no candidate passes the rule 'age > 200'")
    assert "age ranges 18 to" in problem


def test_an_exclude_rule_that_excludes_everyone_is_named() -> None:
    rules = Eligibility(exclude=("age >= 0",))
    with pytest.raises(ScenarioError) as info:
        generate_cohort(Population(age_mean=40.0), 20, seed=1, eligibility=rules)
    (problem,) = info.value.problems
    assert problem.startswith(
        "eligibility.exclude[0]: the rule 'age >= 0' excludes every candidate (pass rate 0 of"
    )


def test_rules_that_pass_nobody_together_are_named_together() -> None:
    rules = Eligibility(include=("selena_sledai >= 20", "selena_sledai <= 10"))
    with pytest.raises(ScenarioError) as info:
        generate_cohort(Population(age_mean=41.0), 20, seed=1, eligibility=rules)
    (problem,) = info.value.problems
    assert problem.startswith("eligibility.include/exclude: no candidate passes the rules together")
    assert "include: selena_sledai >= 20; include: selena_sledai <= 10" in problem


def test_a_rule_some_pass_is_not_an_error() -> None:
    rules = Eligibility(include=("selena_sledai >= 6",), enrich=("selena_sledai >= 12",))
    cohort = generate_cohort(Population(female_pct=90.0), 20, seed=1, eligibility=rules)
    assert cohort.n == 20


@pytest.mark.parametrize(
    ("extra", "start"),
    [
        (
            'enrich = ["selena_sledai >= 100"]',
            "eligibility.enrich[0]: no candidate passes the rule 'selena_sledai >= 100'",
        ),
        (
            'exclude = ["age < 40"]\nenrich = ["age < 30"]',
            "eligibility.enrich[0]: no candidate passes the rule 'age < 30'",
        ),
    ],
)
def test_the_command_line_names_the_file_the_rule_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, start: str
) -> None:
    path = tmp_path / "unpassable.toml"
    path.write_text(SCENARIO.format(extra=extra), encoding="utf-8")
    assert main(["simulate", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"lupsim: error: {path}: {start}"), captured.err
    assert "pass rate 0 of" in captured.err
    assert "patients were enrolled" not in captured.err
    assert "Traceback" not in captured.err
    assert captured.err.count("\n") == 1
