"""Time to first severe flare: Cox regression, Kaplan-Meier curves, log-rank tests.

Time is the study day of the first visit with a severe flare by the modified
SELENA flare index (:func:`lupsim.analysis.endpoints.flares`), censored at the
last visit seen; flares are only known at visits, so times are visit days.

- :func:`cox_time_to_severe_flare` - proportional hazards (statsmodels
  ``PHReg``, Efron ties) on arm, stratified by the randomisation strata: the
  hazard ratio of every active arm against control.
- :func:`kaplan_meier` - survival free of severe flare per arm (statsmodels
  ``SurvfuncRight``) with pointwise log-log 95% intervals, the log-rank test
  (statsmodels ``survdiff``) over all arms and of each active arm against
  control, and a plot.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
>>> km = kaplan_meier(ds)
>>> list(km.summary()["arm"])
['placebo', 'belimumab_1mg', 'belimumab_10mg']
"""

from __future__ import annotations

import html
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from lupsim.analysis.endpoints import flares
from lupsim.analysis.results import (
    AnalysisResult,
    Estimate,
    comparison_label,
    wald_interval,
)
from lupsim.trial.dataset import TrialDataset

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["KaplanMeierResult", "cox_time_to_severe_flare", "kaplan_meier"]

_LEVEL = 0.95
_MEASURE = "hazard_ratio"
#: |log hazard ratio| beyond which the fit is taken to diverge (ratio < 1e-7).
_MONOTONE = 16.0


def cox_time_to_severe_flare(
    ds: TrialDataset, week: float | None = None, *, stratified: bool = True
) -> AnalysisResult:
    """Cox model of time to first severe flare on arm, stratified by the strata.

    Parameters
    ----------
    ds
        The trial.
    week
        Flares up to this visit count (default: the primary week); later
        follow-up is censored there.
    stratified
        Give each randomisation stratum (combination of the ``STRAT*``
        factors) its own baseline hazard, as the design balanced arms
        within them.

    Returns
    -------
    AnalysisResult
        One ``hazard_ratio`` per active arm (< 1: fewer severe flares) with
        a 95% Wald CI and Wald p-value; ``n`` counts both arms. A comparison
        in which either arm has no flare, or whose partial likelihood is
        monotone, has no finite estimate: NaN with a note. Frames: ``events``
        (per arm: n, events, follow-up days).

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> r = cox_time_to_severe_flare(ds)
    >>> e = r.estimate_for("belimumab_10mg vs placebo")
    >>> e.measure, e.ci_low < e.estimate < e.ci_high
    ('hazard_ratio', True)
    """
    wk = float(ds.primary_week if week is None else week)
    f = flares(ds, wk)
    time = f.time_to_severe
    event = f.severe_event
    arm = ds.arm_index
    control = ds.arms.index(ds.control)
    active = [(k, a) for k, a in enumerate(ds.arms) if a != ds.control]
    events_frame = pd.DataFrame(
        [
            {
                "arm": name,
                "n": int((arm == k).sum()),
                "events": int(event[arm == k].sum()),
                "follow_up_days": float(time[arm == k].sum()),
            }
            for k, name in enumerate(ds.arms)
        ]
    )
    strata = _strata_key(ds) if stratified else None
    method = "Cox PH (Efron ties" + (
        ", stratified by randomisation strata)" if strata is not None else ")"
    )

    # Arms without any flare have no finite log hazard ratio: they are left
    # out of the model (with their rows) so the other comparisons still fit.
    has_events = {k: bool(event[arm == k].any()) for k in range(len(ds.arms))}
    fitted = [(k, a) for k, a in active if has_events[k]]
    rows = np.isin(arm, [control, *[k for k, _ in fitted]])
    params = np.full(len(fitted), np.nan)
    cov = np.full((len(fitted), len(fitted)), np.nan)
    notes: list[str] = []
    if fitted and has_events[control]:
        exog = np.column_stack([(arm[rows] == k).astype(np.float64) for k, _ in fitted])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = PHReg(
                time[rows],
                exog,
                status=event[rows].astype(np.float64),
                strata=None if strata is None else strata[rows],
                ties="efron",
            )
            fit = model.fit()
        notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
        params = np.asarray(fit.params, dtype=np.float64)
        cov = np.asarray(fit.cov_params(), dtype=np.float64)

    estimates = []
    for k, name in active:
        n_pair = int(np.isin(arm, [control, k]).sum())
        label = comparison_label(name, ds.control)
        empty = [ds.arms[i] for i in (control, k) if not has_events[i]]
        if empty:
            note = f"no severe flare in {' or '.join(empty)}: the hazard ratio is not estimable"
            nan = math.nan
            estimates.append(Estimate(label, _MEASURE, nan, nan, nan, nan, n_pair, method, note))
            continue
        i = [a for _, a in fitted].index(name)
        b, se = float(params[i]), float(np.sqrt(cov[i, i]))
        if not (math.isfinite(b) and math.isfinite(se)) or abs(b) > _MONOTONE:
            # E.g. every flare of one arm happens when only that arm is at
            # risk: the partial likelihood keeps rising as the ratio goes to
            # 0 or infinity, and the optimiser stops somewhere meaningless.
            note = "monotone partial likelihood: the hazard ratio is not estimable"
            nan = math.nan
            estimates.append(Estimate(label, _MEASURE, nan, nan, nan, nan, n_pair, method, note))
            continue
        lo, hi, p = wald_interval(b, se, _LEVEL)
        estimates.append(
            Estimate(label, _MEASURE, math.exp(b), math.exp(lo), math.exp(hi), p, n_pair, method)
        )
    return AnalysisResult(
        name=f"time_to_severe_flare to week {wk:g}",
        method=method,
        estimates=tuple(estimates),
        frames={"events": events_frame},
        notes=tuple(notes),
        ci_level=_LEVEL,
    )


@dataclass(frozen=True, eq=False)
class KaplanMeierResult:
    """Kaplan-Meier curves of freedom from severe flare, per arm.

    Attributes
    ----------
    curves
        Tidy frame, one row per arm and time (study day) at which the curve
        steps, with a first row at day 0 and, if follow-up goes on after the
        last flare, a last row at the last follow-up time: ``arm, time,
        survival, ci_low, ci_high, at_risk, events``. Intervals are pointwise, log-log
        transformed Greenwood intervals.
    arms
        Arm names in design order; the first is the control arm.
    logrank_chi2, logrank_df, logrank_p
        Log-rank test of equal survival in all arms.
    pairwise_p
        Log-rank p-value of each active arm against control.
    counts
        Per arm: subjects and events.
    name
        What the curves are of.
    """

    curves: pd.DataFrame
    arms: tuple[str, ...]
    logrank_chi2: float
    logrank_df: int
    logrank_p: float
    pairwise_p: dict[str, float]
    counts: pd.DataFrame
    name: str = "time_to_severe_flare"

    def summary(self) -> pd.DataFrame:
        """Per arm: n, events, median time (NaN while above 50%), survival at
        the last time and the log-rank p-value against control."""
        rows = []
        for _, c in self.counts.iterrows():
            curve = self.curves[self.curves["arm"] == c["arm"]]
            below = curve[curve["survival"] <= 0.5]
            rows.append(
                {
                    "arm": c["arm"],
                    "n": int(c["n"]),
                    "events": int(c["events"]),
                    "median_time": float(below["time"].iloc[0]) if len(below) else math.nan,
                    "survival_end": float(curve["survival"].iloc[-1]),
                    "logrank_p_vs_control": self.pairwise_p.get(str(c["arm"]), math.nan),
                }
            )
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """The curves (tidy, one row per arm and time)."""
        return self.curves.copy()

    def survival_at(self, arm: str, time: float) -> float:
        """Kaplan-Meier estimate of one arm at a study day (right-continuous)."""
        curve = self.curves[self.curves["arm"] == arm]
        return float(curve.loc[curve["time"] <= time, "survival"].iloc[-1])

    def __str__(self) -> str:
        head = (
            f"{self.name}: Kaplan-Meier by arm; log-rank chi2 = {self.logrank_chi2:.3f} "
            f"on {self.logrank_df} df, p = {self.logrank_p:.4g}"
        )
        return (
            head + "\n" + self.summary().to_string(index=False, float_format=lambda x: f"{x:.4g}")
        )

    def _repr_html_(self) -> str:
        head = html.escape(f"{self.name}: Kaplan-Meier by arm; log-rank p = {self.logrank_p:.4g}")
        return f"<h4>{head}</h4>" + self.summary().to_html(
            index=False, float_format=lambda x: f"{x:.4g}"
        )

    def plot(self, ax: Axes | None = None, *, ci: bool = True) -> Axes:
        """Step curves per arm (x in weeks since randomisation), with
        shaded confidence bands."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 4.0))
        for k, arm in enumerate(self.arms):
            c = self.curves[self.curves["arm"] == arm]
            weeks = c["time"].to_numpy() / 7.0
            ax.step(weeks, c["survival"], where="post", color=f"C{k}", label=arm)
            if ci:
                ax.fill_between(
                    weeks,
                    c["ci_low"].fillna(c["survival"]),
                    c["ci_high"].fillna(c["survival"]),
                    step="post",
                    color=f"C{k}",
                    alpha=0.15,
                    lw=0,
                )
        ax.set_xlabel("Weeks since randomisation")
        ax.set_ylabel("Free of severe flare")
        ax.set_ylim(0.0, 1.02)
        ax.set_title(f"{self.name} (log-rank p = {self.logrank_p:.3g})")
        ax.legend(loc="lower left")
        return ax


def kaplan_meier(ds: TrialDataset, week: float | None = None) -> KaplanMeierResult:
    """Kaplan-Meier curves of time to first severe flare per arm, with log-rank tests.

    Parameters
    ----------
    ds
        The trial.
    week
        Flares up to this visit count (default: the primary week).

    Returns
    -------
    KaplanMeierResult
        Curves as a tidy frame, the overall and pairwise (vs control)
        log-rank tests, and ``plot(ax=None)``.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> km = kaplan_meier(simulate_trial(load_scenario("bliss52"), seed=1))
    >>> km.curves.columns.tolist()
    ['arm', 'time', 'survival', 'ci_low', 'ci_high', 'at_risk', 'events']
    >>> bool(km.curves["survival"].between(0, 1).all())
    True
    """
    wk = float(ds.primary_week if week is None else week)
    f = flares(ds, wk)
    time = f.time_to_severe
    event = f.severe_event.astype(np.float64)
    arm = ds.arm_index
    control = ds.arms.index(ds.control)
    order = [control, *[k for k in range(len(ds.arms)) if k != control]]
    arms = tuple(ds.arms[k] for k in order)

    curves = [_curve(ds.arms[k], time[arm == k], event[arm == k]) for k in order]
    present = [k for k in order if (arm == k).any()]
    chi2, p = _logrank(time, event, arm, present)
    pairwise = {}
    for k in order[1:]:
        pair = [control, k]
        ok = all((arm == i).any() for i in pair)
        pairwise[ds.arms[k]] = _logrank(time, event, arm, pair)[1] if ok else math.nan
    counts = pd.DataFrame(
        [
            {"arm": ds.arms[k], "n": int((arm == k).sum()), "events": int(event[arm == k].sum())}
            for k in order
        ]
    )
    return KaplanMeierResult(
        curves=pd.concat(curves, ignore_index=True),
        arms=arms,
        logrank_chi2=chi2,
        logrank_df=max(len(present) - 1, 0),
        logrank_p=p,
        pairwise_p=pairwise,
        counts=counts,
        name=f"time_to_severe_flare to week {wk:g}",
    )


def _curve(arm: str, time: NDArray[np.float64], event: NDArray[np.float64]) -> pd.DataFrame:
    """One arm's curve: day 0, every event time, and the last follow-up time."""
    start = pd.DataFrame(
        {
            "arm": [arm],
            "time": [0.0],
            "survival": [1.0],
            "ci_low": [1.0],
            "ci_high": [1.0],
            "at_risk": [int(time.size)],
            "events": [0],
        }
    )
    parts = [start]
    if event.any():
        sf = SurvfuncRight(time, event)
        surv = np.asarray(sf.surv_prob, dtype=np.float64)
        lo, hi = _loglog_interval(surv, np.asarray(sf.surv_prob_se, dtype=np.float64))
        # A first flare at day 0 is impossible (flares are post-baseline), so
        # the day-0 row never duplicates a step.
        parts.append(
            pd.DataFrame(
                {
                    "arm": arm,
                    "time": np.asarray(sf.surv_times, dtype=np.float64),
                    "survival": surv,
                    "ci_low": lo,
                    "ci_high": hi,
                    "at_risk": np.asarray(sf.n_risk, dtype=np.int64),
                    "events": np.asarray(sf.n_events, dtype=np.int64),
                }
            )
        )
    # The curve runs on, flat, to the last follow-up time (a censoring).
    end = float(time.max()) if time.size else 0.0
    last = parts[-1].iloc[[-1]]
    if end > float(last["time"].iloc[0]):
        parts.append(last.assign(time=end, at_risk=int((time >= end).sum()), events=0))
    return pd.concat(parts, ignore_index=True)


def _loglog_interval(
    surv: NDArray[np.float64], se: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Pointwise CI on the log(-log S) scale (Kalbfleisch-Prentice), which
    stays inside (0, 1); ``se`` is Greenwood's standard error of S."""
    z = float(stats.norm.ppf(0.5 + _LEVEL / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(surv)
        width = z * se / (surv * np.abs(log_s))
        lo = surv ** np.exp(width)
        hi = surv ** np.exp(-width)
    # S = 1 (no event yet): no uncertainty to show; S = 0: interval undefined.
    lo = np.where(surv >= 1.0, 1.0, np.where(surv <= 0.0, np.nan, lo))
    hi = np.where(surv >= 1.0, 1.0, np.where(surv <= 0.0, np.nan, hi))
    return lo, hi


def _logrank(
    time: NDArray[np.float64],
    event: NDArray[np.float64],
    arm: NDArray[np.int8],
    arms: list[int],
) -> tuple[float, float]:
    """Log-rank chi-square and p-value among ``arms`` (NaN if untestable)."""
    sel = np.isin(arm, arms)
    if len(arms) < 2 or not event[sel].any():
        return math.nan, math.nan
    chi2, p = survdiff(time[sel], event[sel], arm[sel].astype(np.int64))
    return float(chi2), float(p)


def _strata_key(ds: TrialDataset) -> NDArray[np.int64] | None:
    """One integer per randomisation stratum (combination of STRAT flags)."""
    cols = [c for c in ds.subjects.columns if c.startswith("STRAT")]
    if not cols:
        return None
    key = np.zeros(ds.n, dtype=np.int64)
    for c in cols:
        key = key * 2 + ds.subjects[c].to_numpy(dtype=np.int64)
    return key
