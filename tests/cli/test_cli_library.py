"""lupsim scenarios, new-scenario and validate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lupsim.cli import main
from lupsim.scenario import bundled_scenarios, load_scenario
from lupsim.template import SCENARIO_TEMPLATE
from lupsim.trial import simulate_trial

EXPECTED = {
    "bliss52",
    "bliss52-sero-enriched",
    "two-arm-binomial",
    "interim-gsd",
    "soc-null",
    "anti-baff-optimistic",
    "nephritis-addon",
}


def test_scenarios_lists_every_bundled_scenario_one_line_each(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    names = {line.split()[0] for line in lines}
    assert names == set(bundled_scenarios())
    assert names >= EXPECTED


def test_scenarios_show_prints_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "show", "bliss52"]) == 0
    out = capsys.readouterr().out
    assert 'name = "bliss52"' in out
    assert "Navarra" in out
    assert main(["scenarios", "show", "blis52"]) == 2
    assert "did you mean 'bliss52'" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_bundled_scenario_runs(name: str) -> None:
    s = load_scenario(name)
    assert s.design is not None
    if s.design.outcome == "binomial":
        from lupsim.trial.binomial import simulate_binomial_trial

        ds = simulate_binomial_trial(s, 1)
    else:
        ds = simulate_trial(s, 1)
    assert ds.n == s.design.n_randomised


def test_soc_null_has_no_drug_effect() -> None:
    from lupsim.analysis.power import run_power

    res = run_power(load_scenario("soc-null"), replicates=40, seed=3)
    row = res.table.iloc[0]
    assert abs(row["rate_arm"] - row["rate_control"]) < 0.03


def test_new_scenario_writes_a_template_that_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mine.toml"
    assert main(["new-scenario", str(path)]) == 0
    assert path.read_text() == SCENARIO_TEMPLATE
    s = load_scenario(str(path))
    ds = simulate_trial(s, 2)
    assert ds.arms == ("placebo", "anti_baff_10mg")
    assert main(["new-scenario", str(path)]) == 2  # never overwrites
    assert "already exists" in capsys.readouterr().err


def test_template_optional_blocks_are_valid_when_uncommented(tmp_path: Path) -> None:
    """The commented interim, induction and analysis.interim examples are real
    syntax: uncommented, the scenario loads with them."""
    starts = (
        "# [[design.milestones]]",
        "# name = ",
        "# week = ",
        "# n_patients = ",
        "# [design.background]",
        "# induction = ",
        "# [analysis.interim]",
        "# spending = ",
        "# futility_beta = ",
    )
    lines = [
        line[2:] if line.startswith(starts) else line for line in SCENARIO_TEMPLATE.splitlines()
    ]
    path = tmp_path / "full.toml"
    path.write_text("\n".join(lines) + "\n")
    s = load_scenario(str(path))
    assert s.design is not None
    assert s.analysis is not None
    assert [m.n_patients for m in s.design.milestones] == [200]
    assert s.design.background.induction == {
        "mycophenolate": 0.74,
        "euro_lupus_cyclophosphamide": 0.26,
    }
    assert s.analysis.interim is not None


def test_validate_json_rows(capsys: pytest.CaptureFixture[str]) -> None:
    main(["validate", "--replicates", "3", "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert {"check", "reference", "simulated", "mc_se", "tolerance", "passed"} <= set(rows[0])
    by_name = {r["check"]: r for r in rows}
    for name, row in by_name.items():
        if name.startswith(("Binomial", "Lan-DeMets", "BLISS-52 Table 1")):
            assert row["passed"], row
    assert any(n.startswith("BLISS-52 week 52") for n in by_name)
    renal = [n for n in by_name if n.startswith("BLISS-LN week 104")]
    assert len(renal) == 6  # PERR and CRR per arm, and the gain in each
    # Furie 2020: 72 of 223 placebo patients were PERR responders.
    assert by_name["BLISS-LN week 104, placebo: perr (%)"]["reference"] == 100 * 72 / 223


def test_validate_table_rounds_references() -> None:
    from lupsim.validation import Check

    line = Check("BLISS-52 Table 1: race_white_pct", 100 / 3.8, 26.0, 0.3, 2.0).line()
    assert " 26.32 " in line
    assert "26.3158" not in line
    assert Check("bound", 16.0, 10.0, float("nan"), 0.0, "<").line().split()[1] == "<16"
