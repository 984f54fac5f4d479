"""Binary endpoints: adjusted logistic regression, Cochran-Mantel-Haenszel, risk difference.

The BLISS primary analysis (Navarra 2011): SRI-4 responders at week 52
compared by logistic regression adjusted for the stratification factors
(baseline SELENA-SLEDAI <= 9 vs >= 10, proteinuria < 2 vs >= 2 g/24 h, race),
one model with an indicator per active arm, odds ratio with 95% CI and Wald p
for each active arm against control. Dropouts and treatment failures are
non-responders (:mod:`lupsim.analysis.endpoints`).

Also the stratified Cochran-Mantel-Haenszel odds ratio and test (statsmodels
``StratifiedTable``) and the unadjusted risk difference with a Newcombe CI.

Each analysis takes either the name of a built-in endpoint
(:data:`BINARY_ENDPOINTS`) or one response per subject, so an endpoint of your
own is analysed like the built-in ones: build it from ``ds.arrays`` and count
the subjects who are not :func:`evaluable` (dropouts, treatment failures) as
non-responders.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
>>> res = logistic_regression(ds)
>>> list(res.summary()["comparison"])
['belimumab_1mg vs placebo', 'belimumab_10mg vs placebo']

An endpoint of your own: PGA at least 0.3 better than at baseline, on treatment.

>>> j = ds.visit_column(52)
>>> y = (ds.arrays.pga[:, 0] - ds.arrays.pga[:, j] >= 0.3) & evaluable(ds, 52)
>>> logistic_regression(ds, y, label="PGA improvement").name
'PGA improvement at week 52'
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from lupsim.analysis import endpoints
from lupsim.analysis.results import AnalysisResult, Estimate
from lupsim.errors import LupsimError
from lupsim.trial.dataset import TrialDataset

__all__ = [
    "BINARY_ENDPOINTS",
    "LogitFit",
    "cmh",
    "design_matrix",
    "evaluable",
    "fit_logit",
    "logistic_regression",
    "responders",
    "risk_difference",
]

#: Binary endpoints by name: subject-level response at a week.
BINARY_ENDPOINTS = (
    "sri4",
    "sri5",
    "sri6",
    "sri7",
    "sri8",
    "sledai_reduction4",
    "no_bilag_worsening",
    "no_pga_worsening",
    "bicla",
    "lldas",
    "steroid_reduction",
    "severe_flare",
    "perr",
    "crr",
)
Z975 = float(stats.norm.ppf(0.975))


def responders(
    ds: TrialDataset, endpoint: str = "sri4", week: float | None = None
) -> NDArray[np.float64]:
    """Response (1/0, NaN if not evaluable) of every subject for a named endpoint.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> y = responders(simulate_trial(load_scenario("bliss52"), seed=1), "sri4")
    >>> y.shape
    (865,)
    """
    if endpoint not in BINARY_ENDPOINTS:
        raise LupsimError(
            f"unknown binary endpoint {endpoint!r}; use one of {', '.join(BINARY_ENDPOINTS)}"
        )
    if endpoint.startswith("sri") and endpoint[3:].isdigit():
        return endpoints.sri(ds, week, int(endpoint[3:])).responder.astype(np.float64)
    r = (
        endpoints.sri(ds, week, 4)
        if endpoint in ("sledai_reduction4", "no_bilag_worsening", "no_pga_worsening")
        else None
    )
    if endpoint == "sledai_reduction4":
        assert r is not None
        return r.sledai_reduction.astype(np.float64)
    if endpoint == "no_bilag_worsening":
        assert r is not None
        return r.no_bilag_worsening.astype(np.float64)
    if endpoint == "no_pga_worsening":
        assert r is not None
        return r.no_pga_worsening.astype(np.float64)
    if endpoint == "bicla":
        return endpoints.bicla(ds, week).astype(np.float64)
    if endpoint == "lldas":
        return endpoints.lldas(ds, week).astype(np.float64)
    if endpoint == "steroid_reduction":
        return endpoints.steroid_reduction(ds)
    if endpoint == "severe_flare":
        return endpoints.flares(ds, week).any_severe.astype(np.float64)
    if endpoint == "perr":
        return endpoints.perr(ds, week).responder.astype(np.float64)
    if endpoint == "crr":
        return endpoints.crr(ds, week).responder.astype(np.float64)
    raise LupsimError(
        f"unknown binary endpoint {endpoint!r}; use one of {', '.join(BINARY_ENDPOINTS)}"
    )


def evaluable(ds: TrialDataset, week: float | None = None) -> NDArray[np.bool_]:
    """Whether each subject can count as a responder at ``week``.

    A subject is evaluable when they were still observed at that visit and had
    not failed treatment (protocol-prohibited medication) at or before it.
    Every built-in responder endpoint is ``False`` for the others: dropouts and
    treatment failures are non-responders. Combine an endpoint of your own with
    it (``&``) to follow the same rule.

    Parameters
    ----------
    ds
        A simulated (or loaded) trial.
    week
        Visit week (default: the primary week); it must be a visit of the trial.

    Returns
    -------
    numpy.ndarray
        One boolean per subject, in subject order.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> ok = evaluable(ds, 52)
    >>> ok.shape, bool(ok[0]) == bool(ds.arrays.observed[0, -1] and
    ...                               not ds.arrays.treatment_failure[0, -1])
    ((865,), True)
    >>> int(evaluable(ds, 0).sum())   # at baseline everyone is
    865
    """
    j = ds.visit_column(ds.primary_week if week is None else week)
    a = ds.arrays
    return np.asarray(a.observed[:, j] & ~a.treatment_failure[:, j], dtype=bool)


def _response(
    ds: TrialDataset, endpoint: str | ArrayLike, week: float | None
) -> NDArray[np.float64]:
    """The response vector of a named endpoint, or a user's array checked."""
    if isinstance(endpoint, str):
        return responders(ds, endpoint, week)
    y = np.asarray(endpoint)
    if y.shape != (ds.n,):
        raise LupsimError(
            f"a response array needs one value per subject, shape ({ds.n},); got shape {y.shape}"
        )
    if y.dtype.kind not in "biuf":
        raise LupsimError(
            f"a response array must be boolean or 1/0 (NaN: not evaluable); got dtype {y.dtype}"
        )
    y = y.astype(np.float64)
    bad = ~np.isnan(y) & (y != 0) & (y != 1)
    if bad.any():
        raise LupsimError(
            "a response array must be boolean or 1/0 (NaN: not evaluable); "
            f"got {y[bad][0]:g} for subject {int(np.flatnonzero(bad)[0])}"
        )
    return y


def _label(
    ds: TrialDataset, endpoint: str | ArrayLike, week: float | None, label: str | None
) -> str:
    name = label if label is not None else endpoint if isinstance(endpoint, str) else "response"
    return f"{name} at week {week if week is not None else ds.primary_week:g}"


@dataclass(frozen=True)
class LogitFit:
    """A fitted logistic regression: coefficients, standard errors, convergence."""

    params: NDArray[np.float64]
    se: NDArray[np.float64]
    converged: bool


def fit_logit(X: NDArray[np.float64], y: NDArray[np.float64], max_iter: int = 30) -> LogitFit:
    """Maximum-likelihood logistic regression by Newton-Raphson (IRLS).

    The same estimator as ``statsmodels.api.Logit(y, X).fit()`` (tested equal
    to 1e-8) without its per-call overhead, so that thousands of simulated
    trials can be analysed; reports use statsmodels directly.

    Examples
    --------
    >>> X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> fit = fit_logit(X, np.array([0, 1, 0, 1, 1, 0.0]))
    >>> round(float(np.exp(fit.params[1])), 4)   # odds ratio (2/1) / (1/2)
    4.0
    """
    beta = np.zeros(X.shape[1])
    converged = False
    info = np.eye(X.shape[1])
    for _ in range(max_iter):
        eta = X @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1.0 - p)
        grad = X.T @ (y - p)
        info = (X * w[:, None]).T @ X
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            converged = True
            break
    try:
        cov = np.linalg.inv(info)
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:
        se = np.full(beta.size, np.nan)
        converged = False
    # Separation: huge coefficients or SEs mean the MLE does not exist.
    if not np.all(np.isfinite(beta)) or np.any(np.abs(beta) > 25):
        converged = False
    return LogitFit(beta, se, converged)


def _design(
    ds: TrialDataset, adjust: bool, keep: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], list[str]]:
    """Intercept, one indicator per active arm, and the stratification flags."""
    arm = ds.arm_index[keep]
    control = ds.arms.index(ds.control)
    cols = [np.ones(arm.size)]
    names = ["intercept"]
    for k, name in enumerate(ds.arms):
        if k != control:
            cols.append((arm == k).astype(np.float64))
            names.append(name)
    if adjust:
        for j, rule in enumerate(ds.strata_rules):
            flag = ds.subject_arrays[f"stratum_factor_{j + 1}"][keep].astype(np.float64)
            if 0 < flag.sum() < flag.size:  # a constant factor adds nothing
                cols.append(flag)
                names.append(rule)
    return np.column_stack(cols), names


def design_matrix(
    ds: TrialDataset, *, adjust: bool = True, keep: ArrayLike | None = None
) -> tuple[NDArray[np.float64], list[str]]:
    """The design matrix of the primary logistic regression, and its column names.

    Columns: an intercept, one indicator per active arm (design order, the
    control arm left out), and, with ``adjust``, each stratification factor
    (a yes/no rule) that is not constant among the kept subjects. Add columns
    of your own to fit another model with :func:`fit_logit` or statsmodels.

    Parameters
    ----------
    ds
        A simulated (or loaded) trial.
    adjust
        Include the stratification factors.
    keep
        Boolean mask of the subjects to include (default: all).

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> X, names = design_matrix(ds)
    >>> X.shape, names[:3]
    ((865, 6), ['intercept', 'belimumab_1mg', 'belimumab_10mg'])
    >>> design_matrix(ds, adjust=False)[1]
    ['intercept', 'belimumab_1mg', 'belimumab_10mg']
    """
    mask = np.ones(ds.n, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    if mask.shape != (ds.n,):
        raise LupsimError(f"keep needs one value per subject, shape ({ds.n},); got {mask.shape}")
    return _design(ds, adjust, mask)


def logistic_regression(
    ds: TrialDataset,
    endpoint: str | ArrayLike = "sri4",
    week: float | None = None,
    *,
    adjust: bool = True,
    label: str | None = None,
) -> AnalysisResult:
    """Odds ratio of response for each active arm vs control, adjusted for strata.

    One model with an indicator per active arm (:func:`design_matrix`); each
    odds ratio with its Wald 95% CI and p-value.

    Parameters
    ----------
    ds
        A simulated (or loaded) trial.
    endpoint
        A binary endpoint name (:data:`BINARY_ENDPOINTS`), or one response per
        subject (boolean or 1/0; NaN leaves a subject out).
    week
        Visit week of a named endpoint (default: the primary week); with an
        array, only the week the result's name states.
    adjust
        Adjust for the stratification factors (as BLISS did).
    label
        Name of the endpoint in the result (default: the endpoint name, or
        ``"response"`` for an array).

    Examples
    --------
    Two arms of 4 subjects, 3/4 responders against 1/4: odds ratio
    (3/1) / (1/3) = 9.

    >>> from lupsim.scenario import parse_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(parse_scenario({"name": "t", "design": {
    ...     "outcome": "binomial", "n_randomised": 8, "arms": [
    ...     {"name": "control", "response_rate": 0.5},
    ...     {"name": "active", "response_rate": 0.5}]}}), seed=1)
    >>> y = np.zeros(8)
    >>> y[np.flatnonzero(ds.arm_index == 1)[:3]] = 1
    >>> y[np.flatnonzero(ds.arm_index == 0)[:1]] = 1
    >>> est = logistic_regression(ds, y, label="my endpoint").estimates[0]
    >>> est.comparison, round(est.estimate, 6)
    ('active vs control', 9.0)
    """
    y = _response(ds, endpoint, week)
    keep = ~np.isnan(y)
    X, _ = _design(ds, adjust, keep)
    fit = fit_logit(X, y[keep])
    control = ds.arms.index(ds.control)
    arm = ds.arm_index[keep]
    rows = []
    col = 1
    for k, name in enumerate(ds.arms):
        if k == control:
            continue
        b, se = fit.params[col], fit.se[col]
        ok = fit.converged and np.isfinite(se) and se > 0
        z = b / se if ok else np.nan
        rows.append(
            Estimate(
                comparison=f"{name} vs {ds.control}",
                measure="odds_ratio",
                estimate=float(np.exp(b)) if ok else float("nan"),
                ci_low=float(np.exp(b - Z975 * se)) if ok else float("nan"),
                ci_high=float(np.exp(b + Z975 * se)) if ok else float("nan"),
                p_value=float(2 * stats.norm.sf(abs(z))) if ok else float("nan"),
                n=int(((arm == k) | (arm == control)).sum()),
                method="logistic regression" + (" adjusted for strata" if adjust else ""),
            )
        )
        col += 1
    return AnalysisResult(
        name=_label(ds, endpoint, week, label),
        method="logistic regression (Wald)",
        estimates=tuple(rows),
        frames={},
    )


def _strata_key(ds: TrialDataset, keep: NDArray[np.bool_]) -> NDArray[np.int64]:
    key = np.zeros(int(keep.sum()), dtype=np.int64)
    for j in range(len(ds.strata_rules)):
        key = key * 2 + ds.subject_arrays[f"stratum_factor_{j + 1}"][keep].astype(np.int64)
    return key


def cmh(
    ds: TrialDataset,
    endpoint: str | ArrayLike = "sri4",
    week: float | None = None,
    *,
    label: str | None = None,
) -> AnalysisResult:
    """Mantel-Haenszel odds ratio over the randomisation strata, with the CMH test.

    Strata with a single arm or no variation carry no information and are
    dropped, as the Mantel-Haenszel estimator does implicitly. The test is
    without continuity correction.

    Parameters
    ----------
    ds
        A simulated (or loaded) trial.
    endpoint
        A binary endpoint name (:data:`BINARY_ENDPOINTS`), or one response per
        subject (boolean or 1/0; NaN leaves a subject out).
    week
        Visit week of a named endpoint (default: the primary week); with an
        array, only the week the result's name states.
    label
        Name of the endpoint in the result (default: the endpoint name, or
        ``"response"`` for an array).

    Examples
    --------
    A trial without strata is one 2x2 table: 3/4 against 1/4 responders, odds
    ratio 9.

    >>> from lupsim.scenario import parse_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(parse_scenario({"name": "t", "design": {
    ...     "outcome": "binomial", "n_randomised": 8, "arms": [
    ...     {"name": "control", "response_rate": 0.5},
    ...     {"name": "active", "response_rate": 0.5}]}}), seed=1)
    >>> y = np.zeros(8)
    >>> y[np.flatnonzero(ds.arm_index == 1)[:3]] = 1
    >>> y[np.flatnonzero(ds.arm_index == 0)[:1]] = 1
    >>> round(cmh(ds, y).estimates[0].estimate, 6)
    9.0
    """
    from statsmodels.stats.contingency_tables import StratifiedTable

    y = _response(ds, endpoint, week)
    keep = ~np.isnan(y)
    y = y[keep]
    arm = ds.arm_index[keep]
    strata = _strata_key(ds, keep)
    control = ds.arms.index(ds.control)
    rows = []
    for k, name in enumerate(ds.arms):
        if k == control:
            continue
        tables = []
        for s in np.unique(strata):
            sel = strata == s
            a = y[sel & (arm == k)]
            c = y[sel & (arm == control)]
            if a.size == 0 or c.size == 0:
                continue
            tables.append([[a.sum(), a.size - a.sum()], [c.sum(), c.size - c.sum()]])
        n = int(((arm == k) | (arm == control)).sum())
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                st = StratifiedTable(np.asarray(tables, dtype=float).transpose(1, 2, 0))
                lo, hi = st.oddsratio_pooled_confint()
                est = Estimate(
                    comparison=f"{name} vs {ds.control}",
                    measure="odds_ratio",
                    estimate=float(st.oddsratio_pooled),
                    ci_low=float(lo),
                    ci_high=float(hi),
                    p_value=float(st.test_null_odds(correction=False).pvalue),
                    n=n,
                    method="Cochran-Mantel-Haenszel",
                )
        except (ValueError, ZeroDivisionError, IndexError):
            est = Estimate(
                f"{name} vs {ds.control}",
                "odds_ratio",
                float("nan"),
                float("nan"),
                float("nan"),
                float("nan"),
                n,
                "Cochran-Mantel-Haenszel",
            )
        rows.append(est)
    return AnalysisResult(
        name=_label(ds, endpoint, week, label),
        method="Cochran-Mantel-Haenszel",
        estimates=tuple(rows),
        frames={},
    )


def risk_difference(
    ds: TrialDataset,
    endpoint: str | ArrayLike = "sri4",
    week: float | None = None,
    *,
    label: str | None = None,
) -> AnalysisResult:
    """Difference in response rates (active minus control, percentage points),
    Newcombe hybrid-score 95% CI, and the score test p-value.

    Parameters
    ----------
    ds
        A simulated (or loaded) trial.
    endpoint
        A binary endpoint name (:data:`BINARY_ENDPOINTS`), or one response per
        subject (boolean or 1/0; NaN leaves a subject out).
    week
        Visit week of a named endpoint (default: the primary week); with an
        array, only the week the result's name states.
    label
        Name of the endpoint in the result (default: the endpoint name, or
        ``"response"`` for an array).

    Examples
    --------
    3/4 against 1/4 responders: 75% - 25% = 50 points.

    >>> from lupsim.scenario import parse_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(parse_scenario({"name": "t", "design": {
    ...     "outcome": "binomial", "n_randomised": 8, "arms": [
    ...     {"name": "control", "response_rate": 0.5},
    ...     {"name": "active", "response_rate": 0.5}]}}), seed=1)
    >>> y = np.zeros(8)
    >>> y[np.flatnonzero(ds.arm_index == 1)[:3]] = 1
    >>> y[np.flatnonzero(ds.arm_index == 0)[:1]] = 1
    >>> round(risk_difference(ds, y).estimates[0].estimate, 6)
    50.0
    """
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        test_proportions_2indep,
    )

    y = _response(ds, endpoint, week)
    keep = ~np.isnan(y)
    y = y[keep]
    arm = ds.arm_index[keep]
    control = ds.arms.index(ds.control)
    c = y[arm == control]
    rows = []
    for k, name in enumerate(ds.arms):
        if k == control:
            continue
        a = y[arm == k]
        lo, hi = confint_proportions_2indep(
            a.sum(), a.size, c.sum(), c.size, method="newcomb", compare="diff"
        )
        p = test_proportions_2indep(
            a.sum(), a.size, c.sum(), c.size, method="score", compare="diff"
        ).pvalue
        rows.append(
            Estimate(
                comparison=f"{name} vs {ds.control}",
                measure="risk_difference",
                estimate=100 * float(a.mean() - c.mean()),
                ci_low=100 * float(lo),
                ci_high=100 * float(hi),
                p_value=float(p),
                n=int(a.size + c.size),
                method="risk difference (Newcombe CI, score test)",
            )
        )
    return AnalysisResult(
        name=_label(ds, endpoint, week, label),
        method="risk difference",
        estimates=tuple(rows),
        frames={},
    )
