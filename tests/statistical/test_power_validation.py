"""The power engine agrees with theory where theory is exact.

Oracles: the normal-approximation power of statsmodels.stats.power for two
response rates (the two-arm-binomial scenario: 44% vs 58%, sle-reference.md
section 7), the nominal type I error, and the nominal coverage of the odds
ratio's 95% CI. Every tolerance is 3 Monte Carlo SE of the simulated figure
(replicates chosen so that 3 SE is about 0.02 or less); seeds are fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from lupsim.analysis.power import GridPoint, apply_grid_point, run_power, sample_size, simulate
from lupsim.scenario import load_scenario

pytestmark = pytest.mark.statistical


@pytest.fixture(scope="module")
def binomial():  # type: ignore[no-untyped-def]
    return load_scenario("two-arm-binomial")


def test_simulated_power_matches_the_normal_approximation(binomial) -> None:  # type: ignore[no-untyped-def]
    res = run_power(binomial, [400, 532, 576], replicates=2000, seed=11)
    for _, row in res.table.iterrows():
        assert abs(row["power"] - row["analytic_power"]) <= 3 * row["mc_se"], row.to_dict()
    # Reference figures (sle-reference.md section 7): about 0.92 with 288 per arm.
    assert res.table.set_index("n_total").loc[576, "analytic_power"] == pytest.approx(
        0.92, abs=0.01
    )


def test_sample_size_agrees_with_the_formula(binomial) -> None:  # type: ignore[no-untyped-def]
    res = run_power(binomial, [460, 532, 600], replicates=1500, seed=12)
    ss = sample_size(res, 0.9)
    # The normal approximation at the true rates (532 in total,
    # sle-reference.md section 7) ...
    h = proportion_effectsize(0.58, 0.44)
    n_arm = NormalIndPower().solve_power(h, alpha=0.025, power=0.9, alternative="larger")
    # ... against the same formula at the simulated rates, pooled over every
    # replicate and size: N patients per arm give h an SE of sqrt(2 / N), and
    # n moves with 1 / h^2, so the MC SE of n is 2 n SE(h) / h (about 5 here).
    per_arm = res.table["replicates"] * res.table["n_total"] / 2
    se_n = 2 * (2 * n_arm) * math.sqrt(2 / per_arm.sum()) / h
    assert abs(ss["analytic_n_total"] - 2 * n_arm) <= 3 * se_n
    lo, hi = ss["n_total_ci"]
    assert lo <= ss["analytic_n_total"] <= hi
    assert hi - lo < 100  # the grid pins it down


def test_type_one_error_equals_alpha_without_an_effect(binomial) -> None:  # type: ignore[no-untyped-def]
    res = run_power(binomial, [532], replicates=6000, seed=13, grid={"effect_scale": [0.0]})
    row = res.table.iloc[0]
    assert row["rate_arm"] == pytest.approx(row["rate_control"], abs=0.01)
    se = math.sqrt(0.025 * 0.975 / row["replicates"])
    assert abs(row["power"] - 0.025) <= 3 * se


def test_odds_ratio_ci_covers_the_true_odds_ratio_95_percent(binomial) -> None:  # type: ignore[no-untyped-def]
    res = run_power(binomial, [532], replicates=4000, seed=14)
    rec = res.records
    true = (0.58 / 0.42) / (0.44 / 0.56)
    lo = np.exp(rec["log_or"] - 1.959964 * rec["se"])
    hi = np.exp(rec["log_or"] + 1.959964 * rec["se"])
    covered = ((lo <= true) & (true <= hi)).mean()
    se = math.sqrt(0.95 * 0.05 / len(rec))
    assert abs(covered - 0.95) <= 3 * se


def test_type_one_error_with_the_disease_model_and_no_drug_effect() -> None:
    """BLISS-52 with the anti-BAFF effect set to zero: each comparison rejects
    at the one-sided 2.5% level about 2.5% of the time (300 trials: MC SE 0.9
    points, tolerance 3 SE)."""
    res = run_power(
        load_scenario("bliss52"), [865], replicates=300, seed=15, grid={"effect_scale": [0.0]}
    )
    for _, row in res.table.iterrows():
        se = math.sqrt(0.025 * 0.975 / row["replicates"])
        assert abs(row["power"] - 0.025) <= 3 * se, row.to_dict()
        assert abs(row["rate_arm"] - row["rate_control"]) < 0.02


def test_effect_scale_zero_removes_the_drug_effect() -> None:
    s = apply_grid_point(
        load_scenario("bliss52"), GridPoint(0, {"n_total": 865, "effect_scale": 0.0})
    )
    assert s.disease is not None
    assert s.disease.drug_logodds == 0.0
    assert s.disease.drug_onset_logodds == 0.0
    ds = simulate(s, 1, 0)
    assert ds.n == 865
