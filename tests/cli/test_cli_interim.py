"""Interim looks on the command line: ``simulate`` prints the group-sequential
account of an interim design, and ``analyse`` finds the same looks in the
datasets it wrote (the milestones travel in events.csv)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lupsim.cli import main


def _interim_part(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index("Interim looks (Lan-DeMets O'Brien-Fleming-like alpha spending):")
    return [line for line in lines[start:] if line.startswith(("Interim", "  "))]


def test_simulate_and_analyse_agree_on_the_interim_look(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ig"
    assert main(["simulate", "interim-gsd", "--seed", "5", "--out", str(out)]) == 0
    simulated = _interim_part(capsys.readouterr().out)
    assert "    belimumab_10mg vs placebo: stopped for efficacy at look 1" in simulated
    assert any(line.startswith("  IA1 on day") for line in simulated)
    assert main(["analyse", str(out), "--scenario", "interim-gsd"]) == 0
    assert _interim_part(capsys.readouterr().out) == simulated


def test_without_events_there_is_no_look(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ig"
    assert main(["simulate", "interim-gsd", "--seed", "5", "--out", str(out)]) == 0
    capsys.readouterr()
    for f in out.glob("events.*"):  # CSV, and Parquet when pyarrow is installed
        f.unlink()
    assert main(["analyse", str(out), "--scenario", "interim-gsd"]) == 0
    assert "Interim looks" not in capsys.readouterr().out


def test_design_without_interim_plan_prints_no_look(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "bliss52", "--seed", "1"]) == 0
    assert "Interim looks" not in capsys.readouterr().out


def test_enriched_cohort_says_the_published_table_is_before_enrichment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cohort", "bliss52-sero-enriched", "-n", "300", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert "published figures describe the population before enrichment" in text
    assert "eligibility.enrich: serologically_active" in text
    assert main(["cohort", "bliss52", "-n", "300", "--seed", "1"]) == 0
    assert "before enrichment" not in capsys.readouterr().out


def test_json_has_the_sequential_account(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "interim-gsd", "--seed", "5", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    seq = doc["sequential"]
    assert [look["name"] for look in seq["looks"]] == ["IA1"]
    look = seq["looks"][0]
    assert look["analysed"] > look["reached"] == 433
    assert look["information"] == pytest.approx(look["analysed"] / 865)
    assert [d["outcome"] for d in seq["decisions"]] == [
        "rejected at the final analysis",
        "stopped for efficacy at look 1",
    ]
    assert doc["unreached_milestones"] == []
    assert main(["simulate", "bliss52", "--seed", "1", "--format", "json"]) == 0
    assert "sequential" not in json.loads(capsys.readouterr().out)


def test_a_look_that_never_happens_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """850 of 865 patients can never reach week 52 (about a fifth leave)."""
    text = (Path(__file__).parents[2] / "scenarios" / "interim-gsd.toml").read_text()
    path = tmp_path / "late.toml"
    path.write_text(text.replace("n_patients = 433", "n_patients = 850"))
    assert main(["simulate", str(path), "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "Interim look IA1 never happened: fewer than 850 patients reached week 52" in out
    assert "Interim looks (" not in out
    assert main(["simulate", str(path), "--seed", "1", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["unreached_milestones"] == ["IA1"]
    assert doc["sequential"] is None


def test_analyse_says_when_it_uses_the_default_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "t"
    assert main(["simulate", "interim-gsd", "--seed", "5", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["analyse", str(out)]) == 0
    text = capsys.readouterr().out
    assert "No --scenario: the default plan" in text
    assert "Secondary:" not in text  # the default plan has none
    assert "Interim looks" not in text  # nor interim boundaries
    assert main(["analyse", str(out), "--scenario", "interim-gsd", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["sequential"]["decisions"][1]["outcome"] == "stopped for efficacy at look 1"
