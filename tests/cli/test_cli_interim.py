"""Interim looks on the command line: ``simulate`` prints the group-sequential
account of an interim design, and ``analyse`` finds the same looks in the
datasets it wrote (the milestones travel in events.csv)."""

from __future__ import annotations

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
    assert main(["simulate", "interim-gsd", "--seed", "2", "--out", str(out)]) == 0
    simulated = _interim_part(capsys.readouterr().out)
    assert "    belimumab_10mg vs placebo: stopped for efficacy at look 1" in simulated
    assert any(line.startswith("  IA1 on day") for line in simulated)
    assert main(["analyse", str(out), "--scenario", "interim-gsd"]) == 0
    assert _interim_part(capsys.readouterr().out) == simulated


def test_without_events_there_is_no_look(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ig"
    assert main(["simulate", "interim-gsd", "--seed", "2", "--out", str(out)]) == 0
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
