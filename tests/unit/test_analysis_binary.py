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
    fit_logit,
    logistic_regression,
    responders,
    risk_difference,
)
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
