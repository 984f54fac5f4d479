"""Group-sequential analysis of one trial: its interim looks and what they decide.

A design's milestones (``[[design.milestones]]``, e.g. "433 patients reached
week 52") are interim looks when the analysis plan has an
``[analysis.interim]`` table. At each look the primary analysis is rerun on the
data available that day (:meth:`lupsim.trial.dataset.TrialDataset.cut`)
among the subjects *due* at the primary visit by then (randomised at least the
primary week before the look, or already seen at it): dropouts and treatment
failures among them are non-responders, as at the final analysis, and
subjects not yet due are left out (counting them as non-responders would pull
every interim z towards 0). Its Wald z statistic per comparison is compared
with Lan-DeMets boundaries (:mod:`lupsim.analysis.gsd`) at the look's
information fraction (subjects due over the planned patients), and a
comparison whose z reaches the efficacy boundary stops the trial for it. The futility boundaries
are non-binding: crossing one is recorded, and stops the trial only with
``stop_for_futility = true``. A comparison that does not stop is tested at the
final analysis against the last efficacy boundary. With ``multiplicity =
"bonferroni"`` each comparison's boundaries spend alpha / (number of
comparisons); the other procedures are not combined with interim looks.

The same code decides every replicate of a power run
(:func:`lupsim.analysis.power.analyse_replicate`), so one simulated trial's
account (:func:`sequential_analysis`) and the power table agree.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> s = load_scenario("interim-gsd")
>>> seq = sequential_analysis(simulate_trial(s, seed=1), s.analysis)
>>> [look.name for look in seq.looks], round(seq.looks[0].information, 2)
(['IA1'], 0.62)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from lupsim.analysis.binary import fit_logit, responders
from lupsim.analysis.plan import AnalysisPlan
from lupsim.errors import LupsimError

__all__ = [
    "Decision",
    "Look",
    "SequentialResult",
    "comparison_alpha",
    "final_day",
    "primary_statistics",
    "sequential_analysis",
]


def primary_statistics(
    ds: Any, plan: AnalysisPlan, include: NDArray[np.bool_] | None = None
) -> list[dict[str, Any]]:
    """The plan's primary analysis of one dataset, per active arm.

    One record per comparison: ``comparison``, ``log_or`` (or the method's
    estimate on its scale), ``se``, Wald ``z`` (NaN when the fit failed),
    ``rate_control``, ``rate_arm`` and ``n``. The adjusted logistic regression
    is fitted directly (the fast path of power runs); CMH and risk difference
    go through :mod:`lupsim.analysis.binary`. ``include`` (a mask over
    subjects) leaves the others out of the analysis.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> recs = primary_statistics(simulate_trial(load_scenario("bliss52"), seed=1), AnalysisPlan())
    >>> [r["comparison"] for r in recs]
    ['belimumab_1mg vs placebo', 'belimumab_10mg vs placebo']
    """
    spec = plan.primary
    y = responders(ds, spec.endpoint, spec.week)
    if include is not None:
        y = np.where(include, y, np.nan)
    keep = ~np.isnan(y)
    from lupsim.analysis.binary import _design

    X, _ = _design(ds, spec.method == "logistic", keep)
    fit = fit_logit(X, y[keep]) if spec.method in ("logistic", "logistic_unadjusted") else None
    control = ds.arms.index(ds.control)
    arm = ds.arm_index[keep]
    yk = y[keep]
    out = []
    col = 1
    for k, name in enumerate(ds.arms):
        if k == control:
            continue
        rate_c = float(yk[arm == control].mean()) if (arm == control).any() else float("nan")
        rate_a = float(yk[arm == k].mean()) if (arm == k).any() else float("nan")
        if fit is not None:
            b, se = float(fit.params[col]), float(fit.se[col])
            ok = fit.converged and np.isfinite(se) and se > 0
        else:
            b, se, ok = _other_method(ds, plan, k, y if include is not None else None)
        z = b / se if ok else float("nan")
        out.append(
            {
                "comparison": f"{name} vs {ds.control}",
                "log_or": b if ok else float("nan"),
                "se": se if ok else float("nan"),
                "z": z,
                "rate_control": rate_c,
                "rate_arm": rate_a,
                "n": int(((arm == k) | (arm == control)).sum()),
            }
        )
        col += 1
    return out


def _other_method(
    ds: Any, plan: AnalysisPlan, k: int, y: NDArray[np.float64] | None = None
) -> tuple[float, float, bool]:
    """log estimate and SE from the general analysis functions (slower path)."""
    from lupsim.analysis.binary import Z975, cmh, risk_difference

    spec = plan.primary
    fn = {"cmh": cmh, "risk_difference": risk_difference}.get(spec.method)
    if fn is None:
        raise LupsimError(
            f"analysis.primary.method {spec.method!r} is not supported for power runs "
            "or interim looks; use logistic, logistic_unadjusted, cmh or risk_difference"
        )
    res = fn(ds, y if y is not None else spec.endpoint, spec.week, label=spec.endpoint)
    name = ds.arms[k]
    est = res.estimate_for(f"{name} vs {ds.control}")
    if not np.isfinite(est.estimate) or not np.isfinite(est.p_value):
        return float("nan"), float("nan"), False
    if est.measure == "odds_ratio":
        b = math.log(est.estimate)
        se = (math.log(est.ci_high) - math.log(est.ci_low)) / (2 * Z975)
    else:
        b = est.estimate
        se = (est.ci_high - est.ci_low) / (2 * Z975)
    return b, se, se > 0


def comparison_alpha(plan: AnalysisPlan, comparisons: int) -> float:
    """One-sided alpha each comparison is tested at: the plan's, split equally
    by Bonferroni when the plan says so.

    Examples
    --------
    >>> comparison_alpha(AnalysisPlan(alpha=0.05, multiplicity="bonferroni"), 2)
    0.0125
    """
    if plan.multiplicity == "bonferroni":
        return plan.one_sided_alpha / max(comparisons, 1)
    return plan.one_sided_alpha


@dataclass(frozen=True)
class _Boundaries:
    efficacy: tuple[float, ...]
    futility: tuple[float, ...] | None


_BOUNDARY_CACHE: dict[tuple[Any, ...], _Boundaries] = {}


def _boundaries(
    fractions: tuple[float, ...], alpha: float, spending: str, beta: float | None
) -> _Boundaries:
    """Efficacy (and futility) z boundaries at the information fractions (cached:
    every replicate of a power run has the same fractions)."""
    key = (fractions, alpha, spending, beta)
    if key not in _BOUNDARY_CACHE:
        from lupsim.analysis import gsd

        design = gsd.group_sequential_design(
            fractions, alpha, "pocock" if spending == "pocock" else "obf", beta=beta
        )
        _BOUNDARY_CACHE[key] = _Boundaries(
            tuple(float(z) for z in design.efficacy_z),
            None if beta is None else tuple(float(z) for z in design.futility_z),
        )
    return _BOUNDARY_CACHE[key]


def final_day(ds: Any) -> float:
    """Calendar day of the final analysis: the data cut, else the last visit."""
    for day, event, _ in ds.event_log.milestones:
        if event == "data_cut":
            return float(day)
    return float(np.nanmax(ds.subject_arrays["rand_calendar_day"] + ds.arrays.day[:, -1]))


@dataclass(frozen=True)
class Look:
    """One interim look.

    Attributes
    ----------
    number, name
        Look number (1, 2, ...) and the milestone's name (e.g. ``"IA1"``).
    day
        Calendar day of the look (trial start = day 0).
    reached
        Subjects seen at the primary visit by then.
    analysed
        Subjects due at the primary visit by then (``reached``, and those who
        left the study or failed treatment before it): the analysis set.
    information
        Information fraction: ``analysed`` over the planned patients.
    efficacy_z, futility_z
        The boundaries at this look (``futility_z`` None without a futility
        boundary).
    z
        Wald z of each comparison on the data available that day.
    """

    number: int
    name: str
    day: float
    reached: int
    analysed: int
    information: float
    efficacy_z: float
    futility_z: float | None
    z: tuple[float, ...]

    @property
    def nominal_p(self) -> float:
        """One-sided nominal p-value of the efficacy boundary, ``1 - Phi(b)``."""
        return float(stats.norm.sf(self.efficacy_z))


@dataclass(frozen=True)
class Decision:
    """What the group-sequential design decides for one comparison.

    ``stop_look`` is the look that stopped the trial (0: it ran to the final
    analysis); ``rejected`` whether the null hypothesis was rejected (at a look
    or at the end); ``futility_crossed`` whether a non-binding futility
    boundary was crossed; ``day`` the calendar day of the deciding analysis.
    """

    comparison: str
    stop_look: int
    rejected: bool
    futility_crossed: bool
    day: float

    @property
    def outcome(self) -> str:
        """The decision in words."""
        if self.stop_look and self.rejected:
            return f"stopped for efficacy at look {self.stop_look}"
        if self.stop_look:
            return f"stopped for futility at look {self.stop_look}"
        verdict = "rejected at the final analysis" if self.rejected else "not rejected"
        return verdict + (" (a futility boundary was crossed)" if self.futility_crossed else "")


@dataclass(frozen=True)
class SequentialResult:
    """One trial's interim looks, final analysis and decisions.

    ``final_efficacy_z`` is the last efficacy boundary (the final critical
    value); ``final_z`` the z of each comparison at the final analysis, on
    calendar day ``final_day``.
    """

    spending: str
    looks: tuple[Look, ...]
    final_day: float
    final_efficacy_z: float
    final_z: tuple[float, ...]
    decisions: tuple[Decision, ...]

    def table(self) -> pd.DataFrame:
        """One row per analysis (looks, then final) and comparison."""
        rows = []
        for look in self.looks:
            for d, z in zip(self.decisions, look.z, strict=True):
                rows.append(
                    {
                        "analysis": look.name,
                        "day": look.day,
                        "information": look.information,
                        "comparison": d.comparison,
                        "z": z,
                        "efficacy_z": look.efficacy_z,
                        "futility_z": np.nan if look.futility_z is None else look.futility_z,
                        "nominal_p": look.nominal_p,
                    }
                )
        for d, z in zip(self.decisions, self.final_z, strict=True):
            rows.append(
                {
                    "analysis": "final",
                    "day": self.final_day,
                    "information": 1.0,
                    "comparison": d.comparison,
                    "z": z,
                    "efficacy_z": self.final_efficacy_z,
                    "futility_z": np.nan,
                    "nominal_p": float(stats.norm.sf(self.final_efficacy_z)),
                }
            )
        return pd.DataFrame(rows)

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready values (NaN as None), for ``--format json``.

        Examples
        --------
        >>> from lupsim.scenario import load_scenario
        >>> from lupsim.trial import simulate_trial
        >>> s = load_scenario("interim-gsd")
        >>> doc = sequential_analysis(simulate_trial(s, seed=5), s.analysis).as_dict()
        >>> doc["decisions"][1]["outcome"], sorted(doc["looks"][0])[:3]
        ('stopped for efficacy at look 1', ['analysed', 'day', 'efficacy_z'])
        """
        names = [d.comparison for d in self.decisions]
        return {
            "spending": self.spending,
            "looks": [
                {
                    "name": look.name,
                    "day": look.day,
                    "reached": look.reached,
                    "analysed": look.analysed,
                    "information": look.information,
                    "efficacy_z": look.efficacy_z,
                    "nominal_p": look.nominal_p,
                    "futility_z": look.futility_z,
                    "z": {c: _finite(z) for c, z in zip(names, look.z, strict=True)},
                }
                for look in self.looks
            ],
            "final": {
                "day": self.final_day,
                "efficacy_z": self.final_efficacy_z,
                "z": {c: _finite(z) for c, z in zip(names, self.final_z, strict=True)},
            },
            "decisions": [
                {
                    "comparison": d.comparison,
                    "stop_look": d.stop_look,
                    "rejected": d.rejected,
                    "futility_crossed": d.futility_crossed,
                    "day": d.day,
                    "outcome": d.outcome,
                }
                for d in self.decisions
            ],
        }

    def __str__(self) -> str:
        spending = "O'Brien-Fleming-like" if self.spending == "obf" else "Pocock-like"
        lines = [f"Interim looks (Lan-DeMets {spending} alpha spending):"]
        for look in self.looks:
            fut = "" if look.futility_z is None else f", futility z <= {look.futility_z:.3f}"
            lines.append(
                f"  {look.name} on day {look.day:.0f}: {look.analysed} due at the primary visit "
                f"({look.reached} seen; information {look.information:.2f}); "
                f"efficacy z >= {look.efficacy_z:.3f} "
                f"(nominal one-sided p {look.nominal_p:.4g}){fut}"
            )
            for d, z in zip(self.decisions, look.z, strict=True):
                lines.append(f"    {d.comparison}: {_z_text(z)}")
        lines.append(
            f"  final analysis on day {self.final_day:.0f}: efficacy z >= "
            f"{self.final_efficacy_z:.3f} (nominal one-sided p "
            f"{float(stats.norm.sf(self.final_efficacy_z)):.4g})"
        )
        for d, z in zip(self.decisions, self.final_z, strict=True):
            shown = "" if d.stop_look else f"{_z_text(z)}; "
            lines.append(f"    {d.comparison}: {shown}{d.outcome}")
        return "\n".join(lines)


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _z_text(z: float) -> str:
    return f"z = {z:.3f}" if np.isfinite(z) else "z not estimable (the model could not be fitted)"


def sequential_analysis(
    ds: Any,
    plan: AnalysisPlan | None,
    *,
    n_planned: int | None = None,
    final: list[dict[str, Any]] | None = None,
) -> SequentialResult | None:
    """The interim looks of one trial and what they decide (module docstring).

    Parameters
    ----------
    ds
        A simulated trial (its event log holds the milestones).
    plan
        The analysis plan; without an ``interim`` table there are no looks.
    n_planned
        Planned number of patients, the denominator of the information
        fraction (default: the trial's randomised count).
    final
        The final analysis (:func:`primary_statistics`) if already computed.

    Returns
    -------
    SequentialResult or None
        None when the plan has no interim table, the trial had no milestone,
        or two looks fell at the same information (no valid boundaries).

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> s = load_scenario("interim-gsd")
    >>> seq = sequential_analysis(simulate_trial(s, seed=1), s.analysis)
    >>> round(seq.looks[0].efficacy_z, 3), round(seq.final_efficacy_z, 3)
    (2.628, 1.984)
    >>> sequential_analysis(simulate_trial(load_scenario("bliss52"), seed=1), None) is None
    True
    """
    if plan is None or plan.interim is None:
        return None
    milestones = [(d, det) for d, ev, det in ds.event_log.milestones if ev == "milestone"]
    if not milestones:
        return None
    j = ds.visit_column(ds.primary_week)
    n_plan = ds.n if n_planned is None else n_planned
    analyses = []
    fractions = []
    for day, detail in milestones:
        cut = ds.cut(day)
        seen_at = cut.arrays.observed[:, j]
        # Due: seen at the primary visit, or randomised at least the primary
        # week before the look (so left or failed before it if not seen).
        # The nominal week, not the jittered visit day: a dataset read back
        # from files knows only the days of the visits that happened.
        due = seen_at | (cut.subject_arrays["rand_calendar_day"] + 7.0 * ds.primary_week <= day)
        fractions.append(min(max(float(due.sum()) / n_plan, 1e-3), 0.999))
        analyses.append(
            (
                day,
                str(detail).split(":", 1)[0],
                int(seen_at.sum()),
                int(due.sum()),
                primary_statistics(cut, plan, include=due),
            )
        )
    fr = tuple(sorted({round(f, 3) for f in fractions}))
    if len(fr) != len(fractions):
        return None
    interim = plan.interim
    b = _boundaries(
        (*fr, 1.0),
        comparison_alpha(plan, len(ds.arms) - 1),
        interim.spending,
        interim.futility_beta,
    )
    if final is None:
        final = primary_statistics(ds, plan)
    looks = tuple(
        Look(
            number=k,
            name=name,
            day=float(day),
            reached=seen,
            analysed=due,
            information=fractions[k - 1],
            efficacy_z=b.efficacy[k - 1],
            futility_z=None if b.futility is None else b.futility[k - 1],
            z=tuple(float(r["z"]) for r in recs),
        )
        for k, (day, name, seen, due, recs) in enumerate(analyses, start=1)
    )
    end = final_day(ds)
    decisions = []
    for c, rec in enumerate(final):
        stop_look, day, rejected, futility = 0, end, False, False
        for look in looks:
            z = look.z[c]
            if np.isfinite(z) and z >= look.efficacy_z:
                stop_look, day, rejected = look.number, look.day, True
                break
            if look.futility_z is not None and np.isfinite(z) and z <= look.futility_z:
                futility = True
                if interim.stop_for_futility:
                    stop_look, day = look.number, look.day
                    break
        else:
            rejected = bool(np.isfinite(rec["z"]) and rec["z"] >= b.efficacy[-1])
        decisions.append(Decision(str(rec["comparison"]), stop_look, rejected, futility, day))
    return SequentialResult(
        spending=interim.spending,
        looks=looks,
        final_day=end,
        final_efficacy_z=b.efficacy[-1],
        final_z=tuple(float(r["z"]) for r in final),
        decisions=tuple(decisions),
    )
