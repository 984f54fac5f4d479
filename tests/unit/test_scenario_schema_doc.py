"""docs/scenario-schema.md gives every key of a scenario file a unit and the
values it accepts, read from the validation models, so the page cannot drift."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from lupsim.docgen import _models, _range, _unit, scenario_schema_markdown
from lupsim.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]
HEADER = "| key | type | unit | default | allowed | meaning |"


def _rows(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """Rows of every table, by (section, key)."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    section = ""
    columns: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        elif line == HEADER:
            columns = [c.strip() for c in line.strip("|").split("|")]
        elif line.startswith("| `") and columns:
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            assert len(cells) == len(columns), line
            row = dict(zip(columns, cells, strict=True))
            rows[(section, row["key"].strip("`"))] = row
    return rows


def test_every_row_has_a_unit_and_a_range() -> None:
    rows = _rows(scenario_schema_markdown())
    expected = {(m.__name__, k) for m in _models(Scenario) for k in m.model_fields}
    assert set(rows) == expected
    for where, row in rows.items():
        assert row["unit"], where
        assert row["allowed"], where


def test_the_committed_page_has_them_too() -> None:
    rows = _rows((ROOT / "docs" / "scenario-schema.md").read_text())
    assert rows
    assert all(r["unit"] and r["allowed"] for r in rows.values())


@pytest.mark.parametrize(
    ("section", "key", "unit", "allowed"),
    [
        ("Population", "female_pct", "%", ">= 0, <= 100"),
        ("Population", "age_min", "years", ">= 0, < 100; below age_max"),
        ("Population", "race_pct", "%", "each >= 0, <= 100; shares sum to 100 (+/- 1)"),
        ("Population", "domain_pct", "%", 'each >= 0, <= 100; or a bound in quotes such as "<16"'),
        ("Population", "prednisone_mean_mg", "mg/day", "> 0, <= 100"),
        ("Eligibility", "enrich", "—", "rules over the variables of [variables.md](variables.md)"),
        ("TrialDesign", "arms", "—", "at least 2 entries; see table"),
        ("TrialDesign", "n_randomised", "patients", ">= 2, <= 100000"),
        ("Arm", "dose_mg_per_kg", "mg/kg", "> 0, <= 100"),
        ("Arm", "name", "—", "any non-empty text"),
        ("Enrolment", "activation_weeks", "weeks", "each <= 520; 0 <= first <= last"),
        ("SteroidProtocol", "severe_flare_mg_per_kg", "mg/kg/day", ">= 0, <= 2"),
        ("Discontinuation", "withdrawal_per_4w", "probability per 4 weeks", ">= 0, <= 1"),
        ("DiseaseSettings", "egfr_chronic_loss_per_year", "mL/min/1.73 m2 per year active", ""),
        ("DiseaseSettings", "drug_logodds", "log-odds at the full effect", ">= -10, <= 10"),
        ("AnalysisPlan", "multiplicity", "—", "one of the values listed"),
        ("Rescue", "severe_flare_is_failure", "—", "true or false"),
    ],
)
def test_units_and_ranges_come_from_the_fields(
    section: str, key: str, unit: str, allowed: str
) -> None:
    row = _rows(scenario_schema_markdown())[(section, key)]
    assert row["unit"] == unit
    if allowed:
        assert row["allowed"] == allowed


def test_a_field_without_a_unit_stops_the_generator() -> None:
    class NoUnit(BaseModel):
        x: float = Field(1.0, ge=0)

    with pytest.raises(ValueError, match=r"NoUnit\.x has no unit"):
        _unit(NoUnit, "x", NoUnit.model_fields["x"])
    assert _range(NoUnit.model_fields["x"]) == ">= 0"


def test_model_descriptions_are_one_clean_line() -> None:
    text = scenario_schema_markdown()
    assert "  " not in text.replace("|---", "").split("## Scenario", 1)[1].replace("| |", "")
    assert (
        "Inclusion rules (all must hold), exclusion rules (none may hold) and enrichment rules"
        in text
    )
    scenario_rows = _rows(text)
    assert "include, exclude, enrich" in scenario_rows[("Scenario", "eligibility")]["meaning"]
