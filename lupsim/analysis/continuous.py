"""SELENA-SLEDAI change from baseline: ANCOVA, mixed model, GEE.

Three analyses of the same quantity, change in SELENA-SLEDAI from baseline,
each reporting the difference between every active arm and the control arm
(negative = the active arm lowered disease activity more):

- :func:`ancova_change` - one visit (the primary, by default), subjects seen
  at it; OLS of change on arm, baseline SELENA-SLEDAI and the stratification
  factors. The arm coefficient is the difference in adjusted means.
- :func:`mixed_model` - every observed post-baseline visit; linear mixed
  model ``change ~ arm * week + baseline`` with a random intercept per
  subject (REML). Under missing-at-random dropout it uses the visits of
  subjects who left, which the completers' ANCOVA throws away.
- :func:`gee` - the same mean model by generalised estimating equations with
  an exchangeable working correlation and robust (sandwich) standard errors.

In the repeated-measures models week is categorical (first post-baseline
visit as reference), so the difference at a week is the contrast
``arm + arm:week``; every week's difference is in the ``by_week`` frame.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
>>> r = ancova_change(ds)
>>> r.summary()[["comparison", "measure"]]
                  comparison     measure
0   belimumab_1mg vs placebo  difference
1  belimumab_10mg vs placebo  difference
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import NDArray

from lupsim.analysis.results import (
    AnalysisResult,
    Estimate,
    comparison_label,
    full_rank_columns,
    wald_interval,
)
from lupsim.errors import AnalysisError
from lupsim.trial.dataset import TrialDataset

__all__ = ["ancova_change", "gee", "mixed_model"]

F = NDArray[np.float64]
_LEVEL = 0.95
_MEASURE = "difference"


def ancova_change(ds: TrialDataset, week: float | None = None) -> AnalysisResult:
    """ANCOVA of SELENA-SLEDAI change from baseline at one visit.

    Subjects observed at the visit (observed completers, whatever their
    treatment-failure status) enter an OLS model of change on arm (treatment
    coding against ``ds.control``), baseline SELENA-SLEDAI and the
    stratification factors (``STRAT*`` columns of ``ds.subjects``). Terms the
    data cannot estimate (a factor constant among the completers) are left
    out and listed in ``notes``.

    Parameters
    ----------
    ds
        The trial.
    week
        The visit (default: the primary week); must be after baseline.

    Returns
    -------
    AnalysisResult
        One ``difference`` per active arm (adjusted mean change of the arm
        minus that of the control arm) with a t-based 95% CI and p-value;
        ``n`` counts the completers of both arms. Frames:
        ``adjusted_means`` (per arm, at the mean covariates of the completers)
        and ``coefficients``.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> e = ancova_change(ds).estimate_for("belimumab_10mg vs placebo")
    >>> e.estimate < 0 and e.p_value < 0.05
    True
    """
    wk = _post_baseline_week(ds, week)
    j = ds.visit_column(wk)
    a = ds.arrays
    seen = a.observed[:, j]
    baseline = a.selena[:, 0].astype(np.float64)
    change = a.selena[:, j].astype(np.float64) - baseline
    arm = ds.arm_index[seen]

    design = _arm_columns(ds, ds.arm_index)
    design["baseline_selena"] = baseline
    for col in _strata_columns(ds):
        design[col] = ds.subjects[col].to_numpy(dtype=np.float64)
    design = design[seen].reset_index(drop=True)
    cols = full_rank_columns(design)
    notes = _dropped_note(design, cols)
    fit = sm.OLS(change[seen], design[cols]).fit()
    params = np.asarray(fit.params, dtype=np.float64)
    cov = np.asarray(fit.cov_params(), dtype=np.float64)
    df = float(fit.df_resid)

    method = "ANCOVA (OLS): change ~ arm + baseline SELENA-SLEDAI + stratification factors"
    estimates = []
    for k, name in _active(ds):
        n_pair = int(np.isin(arm, [_control_index(ds), k]).sum())
        missing = _missing_arms(ds, arm, k)
        term = f"arm[{name}]"
        if missing:
            estimates.append(_nan_estimate(ds, name, n_pair, method, missing))
            continue
        if term not in cols:
            note = f"{term} is aliased with the covariates among the completers"
            estimates.append(_nan_estimate(ds, name, n_pair, method, note))
            continue
        L = _unit(cols, term)
        estimates.append(_contrast_estimate(ds, name, params, cov, L, n_pair, method, df))

    # Adjusted ("least-squares") means: each arm at the completers' mean
    # covariates, so the differences of these means are the estimates above.
    covariates = [c for c in cols if c != "Intercept" and not c.startswith("arm[")]
    means = design[covariates].mean()
    rows = []
    for k, name in enumerate(ds.arms):
        n_arm = int((arm == k).sum())
        terms = ["Intercept"] if k == _control_index(ds) else ["Intercept", f"arm[{name}]"]
        est, se = np.nan, np.nan
        if n_arm > 0 and all(t in cols for t in terms):
            L = sum((_unit(cols, t) for t in terms), np.zeros(len(cols)))
            for c in covariates:
                L[cols.index(c)] = means[c]
            est, se = _linear(params, cov, L)
        lo, hi, _ = wald_interval(est, se, _LEVEL, df)
        rows.append(
            {
                "arm": name,
                "n": n_arm,
                "adjusted_mean": est,
                "std_error": se,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    return AnalysisResult(
        name=f"sledai_change at week {wk:g}",
        method=method,
        estimates=tuple(estimates),
        frames={"adjusted_means": pd.DataFrame(rows), "coefficients": _coefficients(fit)},
        notes=notes,
        ci_level=_LEVEL,
    )


def mixed_model(ds: TrialDataset, week: float | None = None) -> AnalysisResult:
    """Linear mixed model of SELENA-SLEDAI change over all post-baseline visits.

    ``change ~ arm * C(week) + baseline`` with a random intercept per subject,
    fitted by REML (statsmodels ``MixedLM``) on every observed post-baseline
    visit. The arm difference at ``week`` is the contrast
    ``arm + arm:week`` with a normal-theory (z) 95% CI.

    Parameters
    ----------
    ds
        The trial.
    week
        The visit at which the difference is reported (default: the primary
        week); the model uses all visits either way.

    Returns
    -------
    AnalysisResult
        One ``difference`` per active arm at ``week``; ``n`` counts the
        subjects of both arms with at least one post-baseline visit. Frames:
        ``by_week`` (the difference at every visit) and ``coefficients``.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> e = mixed_model(ds).estimate_for("belimumab_10mg vs placebo")
    >>> e.ci_low < e.estimate < e.ci_high < 0
    True
    """

    def fit(y: F, X: pd.DataFrame, groups: NDArray[np.intp]) -> Any:
        return sm.MixedLM(y, X, groups=groups).fit(reml=True)

    method = "linear mixed model (REML, random intercept): change ~ arm * week + baseline"
    return _repeated(ds, week, fit, method)


def gee(ds: TrialDataset, week: float | None = None) -> AnalysisResult:
    """GEE of SELENA-SLEDAI change over all post-baseline visits.

    The mean model of :func:`mixed_model` (``change ~ arm * C(week) +
    baseline``) fitted by generalised estimating equations (Gaussian,
    identity link) with an exchangeable working correlation within subject
    and robust (sandwich) standard errors, which stay valid if the working
    correlation is wrong.

    Parameters
    ----------
    ds
        The trial.
    week
        The visit at which the difference is reported (default: primary).

    Returns
    -------
    AnalysisResult
        As :func:`mixed_model`.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> by_week = gee(ds).frames["by_week"]
    >>> by_week.loc[by_week["week"] == 52, ["comparison", "week"]]
                       comparison  week
    12   belimumab_1mg vs placebo  52.0
    25  belimumab_10mg vs placebo  52.0
    """

    def fit(y: F, X: pd.DataFrame, groups: NDArray[np.intp]) -> Any:
        model = sm.GEE(
            y,
            X,
            groups=groups,
            family=sm.families.Gaussian(),
            cov_struct=sm.cov_struct.Exchangeable(),
        )
        return model.fit(cov_type="robust")

    method = "GEE (exchangeable, robust SE): change ~ arm * week + baseline"
    return _repeated(ds, week, fit, method)


# -- the repeated-measures machinery ------------------------------------------


def _repeated(
    ds: TrialDataset,
    week: float | None,
    fit_model: Callable[[F, pd.DataFrame, NDArray[np.intp]], Any],
    method: str,
) -> AnalysisResult:
    wk = _post_baseline_week(ds, week)
    a = ds.arrays
    weeks_all = np.asarray(ds.visit_weeks, dtype=np.float64)
    # Long form, sorted by subject then visit (GEE reads clusters in order).
    subj, col = np.nonzero(a.observed & (weeks_all > 0)[None, :])
    weeks = weeks_all[col]
    baseline = a.selena[subj, 0].astype(np.float64)
    change = a.selena[subj, col].astype(np.float64) - baseline
    arm = ds.arm_index[subj]

    levels = sorted(set(weeks.tolist()))
    if not levels:
        raise AnalysisError("no post-baseline visit is observed in this trial; nothing to model")
    design = _arm_columns(ds, arm)
    week_cols = {w: (weeks == w).astype(np.float64) for w in levels[1:]}
    for w, x in week_cols.items():
        design[f"week[{w:g}]"] = x
    for _k, name in _active(ds):
        for w, x in week_cols.items():
            design[f"arm[{name}]:week[{w:g}]"] = design[f"arm[{name}]"].to_numpy() * x
    design["baseline_selena"] = baseline
    cols = full_rank_columns(design)
    notes = list(_dropped_note(design, cols))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_model(change, design[cols], subj.astype(np.intp))
    notes += sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    k_fe = len(cols)
    params = np.asarray(fit.params, dtype=np.float64)[:k_fe]
    cov = np.asarray(fit.cov_params(), dtype=np.float64)[:k_fe, :k_fe]

    by_week = []
    estimates = []
    for k, name in _active(ds):
        for w in levels:
            at = weeks == w
            L, note = _week_contrast(ds, cols, name, w, levels[0], arm[at], k)
            est, se = _linear(params, cov, L) if L is not None else (np.nan, np.nan)
            lo, hi, p = wald_interval(est, se, _LEVEL)
            by_week.append(
                {
                    "comparison": comparison_label(name, ds.control),
                    "week": w,
                    "estimate": est,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p_value": p,
                    "note": note,
                }
            )
        n_pair = int(np.unique(subj[np.isin(arm, [_control_index(ds), k])]).size)
        at_wk = [r for r in by_week[-len(levels) :] if r["week"] == wk]
        if at_wk:
            r = at_wk[0]
            estimates.append(
                Estimate(
                    comparison=r["comparison"],
                    measure=_MEASURE,
                    estimate=r["estimate"],
                    ci_low=r["ci_low"],
                    ci_high=r["ci_high"],
                    p_value=r["p_value"],
                    n=n_pair,
                    method=method,
                    note=r["note"],
                )
            )
        else:
            note = f"no subject is observed at week {wk:g}"
            estimates.append(_nan_estimate(ds, name, n_pair, method, note))
    return AnalysisResult(
        name=f"sledai_change at week {wk:g}",
        method=method,
        estimates=tuple(estimates),
        frames={"by_week": pd.DataFrame(by_week), "coefficients": _coefficients(fit, k_fe)},
        notes=tuple(notes),
        ci_level=_LEVEL,
    )


def _week_contrast(
    ds: TrialDataset,
    cols: list[str],
    name: str,
    week: float,
    reference: float,
    arm_at_week: NDArray[Any],
    k: int,
) -> tuple[F | None, str]:
    """The contrast vector of arm ``name`` vs control at ``week``, or why there is none."""
    missing = _missing_arms(ds, arm_at_week, k)
    if missing:
        return None, f"{missing} at week {week:g}"
    terms = [f"arm[{name}]"]
    if week != reference:
        terms.append(f"arm[{name}]:week[{week:g}]")
    if not all(t in cols for t in terms):
        return None, f"the arm difference at week {week:g} is not estimable"
    return sum((_unit(cols, t) for t in terms), np.zeros(len(cols))), ""


# -- small helpers -------------------------------------------------------------


def _post_baseline_week(ds: TrialDataset, week: float | None) -> float:
    # The visit's own week, so it compares equal with the weeks of the data;
    # visit_column raises with the list of visits if there is none.
    wk = float(ds.visit_weeks[ds.visit_column(ds.primary_week if week is None else week)])
    if wk <= 0:
        raise AnalysisError(
            f"week must be a post-baseline visit (> 0) for a change from baseline, got {wk:g}"
        )
    return wk


def _control_index(ds: TrialDataset) -> int:
    return ds.arms.index(ds.control)


def _active(ds: TrialDataset) -> list[tuple[int, str]]:
    return [(k, a) for k, a in enumerate(ds.arms) if a != ds.control]


def _strata_columns(ds: TrialDataset) -> list[str]:
    return [c for c in ds.subjects.columns if c.startswith("STRAT")]


def _arm_columns(ds: TrialDataset, arm: NDArray[Any]) -> pd.DataFrame:
    """Intercept and one dummy per active arm (treatment coding vs control)."""
    out = pd.DataFrame({"Intercept": np.ones(arm.size)})
    for k, name in _active(ds):
        out[f"arm[{name}]"] = (arm == k).astype(np.float64)
    return out


def _missing_arms(ds: TrialDataset, arm: NDArray[Any], k: int) -> str:
    """Which of the control arm and arm ``k`` has no subject in ``arm`` ('' if none)."""
    empty = [ds.arms[i] for i in (_control_index(ds), k) if not (arm == i).any()]
    return f"no subject of {' or '.join(empty)} in the analysis" if empty else ""


def _dropped_note(design: pd.DataFrame, kept: list[str]) -> tuple[str, ...]:
    dropped = [c for c in design.columns if c not in kept]
    if not dropped:
        return ()
    return (f"not estimable from these data, left out: {', '.join(dropped)}",)


def _unit(cols: list[str], term: str) -> F:
    out = np.zeros(len(cols))
    out[cols.index(term)] = 1.0
    return out


def _linear(params: F, cov: F, L: F) -> tuple[float, float]:
    """Estimate and standard error of ``L @ params``."""
    var = float(L @ cov @ L)
    return float(L @ params), float(np.sqrt(var)) if var >= 0 else np.nan


def _contrast_estimate(
    ds: TrialDataset,
    name: str,
    params: F,
    cov: F,
    L: F,
    n: int,
    method: str,
    df: float | None,
) -> Estimate:
    est, se = _linear(params, cov, L)
    lo, hi, p = wald_interval(est, se, _LEVEL, df)
    return Estimate(comparison_label(name, ds.control), _MEASURE, est, lo, hi, p, n, method)


def _nan_estimate(ds: TrialDataset, name: str, n: int, method: str, note: str) -> Estimate:
    nan = float("nan")
    return Estimate(
        comparison_label(name, ds.control), _MEASURE, nan, nan, nan, nan, n, method, note
    )


def _coefficients(fit: Any, k: int | None = None) -> pd.DataFrame:
    """The fixed-effect coefficients as a tidy frame."""
    names = list(fit.model.exog_names)[:k]
    k = len(names)
    ci = np.asarray(fit.conf_int(alpha=1 - _LEVEL))[:k]
    return pd.DataFrame(
        {
            "term": names,
            "coef": np.asarray(fit.params)[:k],
            "std_error": np.asarray(fit.bse)[:k],
            "ci_low": ci[:, 0],
            "ci_high": ci[:, 1],
            "p_value": np.asarray(fit.pvalues)[:k],
        }
    )
