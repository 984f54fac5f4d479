"""The analysis plan: validation, the report, multiplicity, and the CSV round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lupsim.analysis.plan import AnalysisPlan, AnalysisSpec
from lupsim.analysis.report import analyse
from lupsim.cli import main
from lupsim.errors import ScenarioError
from lupsim.scenario import load_scenario, parse_scenario
from lupsim.trial import simulate_trial
from lupsim.trial.io import read_dataset


@pytest.fixture(scope="module")
def bliss():  # type: ignore[no-untyped-def]
    return simulate_trial(load_scenario("bliss52"), 4)


def test_plan_rejects_a_method_that_cannot_analyse_the_endpoint() -> None:
    with pytest.raises(ScenarioError, match="'cox' does not analyse the binary endpoint 'sri4'"):
        parse_scenario(
            {"name": "x", "analysis": {"primary": {"endpoint": "sri4", "method": "cox"}}}
        )
    with pytest.raises(ScenarioError, match="unknown endpoint 'sri9'"):
        parse_scenario({"name": "x", "analysis": {"primary": {"endpoint": "sri9"}}})
    with pytest.raises(ScenarioError, match=r"analysis\.primary\.method"):
        parse_scenario({"name": "x", "analysis": {"primary": {"method": "magic"}}})


def test_bonferroni_doubles_the_p_values(bliss) -> None:  # type: ignore[no-untyped-def]
    raw = analyse(bliss, AnalysisPlan(multiplicity="none")).multiplicity
    bon = analyse(bliss, AnalysisPlan(multiplicity="bonferroni")).multiplicity
    np.testing.assert_allclose(bon["adjusted_p"], np.minimum(2 * raw["p_value"], 1))


def test_one_sided_p_is_half_the_two_sided_in_the_direction_of_benefit(bliss) -> None:  # type: ignore[no-untyped-def]
    two = analyse(bliss, AnalysisPlan()).multiplicity
    one = analyse(bliss, AnalysisPlan(sided="one", alpha=0.025)).multiplicity
    est = analyse(bliss, AnalysisPlan()).primary.estimates
    for k, e in enumerate(est):
        expected = two["p_value"][k] / 2 if e.estimate > 1 else 1 - two["p_value"][k] / 2
        assert one["p_value"][k] == pytest.approx(expected)


def test_fixed_sequence_tests_the_highest_dose_first(bliss) -> None:  # type: ignore[no-untyped-def]
    rep = analyse(bliss, AnalysisPlan(multiplicity="fixed_sequence"))
    t = rep.multiplicity.set_index("hypothesis")
    high = "belimumab_10mg vs placebo"
    low = "belimumab_1mg vs placebo"
    if not t.loc[high, "reject"]:
        assert not t.loc[low, "reject"]


def test_report_lists_every_secondary_analysis(bliss) -> None:  # type: ignore[no-untyped-def]
    plan = load_scenario("bliss52").analysis
    rep = analyse(bliss, plan)
    s = rep.summary()
    assert set(s["role"]) == {"primary", "secondary"}
    assert len(rep.secondary) == 3
    assert "Secondary" in str(rep)


def test_datasets_round_trip_through_csv(bliss, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    back = read_dataset(bliss.to_dir(tmp_path, parquet=False))
    a = analyse(bliss).summary()
    b = analyse(back).summary()
    pd.testing.assert_frame_equal(a, b)


def test_read_dataset_errors_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"no subjects\.csv"):
        read_dataset(tmp_path)
    (tmp_path / "subjects.csv").write_text("USUBJID,arm\nA,placebo\n")
    (tmp_path / "visits.csv").write_text("USUBJID,AVISITN,PARAMCD\nA,0,SELENA\n")
    with pytest.raises(Exception, match="visits: missing column"):
        read_dataset(tmp_path)


def test_cli_analyse_reads_a_simulated_directory(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["simulate", "bliss52", "--seed", "2", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["analyse", str(tmp_path), "--scenario", "bliss52", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {"estimates", "multiplicity"} <= set(doc)
    assert any(e["method"] == "Cochran-Mantel-Haenszel" for e in doc["estimates"])


def test_cli_power_json_shape_and_bad_input(capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(
        ["power", "two-arm-binomial", "--n", "200,300", "--replicates", "50", "--format", "json"]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {
        "scenario",
        "seed",
        "replicates",
        "alpha_one_sided",
        "alpha_per_comparison",
        "results",
        "familywise",
        "sample_size",
    }
    assert {
        "grid",
        "n_total",
        "comparison",
        "power",
        "mc_se",
        "ci_low",
        "ci_high",
        "analytic_power",
    } == set(doc["results"][0])
    assert set(doc["sample_size"]) == {"target_power", "comparison", "n_total", "analytic_n_total"}
    # A total n smaller than one block per stratum, an unreachable Dask address.
    for args, message in (
        (["power", "bliss52", "--n", "20", "--replicates", "2"], "smaller than one block"),
        (
            ["power", "two-arm-binomial", "--replicates", "2", "--dask", "tcp://127.0.0.1:1"],
            "cannot reach the Dask scheduler",
        ),
    ):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert message in err
        assert "Traceback" not in err
        assert err.count("\n") == 1


def test_analysis_spec_defaults() -> None:
    spec = AnalysisSpec()
    assert (spec.endpoint, spec.method, spec.week) == ("sri4", "logistic", None)
