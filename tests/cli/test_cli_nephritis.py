"""The nephritis-addon scenario from the command line: simulate, analyse, explain, report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lupsim.cli import main


def test_simulate_prints_the_renal_endpoints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "nephritis-addon", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "randomised 448" in out
    assert "Week 104 endpoints (% of randomised):" in out
    header = next(line for line in out.splitlines() if "completed_pct" in line)
    assert header.split()[:4] == ["n_randomised", "completed_pct", "perr", "crr"]
    rows = {line.split()[0]: line.split() for line in out.splitlines()[-2:]}
    assert set(rows) == {"placebo", "belimumab_10mg"}
    for values in rows.values():
        assert 0.0 <= float(values[4]) <= float(values[3]) <= 100.0  # CRR <= PERR


def test_analyse_saved_data_with_the_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "trial"
    assert main(["simulate", "nephritis-addon", "--seed", "1", "--out", str(out), "--cdisc"]) == 0
    capsys.readouterr()
    assert main(["analyse", str(out), "--scenario", "nephritis-addon"]) == 0
    text = capsys.readouterr().out
    assert "Primary: perr at week 104" in text
    assert "Secondary: crr at week 104" in text
    assert re.search(r"belimumab_10mg vs placebo odds_ratio\s+\d", text)
    adeff = (out / "adeff.csv").read_text()
    assert ",PERR," in adeff
    assert ",EGFR," in adeff


def test_explain_shows_proteinuria_egfr_and_renal_reasons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["simulate", "nephritis-addon", "--seed", "1", "--explain", "2"]) == 0
    out = capsys.readouterr().out
    assert "Nephritis: induction" in out
    assert "PERR at week 104:" in out


def test_report_writes_the_nephritis_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "ln.html"
    assert main(["report", "nephritis-addon", "--seed", "1", "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "<h2>PERR response by visit</h2>" in html
    assert "perr by logistic at the primary week" in html
