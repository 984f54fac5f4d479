"""The report's figures and Table 1, each drawn from lupsim.analysis results.

Every figure is a function of a trial (or of a result) that draws on the
matplotlib Axes it is given, or on a new one, and returns that Axes, so the
same picture serves a notebook, a script and the HTML report
(:mod:`lupsim.report.html`).

The numbers come from :mod:`lupsim.analysis` (endpoints, subgroup odds
ratios, Kaplan-Meier curves, power) and from :mod:`lupsim.cohort.table` (the
Table 1 figures, the per-visit intervals from
:mod:`lupsim.analysis.summaries`); this module places them on a page.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
>>> ax = sri_by_visit(ds)
>>> len(ax.lines)   # one line per arm
3
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from lupsim.analysis import endpoints, subgroups, survival
from lupsim.analysis.power import PowerResult
from lupsim.analysis.summaries import response_rates, sledai_change, sri_rates
from lupsim.cohort import table as cohort_table
from lupsim.cohort.columns import PatientView
from lupsim.cohort.model import C3_LOW, C4_LOW, DSDNA_POSITIVE_IU
from lupsim.cohort.vocabulary import INDUCTION_REGIMENS, RACE_GROUPS, REGIONS
from lupsim.errors import LupsimError
from lupsim.trial.dataset import TrialDataset

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.container import Container
    from matplotlib.text import Text

__all__ = [
    "RENAL_COMPONENTS",
    "RENAL_TABLE1_VARIABLES",
    "SRI_COMPONENTS",
    "TABLE1_VARIABLES",
    "analytic_power",
    "consort_diagram",
    "endpoint_label",
    "forest",
    "forest_height",
    "kaplan_meier",
    "plain_text",
    "pooled_rates",
    "power_curve",
    "renal_components",
    "response_by_visit",
    "sledai_change_over_time",
    "sri_by_visit",
    "sri_components",
    "table1_by_arm",
]

#: Table 1 rows (variables of :data:`lupsim.cohort.table.ROWS`), in order.
#: Race and region rows no subject of the trial falls in are left out.
TABLE1_VARIABLES: tuple[str, ...] = (
    "female_pct",
    "age_mean",
    "age_sd",
    *(f"race_{g}_pct" for g in RACE_GROUPS),
    *(f"region_{r}_pct" for r in REGIONS),
    "sledai_mean",
    "sledai_sd",
    "pga_mean",
    "pga_sd",
    "bilag_any_a_pct",
    "anti_dsdna_pct",
    "low_c3_pct",
    "low_c4_pct",
    "serologically_active_pct",
    "proteinuria_ge_2g_pct",
    "prednisone_pct",
    "prednisone_mean_mg",
    "prednisone_sd_mg",
    "antimalarial_pct",
    "immunosuppressant_pct",
)

#: The bars of :func:`sri_components`: column of ``arm_summary`` -> label.
SRI_COMPONENTS: dict[str, str] = {
    "sledai_reduction4": ">= 4-point SELENA-SLEDAI reduction",
    "no_bilag_worsening": "no BILAG worsening",
    "no_pga_worsening": "no PGA worsening (< 0.3)",
    "sri4": "SRI-4 response",
}

#: Further Table 1 rows of a trial with a nephritis induction regimen, before
#: the shares of patients on each regimen.
RENAL_TABLE1_VARIABLES: tuple[str, ...] = (
    "proteinuria_ge_3g_pct",
    "egfr_ge_60_pct",
    "egfr_ge_90_pct",
)

#: The bars of :func:`renal_components`: label -> (criteria, component). The
#: steroid criterion is the same in PERR and CRR: one bar for both.
RENAL_COMPONENTS: dict[str, tuple[str, str]] = {
    "prednisone <= 10 mg/day from week 24": ("perr", "steroids"),
    "uPCR <= 0.7": ("perr", "proteinuria"),
    "eGFR >= 80% of baseline or >= 60": ("perr", "egfr"),
    "PERR": ("perr", "responder"),
    "uPCR < 0.5": ("crr", "proteinuria"),
    "eGFR >= 90% of baseline or >= 90": ("crr", "egfr"),
    "CRR": ("crr", "responder"),
}

_LEVEL = 0.95
_Z975 = 1.959963984540054  # 97.5% point of the standard normal
_DOLLAR = re.compile(r"(?<!\\)\$")

#: How endpoints are named on a page.
_ENDPOINT_LABELS = {
    "bicla": "BICLA",
    "lldas": "LLDAS",
    "perr": "PERR",
    "crr": "CRR",
    "severe_flare": "severe flare",
    "steroid_reduction": "steroid reduction",
    "sledai_reduction4": ">= 4-point SELENA-SLEDAI reduction",
    "no_bilag_worsening": "no BILAG worsening",
    "no_pga_worsening": "no PGA worsening",
}


def endpoint_label(endpoint: str) -> str:
    """How a binary endpoint is named on a page (``'sri4'`` is ``'SRI-4'``).

    Examples
    --------
    >>> endpoint_label("sri4"), endpoint_label("perr")
    ('SRI-4', 'PERR')
    """
    if endpoint.startswith("sri") and endpoint[3:].isdigit():
        return f"SRI-{endpoint[3:]}"
    return _ENDPOINT_LABELS.get(endpoint, endpoint.replace("_", " "))


def plain_text(text: str) -> str:
    """Text shown as written: each ``$`` escaped, so that matplotlib does not
    read what lies between two of them as mathtext (``"drug $5"`` would
    otherwise fail to draw, or draw in italics). Already escaped ``\\$`` stay.

    Examples
    --------
    >>> plain_text("drug $5 vs $10")
    'drug \\\\$5 vs \\\\$10'
    >>> plain_text(plain_text("$")) == plain_text("$")
    True
    """
    return _DOLLAR.sub(r"\\$", text)


def _plain_axes(ax: Axes) -> Axes:
    """Escape ``$`` (:func:`plain_text`) in every text on the Axes: titles, axis
    labels, tick labels given as text, free texts, legend entries and the
    artists' labels (from which a later legend would be made)."""
    for loc in ("center", "left", "right"):
        title = ax.get_title(loc)
        if "$" in title:
            ax.set_title(plain_text(title), loc=loc)
    texts = [ax.xaxis.label, ax.yaxis.label, *ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        texts += list(legend.get_texts())
        if legend.get_title() is not None:
            texts.append(legend.get_title())
    for t in texts:
        raw = t.get_text()
        if "$" in raw:
            t.set_text(plain_text(raw))
    artists: list[Artist | Container] = [*ax.lines, *ax.collections, *ax.patches]
    artists += list(ax.containers)
    for artist in artists:
        label = str(artist.get_label())
        if "$" in label:
            artist.set_label(plain_text(label))
    for axis in (ax.xaxis, ax.yaxis):
        _relabel_ticks(axis, plain_text)
    return ax


def _relabel_ticks(axis: Any, change: Callable[[str], str]) -> None:
    """Apply ``change`` to the major tick labels of an axis, keeping their
    positions and font weights; numeric labels are left alone unless the
    change alters them."""
    labels = axis.get_majorticklabels()
    texts = [t.get_text() for t in labels]
    changed = [change(t) for t in texts]
    if changed == texts:
        return
    weights = [t.get_fontweight() for t in labels]
    axis.set_ticks(axis.get_majorticklocs(), changed)
    for t, weight in zip(axis.get_majorticklabels(), weights, strict=True):
        t.set_fontweight(weight)


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """The Axes to draw on: the one given, or a new figure's."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize)
    return new


def _label(code: str) -> str:
    """A code such as ``lack_of_efficacy`` as words."""
    return code.replace("_", " ")


def _words(code: str) -> str:
    """A subgroup or level code as words (``baseline_selena_sledai`` is
    ``baseline SELENA-SLEDAI``)."""
    return _label(code).replace("selena sledai", "SELENA-SLEDAI")


# -- CONSORT -------------------------------------------------------------------


def consort_diagram(ds: TrialDataset, ax: Axes | None = None) -> Axes:
    """CONSORT flow diagram: screening, randomisation, and each arm's course.

    Boxes (text with a box patch) for: screened; screen failures, each by the
    first eligibility rule it broke (``ds.screening``); randomised; and per
    arm: allocated, discontinued by reason (``DCSREAS`` of
    ``ds.subjects``), and completed the primary visit (with everyone
    randomised analysed, as intention-to-treat). Arrows are annotations that
    join the boxes. A trial without screen failures has no exclusion box, a
    trial nobody left no discontinuation boxes, and rules or reasons that
    count nobody are not listed.

    Parameters
    ----------
    ds
        The trial.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes
        ``3 + 3 x arms`` boxed texts and ``2 + 3 x arms`` arrows; one box and
        arrow fewer without screen failures, and ``arms`` of each fewer when
        nobody discontinued.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ax = consort_diagram(simulate_trial(load_scenario("bliss52"), seed=1))
    >>> sum(t.get_bbox_patch() is not None for t in ax.texts)
    12
    """
    ax = _axes(ax, (2.9 * len(ds.arms) + 1.5, 7.5))
    ax.set_axis_off()
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    sub = ds.subjects
    screened = int(ds.screening.get("screened", ds.n))
    failures: dict[str, int] = dict(ds.screening.get("failures", {}))
    box = {"boxstyle": "round,pad=0.5", "facecolor": "#f4f6fb", "edgecolor": "#34495e"}
    size = 8.5

    def text(x: float, y: float, body: str, **kw: Any) -> Text:
        style = {"ha": "center", "va": "center", "fontsize": size, "bbox": box, **kw}
        return ax.text(x, y, body, transform=ax.transAxes, **style)

    def arrow(
        start: Text | tuple[float, float], end: Text, end_at: tuple[float, float] = (0.5, 1.0)
    ) -> None:
        """From the bottom of a box (or a point of the axes) to a point of
        another box. Box anchors are fractions of the box's own extent, so
        arrows meet its edge whatever size its text makes it."""
        ax.annotate(
            "",
            xy=end_at,
            xycoords=end,
            xytext=start if isinstance(start, tuple) else (0.5, 0.0),
            textcoords=ax.transAxes if isinstance(start, tuple) else start,
            arrowprops={"arrowstyle": "-|>", "color": "#34495e", "shrinkA": 0, "shrinkB": 2},
        )

    top = text(0.5, 0.94, f"Assessed for eligibility\nn = {screened}")
    randomised = text(0.5, 0.62, f"Randomised\nn = {ds.n}")
    arrow(top, randomised)
    if screened > ds.n:
        lines = [f"Excluded (screen failures)\nn = {screened - ds.n}"]
        lines += [f"  {_screen_rule(rule)}: {n}" for rule, n in failures.items() if n > 0]
        excluded = text(0.72, 0.79, "\n".join(lines), ha="left", fontsize=size - 1)
        arrow((0.5, 0.79), excluded, (0.0, 0.5))  # branching off the trunk

    reasons = sub["DCSREAS"]
    anyone_left = bool((reasons != "").any())
    n_arms = len(ds.arms)
    for k, name in enumerate(ds.arms):
        x = (k + 0.5) / n_arms
        in_arm = sub["arm_index"].to_numpy() == k
        left = reasons[in_arm & (reasons != "")].value_counts()
        completed = int(sub.loc[in_arm, "COMPLFL"].sum())
        n_arm = int(in_arm.sum())
        allocated = text(x, 0.45, f"Allocated to {name}\nn = {n_arm}")
        done = [f"Completed week {ds.primary_week:g}\nn = {completed}"]
        ongoing = n_arm - completed - int(left.sum())
        if ongoing:
            done.append(f"not yet at week {ds.primary_week:g}: {ongoing}")
        done.append(f"Analysed (ITT): {n_arm}")
        analysed = text(x, 0.07, "\n".join(done), fontsize=size - 1)
        arrow(randomised, allocated)
        if anyone_left:
            # An arm nobody left still shows its zero beside the others.
            disc = [f"Discontinued\nn = {int(left.sum())}"]
            disc += [f"{_label(str(r))}: {int(c)}" for r, c in left.items()]
            discontinued = text(x, 0.27, "\n".join(disc), fontsize=size - 1)
            arrow(allocated, discontinued)
            arrow(discontinued, analysed)
        else:
            arrow(allocated, analysed)
    ax.set_title(f"{ds.scenario}: participant flow")
    return _plain_axes(ax)


def _screen_rule(rule: str) -> str:
    """``'include: x >= 6'`` as ``'not x >= 6'``; ``'exclude: y'`` as ``'y'``."""
    kind, _, text = rule.partition(": ")
    if kind in ("include", "enrich"):
        return f"not {text}"
    return text if kind == "exclude" else rule


# -- Table 1 -------------------------------------------------------------------


class _BaselineView(PatientView):
    """Baseline variables of randomised subjects, under the names that
    :mod:`lupsim.cohort.columns` gives them, so that the Table 1 figures of a
    trial are computed by the very functions that make the cohort's."""

    def __init__(self, values: dict[str, NDArray[Any]]) -> None:
        self._cache = values

    def __getitem__(self, name: str) -> NDArray[Any]:
        return self._cache[name]

    def subset(self, mask: NDArray[np.bool_]) -> _BaselineView:
        return _BaselineView({k: v[mask] for k, v in self._cache.items()})


def _baseline_view(ds: TrialDataset) -> _BaselineView:
    s = ds.subjects
    race = s["RACE"].to_numpy(dtype=object)
    region = s["REGION"].to_numpy(dtype=object)
    dsdna = s["DSDNABL"].to_numpy(dtype=np.float64)
    c3 = s["C3BL"].to_numpy(dtype=np.float64)
    c4 = s["C4BL"].to_numpy(dtype=np.float64)
    pred = s["PREDBL"].to_numpy(dtype=np.float64)
    values: dict[str, NDArray[Any]] = {
        "female": (s["SEX"] == "F").to_numpy(),
        "age": s["AGE"].to_numpy(dtype=np.float64),
        **{f"race_{g}": race == g for g in RACE_GROUPS},
        **{f"region_{r}": region == r for r in REGIONS},
        "selena_sledai": s["SELENABL"].to_numpy(dtype=np.float64),
        "pga": s["PGABL"].to_numpy(dtype=np.float64),
        # BILAG grades are visit measurements; column 0 is the baseline visit.
        "bilag_any_a": (ds.arrays.bilag[:, 0] == 0).any(axis=1),
        "anti_dsdna_positive": dsdna >= DSDNA_POSITIVE_IU,
        "low_c3": c3 < C3_LOW,
        "low_c4": c4 < C4_LOW,
        "serologically_active": s["SEROACT"].to_numpy(dtype=bool),
        "proteinuria_g": s["PROTBL"].to_numpy(dtype=np.float64),
        "egfr": s["EGFRBL"].to_numpy(dtype=np.float64),
        "on_prednisone": pred > 0,
        "prednisone_mg": pred,
        "antimalarial": s["ANTIMAL"].to_numpy(dtype=bool),
        "immunosuppressant": s["ISBL"].to_numpy(dtype=bool),
    }
    return _BaselineView(values)


def table1_by_arm(ds: TrialDataset, *, formatted: bool = False) -> pd.DataFrame:
    """Baseline characteristics per arm and overall (Table 1).

    The figures are those of :func:`lupsim.cohort.table.statistics` (the
    same definitions as the cohort's Table 1 and the calibration targets):
    percentages, means and SDs, with prednisone dose among users.

    Parameters
    ----------
    ds
        The trial.
    formatted
        Return text cells for people to read: ``n``, percentages to one
        decimal, and means with their SD as ``mean (SD)`` on one row.

    Returns
    -------
    pandas.DataFrame
        By default, one row per variable (index: ``n`` then
        :data:`TABLE1_VARIABLES`, less race and region groups nobody is
        in; in a trial with a nephritis induction regimen, then
        :data:`RENAL_TABLE1_VARIABLES` and the share on each regimen), a
        ``label`` column and one numeric column per arm then ``all``.
        With ``formatted``, indexed by label with one text column per arm
        then ``all``.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> t = table1_by_arm(simulate_trial(load_scenario("bliss52"), seed=1))
    >>> t.columns.tolist()
    ['label', 'placebo', 'belimumab_1mg', 'belimumab_10mg', 'all']
    >>> int(t.loc["n", "all"])
    865
    """
    view = _baseline_view(ds)
    arm = ds.arm_index
    groups = {name: arm == k for k, name in enumerate(ds.arms)}
    groups["all"] = np.ones(ds.n, dtype=bool)
    columns: dict[str, dict[str, float]] = {}
    variables = TABLE1_VARIABLES + (RENAL_TABLE1_VARIABLES if ds.nephritis else ())
    regimen = ds.subject_arrays.get("induction", np.zeros(ds.n, dtype=np.int8))
    induction = {
        f"induction_{r}_pct": f"Induction: {r.replace('_', ' ')}, %" for r in INDUCTION_REGIMENS
    }
    for name, mask in groups.items():
        part = view.subset(mask)
        figures = cohort_table.statistics(part, variables)
        columns[name] = {"n": float(mask.sum()), **figures}
        if ds.nephritis:
            for k, row in enumerate(induction):
                columns[name][row] = 100.0 * float(np.mean(regimen[mask] == k + 1))
    frame = pd.DataFrame(columns)
    labels = (
        {"n": "Randomised, n"} | {v: cohort_table.ROW_INDEX[v].label for v in variables} | induction
    )
    frame.insert(0, "label", [labels[v] for v in frame.index])
    nobody = [
        v for v in frame.index if v.startswith(("race_", "region_")) and frame.loc[v, "all"] == 0.0
    ]
    frame = frame.drop(index=nobody)
    return _format_table1(frame) if formatted else frame


def _format_table1(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells: ``mean (SD)`` on one row, percentages and n as numbers."""
    values = [c for c in frame.columns if c != "label"]
    rows: dict[str, list[str]] = {}
    sds = {r.sd_of for r in cohort_table.ROWS if r.sd_of}
    for variable, row in frame.iterrows():
        v = str(variable)
        if v in sds:
            continue  # shown beside its mean
        spec = cohort_table.ROW_INDEX.get(v)
        if v == "n":
            rows[str(row["label"])] = [f"{row[c]:.0f}" for c in values]
        elif spec is not None and spec.sd_of is not None:
            label = _mean_sd_label(str(row["label"]))
            sds_of = frame.loc[spec.sd_of, values].to_numpy(dtype=np.float64)
            rows[label] = [_mean_sd(row[c], sd) for c, sd in zip(values, sds_of, strict=True)]
        else:
            rows[str(row["label"])] = [_number(row[c]) for c in values]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=values)
    out.index.name = "characteristic"
    return out


def _mean_sd_label(label: str) -> str:
    """``'Age, mean (years)'`` as ``'Age, mean (SD, years)'``."""
    if ", mean (" in label:
        return label.replace(", mean (", ", mean (SD, ", 1)
    return label.replace(", mean", ", mean (SD)", 1)


def _number(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:.1f}"


def _mean_sd(mean: float, sd: float) -> str:
    return f"{_number(mean)} ({_number(sd)})"


# -- response and activity over time -------------------------------------------------


def response_by_visit(
    data: TrialDataset | pd.DataFrame,
    ax: Axes | None = None,
    endpoint: str = "sri4",
    *,
    label: str | None = None,
) -> Axes:
    """Response rate to a binary endpoint per arm at each visit, with a 95% band.

    Parameters
    ----------
    data
        A trial (bands: Wilson intervals,
        :func:`lupsim.analysis.summaries.response_rates`), or the ``weekly``
        frame of :class:`lupsim.runner.SimulationResult` with a column
        ``<endpoint>_pct`` (mean over replicates; bands: +/- 1.96 Monte Carlo SE).
    ax
        Axes to draw on (default: a new figure).
    endpoint
        A binary endpoint (:data:`lupsim.analysis.binary.BINARY_ENDPOINTS`).
    label
        How to name the endpoint on the figure (default
        :func:`endpoint_label`), e.g. ``"Response"`` for the drawn response of
        a binomial design.

    Returns
    -------
    matplotlib.axes.Axes
        One line and one band per arm; where the response exists at one
        visit only (a binomial design), one point with its interval per arm
        (an error bar container each), the arms along the x axis.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("nephritis-addon"), seed=1)
    >>> response_by_visit(ds, endpoint="perr").get_ylabel()
    'PERR responders (%)'
    """
    ax = _axes(ax, (6.5, 4.0))
    name = endpoint_label(endpoint) if label is None else label
    if isinstance(data, TrialDataset):
        rates = (
            sri_rates(data, int(endpoint[3:]))
            if endpoint.startswith("sri") and endpoint[3:].isdigit()
            else response_rates(data, endpoint)
        )
        band = f"{_LEVEL:.0%} Wilson CI"
        title = f"{data.scenario}: {name} by visit"
    else:
        rates = _replicated_rates(data, f"{endpoint}_pct", "response_by_visit")
        band = f"{_LEVEL:.0%} Monte Carlo band"
        title = f"{name} by visit, mean over replicates"
    ax.set_ylabel("Responders (%)" if label is not None else f"{name} responders (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    weeks = rates["week"].unique()
    if len(weeks) == 1:
        # One visit with a response (a binomial design): a point per arm.
        week = float(weeks[0])
        arms = list(dict.fromkeys(rates["arm"]))
        for k, arm in enumerate(arms):
            r = rates[rates["arm"] == arm].iloc[0]
            pct, lo, hi = float(r["pct"]), float(r["ci_low"]), float(r["ci_high"])
            ax.errorbar(
                [k], [pct], yerr=[[pct - lo], [hi - pct]], fmt="o", color=f"C{k}", capsize=6
            )
            ax.annotate(
                f"{pct:.1f}%", (k, pct), xytext=(10, 0), textcoords="offset points", va="center"
            )
        ax.set_xticks(range(len(arms)), [str(a) for a in arms])
        ax.set_xlim(-0.6, len(arms) - 0.4)
        ax.set_xlabel(f"Arm, week {week:g}")
        ax.set_title(f"{title.replace('by visit', f'at week {week:g}')} ({band})")
        return _plain_axes(ax)
    for k, (arm, g) in enumerate(rates.groupby("arm", sort=False)):
        g = g.sort_values("week")
        ax.plot(g["week"], g["pct"], "o-", color=f"C{k}", ms=3, label=str(arm))
        ax.fill_between(g["week"], g["ci_low"], g["ci_high"], color=f"C{k}", alpha=0.15, lw=0)
    ax.set_xlabel("Week")
    ax.set_title(f"{title} ({band})")
    ax.legend(loc="upper left", fontsize="small")
    return _plain_axes(ax)


def sri_by_visit(
    data: TrialDataset | pd.DataFrame, ax: Axes | None = None, reduction: int = 4
) -> Axes:
    """SRI response rate per arm at each visit, with a 95% band.

    Parameters
    ----------
    data
        A trial (bands: Wilson intervals, :func:`lupsim.analysis.summaries.sri_rates`), or the
        ``weekly`` frame of :class:`lupsim.runner.SimulationResult` (mean over
        replicates; bands: +/- 1.96 Monte Carlo SE).
    ax
        Axes to draw on (default: a new figure).
    reduction
        The SRI's SELENA-SLEDAI reduction (4 for SRI-4).

    Returns
    -------
    matplotlib.axes.Axes
        One line and one band per arm.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.runner import simulate_replicates
    >>> res = simulate_replicates(load_scenario("bliss52"), seed=1, replicates=2)
    >>> len(sri_by_visit(res.weekly).collections)
    3
    """
    return response_by_visit(data, ax, f"sri{reduction}")


def _replicated_rates(weekly: pd.DataFrame, col: str, caller: str) -> pd.DataFrame:
    if not {"arm", "week", col} <= set(weekly.columns):
        raise LupsimError(
            f"{caller} needs a trial or a frame with columns arm, week and {col}; "
            f"got {', '.join(map(str, weekly.columns))}: pass SimulationResult.weekly"
        )
    se = weekly.get(f"{col}_mc_se", pd.Series(0.0, index=weekly.index)).fillna(0.0)
    z = 1.959963984540054  # 97.5% point of the standard normal
    return pd.DataFrame(
        {
            "arm": weekly["arm"],
            "week": weekly["week"],
            "pct": weekly[col],
            "ci_low": weekly[col] - z * se,
            "ci_high": weekly[col] + z * se,
        }
    )


def sledai_change_over_time(ds: TrialDataset, ax: Axes | None = None) -> Axes:
    """Mean change of SELENA-SLEDAI from baseline per arm over the visits.

    Among subjects seen at each visit, with 95% intervals
    (:func:`lupsim.analysis.summaries.sledai_change`) and a reference line at no change.

    Returns
    -------
    matplotlib.axes.Axes
        One line and one band per arm, and the line at zero.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ax = sledai_change_over_time(simulate_trial(load_scenario("bliss52"), seed=1))
    >>> len(ax.lines), len(ax.collections)
    (4, 3)
    """
    ax = _axes(ax, (6.5, 4.0))
    change = sledai_change(ds)
    for k, (arm, g) in enumerate(change.groupby("arm", sort=False)):
        ax.plot(g["week"], g["mean"], "o-", color=f"C{k}", ms=3, label=str(arm))
        ax.fill_between(g["week"], g["ci_low"], g["ci_high"], color=f"C{k}", alpha=0.15, lw=0)
    ax.axhline(0.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("Week")
    ax.set_ylabel("Change in SELENA-SLEDAI (points)")
    ax.set_title(f"{ds.scenario}: mean change from baseline among observed ({_LEVEL:.0%} CI)")
    ax.legend(loc="lower left", fontsize="small")
    ax.grid(alpha=0.3)
    return _plain_axes(ax)


def sri_components(ds: TrialDataset, ax: Axes | None = None, week: float | None = None) -> Axes:
    """Grouped bars per arm: the three SRI-4 components and the response.

    Percentages of everyone randomised at ``week`` (default: the primary
    week), from :func:`lupsim.analysis.endpoints.arm_summary`.

    Returns
    -------
    matplotlib.axes.Axes
        ``len(SRI_COMPONENTS) x arms`` bars, one bar container per arm.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ax = sri_components(simulate_trial(load_scenario("bliss52"), seed=1))
    >>> len(ax.patches), len(ax.containers)
    (12, 3)
    """
    summary = endpoints.arm_summary(ds, week)
    cols = list(SRI_COMPONENTS)
    heights = {arm: summary.loc[arm, cols].to_numpy(dtype=np.float64) for arm in ds.arms}
    wk = ds.primary_week if week is None else week
    return _grouped_bars(
        _axes(ax, (7.5, 4.0)),
        [textwrap.fill(SRI_COMPONENTS[c], 18) for c in cols],
        heights,
        f"{ds.scenario}: SRI-4 and its components at week {wk:g}",
        "upper left",
    )


def _grouped_bars(
    ax: Axes,
    labels: list[str],
    heights: dict[str, NDArray[np.float64]],
    title: str,
    legend: Literal["upper left", "upper right"],
) -> Axes:
    """Percentages as bars grouped by label, one labelled bar container per arm."""
    x = np.arange(len(labels), dtype=np.float64)
    width = 0.8 / len(heights)
    for k, (arm, h) in enumerate(heights.items()):
        bars = ax.bar(x + (k - (len(heights) - 1) / 2) * width, h, width, label=arm)
        ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("Subjects (%)")
    ax.set_ylim(0, 105)
    ax.set_title(title)
    ax.legend(loc=legend, fontsize="small")
    return _plain_axes(ax)


def renal_components(ds: TrialDataset, ax: Axes | None = None, week: float | None = None) -> Axes:
    """Grouped bars per arm: the shared steroid criterion, then PERR and CRR,
    each with its proteinuria and eGFR criteria.

    Percentages of everyone randomised at ``week`` (default: the primary
    week), from :func:`lupsim.analysis.endpoints.perr` and
    :func:`~lupsim.analysis.endpoints.crr`: a criterion counts where the
    subject was seen; the response also needs no treatment failure.

    Returns
    -------
    matplotlib.axes.Axes
        ``len(RENAL_COMPONENTS) x arms`` bars, one bar container per arm.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ax = renal_components(simulate_trial(load_scenario("nephritis-addon"), seed=1))
    >>> len(ax.patches), len(ax.containers)
    (14, 2)
    """
    results = {"perr": endpoints.perr(ds, week), "crr": endpoints.crr(ds, week)}
    heights = {
        arm: np.array(
            [
                100.0 * float(np.mean(getattr(results[which], part)[ds.arm_index == k]))
                for which, part in RENAL_COMPONENTS.values()
            ]
        )
        for k, arm in enumerate(ds.arms)
    }
    wk = ds.primary_week if week is None else week
    return _grouped_bars(
        _axes(ax, (7.5, 4.0)),
        [textwrap.fill(label, 16) for label in RENAL_COMPONENTS],
        heights,
        f"{ds.scenario}: renal responses and their criteria at week {wk:g}",
        "upper right",
    )


# -- effects -------------------------------------------------------------------------


def forest(
    ds: TrialDataset,
    ax: Axes | None = None,
    endpoint: str = "sri4",
    frame: pd.DataFrame | None = None,
) -> Axes:
    """Forest plot of the endpoint's odds ratio by subgroup.

    Draws :func:`lupsim.analysis.subgroups.forest_plot` of
    :func:`~lupsim.analysis.subgroups.subgroup_odds_ratios` (the default SLE
    subgroups), or of ``frame`` if given (its result, already computed). Each
    subgroup's heading carries the "interaction p" of the arm x subgroup
    likelihood-ratio test, one per comparison, unadjusted for multiplicity.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> forest(simulate_trial(load_scenario("bliss52"), seed=1)).get_xscale()
    'log'
    """
    if frame is None:
        frame = subgroups.subgroup_odds_ratios(ds, endpoint)
    ax = subgroups.forest_plot(frame, ax)
    _relabel_ticks(ax.yaxis, _words)  # subgroup and level codes as words
    name = endpoint_label(str(frame.attrs.get("endpoint", endpoint)))
    week = frame.attrs.get("week")
    at = "" if week is None else f" at week {float(week):g}"
    ax.set_title(f"{ds.scenario}: odds ratio of {name} response by subgroup{at}")
    return _plain_axes(ax)


def forest_height(frame: pd.DataFrame) -> float:
    """Figure height (inches) that gives each row of a forest plot room.

    Examples
    --------
    >>> t = pd.DataFrame({"subgroup": ["overall", "sex", "sex"], "level": ["all", "F", "M"]})
    >>> forest_height(t)
    2.48
    """
    headers = frame.loc[frame["subgroup"] != "overall", "subgroup"].nunique()
    levels = len(frame[["subgroup", "level"]].drop_duplicates())
    return round(0.32 * (headers + levels) + 1.2, 2)


def kaplan_meier(ds: TrialDataset, ax: Axes | None = None, week: float | None = None) -> Axes:
    """Kaplan-Meier curves of time to first severe flare, per arm.

    Draws :meth:`lupsim.analysis.survival.KaplanMeierResult.plot` with
    pointwise 95% bands and the log-rank p-value in the title.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> len(kaplan_meier(simulate_trial(load_scenario("bliss52"), seed=1)).lines)
    3
    """
    km = survival.kaplan_meier(ds, week)
    ax = km.plot(_axes(ax, (6.5, 4.0)))
    ax.set_title(f"{ds.scenario}: time to first severe flare (log-rank p = {km.logrank_p:.3g})")
    return _plain_axes(ax)


def pooled_rates(result: PowerResult) -> pd.DataFrame:
    """Each comparison's response rates pooled over the sizes of a power run.

    The rates do not depend on n, so the mean rate of each size is an estimate
    of the same rate: the pooled rate is their mean weighted by replicates,
    with far less Monte Carlo noise than any one size's.

    Returns
    -------
    pandas.DataFrame
        Indexed by comparison: ``rate_control``, ``rate_arm``, ``replicates``
        (pooled), and the allocation ``alloc_arm``, ``alloc_control`` and
        ``alloc_total``.

    Examples
    --------
    >>> from lupsim.analysis.power import run_power
    >>> from lupsim.scenario import load_scenario
    >>> res = run_power(load_scenario("two-arm-binomial"), [200, 400], replicates=10)
    >>> pooled_rates(res)["replicates"].tolist()
    [20]
    """
    t = result.table
    if t.empty:
        raise LupsimError("the power result has no rows; run run_power with at least one size")
    rows = {}
    for comparison, g in t.groupby("comparison", sort=False):
        w = g["replicates"].to_numpy(dtype=np.float64)
        rows[str(comparison)] = {
            "rate_control": float(np.average(g["rate_control"], weights=w)),
            "rate_arm": float(np.average(g["rate_arm"], weights=w)),
            "replicates": int(w.sum()),
            "alloc_arm": float(g["alloc_arm"].iloc[0]),
            "alloc_control": float(g["alloc_control"].iloc[0]),
            "alloc_total": float(g["alloc_total"].iloc[0]),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "comparison"
    return out


def analytic_power(
    rate_control: float,
    rate_arm: float,
    n_total: ArrayLike,
    alpha_one_sided: float,
    allocation: tuple[float, float, float] = (1.0, 1.0, 2.0),
) -> NDArray[np.float64]:
    """Normal-approximation power of a one-sided test of two proportions.

    ``statsmodels`` ``NormalIndPower`` with Cohen's h, for the patients of
    the two arms among ``n_total`` randomised with ``allocation`` =
    (arm, control, total of the ratio): power = Phi(h sqrt(n_a n_c / (n_a +
    n_c)) - z_(1-alpha)).

    Examples
    --------
    >>> analytic_power(0.44, 0.58, [532], 0.025).round(3).tolist()
    [0.9]
    """
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    n = np.asarray(n_total, dtype=np.float64)
    if not (0 < rate_control < 1 and 0 < rate_arm < 1):
        return np.full(n.shape, np.nan)
    a_arm, a_control, a_total = allocation
    h = float(proportion_effectsize(rate_arm, rate_control))
    out = NormalIndPower().power(
        effect_size=h,
        nobs1=n * a_control / a_total,
        alpha=alpha_one_sided,
        ratio=a_arm / a_control,
        alternative="larger",
    )
    return np.asarray(out, dtype=np.float64)


def power_curve(result: PowerResult, ax: Axes | None = None) -> Axes:
    """Simulated power against total n with its 95% Monte Carlo band, beside
    one smooth analytic (normal approximation) curve, per comparison.

    The simulated points are the power run's; the analytic curve is
    :func:`analytic_power` over a fine grid of n for the response rates
    pooled over all sizes (:func:`pooled_rates`), so it is not bent by the
    Monte Carlo noise of each size's rates. It ignores interim looks.

    Returns
    -------
    matplotlib.axes.Axes
        Per comparison: a simulated line with markers, its band, and the
        analytic curve.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lupsim.analysis.power import run_power
    >>> from lupsim.scenario import load_scenario
    >>> res = run_power(load_scenario("two-arm-binomial"), [200, 400], replicates=10)
    >>> len(power_curve(res).lines)   # simulated and analytic
    2
    """
    ax = _axes(ax, (6.5, 4.0))
    t = result.table
    rates = pooled_rates(result)
    sizes = t["n_total"].to_numpy(dtype=np.float64)
    grid = np.unique(np.concatenate([np.linspace(sizes.min(), sizes.max(), 121), sizes]))
    for k, (comparison, g) in enumerate(t.groupby("comparison", sort=False)):
        g = g.sort_values("n_total")
        colour = f"C{k}"
        ax.plot(
            g["n_total"], g["power"], "o-", color=colour, ms=4, label=f"{comparison}: simulated"
        )
        ax.fill_between(
            g["n_total"],
            np.clip(g["power"] - _Z975 * g["mc_se"], 0, 1),
            np.clip(g["power"] + _Z975 * g["mc_se"], 0, 1),
            color=colour,
            alpha=0.2,
            lw=0,
        )
        r = {str(k): float(v) for k, v in rates.to_dict(orient="index")[str(comparison)].items()}
        ax.plot(
            grid,
            analytic_power(
                r["rate_control"],
                r["rate_arm"],
                grid,
                result.alpha_per_comparison,
                (r["alloc_arm"], r["alloc_control"], r["alloc_total"]),
            ),
            "--",
            color=colour,
            lw=1.2,
            label=f"{comparison}: normal approximation "
            f"({100 * r['rate_control']:.1f}% vs {100 * r['rate_arm']:.1f}%)",
        )
    ax.set_xlabel("Total patients randomised")
    ax.set_ylabel("Power")
    ax.set_ylim(0, 1.02)
    ax.set_title(
        f"{result.scenario}: simulated power ({result.replicates} trials per size, "
        f"{_LEVEL:.0%} Monte Carlo band)"
    )
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    return _plain_axes(ax)
