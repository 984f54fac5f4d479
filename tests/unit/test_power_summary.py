"""The printed power table: interim designs show how often each look stops the
trial and the expected duration; designs without looks do not."""

from __future__ import annotations

import math

import pytest

from lupsim.analysis.plan import AnalysisPlan
from lupsim.analysis.power import _fixed_design_rejections, run_power, sample_size
from lupsim.scenario import load_scenario


def test_interim_summary_shows_stopping_and_duration() -> None:
    res = run_power(load_scenario("interim-gsd"), [865], replicates=6, seed=4)
    text = res.summary()
    header = text.splitlines()[1]
    assert "P(stop at look 1)" in header
    assert "E[duration] (weeks)" in header
    row = res.table.iloc[1]
    cells = text.splitlines()[3].split()
    assert cells[-2] == f"{row['stop_look_1']:.3f}"
    assert cells[-1] == f"{row['expected_duration_days'] / 7:.3f}"


def test_summary_without_looks_has_no_stopping_columns() -> None:
    text = run_power(load_scenario("two-arm-binomial"), [200], replicates=5, seed=1).summary()
    assert "stop at look" not in text
    assert "duration" not in text


def _plan(multiplicity: str) -> AnalysisPlan:
    return AnalysisPlan(alpha=0.05, multiplicity=multiplicity)


@pytest.mark.parametrize(
    ("z", "multiplicity", "expected"),
    [
        # one-sided p: 1 - Phi(2.1) = 0.0179, 1 - Phi(2.3) = 0.0107; alpha 0.025
        ([2.1, 2.3], "none", [True, True]),
        ([2.1, 2.3], "bonferroni", [False, True]),  # 0.0179 > 0.0125
        ([2.1, 2.3], "holm", [True, True]),  # 0.0107 <= 0.0125, then 0.0179 <= 0.025
        ([2.1, 2.3], "hochberg", [True, True]),
        ([2.1, 2.3], "fixed_sequence", [True, True]),
        # 1 - Phi(1.5) = 0.0668
        ([2.1, 1.5], "none", [True, False]),
        ([2.1, 1.5], "holm", [False, False]),  # 0.0179 > 0.0125
        ([2.1, 1.5], "hochberg", [False, False]),
        ([2.1, 1.5], "fixed_sequence", [False, False]),  # the last arm first fails
        ([1.5, 2.1], "fixed_sequence", [False, True]),
        ([float("nan"), 3.0], "none", [False, True]),  # a failed fit never rejects
    ],
)
def test_fixed_design_rejections_follow_the_plans_multiplicity(
    z: list[float], multiplicity: str, expected: list[bool]
) -> None:
    final = [{"z": v} for v in z]
    assert _fixed_design_rejections(final, _plan(multiplicity)) == expected


def test_no_benefit_has_no_analytic_sample_size() -> None:
    """No drug effect; with this seed the simulated arm rate falls below the
    control's (Cohen's h < 0), which once crashed the normal-approximation solve."""
    res = run_power(load_scenario("soc-null"), replicates=20, seed=6)
    (row,) = res.table.itertuples()
    assert row.rate_arm < row.rate_control
    ss = sample_size(res)
    assert math.isnan(ss["analytic_n_total"])


def test_list_allocations_pool_within_their_own_allocation() -> None:
    res = run_power(
        load_scenario("two-arm-binomial"),
        [200, 300],
        replicates=10,
        seed=1,
        grid={"allocation": [[1, 1], [2, 2]]},
    )
    t = res.table
    assert t["analytic_power"].notna().all()
    for alloc in ("[1, 1]", "[2, 2]"):
        rows = t[t["allocation"].astype(str) == alloc]
        w = rows["replicates"]
        pooled_c = float((rows["rate_control"] * w).sum() / w.sum())
        pooled_a = float((rows["rate_arm"] * w).sum() / w.sum())
        h = 2 * math.asin(math.sqrt(pooled_a)) - 2 * math.asin(math.sqrt(pooled_c))
        for _, r in rows.iterrows():
            n_arm = r["n_pair"] / 2
            # Normal approximation by hand: Phi(h sqrt(n/2) - z_0.975).
            by_hand = 0.5 * math.erfc(
                -(h * math.sqrt(n_arm / 2) - 1.959963984540054) / math.sqrt(2)
            )
            assert r["analytic_power"] == pytest.approx(by_hand, rel=1e-6)


@pytest.mark.parametrize(
    ("multiplicity", "per_comparison"), [("none", 0.025), ("bonferroni", 0.0125)]
)
def test_analytic_figures_use_each_comparisons_alpha(
    multiplicity: str, per_comparison: float
) -> None:
    """Two comparisons: under Bonferroni each is tested at one-sided 0.0125, and
    the normal approximation and the sample size are computed at that alpha."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    s = load_scenario("bliss52")
    assert s.analysis is not None
    s = s.model_copy(
        update={"analysis": s.analysis.model_copy(update={"multiplicity": multiplicity})}
    )
    res = run_power(s, [600, 865], replicates=6, seed=3)
    assert res.alpha_one_sided == pytest.approx(0.025)
    assert res.alpha_per_comparison == pytest.approx(per_comparison)
    assert res.to_json()["alpha_per_comparison"] == pytest.approx(per_comparison)
    assert ("per comparison" in res.summary()) == (multiplicity == "bonferroni")
    rows = res.table[res.table["comparison"] == "belimumab_10mg vs placebo"]
    w = rows["replicates"]
    rate_c = float((rows["rate_control"] * w).sum() / w.sum())
    rate_a = float((rows["rate_arm"] * w).sum() / w.sum())
    h = proportion_effectsize(rate_a, rate_c)
    for _, r in rows.iterrows():
        want = NormalIndPower().power(h, r["n_pair"] / 2, per_comparison, alternative="larger")
        assert r["analytic_power"] == pytest.approx(want, rel=1e-9)
    n_arm = NormalIndPower().solve_power(h, alpha=per_comparison, power=0.9, alternative="larger")
    ss = sample_size(res, 0.9, "belimumab_10mg vs placebo")
    assert ss["analytic_n_total"] == pytest.approx(3 * n_arm, rel=1e-6)  # 1:1:1, three arms


def test_familywise_power_by_hand() -> None:
    """Four trials at one size, two comparisons: rejections (1, 1), (1, 0),
    (0, 0), (0, 1): at least one in 3 of 4, both in 1 of 4."""
    import numpy as np
    import pandas as pd

    from lupsim.analysis.power import PowerResult

    reject = [(True, True), (True, False), (False, False), (False, True)]
    records = pd.DataFrame(
        [
            {"grid": 0, "replicate": k, "comparison": c, "reject": r[j]}
            for k, r in enumerate(reject)
            for j, c in enumerate(["a vs p", "b vs p"])
        ]
    )
    table = pd.DataFrame(
        {"grid": [0, 0], "n_total": [300, 300], "comparison": ["a vs p", "b vs p"]}
    )
    fw = PowerResult("x", 1, 4, 0.025, table, records).familywise()
    (row,) = fw.itertuples()
    assert (row.n_total, row.replicates, row.any_power, row.all_power) == (300, 4, 0.75, 0.25)
    assert row.any_mc_se == pytest.approx(np.sqrt(0.75 * 0.25 / 4))
    assert row.all_mc_se == pytest.approx(np.sqrt(0.25 * 0.75 / 4))


def test_familywise_power_in_summary_and_json() -> None:
    res = run_power(load_scenario("bliss52"), [600], replicates=6, seed=2)
    fw = res.familywise().iloc[0]
    power = res.table.set_index("comparison")["power"]
    # At least one is at least the larger; both at most the smaller.
    assert fw["any_power"] >= power.max()
    assert fw["all_power"] <= power.min()
    assert "P(reject any)" in res.summary()
    doc = res.to_json()["familywise"]
    assert doc == [
        {
            "grid": 0,
            "n_total": 600,
            "any_power": fw["any_power"],
            "any_mc_se": fw["any_mc_se"],
            "all_power": fw["all_power"],
            "all_mc_se": fw["all_mc_se"],
        }
    ]
    one = run_power(load_scenario("two-arm-binomial"), [200], replicates=5, seed=1)
    assert "reject any" not in one.summary()
    # Points differing in another axis than n are told apart in the JSON.
    two = run_power(
        load_scenario("two-arm-binomial"),
        [200],
        replicates=4,
        seed=1,
        grid={"effect_scale": [0, 1]},
    ).to_json()
    keys = [(r["grid"], r["n_total"], r["effect_scale"]) for r in two["familywise"]]
    assert keys == [(0, 200, 0.0), (1, 200, 1.0)]
    assert [(r["grid"], r["effect_scale"]) for r in two["results"]] == [(0, 0.0), (1, 1.0)]


def test_sample_size_fits_the_sizes_of_one_design() -> None:
    """With an effect axis, the sample size comes from the last effect's sizes
    only: the trials without an effect (power about alpha) are another design."""
    from lupsim.analysis.power import PowerResult

    res = run_power(
        load_scenario("two-arm-binomial"),
        [300, 500],
        replicates=40,
        seed=5,
        grid={"effect_scale": [0.0, 1.0]},
    )
    keep = res.table["effect_scale"] == 1.0
    grids = res.table.loc[keep, "grid"]
    alone = PowerResult(
        res.scenario,
        res.seed,
        res.replicates,
        res.alpha_one_sided,
        res.table[keep],
        res.records[res.records["grid"].isin(grids)],
        comparison_alpha=res.comparison_alpha,
    )
    both, one = sample_size(res), sample_size(alone)
    assert both["n_total"] == pytest.approx(one["n_total"], rel=1e-9)
    assert both["analytic_n_total"] == pytest.approx(one["analytic_n_total"], rel=1e-9)
    assert 300 < one["n_total"] < 1000
