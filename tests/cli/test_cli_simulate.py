"""lupsim simulate and lupsim calibrate: output contracts and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lupsim.cli import main
from lupsim.scenario import load_scenario
from lupsim.trial import simulate_trial

ARM_KEYS = {
    "arm",
    "n_randomised",
    "completed_pct",
    "sri4_pct",
    "sri4_mc_se",
    "sledai_reduction4_pct",
    "no_bilag_worsening_pct",
    "no_pga_worsening_pct",
    "sri5_pct",
    "sri6_pct",
    "bicla_pct",
    "lldas_pct",
    "severe_flare_pct",
    "steroid_reduction_pct",
}


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "simulate", "bliss52", "--seed", "3", "--replicates", "3", "--format", "json"
    )
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"scenario", "seed", "replicates", "arms", "weekly"}
    assert (doc["scenario"], doc["seed"], doc["replicates"]) == ("bliss52", 3, 3)
    assert [a["arm"] for a in doc["arms"]] == ["placebo", "belimumab_1mg", "belimumab_10mg"]
    for a in doc["arms"]:
        assert set(a) == ARM_KEYS
        assert 0 <= a["sri4_pct"] <= 100
        assert a["sri4_mc_se"] > 0
    weeks = {w["week"] for w in doc["weekly"]}
    assert weeks == {4.0 * k for k in range(1, 14)}
    assert {w["arm"] for w in doc["weekly"]} == {"placebo", "belimumab_1mg", "belimumab_10mg"}


def test_json_averages_the_replicates(capsys: pytest.CaptureFixture[str]) -> None:
    from lupsim.analysis.endpoints import sri

    _, out, _ = _run(
        capsys, "simulate", "bliss52", "--seed", "5", "--replicates", "2", "--format", "json"
    )
    doc = json.loads(out)
    s = load_scenario("bliss52")
    rates = []
    for k in range(2):
        ds = simulate_trial(s, 5, replicate=k)
        rates.append(100 * sri(ds).responder[ds.arm_index == 0].mean())
    assert doc["arms"][0]["sri4_pct"] == pytest.approx(np.mean(rates), abs=1e-3)
    assert doc["arms"][0]["sri4_mc_se"] == pytest.approx(
        np.std(rates, ddof=1) / np.sqrt(2), abs=1e-3
    )


def test_table_output_shows_consort_counts_and_endpoints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "simulate", "bliss52", "--seed", "1")
    assert code == 0
    assert "screened" in out
    assert "randomised" in out
    assert "completed" in out
    assert "sri4" in out
    assert "placebo" in out


def test_out_writes_the_datasets(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, _ = _run(capsys, "simulate", "bliss52", "--seed", "1", "--out", str(tmp_path))
    assert code == 0
    subjects = pd.read_csv(tmp_path / "subjects.csv")
    visits = pd.read_csv(tmp_path / "visits.csv")
    events = pd.read_csv(tmp_path / "events.csv")
    assert len(subjects) == 865
    assert {"USUBJID", "TRT01P", "COMPLFL", "DCSREAS"} <= set(subjects.columns)
    assert {"USUBJID", "AVISITN", "PARAMCD", "AVAL"} <= set(visits.columns)
    assert (events["event"] == "randomised").sum() == 865
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "bliss52", "--replicates", "0"], "must be >= 1"),
        (["simulate", "nope"], "unknown scenario 'nope'"),
        (["calibrate", "bliss52", "--n-per-arm", "-3"], "must be >= 1"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse rejects bad arguments by exiting
        code = int(exc.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_scenario_without_design_cannot_be_simulated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "pop.toml"
    path.write_text('name = "pop"\n[population]\nfemale_pct = 90\n')
    code, _, err = _run(capsys, "simulate", str(path))
    assert code == 2
    assert "has no [design] table" in err


def test_a_bad_design_lists_every_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\n[design]\nallocation = [1, 0]\n'
        '[[design.arms]]\nname = "placebo"\n'
        '[[design.arms]]\nname = "drug"\ndrug = "anti_baff"\ndose_mg_per_kg = -1\n'
    )
    code, _, err = _run(capsys, "simulate", str(path))
    assert code == 2
    assert "design.arms[1].dose_mg_per_kg: must be > 0, got -1" in err
    assert "design.allocation" in err
    assert "Traceback" not in err


def test_cdisc_export_from_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, _ = _run(
        capsys, "simulate", "bliss52", "--seed", "1", "--out", str(tmp_path), "--cdisc"
    )
    assert code == 0
    adsl = pd.read_csv(tmp_path / "adsl.csv")
    adeff = pd.read_csv(tmp_path / "adeff.csv")
    variables = pd.read_csv(tmp_path / "variables.csv")
    assert len(adsl) == 865
    assert {
        "USUBJID",
        "TRT01P",
        "AVISIT",
        "AVISITN",
        "PARAMCD",
        "PARAM",
        "AVAL",
        "BASE",
        "CHG",
        "ABLFL",
        "ANL01FL",
    } <= set(adeff.columns)
    assert set(variables["name"]) >= set(adsl.columns)
    code, _, err = _run(capsys, "simulate", "bliss52", "--cdisc")
    assert code == 2
    assert "give --out" in err
