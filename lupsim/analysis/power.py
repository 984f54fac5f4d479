"""Power and sample size by simulation, with Monte Carlo error on every figure.

:func:`run_power` simulates the whole trial (cohort, engine, endpoints, the
plan's primary analysis, interim looks) ``replicates`` times at every point of
a grid, and summarises per grid point and comparison:

- the rejection rate (power, or type I error under the null) with its Monte
  Carlo SE and Clopper-Pearson 95% CI;
- mean estimates and response rates per arm;
- with interim looks, the probability of stopping at each look and the
  expected duration;
- the analytic normal-approximation power for the same response rates
  (``statsmodels.stats.power``), as a cross-check; the rates are pooled over
  the sizes of a comparison (weighted by replicates), since they do not depend
  on n, so the analytic curve carries little Monte Carlo noise.

:func:`sample_size` finds the smallest total n reaching a target power from
the simulated grid (a probit curve in sqrt(n), fitted by maximum likelihood,
with a delta-method CI), beside the analytic answer.

Grids: any of ``n_total``, ``effect_scale`` (multiplies the drug's log-odds
effects), ``placebo_scale`` (multiplies the standard-care effect, i.e. the
placebo response), ``allocation`` and ``enrichment`` (an extra inclusion rule)
given as a list becomes a grid axis; a :class:`PowerResult` holds one tidy row
per grid point and comparison.

Replicate ``k`` uses child ``k`` of the root SeedSequence at every grid point,
so grid points share common random numbers and the result does not depend on
how replicates are scheduled (:mod:`lupsim.runner`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lupsim.analysis.binary import Z975
from lupsim.analysis.interim import (
    comparison_alpha,
    final_day,
    primary_statistics,
    sequential_analysis,
)
from lupsim.analysis.plan import AnalysisPlan
from lupsim.errors import LupsimError, ScenarioError
from lupsim.scenario import Scenario

__all__ = [
    "GRID_FIELDS",
    "GridPoint",
    "PowerResult",
    "analyse_replicate",
    "apply_grid_point",
    "check_feasible",
    "expand_grid",
    "run_power",
    "sample_size",
    "summarise_power",
]

#: Disease parameters that carry the drug's effect (scaled by ``effect_scale``).
DRUG_EFFECTS = (
    "drug_logodds",
    "drug_onset_logodds",
    "dsdna_drop_log10",
    "c3_rise",
    "c4_rise_log",
)
#: Scenario quantities that may be varied over a grid.
GRID_FIELDS = ("n_total", "effect_scale", "placebo_scale", "allocation", "enrichment")


@dataclass(frozen=True)
class GridPoint:
    """One point of a design grid."""

    index: int
    values: dict[str, Any]

    @property
    def n_total(self) -> int:
        return int(self.values["n_total"])

    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values.items())


def expand_grid(base_n: int, grid: dict[str, Sequence[Any]] | None = None) -> list[GridPoint]:
    """All combinations of the grid's values (``n_total`` defaults to the design's).

    Examples
    --------
    >>> [p.values for p in expand_grid(865, {"n_total": [400, 600], "effect_scale": [1.0]})]
    [{'n_total': 400, 'effect_scale': 1.0}, {'n_total': 600, 'effect_scale': 1.0}]
    """
    grid = dict(grid or {})
    for key in grid:
        if key not in GRID_FIELDS:
            raise ScenarioError(
                f"grid: unknown field {key!r}; a grid varies {', '.join(GRID_FIELDS)}"
            )
    grid.setdefault("n_total", [base_n])
    keys = list(grid)
    points = []
    for i, combo in enumerate(itertools.product(*(list(grid[k]) for k in keys))):
        points.append(GridPoint(i, dict(zip(keys, combo, strict=True))))
    return points


def apply_grid_point(scenario: Scenario, point: GridPoint) -> Scenario:
    """The scenario at one grid point (validated: a bad point is a ScenarioError)."""
    from lupsim.scenario import parse_scenario
    from lupsim.trial.disease import DiseaseParameters

    design = scenario.design
    if design is None:
        raise ScenarioError(
            f"scenario {scenario.name!r} has no [design] table; add a [design] table "
            "with at least two [[design.arms]]"
        )
    raw = scenario.model_dump(mode="json")
    raw["design"]["n_randomised"] = point.n_total
    # Interim looks keep their information fraction: a look at 433 of 865
    # patients is a look at half of any other total.
    for m in raw["design"].get("milestones") or ():
        share = m["n_patients"] / design.n_randomised
        m["n_patients"] = min(max(1, round(share * point.n_total)), point.n_total)
    if "allocation" in point.values:
        raw["design"]["allocation"] = list(point.values["allocation"])
    if point.values.get("enrichment"):
        # An enrichment rule narrows the screen; the population (fitted to the
        # un-enriched screen) stays as published.
        elig = raw.get("eligibility") or {}
        elig["enrich"] = [*elig.get("enrich", []), point.values["enrichment"]]
        raw["eligibility"] = elig
    base = DiseaseParameters()
    disease = dict(raw.get("disease") or {})
    if "effect_scale" in point.values:
        # Every effect of the drug: on organ activity, on flares, on serology.
        scale = float(point.values["effect_scale"])
        for name in DRUG_EFFECTS:
            value = disease.get(name)
            disease[name] = scale * (getattr(base, name) if value is None else value)
    if "placebo_scale" in point.values:
        scale = float(point.values["placebo_scale"])
        value = disease.get("standard_care_logodds")
        disease["standard_care_logodds"] = scale * (
            base.standard_care_logodds if value is None else value
        )
    if disease:
        raw["disease"] = {k: v for k, v in disease.items() if v is not None}
    if design.outcome == "binomial" and "effect_scale" in point.values:
        # Binomial designs: scale each active arm's log-odds ratio vs control.
        scale = float(point.values["effect_scale"])
        control = design.control_arm
        p0 = next(a.response_rate for a in design.arms if a.name == control)
        assert p0 is not None
        for a in raw["design"]["arms"]:
            if a["name"] != control:
                lor = math.log(a["response_rate"] / (1 - a["response_rate"])) - math.log(
                    p0 / (1 - p0)
                )
                lo = math.log(p0 / (1 - p0)) + scale * lor
                a["response_rate"] = 1 / (1 + math.exp(-lo))
        raw.pop("disease", None)
    return parse_scenario(raw, source=f"{scenario.name} at {point.label()}")


def simulate(scenario: Scenario, seed: int, replicate: int | None) -> Any:
    """One trial of a scenario (the disease model or a binomial design,
    :func:`lupsim.trial.simulate_trial` dispatches)."""
    assert scenario.design is not None
    from lupsim.trial import simulate_trial

    return simulate_trial(scenario, seed, replicate=replicate)


#: The primary analysis of one dataset (:func:`lupsim.analysis.interim.primary_statistics`).
_primary_z = primary_statistics


def _fixed_design_rejections(final: list[dict[str, Any]], plan: AnalysisPlan) -> list[bool]:
    """Which comparisons the plan rejects at the final analysis of a design
    without looks: one-sided p = 1 - Phi(z) in the direction of benefit, and
    the plan's multiplicity procedure over the active arms at the one-sided
    alpha (fixed sequence: the highest dose, the last arm, first; as
    :func:`lupsim.analysis.report.analyse`). A failed fit is not a rejection.
    """
    from lupsim.analysis import multiplicity

    z = np.array([r["z"] for r in final], dtype=np.float64)
    p = np.where(np.isfinite(z), stats.norm.sf(np.nan_to_num(z, nan=-np.inf)), 1.0)
    alpha = plan.one_sided_alpha
    m = len(p)
    if plan.multiplicity == "none" or m == 0:
        return [bool(x) for x in p <= alpha]
    if plan.multiplicity == "bonferroni":
        return [bool(x) for x in p <= alpha / m]
    if plan.multiplicity == "holm":
        res = multiplicity.holm(p, alpha)
    elif plan.multiplicity == "hochberg":
        res = multiplicity.hochberg(p, alpha)
    else:  # fixed sequence
        res = multiplicity.fixed_sequence(p, list(range(m))[::-1], alpha)
    return [bool(x) for x in res.reject]


def analyse_replicate(
    scenario: Scenario, plan: AnalysisPlan, seed: int, replicate: int, point: GridPoint
) -> list[dict[str, Any]]:
    """Simulate and analyse one replicate; one small record per comparison.

    Records hold the final z statistic, whether the primary test rejects, and
    with interim looks the look at which the trial stopped and its duration.
    """
    ds = simulate(scenario, seed, replicate)
    final = primary_statistics(ds, plan)
    fixed = _fixed_design_rejections(final, plan)
    assert scenario.design is not None
    seq = (
        sequential_analysis(ds, plan, n_planned=scenario.design.n_randomised, final=final)
        if scenario.design.milestones
        else None
    )
    records = []
    for j, rec in enumerate(final):
        row = {"grid": point.index, "replicate": replicate, **rec}
        if seq is None:
            row.update(
                reject=bool(fixed[j]),
                stop_look=0,  # ran to the end
                futility_crossed=False,
                duration_days=final_day(ds),
            )
        else:
            d = seq.decisions[j]
            row.update(
                reject=d.rejected,
                stop_look=d.stop_look,
                futility_crossed=d.futility_crossed,
                duration_days=float(d.day),
            )
        records.append(row)
    return records


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial CI for a proportion.

    Examples
    --------
    >>> [round(x, 4) for x in clopper_pearson(5, 10)]
    [0.1871, 0.8129]
    """
    a = 1 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


@dataclass(frozen=True)
class PowerResult:
    """Simulated power over a grid, one tidy row per grid point and comparison.

    ``table`` columns: the grid fields, ``comparison``, ``replicates``,
    ``power`` (rejection rate), ``mc_se``, ``ci_low``/``ci_high``
    (Clopper-Pearson 95%), ``analytic_power``, mean ``odds_ratio`` (geometric),
    ``rate_control``/``rate_arm`` (mean response rates), ``stop_look_<k>``
    (share stopping at interim look k), ``expected_duration_days``.

    ``alpha_one_sided`` is the plan's; ``comparison_alpha`` the one-sided
    alpha each comparison is tested at, which the analytic figures use
    (:func:`lupsim.analysis.interim.comparison_alpha`: the plan's alpha split
    by Bonferroni, else the plan's alpha; Holm, Hochberg and fixed-sequence
    testing reach it only at some step, so for them the analytic power is an
    upper bound). None means the plan's.
    """

    scenario: str
    seed: int
    replicates: int
    alpha_one_sided: float
    table: pd.DataFrame
    records: pd.DataFrame = field(repr=False)
    retried: int = 0
    comparison_alpha: float | None = None

    @property
    def alpha_per_comparison(self) -> float:
        """One-sided alpha of each comparison (the analytic figures')."""
        return self.alpha_one_sided if self.comparison_alpha is None else self.comparison_alpha

    def summary(self) -> str:
        """A human-readable power table."""
        cols = ["n_total", "comparison", "power", "mc_se", "ci_low", "ci_high", "analytic_power"]
        extra = [
            c
            for c in self.table.columns
            if c.startswith(("effect_scale", "placebo_scale", "allocation", "enrichment"))
        ]
        # With interim looks: the share of trials stopping at each look and the
        # expected duration (trial start to the analysis that ended it).
        looks = [c for c in self.table.columns if c.startswith("stop_look_")]
        t = self.table[[*extra, *cols, *looks]].copy()
        t = t.rename(columns={c: f"P(stop at look {c.rsplit('_', 1)[1]})" for c in looks})
        if looks and "expected_duration_days" in self.table.columns:
            t["E[duration] (weeks)"] = self.table["expected_duration_days"] / 7.0
        per = ""
        if self.alpha_per_comparison != self.alpha_one_sided:
            per = f" ({self.alpha_per_comparison:g} per comparison, Bonferroni)"
        text = (
            f"{self.scenario}: {self.replicates} replicates per point, seed {self.seed}, "
            f"one-sided alpha {self.alpha_one_sided:g}{per}\n"
            + t.to_string(index=False, float_format=lambda x: f"{x:.3f}")
        )
        if self.table["comparison"].nunique() > 1:
            fw = self.familywise().drop(columns=["grid", "replicates"])
            fw = fw.rename(
                columns={
                    "any_power": "P(reject any)",
                    "any_mc_se": "mc_se (any)",
                    "all_power": "P(reject all)",
                    "all_mc_se": "mc_se (all)",
                }
            )
            text += "\nOver all comparisons (the same trials):\n" + fw.to_string(
                index=False, float_format=lambda x: f"{x:.3f}"
            )
        return text

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def familywise(self) -> pd.DataFrame:
        """Power over all comparisons at each grid point: the share of trials
        rejecting at least one comparison (``any_power``) and every comparison
        (``all_power``), each with its Monte Carlo SE.

        With one comparison both are its power. Under the plan's multiplicity
        procedure, ``any_power`` without a drug effect is the family-wise
        error rate.

        Examples
        --------
        >>> from lupsim.scenario import load_scenario
        >>> res = run_power(load_scenario("bliss52"), [600], replicates=4, seed=1)
        >>> list(res.familywise().columns)[-5:]
        ['replicates', 'any_power', 'any_mc_se', 'all_power', 'all_mc_se']
        """
        rec = self.records
        by_trial = rec.groupby(["grid", "replicate"], sort=True)["reject"]
        trials = pd.DataFrame({"any": by_trial.any(), "all": by_trial.all()}).reset_index()
        out = trials.groupby("grid", sort=True).agg(
            replicates=("any", "size"), any_power=("any", "mean"), all_power=("all", "mean")
        )
        for kind in ("any", "all"):
            p = out[f"{kind}_power"]
            out[f"{kind}_mc_se"] = np.sqrt(p * (1 - p) / out["replicates"])
        axes = [c for c in self.table.columns if c in GRID_FIELDS]
        points = self.table.drop_duplicates("grid").set_index("grid")[axes]
        cols = ["replicates", "any_power", "any_mc_se", "all_power", "all_mc_se"]
        return points.join(out[cols]).reset_index()

    def plot(self, ax: Any = None, comparison: str | None = None) -> Any:
        """Power against total n: simulated (with 95% Monte Carlo band) and analytic.

        Returns the matplotlib Axes.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        comps = [comparison] if comparison else list(dict.fromkeys(self.table["comparison"]))
        for comp in comps:
            t = self.table[self.table["comparison"] == comp].sort_values("n_total")
            line = ax.plot(t["n_total"], t["power"], "o-", label=f"{comp} (simulated)")[0]
            ax.fill_between(
                t["n_total"],
                np.clip(t["power"] - Z975 * t["mc_se"], 0, 1),
                np.clip(t["power"] + Z975 * t["mc_se"], 0, 1),
                color=line.get_color(),
                alpha=0.2,
            )
            ax.plot(
                t["n_total"],
                t["analytic_power"],
                "--",
                color=line.get_color(),
                label=f"{comp} (normal approximation)",
            )
        ax.set_xlabel("total patients randomised")
        ax.set_ylabel("power")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{self.scenario}: {self.replicates} trials per point")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
        return ax

    def to_json(self, target: float = 0.9, comparison: str | None = None) -> dict[str, Any]:
        """The ``lupsim power --format json`` document."""
        axes = _other_axes(self.table)
        rows = [
            {
                "grid": int(r["grid"]),
                "n_total": int(r["n_total"]),
                **{c: _axis_value(r[c]) for c in axes},
                "comparison": r["comparison"],
                "power": float(r["power"]),
                "mc_se": float(r["mc_se"]),
                "ci_low": float(r["ci_low"]),
                "ci_high": float(r["ci_high"]),
                "analytic_power": _num(r["analytic_power"]),
            }
            for _, r in self.table.iterrows()
        ]
        ss = sample_size(self, target, comparison)
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "replicates": self.replicates,
            "alpha_one_sided": self.alpha_one_sided,
            "alpha_per_comparison": self.alpha_per_comparison,
            "results": rows,
            "familywise": [
                {
                    "grid": int(r["grid"]),
                    "n_total": int(r["n_total"]),
                    **{c: _axis_value(r[c]) for c in axes},
                    "any_power": float(r["any_power"]),
                    "any_mc_se": float(r["any_mc_se"]),
                    "all_power": float(r["all_power"]),
                    "all_mc_se": float(r["all_mc_se"]),
                }
                for _, r in self.familywise().iterrows()
            ],
            "sample_size": {
                "target_power": ss["target_power"],
                "comparison": ss["comparison"],
                "n_total": _num(ss["n_total"]),
                "analytic_n_total": _num(ss["analytic_n_total"]),
            },
        }


def _axis_value(x: Any) -> Any:
    """A grid value as JSON: a number, or a list (an allocation)."""
    if isinstance(x, (list, tuple, np.ndarray)):
        return [float(v) for v in x]
    if isinstance(x, (int, float, np.integer, np.floating)):
        return float(x)
    return x


def _num(x: Any) -> float | None:
    x = float(x)
    return None if not math.isfinite(x) else x


def summarise_power(
    records: pd.DataFrame,
    points: list[GridPoint],
    scenario: Scenario,
    plan: AnalysisPlan,
) -> pd.DataFrame:
    """Aggregate replicate records into the power table."""
    rows = []
    design = scenario.design
    n_looks = len(design.milestones) if plan.interim is not None and design is not None else 0
    for point in points:
        sub = records[records["grid"] == point.index]
        for comparison, g in sub.groupby("comparison", sort=False):
            n_rep = len(g)
            k = int(g["reject"].sum())
            power = k / n_rep
            lo, hi = clopper_pearson(k, n_rep)
            rate_c = float(g["rate_control"].mean())
            rate_a = float(g["rate_arm"].mean())
            n_pair = float(g["n"].mean())
            alloc = _allocation_of(scenario, point, str(comparison))
            row = {
                "grid": point.index,
                **point.values,
                "comparison": comparison,
                "replicates": n_rep,
                "power": power,
                "mc_se": math.sqrt(power * (1 - power) / n_rep),
                "ci_low": lo,
                "ci_high": hi,
                "analytic_power": float("nan"),  # below, from the pooled rates
                "odds_ratio": float(np.exp(np.nanmean(g["log_or"]))),
                "rate_control": rate_c,
                "rate_arm": rate_a,
                "n_pair": n_pair,
                "alloc_arm": alloc[0],
                "alloc_control": alloc[1],
                "alloc_total": _allocation_total(scenario, point),
                "expected_duration_days": float(g["duration_days"].mean()),
            }
            # Every planned look gets its column, also when no replicate stopped there.
            for look in range(1, n_looks + 1):
                row[f"stop_look_{look}"] = float((g["stop_look"] == look).mean())
            rows.append(row)
    table = pd.DataFrame(rows)
    _analytic_power(table, _comparison_alpha(plan, records))
    return table


def _comparison_alpha(plan: AnalysisPlan, records: pd.DataFrame) -> float:
    """One-sided alpha of each comparison of a power run's records."""
    comparisons = records["comparison"].nunique() if "comparison" in records else 1
    return comparison_alpha(plan, int(comparisons))


def _other_axes(table: pd.DataFrame) -> list[str]:
    """The grid axes of a power table other than n: rows that differ only in
    n share their response rates."""
    return [c for c in GRID_FIELDS if c in table.columns and c != "n_total"]


def _pooled_rates(rows: pd.DataFrame) -> tuple[float, float]:
    """Control and arm response rates over rows that differ only in n, weighted
    by replicates: the rates do not depend on n, and pooling removes most of
    the Monte Carlo noise of one size's rates."""
    w = rows["replicates"].to_numpy(dtype=np.float64)
    return (
        float(np.average(rows["rate_control"], weights=w)),
        float(np.average(rows["rate_arm"], weights=w)),
    )


def _analytic_power(table: pd.DataFrame, alpha: float) -> None:
    """Fill ``analytic_power``: the normal approximation (Cohen's h,
    ``statsmodels`` ``NormalIndPower``) at each row's n for the response rates
    pooled over the rows of the same comparison and other grid values."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    if table.empty:
        return
    others = _other_axes(table)
    # Grid values may be lists (an allocation): group on their text.
    keys = [table["comparison"], *(table[c].astype(str) for c in others)]
    for _, rows in table.groupby(keys, sort=False, dropna=False):
        rate_c, rate_a = _pooled_rates(rows)
        if not (0 < rate_c < 1 and 0 < rate_a < 1):
            continue
        h = proportion_effectsize(rate_a, rate_c)
        for i, r in rows.iterrows():
            n1 = r["n_pair"] * r["alloc_control"] / (r["alloc_arm"] + r["alloc_control"])
            table.loc[i, "analytic_power"] = float(
                NormalIndPower().power(
                    effect_size=h,
                    nobs1=n1,
                    alpha=alpha,
                    ratio=r["alloc_arm"] / r["alloc_control"],
                    alternative="larger",
                )
            )


def _allocation_total(scenario: Scenario, point: GridPoint) -> float:
    design = scenario.design
    assert design is not None
    return float(
        sum(point.values.get("allocation") or design.allocation or (1,) * len(design.arms))
    )


def _allocation_of(scenario: Scenario, point: GridPoint, comparison: str) -> tuple[float, float]:
    """(arm, control) allocation ratio of a comparison at a grid point."""
    design = scenario.design
    assert design is not None
    alloc = list(point.values.get("allocation") or design.allocation or (1,) * len(design.arms))
    names = [a.name for a in design.arms]
    arm_name, control = comparison.split(" vs ")
    return float(alloc[names.index(arm_name)]), float(alloc[names.index(control)])


def run_power(
    scenario: Scenario,
    sample_sizes: Iterable[int] | None = None,
    replicates: int = 1000,
    seed: int = 1,
    *,
    workers: int = 1,
    dask_address: str | None = None,
    grid: dict[str, Sequence[Any]] | None = None,
    plan: AnalysisPlan | None = None,
    store: str | None = None,
    resume: bool = False,
    progress: bool | Callable[[int, int], None] = False,
) -> PowerResult:
    """Simulated power of a scenario over sample sizes (and any other grid axes).

    Parameters
    ----------
    scenario
        A scenario with a design (and optionally an ``[analysis]`` plan).
    sample_sizes
        Total n to simulate (default: the design's ``n_randomised``).
    replicates
        Trials per grid point.
    seed
        Root seed; replicate k uses child k (the same at every grid point).
    workers, dask_address
        Run on ``workers`` local processes, or on a Dask cluster
        (:mod:`lupsim.runner`); results are identical either way.
    grid
        Further grid axes (:data:`GRID_FIELDS`).
    plan
        Analysis plan (default: the scenario's, else :class:`AnalysisPlan`).
    store, resume
        Write finished replicates to ``store`` and, with ``resume``, continue
        an interrupted run.
    progress
        Show a progress bar (True) or call ``progress(done, total)``.
    """
    from lupsim.runner import execute

    if replicates < 1:
        raise LupsimError(f"replicates must be >= 1, got {replicates}")
    design = scenario.design
    if design is None:
        raise ScenarioError(
            f"scenario {scenario.name!r} has no [design] table; add a [design] table "
            "with at least two [[design.arms]]"
        )
    plan = plan or getattr(scenario, "analysis", None) or AnalysisPlan()
    g = dict(grid or {})
    if sample_sizes is not None:
        g["n_total"] = [int(n) for n in sample_sizes]
    points = expand_grid(design.n_randomised, g)
    scenarios = [apply_grid_point(scenario, p) for p in points]
    for p, sc in zip(points, scenarios, strict=True):
        check_feasible(sc, p)
    records, retried = execute(
        scenarios,
        points,
        plan,
        seed,
        replicates,
        workers=workers,
        dask_address=dask_address,
        store=store,
        resume=resume,
        progress=progress,
    )
    table = summarise_power(records, points, scenario, plan)
    return PowerResult(
        scenario.name,
        seed,
        replicates,
        plan.one_sided_alpha,
        table,
        records,
        retried,
        comparison_alpha=_comparison_alpha(plan, records),
    )


def check_feasible(scenario: Scenario, point: GridPoint) -> None:
    """Refuse a grid point whose total n cannot fill one randomisation block
    per stratum (a ScenarioError saying how many patients are needed).

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> check_feasible(load_scenario("bliss52"), GridPoint(0, {"n_total": 400}))
    >>> check_feasible(load_scenario("bliss52"), GridPoint(0, {"n_total": 20}))
    Traceback (most recent call last):
    ...
    lupsim.errors.ScenarioError: n_total 20 is smaller than one block (6) per stratum ...
    """
    design = scenario.design
    assert design is not None
    strata = 2 ** len(design.randomisation.stratify_by)
    block = min(design.block_sizes())
    if point.n_total < strata * block:
        raise ScenarioError(
            f"n_total {point.n_total} is smaller than one block ({block}) per stratum "
            f"({strata} strata): at least {strata * block} patients are needed; raise n or "
            "use fewer stratification factors"
        )


def sample_size(
    result: PowerResult, target: float = 0.9, comparison: str | None = None
) -> dict[str, Any]:
    """Smallest total n reaching ``target`` power, from the simulated grid.

    Fits power(n) = Phi(b sqrt(n) - z_(1-alpha)), the shape of the normal
    approximation with one free parameter b (the standardised effect), to every
    replicate's reject/accept by maximum likelihood (binomial GLM, probit link,
    offset), inverts it, and gives a delta-method 95% CI from the SE of b. One
    parameter keeps the fit stable when a grid point has power 0 or 1. Beside
    it, the analytic normal-approximation total n for the simulated response
    rates (pooled over the grid's sizes). With other grid axes (effect,
    placebo, allocation, enrichment), both use the sizes of the last row's
    values of those axes only: each value is another design.
    """
    import statsmodels.api as sm
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    rec = result.records
    table = result.table
    comparison = comparison or list(dict.fromkeys(table["comparison"]))[-1]
    sub = rec[rec["comparison"] == comparison]
    rows = table[table["comparison"] == comparison]
    if rows.empty:
        raise LupsimError(
            f"no comparison {comparison!r}; comparisons are "
            f"{', '.join(dict.fromkeys(table['comparison']))}"
        )
    crow = rows.iloc[-1]
    # The sizes of the last row's other grid values only: an effect, placebo,
    # allocation or enrichment axis changes the design, not just its size.
    same = np.ones(len(rows), dtype=bool)
    for c in _other_axes(rows):
        same &= (rows[c].astype(str) == str(crow[c])).to_numpy()
    rows = rows[same]
    sub = sub[sub["grid"].isin(rows["grid"])]
    id_to_n = dict(zip(rows["grid"], rows["n_total"], strict=True))
    n_vec = sub["grid"].map(id_to_n).to_numpy(dtype=float)
    y = sub["reject"].to_numpy(dtype=float)
    out: dict[str, Any] = {"target_power": target, "comparison": comparison}
    n_star = float("nan")
    ci = (float("nan"), float("nan"))
    z_alpha = float(stats.norm.isf(result.alpha_per_comparison))
    if n_vec.size and 0 < y.mean() < 1:
        fit = sm.GLM(
            y,
            np.sqrt(n_vec)[:, None],
            family=sm.families.Binomial(link=sm.families.links.Probit()),
            offset=np.full(n_vec.size, -z_alpha),
        ).fit()
        b = float(fit.params[0])
        se_b = float(fit.bse[0])
        zt = float(stats.norm.ppf(target))
        if b > 0:
            n_star = ((zt + z_alpha) / b) ** 2
            # Delta method on n = ((zt + z_alpha) / b)^2: dn/db = -2 n / b.
            se = 2 * n_star / b * se_b
            ci = (max(n_star - Z975 * se, 0.0), n_star + Z975 * se)
    out["n_total"] = n_star
    out["n_total_ci"] = ci
    rate_c, rate_a = _pooled_rates(rows)
    out["analytic_n_total"] = float("nan")
    # The one-sided test has power only for a benefit (h > 0): without one
    # there is no analytic sample size.
    if 0 < rate_c < rate_a < 1:
        h = proportion_effectsize(rate_a, rate_c)
        ratio = crow["alloc_control"] / crow["alloc_arm"]
        n1 = NormalIndPower().solve_power(
            effect_size=h,
            alpha=result.alpha_per_comparison,
            power=target,
            ratio=ratio,
            alternative="larger",
        )
        n_pair = float(n1) * (1 + ratio)
        out["analytic_n_total"] = (
            n_pair * crow["alloc_total"] / (crow["alloc_arm"] + crow["alloc_control"])
        )
    return out
