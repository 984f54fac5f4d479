"""Results of analyses: estimates with confidence intervals, as frozen objects.

Every analysis of lupsim (continuous, binary, survival, ...) returns an
:class:`AnalysisResult`: a name, the method, one :class:`Estimate` per
comparison (each active arm against the control arm), and any further tidy
frames the analysis produces (adjusted means, coefficients, ...). The runner
stacks ``to_frame()`` of many replicates; people read ``summary()``, ``print``
or the notebook view.

Examples
--------
>>> e = Estimate("drug vs placebo", "difference", -1.2, -2.0, -0.4, 0.003, 200, "ANCOVA")
>>> r = AnalysisResult("sledai_change", "ANCOVA", (e,))
>>> r.summary()[["comparison", "estimate", "p_value"]]
        comparison  estimate  p_value
0  drug vs placebo      -1.2    0.003
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from lupsim.errors import LupsimError, did_you_mean

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "SUMMARY_COLUMNS",
    "AnalysisResult",
    "Estimate",
    "comparison_label",
    "full_rank_columns",
    "wald_interval",
]

#: Columns of :meth:`AnalysisResult.summary`, in order.
SUMMARY_COLUMNS = (
    "comparison",
    "measure",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "n",
    "method",
)


def comparison_label(arm: str, control: str) -> str:
    """The label of one comparison, ``"<arm> vs <control>"``.

    Every analysis labels its comparisons this way, so results of different
    analyses of the same trial can be joined on ``comparison``.

    Examples
    --------
    >>> comparison_label("belimumab_10mg", "placebo")
    'belimumab_10mg vs placebo'
    """
    return f"{arm} vs {control}"


@dataclass(frozen=True)
class Estimate:
    """One estimate of a treatment effect with its confidence interval.

    Attributes
    ----------
    comparison
        What is compared, e.g. ``'belimumab_10mg vs placebo'``
        (see :func:`comparison_label`).
    measure
        The effect measure: ``'difference'`` (in means), ``'odds_ratio'``,
        ``'risk_difference'``, ``'hazard_ratio'``, ... Measures ending in
        ``'_ratio'`` are ratios (no effect = 1, plotted on a log scale).
    estimate, ci_low, ci_high
        The point estimate and its confidence interval (NaN when the model
        could not estimate it; ``note`` then says why).
    p_value
        Two-sided p-value of no effect.
    n
        Subjects contributing to this comparison (both arms).
    method
        The model, e.g. ``'ANCOVA (OLS)'``.
    note
        Empty, or why the estimate is missing or should be read with care.

    Examples
    --------
    >>> e = Estimate("drug vs placebo", "odds_ratio", 1.8, 1.2, 2.7, 0.004, 300, "logistic")
    >>> e.is_ratio, e.null_value
    (True, 1.0)
    """

    comparison: str
    measure: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    method: str
    note: str = ""

    @property
    def is_ratio(self) -> bool:
        """Whether the measure is a ratio (no effect = 1)."""
        return self.measure.endswith("_ratio")

    @property
    def null_value(self) -> float:
        """The value of no effect: 1 for ratios, 0 otherwise."""
        return 1.0 if self.is_ratio else 0.0


# eq=False: the frames make field-wise equality ambiguous and hashing impossible;
# results are compared through their frames, not as objects.
@dataclass(frozen=True, eq=False)
class AnalysisResult:
    """The result of one analysis of one trial.

    Attributes
    ----------
    name
        What was analysed, e.g. ``'selena_change_week52'``.
    method
        The model, e.g. ``'ANCOVA (OLS)'``.
    estimates
        One :class:`Estimate` per comparison.
    frames
        Further tidy frames of the analysis by name (read-only mapping).
    notes
        Warnings of the fit (convergence, dropped terms), for a human reader.
    ci_level
        Coverage of the confidence intervals.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> from lupsim.analysis.continuous import ancova_change
    >>> r = ancova_change(simulate_trial(load_scenario("bliss52"), seed=1))
    >>> list(r.summary()["comparison"])
    ['belimumab_1mg vs placebo', 'belimumab_10mg vs placebo']
    >>> r.estimate_for("belimumab_10mg vs placebo").estimate < 0
    True
    """

    name: str
    method: str
    estimates: tuple[Estimate, ...]
    frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    ci_level: float = 0.95

    def __post_init__(self) -> None:
        # A frozen result must not grow or lose frames after it is made.
        object.__setattr__(self, "frames", MappingProxyType(dict(self.frames)))

    def summary(self) -> pd.DataFrame:
        """One row per estimate: comparison, measure, estimate, ci_low,
        ci_high, p_value, n, method."""
        rows = [{c: getattr(e, c) for c in SUMMARY_COLUMNS} for e in self.estimates]
        return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))

    def to_frame(self) -> pd.DataFrame:
        """The summary with the analysis name first and the notes last, for
        stacking the results of many analyses or replicates."""
        out = self.summary()
        out.insert(0, "analysis", self.name)
        out["note"] = [e.note for e in self.estimates]
        return out

    def estimate_for(self, comparison: str, measure: str | None = None) -> Estimate:
        """The estimate of one comparison (and measure, if there are several)."""
        found = [
            e
            for e in self.estimates
            if e.comparison == comparison and (measure is None or e.measure == measure)
        ]
        if not found:
            known = sorted({e.comparison for e in self.estimates})
            raise LupsimError(
                f"{self.name} has no estimate for comparison {comparison!r}"
                f"{'' if measure is None else f' and measure {measure!r}'}"
                f"{did_you_mean(comparison, known)}; comparisons: {', '.join(known)}"
            )
        return found[0]

    def __str__(self) -> str:
        head = f"{self.name}: {self.method} ({self.ci_level:.0%} confidence intervals)"
        body = _format_table(self.summary().drop(columns="method"))
        notes = [f"note: {e.comparison}: {e.note}" for e in self.estimates if e.note]
        notes += [f"note: {n}" for n in self.notes]
        return "\n".join([head, body, *notes])

    def _repr_html_(self) -> str:
        head = html.escape(f"{self.name}: {self.method}")
        table = self.summary().to_html(index=False, float_format=_fmt, na_rep="–")
        notes = "".join(
            f"<p><em>{html.escape(e.comparison)}: {html.escape(e.note)}</em></p>"
            for e in self.estimates
            if e.note
        ) + "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return f"<h4>{head}</h4>{table}{notes}"

    def plot(self, ax: Axes | None = None) -> Axes:
        """Estimates with their confidence intervals, one row per estimate
        (log scale for ratios), and a line at no effect."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FormatStrFormatter

        if ax is None:
            _, ax = plt.subplots(figsize=(6.0, 0.6 * len(self.estimates) + 1.2))
        ys = list(range(len(self.estimates)))[::-1]
        for y, e in zip(ys, self.estimates, strict=True):
            ax.plot([e.ci_low, e.ci_high], [y, y], color="C0", lw=1.5)
            ax.plot([e.estimate], [y], "s", color="C0")
        if self.estimates:
            null = self.estimates[0].null_value
            ax.axvline(null, color="grey", lw=0.8, ls="--")
            if self.estimates[0].is_ratio:
                ax.set_xscale("log")
            ax.set_xlabel(f"{self.estimates[0].measure} ({self.ci_level:.0%} CI)")
        ax.set_yticks(ys, [e.comparison for e in self.estimates])
        ax.set_ylim(-0.7, len(self.estimates) - 0.3)
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.set_title(self.name)
        return ax


# -- helpers shared by the analyses ------------------------------------------


def wald_interval(
    estimate: float, std_error: float, level: float = 0.95, df: float | None = None
) -> tuple[float, float, float]:
    """Confidence interval and two-sided p-value of a Wald test.

    Normal reference distribution, or Student's t with ``df`` degrees of
    freedom. NaN in, NaN out.

    Examples
    --------
    >>> lo, hi, p = wald_interval(1.0, 0.5)
    >>> round(lo, 3), round(hi, 3), round(p, 4)
    (0.02, 1.98, 0.0455)
    """
    if not (math.isfinite(estimate) and math.isfinite(std_error) and std_error > 0):
        return math.nan, math.nan, math.nan
    dist = stats.norm if df is None else stats.t(df)
    q = float(dist.ppf(0.5 + level / 2))
    p = float(2 * dist.sf(abs(estimate) / std_error))
    return estimate - q * std_error, estimate + q * std_error, p


def full_rank_columns(design: pd.DataFrame, tol: float = 1e-7) -> list[str]:
    """Columns of ``design`` left to right, without those that are all zero or
    a linear combination of the columns kept before them (the part of the
    column outside their span is below ``tol`` of its length).

    Models are then fitted on a full-rank design, and a term that the data
    cannot estimate (an arm with no subject at a visit, a covariate constant
    in a subgroup) is missing from the fit instead of breaking it. Put the
    terms that matter (arms) first: later columns give way to earlier ones.

    Examples
    --------
    >>> X = pd.DataFrame({"Intercept": [1.0, 1, 1], "a": [0.0, 1, 0], "b": [2.0, 2, 2]})
    >>> full_rank_columns(X)
    ['Intercept', 'a']
    """
    # Gram-Schmidt with re-orthogonalisation: unlike an unpivoted QR, the
    # residual norm of a column is its distance from the span of the columns
    # kept so far, whatever was dropped before it.
    values = design.to_numpy(dtype=np.float64)
    basis = np.empty((values.shape[0], 0))
    kept: list[str] = []
    for k, name in enumerate(design.columns):
        norm = float(np.linalg.norm(values[:, k]))
        if norm == 0.0:
            continue
        resid = values[:, k] / norm
        for _ in range(2):
            resid = resid - basis @ (basis.T @ resid)
        size = float(np.linalg.norm(resid))
        if size > tol:
            basis = np.column_stack([basis, resid / size])
            kept.append(str(name))
    return kept


def _fmt(x: float) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "–"
    return f"{x:.4g}"


def _format_table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, float_format=_fmt, na_rep="–")
