"""Subgroup analyses of a binary endpoint: odds ratios per subgroup level,
interaction tests, and a forest plot.

Within each level of a subgroup (serologically active or not, baseline
SELENA-SLEDAI >= 10 or not, race, region, or any per-subject labels), a
logistic regression of response on arm (each active arm against control,
fitted on those two arms) gives the odds ratio with a Wald 95% CI. Whether
the effect differs between levels is tested on all subjects of the two arms
by a likelihood-ratio test of the arm x subgroup terms (``response ~ arm *
subgroup`` against ``response ~ arm + subgroup``).

Small levels are where a model breaks: an arm with no subject, or with no or
only responders (separation: the maximum-likelihood odds ratio is 0 or
infinite). Such rows get NaN estimates and a ``note``; nothing raises.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
>>> t = subgroup_odds_ratios(ds)
>>> t["subgroup"].unique().tolist()
['overall', 'serologically_active', 'baseline_selena_sledai', 'race', 'region']
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import NDArray
from scipy import stats

from lupsim.analysis.binary import BINARY_ENDPOINTS
from lupsim.analysis.endpoints import RENAL_ENDPOINTS, endpoint_table
from lupsim.analysis.results import comparison_label, full_rank_columns, wald_interval
from lupsim.cohort.vocabulary import RACE_GROUPS, REGIONS
from lupsim.errors import AnalysisError, did_you_mean
from lupsim.trial.dataset import TrialDataset

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["FOREST_COLUMNS", "default_subgroups", "forest_plot", "subgroup_odds_ratios"]

#: Columns of the frame :func:`subgroup_odds_ratios` returns, in order.
FOREST_COLUMNS = (
    "subgroup",
    "level",
    "comparison",
    "odds_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "n",
    "responders_control",
    "n_control",
    "responders_active",
    "n_active",
    "interaction_p",
    "note",
)
_LEVEL = 0.95
#: Endpoint-table columns that are not binary responses.
_NOT_BINARY = ("USUBJID", "arm", "time_to_severe_flare")

Labels = str | Sequence[Any] | NDArray[Any] | pd.Series
SubgroupSpec = Mapping[str, Labels] | Sequence[str]


def default_subgroups(ds: TrialDataset) -> dict[str, pd.Categorical]:
    """The usual SLE subgroups, as ordered labels per subject.

    ``serologically_active`` (yes/no: anti-dsDNA positive and low
    complement), ``baseline_selena_sledai`` (>= 10 / <= 9), ``race`` and
    ``region`` (in lupsim's vocabulary order).

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> groups = default_subgroups(simulate_trial(load_scenario("bliss52"), seed=1))
    >>> list(groups["serologically_active"].categories)
    ['yes', 'no']
    """
    s = ds.subjects
    return {
        "serologically_active": pd.Categorical(
            np.where(s["SEROACT"].to_numpy(dtype=bool), "yes", "no"), categories=["yes", "no"]
        ),
        "baseline_selena_sledai": pd.Categorical(
            np.where(s["SELENABL"].to_numpy() >= 10, ">= 10", "<= 9"),
            categories=[">= 10", "<= 9"],
        ),
        "race": pd.Categorical(s["RACE"].to_numpy(dtype=object), categories=list(RACE_GROUPS)),
        "region": pd.Categorical(s["REGION"].to_numpy(dtype=object), categories=list(REGIONS)),
    }


def subgroup_odds_ratios(
    ds: TrialDataset,
    endpoint: str | Sequence[float] | NDArray[Any] = "sri4",
    week: float | None = None,
    subgroups: SubgroupSpec | None = None,
    *,
    covariates: Sequence[str] = (),
) -> pd.DataFrame:
    """Odds ratio of response per subgroup level, with interaction tests.

    Parameters
    ----------
    ds
        The trial.
    endpoint
        A binary column of :func:`~lupsim.analysis.endpoints.endpoint_table`
        (``'sri4'``, ``'bicla'``, ``'lldas'``, ``'severe_flare'``, ...), or
        one response per subject (1/0/True/False; NaN = not evaluable).
    week
        The visit (default: the primary week).
    subgroups
        Mapping of subgroup name to labels: a column of ``ds.subjects`` or
        one label per subject (None/NaN = left out); or a list of column
        names. Default: :func:`default_subgroups`.
    covariates
        Columns of ``ds.subjects`` to adjust every model for (e.g. the
        ``STRAT*`` factors). None by default, so that a level's odds ratio is
        that of its 2 x 2 table.

    Returns
    -------
    pandas.DataFrame
        One row per subgroup, level and comparison (:data:`FOREST_COLUMNS`),
        after an ``overall`` row per comparison. ``n`` counts the subjects of
        both arms in the level; ``interaction_p`` is the likelihood-ratio
        p-value of arm x subgroup (the same on every row of a subgroup and
        comparison); ``note`` says why an estimate is NaN. ``attrs`` hold the
        endpoint and week.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> t = subgroup_odds_ratios(ds, "sri4", subgroups=["SEROACT"])
    >>> t[["subgroup", "level", "comparison"]]
      subgroup level                 comparison
    0  overall   all   belimumab_1mg vs placebo
    1  overall   all  belimumab_10mg vs placebo
    2  SEROACT   yes   belimumab_1mg vs placebo
    3  SEROACT   yes  belimumab_10mg vs placebo
    4  SEROACT    no   belimumab_1mg vs placebo
    5  SEROACT    no  belimumab_10mg vs placebo
    """
    wk = float(ds.primary_week if week is None else week)
    y, name = _responses(ds, endpoint, wk)
    groups = _subgroup_labels(ds, subgroups)
    cov = _covariates(ds, covariates)
    arm = ds.arm_index
    control = ds.arms.index(ds.control)
    evaluable = ~np.isnan(y)

    rows: list[dict[str, Any]] = []
    active = [(k, a) for k, a in enumerate(ds.arms) if a != ds.control]
    for k, arm_name in active:
        pair = evaluable & np.isin(arm, [control, k])
        treated = (arm[pair] == k).astype(np.float64)
        row = _level_row(y[pair], treated, cov.loc[pair], arm_name, ds.control)
        label = comparison_label(arm_name, ds.control)
        rows.append({"subgroup": "overall", "level": "all", "comparison": label, **row})
    for group, labels in groups.items():
        known = evaluable & labels.notna().to_numpy()
        levels = [lv for lv in labels.cat.categories if (labels.loc[known] == lv).any()]
        tests = {}
        for k, _ in active:
            pair = known & np.isin(arm, [control, k])
            treated = (arm[pair] == k).astype(np.float64)
            tests[k] = _interaction_p(y[pair], treated, labels.loc[pair], cov.loc[pair])
        for lv in levels:
            for k, arm_name in active:
                sel = known & np.isin(arm, [control, k]) & (labels == lv).to_numpy()
                treated = (arm[sel] == k).astype(np.float64)
                row = _level_row(y[sel], treated, cov.loc[sel], arm_name, ds.control)
                p_int, int_note = tests[k]
                rows.append(
                    {
                        "subgroup": group,
                        "level": str(lv),
                        "comparison": comparison_label(arm_name, ds.control),
                        **row,
                        "interaction_p": p_int,
                        "note": "; ".join(n for n in (row["note"], int_note) if n),
                    }
                )
    out = pd.DataFrame(rows).reindex(columns=list(FOREST_COLUMNS))
    for c in ("n", "responders_control", "n_control", "responders_active", "n_active"):
        out[c] = out[c].astype(np.int64)
    out.attrs.update({"endpoint": name, "week": wk})
    return out


def forest_plot(frame: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Forest plot of a :func:`subgroup_odds_ratios` frame.

    One row per subgroup level (under a header naming the subgroup and its
    interaction p-value), one marker and CI per comparison, log odds-ratio
    axis with a line at 1. Levels without an estimate are labelled, not
    drawn.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> ax = forest_plot(subgroup_odds_ratios(ds))
    >>> ax.get_xscale()
    'log'
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter

    need = ("subgroup", "level", "comparison", "odds_ratio", "ci_low", "ci_high")
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise AnalysisError(
            f"forest_plot needs the columns {', '.join(need)}; missing {', '.join(missing)}: "
            "pass the frame subgroup_odds_ratios returns"
        )
    comparisons = list(dict.fromkeys(frame["comparison"]))
    offsets = np.linspace(0.2, -0.2, len(comparisons)) if len(comparisons) > 1 else [0.0]
    layout: list[tuple[str, pd.DataFrame | None]] = []
    for group, g in frame.groupby("subgroup", sort=False):
        if group != "overall":
            layout.append((_header(str(group), g), None))
        for level, at_level in g.groupby("level", sort=False):
            layout.append((_level_label(str(level), at_level, group == "overall"), at_level))

    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 0.32 * len(layout) + 1.2))
    ys = np.arange(len(layout))[::-1].astype(float)
    for y, (_, level_rows) in zip(ys, layout, strict=True):
        if level_rows is None:  # a subgroup header
            continue
        for m, comp in enumerate(comparisons):
            r = level_rows[level_rows["comparison"] == comp]
            if r.empty or not np.isfinite(r["odds_ratio"].iloc[0]):
                continue
            yy = y + offsets[m]
            ax.plot([r["ci_low"].iloc[0], r["ci_high"].iloc[0]], [yy, yy], color=f"C{m}", lw=1.2)
            ax.plot([r["odds_ratio"].iloc[0]], [yy], "s", color=f"C{m}", ms=4)
    for m, comp in enumerate(comparisons):
        ax.plot([], [], "s-", color=f"C{m}", label=comp)
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_yticks(ys, [text for text, _ in layout])
    for tick, (_, level_rows) in zip(ax.get_yticklabels(), layout, strict=True):
        if level_rows is None:
            tick.set_fontweight("bold")
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.set_ylim(-1.0, len(layout))
    ax.set_xlabel(f"odds ratio ({_LEVEL:.0%} CI)")
    endpoint = frame.attrs.get("endpoint")
    if endpoint:
        ax.set_title(f"{endpoint} by subgroup")
    if len(comparisons) > 1:
        ax.legend(loc="best", fontsize="small")
    return ax


# -- inputs ------------------------------------------------------------------


def _responses(
    ds: TrialDataset, endpoint: str | Sequence[float] | NDArray[Any], week: float
) -> tuple[NDArray[np.float64], str]:
    """Response per subject as 1.0/0.0/NaN, and the endpoint's name."""
    if isinstance(endpoint, str):
        table = endpoint_table(ds, week)
        binary = [c for c in table.columns if c not in _NOT_BINARY and not c.startswith("STRAT")]
        if endpoint in RENAL_ENDPOINTS and endpoint not in binary:
            raise AnalysisError(
                f"endpoint {endpoint!r} is a renal response, and this trial gave no lupus "
                "nephritis induction regimen ([design.background] induction), so no subject "
                "has one; use an SLE endpoint such as 'sri4', or simulate a design with an "
                "induction regimen (scenarios/nephritis-addon.toml)"
            )
        if endpoint not in binary:
            names = [*BINARY_ENDPOINTS, *(c for c in binary if c not in BINARY_ENDPOINTS)]
            raise AnalysisError(
                f"endpoint {endpoint!r} is not a binary endpoint{did_you_mean(endpoint, names)}; "
                f"use one of {', '.join(BINARY_ENDPOINTS)}, or pass one response per subject"
            )
        return table[endpoint].to_numpy(dtype=np.float64), endpoint
    values = np.asarray(endpoint, dtype=np.float64)
    if values.shape != (ds.n,):
        raise AnalysisError(
            f"endpoint has shape {values.shape}; give one response per subject, shape ({ds.n},)"
        )
    bad = ~np.isnan(values) & (values != 0) & (values != 1)
    if bad.any():
        raise AnalysisError(
            f"endpoint values must be 1, 0 or NaN (not evaluable); got {values[bad][0]:g} "
            f"for subject {int(np.flatnonzero(bad)[0])}"
        )
    return values, "response"


def _subgroup_labels(ds: TrialDataset, spec: SubgroupSpec | None) -> dict[str, pd.Series]:
    """Subgroup labels as categorical Series, levels in a meaningful order."""
    if spec is None:
        return {k: _as_categorical(pd.Series(v)) for k, v in default_subgroups(ds).items()}
    if isinstance(spec, str):
        spec = [spec]
    items = spec.items() if isinstance(spec, Mapping) else ((c, c) for c in spec)
    out = {}
    for name, labels in items:
        if isinstance(labels, str):
            if labels not in ds.subjects.columns:
                raise AnalysisError(
                    f"subgroup {name!r}: {labels!r} is not a column of ds.subjects"
                    f"{did_you_mean(labels, ds.subjects.columns)}; give a column name or "
                    "one label per subject"
                )
            values: pd.Series | NDArray[Any] = ds.subjects[labels]
        elif isinstance(labels, pd.Series):
            values = labels
        else:
            values = np.asarray(labels, dtype=object)
        if len(values) != ds.n:
            raise AnalysisError(
                f"subgroup {name!r} has {len(values)} labels; give one per subject ({ds.n})"
            )
        out[str(name)] = _as_categorical(values)
    return out


def _as_categorical(values: pd.Series | NDArray[Any]) -> pd.Series:
    s = pd.Series(values).reset_index(drop=True)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s
    present = pd.unique(s.dropna())
    if len(present) and all(isinstance(v, bool | np.bool_) for v in present):
        # Flags read better as yes/no, with "yes" (the group named) first.
        return pd.Series(pd.Categorical(s.map({True: "yes", False: "no"}), ["yes", "no"]))
    try:
        ordered = sorted(present)  # numbers in numeric order, not as text
    except TypeError:
        ordered = list(present)
    text = s.map(str, na_action="ignore")
    return pd.Series(pd.Categorical(text, categories=list(dict.fromkeys(map(str, ordered)))))


def _covariates(ds: TrialDataset, names: Sequence[str]) -> pd.DataFrame:
    cols = list(ds.subjects.columns)
    unknown = [c for c in names if c not in cols]
    if unknown:
        raise AnalysisError(
            f"covariate {unknown[0]!r} is not a column of ds.subjects"
            f"{did_you_mean(unknown[0], cols)}"
        )
    frame = ds.subjects[list(names)]
    try:
        return frame.astype(np.float64).reset_index(drop=True)
    except (TypeError, ValueError):
        raise AnalysisError(
            f"covariates must be numeric or yes/no columns; got {', '.join(names)}"
        ) from None


# -- models ------------------------------------------------------------------


def _level_row(
    y: NDArray[np.float64],
    treated: NDArray[np.float64],
    cov: pd.DataFrame,
    arm: str,
    control: str,
) -> dict[str, Any]:
    """Counts and the odds ratio (active vs control) among some subjects."""
    on = treated == 1
    counts = {
        "n": int(y.size),
        "responders_control": int(y[~on].sum()),
        "n_control": int((~on).sum()),
        "responders_active": int(y[on].sum()),
        "n_active": int(on.sum()),
    }
    nan = {"odds_ratio": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan}
    empty = [a for a, n in ((control, counts["n_control"]), (arm, counts["n_active"])) if n == 0]
    if empty:
        return {**counts, **nan, "note": f"no subject of {' or '.join(empty)}"}
    for a, r, n in (
        (control, counts["responders_control"], counts["n_control"]),
        (arm, counts["responders_active"], counts["n_active"]),
    ):
        if r in (0, n):
            what = "no responder" if r == 0 else "only responders"
            return {**counts, **nan, "note": f"{what} in {a}: odds ratio not estimable"}
    design = pd.concat(
        [pd.DataFrame({"Intercept": np.ones(y.size), "arm": treated}), cov.reset_index(drop=True)],
        axis=1,
    )
    cols = full_rank_columns(design)
    if "arm" not in cols:
        return {**counts, **nan, "note": "arm is aliased with the covariates"}
    fit, problem = _logit(y, design[cols])
    if fit is None:
        return {**counts, **nan, "note": problem}
    i = cols.index("arm")
    b, se = float(fit.params.iloc[i]), float(fit.bse.iloc[i])
    lo, hi, p = wald_interval(b, se, _LEVEL)
    if not math.isfinite(p):
        return {**counts, **nan, "note": "the standard error is not finite"}
    return {
        **counts,
        "odds_ratio": math.exp(b),
        "ci_low": math.exp(lo),
        "ci_high": math.exp(hi),
        "p_value": p,
        "note": "",
    }


def _interaction_p(
    y: NDArray[np.float64],
    treated: NDArray[np.float64],
    labels: pd.Series,
    cov: pd.DataFrame,
) -> tuple[float, str]:
    """Likelihood-ratio p-value of arm x subgroup, and a note if there is none."""
    lab = labels.to_numpy(dtype=object)
    levels = [lv for lv in labels.cat.categories if (lab == lv).any()]
    main = pd.DataFrame({"Intercept": np.ones(y.size), "arm": treated})
    for lv in levels[1:]:
        main[f"level[{lv}]"] = (lab == lv).astype(np.float64)
    inter = pd.DataFrame(
        {f"arm:level[{lv}]": treated * (lab == lv) for lv in levels[1:]}, index=main.index
    )
    design = pd.concat([main, cov.reset_index(drop=True), inter], axis=1)
    cols = full_rank_columns(design)
    reduced = [c for c in cols if not c.startswith("arm:level[")]
    df = len(cols) - len(reduced)
    if df == 0:
        return math.nan, "interaction not testable: fewer than two levels with both arms"
    full_fit, problem = _logit(y, design[cols], need_se=False)
    red_fit, problem_r = _logit(y, design[reduced], need_se=False)
    if full_fit is None or red_fit is None:
        return math.nan, f"interaction test failed: {problem or problem_r}"
    lr = max(2.0 * (float(full_fit.llf) - float(red_fit.llf)), 0.0)
    return float(stats.chi2.sf(lr, df)), ""


def _logit(y: NDArray[np.float64], X: pd.DataFrame, *, need_se: bool = True) -> tuple[Any, str]:
    """A statsmodels Logit fit, or None and why it failed.

    With ``need_se=False`` (likelihood-ratio tests) a fit that separates some
    cells is kept: its log-likelihood approaches the supremum, which is what
    the test compares.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = sm.Logit(y, X).fit(disp=0, method="newton", maxiter=100)
        except (np.linalg.LinAlgError, ValueError) as exc:
            return None, f"logistic model failed ({exc})"
    if not math.isfinite(float(fit.llf)):
        return None, "logistic model failed (log-likelihood not finite)"
    if need_se:
        separated = any("separation" in str(w.message).lower() for w in caught)
        if separated or not fit.mle_retvals.get("converged", False):
            return None, "logistic model did not converge (separation)"
    return fit, ""


# -- forest plot labels --------------------------------------------------------


def _header(group: str, rows: pd.DataFrame) -> str:
    if "interaction_p" not in rows.columns:
        return group
    ps = rows.groupby("comparison", sort=False)["interaction_p"].first()
    shown = ", ".join("–" if not np.isfinite(p) else f"{p:.2g}" for p in ps)
    return f"{group} (interaction p {shown})"


def _level_label(level: str, rows: pd.DataFrame, overall: bool) -> str:
    text = "overall" if overall else level
    if {"n_control", "n_active"} <= set(rows.columns):
        n = int(rows["n_control"].iloc[0] + rows["n_active"].sum())
        text += f" (n={n})"
    if not np.isfinite(rows["odds_ratio"].to_numpy(dtype=float)).any():
        text += " – not estimable"
    return text
