"""Run a trial's analysis plan: primary, secondary, multiplicity.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> s = load_scenario("bliss52")
>>> report = analyse(simulate_trial(s, seed=1), s.analysis)
>>> report.primary.method
'logistic regression (Wald)'
>>> list(report.multiplicity.columns)[:3]
['hypothesis', 'p_value', 'adjusted_p']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lupsim.analysis import binary, continuous, multiplicity, survival
from lupsim.analysis.interim import SequentialResult, sequential_analysis
from lupsim.analysis.plan import AnalysisPlan, AnalysisSpec
from lupsim.analysis.results import AnalysisResult
from lupsim.trial.dataset import TrialDataset

__all__ = ["AnalysisReport", "analyse", "run_analysis"]


def _binary(
    fn: Callable[..., AnalysisResult], **kw: object
) -> Callable[[TrialDataset, AnalysisSpec], AnalysisResult]:
    return lambda ds, spec: fn(ds, spec.endpoint, spec.week, **kw)


_DISPATCH: dict[str, Callable[[TrialDataset, AnalysisSpec], AnalysisResult]] = {
    "logistic": _binary(binary.logistic_regression),
    "logistic_unadjusted": _binary(binary.logistic_regression, adjust=False),
    "cmh": _binary(binary.cmh),
    "risk_difference": _binary(binary.risk_difference),
    "ancova": lambda ds, spec: continuous.ancova_change(ds, spec.week),
    "mixed_model": lambda ds, spec: continuous.mixed_model(ds, spec.week),
    "gee": lambda ds, spec: continuous.gee(ds, spec.week),
    "cox": lambda ds, spec: survival.cox_time_to_severe_flare(ds, spec.week),
}


#: Primary methods the group-sequential looks can use (a Wald z per comparison).
_SEQUENTIAL_METHODS = ("logistic", "logistic_unadjusted", "cmh", "risk_difference")


def run_analysis(ds: TrialDataset, spec: AnalysisSpec) -> AnalysisResult:
    """One analysis of the plan on a dataset.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> res = run_analysis(simulate_trial(load_scenario("bliss52"), seed=1),
    ...                    AnalysisSpec(endpoint="sri4", method="cmh"))
    >>> res.method
    'Cochran-Mantel-Haenszel'
    """
    return _DISPATCH[spec.method](ds, spec)


@dataclass(frozen=True)
class AnalysisReport:
    """The plan's results: primary, secondary, and the multiplicity decision.

    ``sequential`` holds the interim looks and the group-sequential decisions
    (:mod:`lupsim.analysis.interim`) when the plan has an ``interim`` table and
    the trial had milestones; the fixed-sample multiplicity table then shows
    the final analysis as if there had been no look.
    """

    plan: AnalysisPlan
    primary: AnalysisResult
    secondary: tuple[AnalysisResult, ...]
    multiplicity: pd.DataFrame
    sequential: SequentialResult | None = None

    def summary(self) -> pd.DataFrame:
        """Every estimate of every analysis, one row each."""
        frames = []
        for role, res in (("primary", self.primary), *(("secondary", r) for r in self.secondary)):
            f = res.summary()
            f.insert(0, "analysis", res.name)
            f.insert(0, "role", role)
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    def __str__(self) -> str:
        lines = [f"Primary: {self.primary.name}", str(self.primary), ""]
        lines.append(
            f"Primary family, {self.plan.multiplicity} at {self.plan.sided}-sided alpha "
            f"{self.plan.alpha:g}:"
        )
        lines.append(self.multiplicity.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        for res in self.secondary:
            lines += ["", f"Secondary: {res.name} ({res.method})", str(res)]
        if self.sequential is not None:
            lines += ["", str(self.sequential)]
        return "\n".join(lines)


def analyse(ds: TrialDataset, plan: AnalysisPlan | None = None) -> AnalysisReport:
    """Run an analysis plan (default: SRI-4 by adjusted logistic regression).

    The primary family is each active arm against control. Its p-values are
    two-sided when the plan is two-sided (tested at ``alpha``), one-sided in
    the direction of benefit otherwise, and adjusted by the plan's procedure.
    With an ``interim`` table and a binary primary endpoint, the report also
    has the trial's interim looks and group-sequential decisions.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> s = load_scenario("interim-gsd")
    >>> rep = analyse(simulate_trial(s, seed=1), s.analysis)
    >>> rep.sequential.looks[0].name
    'IA1'
    """
    plan = plan or AnalysisPlan()
    primary = run_analysis(ds, plan.primary)
    secondary = tuple(run_analysis(ds, s) for s in plan.secondary)
    names = [e.comparison for e in primary.estimates]
    p = np.array([e.p_value for e in primary.estimates], dtype=float)
    if plan.sided == "one":
        # One-sided p in the direction of benefit (OR > 1 for response).
        est = np.array([e.estimate for e in primary.estimates], dtype=float)
        null = np.array([e.null_value for e in primary.estimates], dtype=float)
        p = np.where(est > null, p / 2, 1 - p / 2)
    finite = np.isfinite(p)
    p_use = np.where(finite, p, 1.0)
    alpha = plan.alpha
    if plan.multiplicity == "none":
        adjusted = p_use
        reject = p_use <= alpha
    else:
        fn = {
            "bonferroni": multiplicity.bonferroni,
            "holm": multiplicity.holm,
            "hochberg": multiplicity.hochberg,
        }.get(plan.multiplicity)
        if fn is not None:
            res = fn(p_use, alpha, names=names)
        else:  # fixed sequence: the highest dose (last arm) first
            res = multiplicity.fixed_sequence(
                p_use, list(range(len(names)))[::-1], alpha, names=names
            )
        adjusted = np.asarray(res.adjusted, dtype=float)
        reject = np.asarray(res.reject, dtype=bool)
    table = pd.DataFrame(
        {
            "hypothesis": names,
            "p_value": p,
            "adjusted_p": np.where(finite, adjusted, np.nan),
            "reject": reject & finite,
            "procedure": plan.multiplicity,
        }
    )
    # Interim looks: rerun the primary analysis at each milestone's data cut.
    sequential = (
        sequential_analysis(ds, plan)
        if plan.interim is not None and plan.primary.method in _SEQUENTIAL_METHODS
        else None
    )
    return AnalysisReport(plan, primary, secondary, table, sequential)
