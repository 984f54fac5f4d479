"""Binary analyses: hand-computed 2x2 answers and equality with statsmodels."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from lupsim.analysis.binary import (
    _design,
    cmh,
    design_matrix,
    evaluable,
    fit_logit,
    logistic_regression,
    responders,
    risk_difference,
)
from lupsim.errors import LupsimError
from lupsim.scenario import load_scenario, parse_scenario
from lupsim.trial import simulate_trial
from lupsim.trial.binomial import simulate_binomial_trial


@pytest.fixture(scope="module")
def bliss():  # type: ignore[no-untyped-def]
    return simulate_trial(load_scenario("bliss52"), 3)


def _two_arm(n: int, p0: float, p1: float, seed: int = 1):  # type: ignore[no-untyped-def]
    s = parse_scenario(
        {
            "name": "t",
            "design": {
                "outcome": "binomial",
                "n_randomised": n,
                "arms": [
                    {"name": "control", "response_rate": p0},
                    {"name": "active", "response_rate": p1},
                ],
            },
        }
    )
    return simulate_binomial_trial(s, seed)


def test_unadjusted_odds_ratio_equals_the_2x2_odds_ratio() -> None:
    ds = _two_arm(400, 0.4, 0.6)
    y = responders(ds, "sri4")
    arm = ds.arm_index
    a, b = y[arm == 1].sum(), (arm == 1).sum() - y[arm == 1].sum()
    c, d = y[arm == 0].sum(), (arm == 0).sum() - y[arm == 0].sum()
    est = logistic_regression(ds, adjust=False).estimates[0]
    assert est.estimate == pytest.approx((a * d) / (b * c), rel=1e-9)
    se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)  # Woolf
    assert est.ci_high / est.ci_low == pytest.approx(np.exp(2 * 1.959964 * se), rel=1e-5)


def test_risk_difference_is_the_difference_of_rates() -> None:
    ds = _two_arm(400, 0.4, 0.6)
    y = responders(ds, "sri4")
    arm = ds.arm_index
    est = risk_difference(ds).estimates[0]
    assert est.estimate == pytest.approx(100 * (y[arm == 1].mean() - y[arm == 0].mean()))
    assert est.ci_low < est.estimate < est.ci_high


def test_adjusted_logistic_equals_statsmodels(bliss) -> None:  # type: ignore[no-untyped-def]
    y = responders(bliss, "sri4")
    keep = ~np.isnan(y)
    X, names = _design(bliss, True, keep)
    ref = sm.Logit(y[keep], X).fit(disp=0)
    res = logistic_regression(bliss)
    for k, est in enumerate(res.estimates, start=1):
        assert est.estimate == pytest.approx(np.exp(ref.params[k]), rel=1e-8)
        assert est.p_value == pytest.approx(ref.pvalues[k], rel=1e-6)
        lo, hi = np.exp(ref.conf_int()[k])
        assert (est.ci_low, est.ci_high) == pytest.approx((lo, hi), rel=1e-6)
    assert names[:3] == ["intercept", "belimumab_1mg", "belimumab_10mg"]
    assert len(names) == 6  # the three stratification factors


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(30, 300))
def test_newton_logit_equals_statsmodels_on_random_data(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=n)])
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ [-0.3, 0.8, 0.5])))).astype(float)
    fit = fit_logit(X, y)
    try:
        ref = sm.Logit(y, X).fit(disp=0)
    except Exception:  # statsmodels refuses perfect separation; so do we
        assert not fit.converged
        return
    if fit.converged:
        np.testing.assert_allclose(fit.params, ref.params, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(fit.se, ref.bse, rtol=1e-5)


def test_separation_gives_nan_not_a_crash() -> None:
    ds = _two_arm(60, 0.0, 1.0)
    est = logistic_regression(ds, adjust=False).estimates[0]
    assert np.isnan(est.estimate)
    assert np.isnan(est.p_value)


def test_cmh_equals_the_hand_mantel_haenszel_estimator(bliss) -> None:  # type: ignore[no-untyped-def]
    y = responders(bliss, "sri4")
    keep = ~np.isnan(y)
    arm = bliss.arm_index[keep]
    yk = y[keep]
    key = np.zeros(arm.size, dtype=int)
    for j in range(3):
        key = key * 2 + bliss.subject_arrays[f"stratum_factor_{j + 1}"][keep]
    num = den = 0.0
    for s in np.unique(key):
        sel = key == s
        t, c = sel & (arm == 2), sel & (arm == 0)
        if t.sum() == 0 or c.sum() == 0:
            continue
        a, b = yk[t].sum(), t.sum() - yk[t].sum()
        cc, d = yk[c].sum(), c.sum() - yk[c].sum()
        n = t.sum() + c.sum()
        num += a * d / n
        den += b * cc / n
    est = cmh(bliss).estimates[1]
    assert est.estimate == pytest.approx(num / den, rel=1e-9)
    assert 0 < est.p_value < 1


def test_unknown_endpoint_is_a_clear_error(bliss) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="unknown binary endpoint 'sri44'"):
        responders(bliss, "sri44")


# -- A responder array of one's own -------------------------------------------
#
# 400 subjects, 200 per arm; 120/200 active and 80/200 control responders:
# odds ratio (120/80) / (80/120) = 2.25; Woolf SE of the log OR
# sqrt(1/120 + 1/80 + 1/80 + 1/120) = 0.2041241, Wald z = ln 2.25 / SE = 3.9727,
# p = 7.1053e-5; 95% CI 2.25 * exp(-/+ 1.959964 * SE) = (1.508106, 3.356861).
# CMH (one stratum, no correction): E(a) = 200 * 200 / 400 = 100,
# Var(a) = 200^4 / (400^2 * 399) = 25.06266, chi2 = 20^2 / Var = 15.96,
# p = 6.4695e-5. Risk difference 60% - 40% = 20 points.


def _counts(ds, active: int, control: int):  # type: ignore[no-untyped-def]
    y = np.zeros(ds.n)
    y[np.flatnonzero(ds.arm_index == 1)[:active]] = 1
    y[np.flatnonzero(ds.arm_index == 0)[:control]] = 1
    return y


@pytest.fixture(scope="module")
def two_arm():  # type: ignore[no-untyped-def]
    ds = _two_arm(400, 0.5, 0.5)
    assert (ds.arm_index == 1).sum() == 200
    return ds


def test_logistic_regression_of_an_array_is_the_hand_2x2(two_arm) -> None:  # type: ignore[no-untyped-def]
    res = logistic_regression(two_arm, _counts(two_arm, 120, 80), label="mine")
    est = res.estimates[0]
    assert est.comparison == "active vs control"
    assert est.estimate == pytest.approx(2.25, rel=1e-9)
    assert (est.ci_low, est.ci_high) == pytest.approx((1.508106, 3.356861), rel=1e-6)
    assert est.p_value == pytest.approx(7.1053e-5, rel=1e-4)
    assert est.n == 400
    assert res.name == "mine at week 52"


def test_cmh_of_an_array_is_the_hand_2x2(two_arm) -> None:  # type: ignore[no-untyped-def]
    est = cmh(two_arm, _counts(two_arm, 120, 80)).estimates[0]
    assert est.estimate == pytest.approx(2.25, rel=1e-9)
    assert est.p_value == pytest.approx(6.4695e-5, rel=1e-4)


def test_risk_difference_of_an_array_is_the_hand_difference(two_arm) -> None:  # type: ignore[no-untyped-def]
    res = risk_difference(two_arm, _counts(two_arm, 120, 80), week=52)
    est = res.estimates[0]
    assert est.estimate == pytest.approx(20.0, abs=1e-9)
    assert est.ci_low < 20.0 < est.ci_high
    assert res.name == "response at week 52"


def test_nan_leaves_subjects_out_and_booleans_are_responses(two_arm) -> None:  # type: ignore[no-untyped-def]
    y = _counts(two_arm, 120, 80)
    # Leave out 40 active non-responders: 120/160 vs 80/200, OR (120/40)/(80/120) = 4.5.
    drop = np.flatnonzero((two_arm.arm_index == 1) & (y == 0))[:40]
    y_nan = y.copy()
    y_nan[drop] = np.nan
    est = logistic_regression(two_arm, y_nan).estimates[0]
    assert est.estimate == pytest.approx(4.5, rel=1e-9)
    assert est.n == 360
    as_bool = logistic_regression(two_arm, y.astype(bool)).estimates[0]
    assert as_bool.estimate == pytest.approx(2.25, rel=1e-9)


def test_an_array_gives_what_the_endpoint_name_gives(bliss) -> None:  # type: ignore[no-untyped-def]
    y = responders(bliss, "sri4")
    for fn in (logistic_regression, cmh, risk_difference):
        by_name = fn(bliss, "sri4")
        by_array = fn(bliss, y, label="sri4")
        assert by_array.name == by_name.name
        for a, b in zip(by_array.estimates, by_name.estimates, strict=True):
            assert (a.estimate, a.ci_low, a.ci_high, a.p_value, a.n) == (
                b.estimate,
                b.ci_low,
                b.ci_high,
                b.p_value,
                b.n,
            )


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.ones(399), r"shape \(400,\); got shape \(399,\)"),
        (np.full(400, 2.0), "got 2 for subject 0"),
        (np.array(["yes"] * 400), "boolean or 1/0"),
    ],
)
def test_a_bad_response_array_is_a_clear_error(two_arm, y, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LupsimError, match=message):
        logistic_regression(two_arm, y)


def test_evaluable_is_observed_and_not_failed(bliss) -> None:  # type: ignore[no-untyped-def]
    a = bliss.arrays
    for week in (24, 52):
        j = bliss.visit_column(week)
        ok = evaluable(bliss, week)
        np.testing.assert_array_equal(ok, a.observed[:, j] & ~a.treatment_failure[:, j])
        # Every built-in responder is evaluable; some evaluable subjects are not responders.
        r = responders(bliss, "sri4", week).astype(bool)
        assert not (r & ~ok).any()
        assert 0 < ok.sum() < bliss.n
    np.testing.assert_array_equal(evaluable(bliss), evaluable(bliss, 52))
    assert evaluable(bliss, 0).all()
    with pytest.raises(LupsimError, match="not a visit"):
        evaluable(bliss, 53)


def test_design_matrix_columns(two_arm, bliss) -> None:  # type: ignore[no-untyped-def]
    X, names = design_matrix(two_arm)
    assert names == ["intercept", "active"]  # a binomial trial has no strata
    np.testing.assert_array_equal(X[:, 0], 1.0)
    np.testing.assert_array_equal(X[:, 1], two_arm.arm_index == 1)
    keep = bliss.arm_index != 1
    Xb, nb = design_matrix(bliss, keep=keep)
    assert Xb.shape == (int(keep.sum()), 6)
    np.testing.assert_array_equal(Xb[:, 1], 0.0)  # the 1 mg/kg arm was left out
    np.testing.assert_array_equal(Xb[:, 2], bliss.arm_index[keep] == 2)
    np.testing.assert_array_equal(
        Xb[:, 3], bliss.subject_arrays["stratum_factor_1"][keep].astype(float)
    )
    assert nb[3:] == list(bliss.strata_rules)
    with pytest.raises(LupsimError, match="one value per subject"):
        design_matrix(bliss, keep=keep[:10])
