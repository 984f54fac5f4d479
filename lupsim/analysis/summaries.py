"""Per-arm, per-visit summaries with confidence intervals.

The descriptive companions of the trial's formal analyses: the SRI response
rate of each arm at each visit with a Wilson interval, and the mean change of
SELENA-SLEDAI from baseline with a t interval. Reports and notebooks draw
them; the estimation lives here so that every number a report shows comes
from :mod:`lupsim.analysis`.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
>>> sorted(sri_rates(ds)["arm"].unique()) == sorted(ds.arms)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from lupsim.analysis.binary import responders
from lupsim.analysis.results import wald_interval
from lupsim.trial.dataset import TrialDataset

__all__ = ["LEVEL", "response_rates", "sledai_change", "sri_rates"]

#: Default confidence level of the intervals.
LEVEL = 0.95


def sri_rates(ds: TrialDataset, reduction: int = 4, level: float = LEVEL) -> pd.DataFrame:
    """SRI response per arm and post-baseline visit, with 95% Wilson intervals.

    Denominators are everyone randomised to the arm: dropouts and treatment
    failures are non-responders (:func:`lupsim.analysis.endpoints.sri`).

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> t = sri_rates(simulate_trial(load_scenario("bliss52"), seed=1))
    >>> t.columns.tolist()
    ['arm', 'week', 'n', 'responders', 'pct', 'ci_low', 'ci_high']
    """
    return response_rates(ds, f"sri{reduction}", level)


def response_rates(ds: TrialDataset, endpoint: str = "sri4", level: float = LEVEL) -> pd.DataFrame:
    """Response to a named binary endpoint per arm and post-baseline visit, with
    95% Wilson intervals.

    ``endpoint`` is one of :data:`lupsim.analysis.binary.BINARY_ENDPOINTS`.
    Denominators are the subjects the endpoint judges at the visit: everyone
    randomised for responder endpoints (dropouts and treatment failures are
    non-responders), fewer only where the endpoint leaves some out (steroid
    reduction: patients on > 7.5 mg/day at baseline).

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> t = response_rates(simulate_trial(load_scenario("nephritis-addon"), seed=1), "perr")
    >>> t.columns.tolist()
    ['arm', 'week', 'n', 'responders', 'pct', 'ci_low', 'ci_high']
    """
    rows = []
    arm = ds.arm_index
    for week in ds.visit_weeks[1:]:
        y = responders(ds, endpoint, week)
        for k, name in enumerate(ds.arms):
            yk = y[(arm == k) & ~np.isnan(y)]
            n = int(yk.size)
            r = int(yk.sum())
            lo, hi = proportion_confint(r, n, alpha=1 - level, method="wilson") if n else (0, 0)
            rows.append(
                {
                    "arm": name,
                    "week": float(week),
                    "n": n,
                    "responders": r,
                    "pct": 100.0 * r / n if n else np.nan,
                    "ci_low": 100.0 * float(lo) if n else np.nan,
                    "ci_high": 100.0 * float(hi) if n else np.nan,
                }
            )
    return pd.DataFrame(rows)


def sledai_change(ds: TrialDataset, level: float = LEVEL) -> pd.DataFrame:
    """Mean change of SELENA-SLEDAI from baseline per arm and visit, among
    subjects seen at the visit, with a 95% t interval.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> t = sledai_change(simulate_trial(load_scenario("bliss52"), seed=1))
    >>> float(t.loc[t["week"] == 0, "mean"].abs().max())
    0.0
    """
    a = ds.arrays
    change = a.selena.astype(np.float64) - a.selena[:, :1].astype(np.float64)
    rows = []
    for j, week in enumerate(ds.visit_weeks):
        for k, name in enumerate(ds.arms):
            values = change[(ds.arm_index == k) & a.observed[:, j], j]
            n = int(values.size)
            mean = float(values.mean()) if n else np.nan
            se = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
            lo, hi, _ = wald_interval(mean, se, level, df=n - 1 if n > 1 else None)
            if se == 0.0:  # baseline, or everyone alike: no spread to show
                lo = hi = mean
            rows.append(
                {
                    "arm": name,
                    "week": float(week),
                    "n": n,
                    "mean": mean,
                    "ci_low": lo,
                    "ci_high": hi,
                }
            )
    return pd.DataFrame(rows)
