"""Group-sequential analysis of one trial (lupsim.analysis.interim): the looks
are the milestones' data cuts, the boundaries are the Lan-DeMets ones at the
observed information, the decisions follow the boundaries, and a power run
decides every replicate the same way."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lupsim.analysis import gsd
from lupsim.analysis.binary import logistic_regression, responders
from lupsim.analysis.interim import comparison_alpha, primary_statistics, sequential_analysis
from lupsim.analysis.power import GridPoint, analyse_replicate
from lupsim.analysis.report import analyse
from lupsim.scenario import Scenario, load_scenario, parse_scenario
from lupsim.trial import simulate_trial


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario("interim-gsd")


def _futility_scenario() -> Scenario:
    raw = load_scenario("interim-gsd").model_dump(mode="json", exclude_none=True)
    raw["design"]["n_randomised"] = 500
    raw["design"]["milestones"][0]["n_patients"] = 250
    raw["disease"] = {**raw.get("disease", {}), "drug_logodds": 0.0}
    raw["analysis"]["interim"] = {
        "spending": "pocock",
        "futility_beta": 0.2,
        "stop_for_futility": True,
    }
    return parse_scenario(raw)


def test_look_is_the_milestone_cut_with_lan_demets_boundaries(scenario: Scenario) -> None:
    ds = simulate_trial(scenario, seed=1)
    seq = sequential_analysis(ds, scenario.analysis)
    assert seq is not None
    (look,) = seq.looks
    (day, _, detail) = next(m for m in ds.event_log.milestones if m[1] == "milestone")
    assert look.day == day
    assert detail.startswith(look.name)
    cut = ds.cut(day)
    j = ds.visit_column(ds.primary_week)
    seen = cut.arrays.observed[:, j]
    assert look.reached == int(seen.sum()) == 433
    # Due by the look: randomised at least 52 weeks before it, or seen already.
    rand = cut.subject_arrays["rand_calendar_day"]
    due = seen | (rand + 7 * 52 <= day)
    assert look.analysed == int(due.sum())
    assert look.analysed > look.reached  # dropouts and failures before week 52
    assert look.information == pytest.approx(look.analysed / 865)
    design = gsd.group_sequential_design((round(look.information, 3), 1.0), 0.025, "obf", beta=0.1)
    assert look.efficacy_z == pytest.approx(design.efficacy_z[0])
    assert look.futility_z == pytest.approx(design.futility_z[0])
    assert seq.final_efficacy_z == pytest.approx(design.efficacy_z[1])
    # 1 - Phi(z) by hand: erfc(z / sqrt 2) / 2.
    assert look.nominal_p == pytest.approx(0.5 * math.erfc(look.efficacy_z / math.sqrt(2)))
    # The look's z: the primary analysis of the due subjects on the day's data,
    # by hand: SRI-4 among the due (dropouts and failures non-responders).
    y = responders(cut, "sri4", 52)
    for k, z in enumerate(look.z, start=1):
        res = logistic_regression(cut, np.where(due, y, np.nan))
        est = res.estimates[k - 1]
        se = (math.log(est.ci_high) - math.log(est.ci_low)) / (2 * 1.959963984540054)
        assert z == pytest.approx(math.log(est.estimate) / se, rel=1e-6)


def test_subjects_not_yet_due_would_pull_the_interim_z_down(scenario: Scenario) -> None:
    """Counting the not-yet-due as non-responders (the bias the due set avoids)
    gives a smaller z for the effective dose."""
    ds = simulate_trial(scenario, seed=1)
    seq = sequential_analysis(ds, scenario.analysis)
    assert seq is not None
    naive = primary_statistics(ds.cut(seq.looks[0].day), scenario.analysis)
    assert naive[1]["n"] > seq.looks[0].analysed * 2 / 3  # everyone randomised
    assert seq.looks[0].z[1] > naive[1]["z"] + 0.3


def test_bonferroni_splits_alpha_between_comparisons(scenario: Scenario) -> None:
    assert scenario.analysis is not None
    plan = scenario.analysis.model_copy(update={"multiplicity": "bonferroni"})
    ds = simulate_trial(scenario, seed=1)
    seq = sequential_analysis(ds, plan)
    assert seq is not None
    t = round(seq.looks[0].information, 3)
    design = gsd.group_sequential_design((t, 1.0), 0.025 / 2, "obf", beta=0.1)
    assert seq.looks[0].efficacy_z == pytest.approx(design.efficacy_z[0])
    assert seq.final_efficacy_z == pytest.approx(design.efficacy_z[1])
    assert comparison_alpha(plan, 2) == pytest.approx(0.0125)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_decisions_follow_the_boundaries(scenario: Scenario, seed: int) -> None:
    seq = sequential_analysis(simulate_trial(scenario, seed=seed), scenario.analysis)
    assert seq is not None
    (look,) = seq.looks
    for c, d in enumerate(seq.decisions):
        if look.z[c] >= look.efficacy_z:
            assert (d.stop_look, d.rejected, d.day) == (1, True, look.day)
            assert d.outcome == "stopped for efficacy at look 1"
        else:
            assert d.stop_look == 0
            assert d.day == seq.final_day
            assert d.rejected == (seq.final_z[c] >= seq.final_efficacy_z)
            assert d.futility_crossed == (look.z[c] <= look.futility_z)


def test_efficacy_stop_happens_and_is_reported(scenario: Scenario) -> None:
    """Seed 5: the 10 mg/kg comparison crosses the interim boundary (z 5.06 >= 2.65)."""
    seq = sequential_analysis(simulate_trial(scenario, seed=5), scenario.analysis)
    assert seq is not None
    assert seq.decisions[1].stop_look == 1
    assert "belimumab_10mg vs placebo: stopped for efficacy at look 1" in str(seq)


def test_futility_stop_when_the_plan_says_so() -> None:
    s = _futility_scenario()
    stops = []
    for seed in range(6):
        seq = sequential_analysis(simulate_trial(s, seed=seed), s.analysis)
        assert seq is not None
        (look,) = seq.looks
        assert look.futility_z is not None
        for c, d in enumerate(seq.decisions):
            crossed = look.z[c] <= look.futility_z and look.z[c] < look.efficacy_z
            assert (d.stop_look == 1 and not d.rejected) == crossed
            if crossed:
                stops.append(d.outcome)
    assert stops, "no drug effect: some comparisons stop for futility"
    assert set(stops) == {"stopped for futility at look 1"}


def test_power_replicate_records_are_the_sequential_decisions(scenario: Scenario) -> None:
    assert scenario.design is not None
    assert scenario.analysis is not None
    recs = analyse_replicate(scenario, scenario.analysis, 5, 3, GridPoint(0, {}))
    seq = sequential_analysis(
        simulate_trial(scenario, 5, replicate=3), scenario.analysis, n_planned=865
    )
    assert seq is not None
    for rec, d in zip(recs, seq.decisions, strict=True):
        assert rec["comparison"] == d.comparison
        assert (rec["reject"], rec["stop_look"], rec["duration_days"]) == (
            d.rejected,
            d.stop_look,
            d.day,
        )


def test_analyse_reports_the_looks_only_with_an_interim_plan(scenario: Scenario) -> None:
    ds = simulate_trial(scenario, seed=1)
    rep = analyse(ds, scenario.analysis)
    assert rep.sequential is not None
    text = str(rep)
    assert "Interim looks (Lan-DeMets O'Brien-Fleming-like alpha spending):" in text
    assert "IA1 on day" in text
    table = rep.sequential.table()
    assert list(table["analysis"]) == ["IA1", "IA1", "final", "final"]
    bliss = load_scenario("bliss52")
    assert analyse(simulate_trial(bliss, seed=1), bliss.analysis).sequential is None
    assert sequential_analysis(ds, None) is None
