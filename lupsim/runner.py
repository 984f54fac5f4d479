"""Run many replicates of a trial and summarise them with Monte Carlo error.

Replicate ``k`` of a run with seed ``s`` uses child ``k`` of the root
SeedSequence (:func:`lupsim.random.replicate_seed`), so a replicate can be re-run
alone and the result does not depend on how replicates are scheduled.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> res = simulate_replicates(load_scenario("bliss52"), seed=1, replicates=2)
>>> res.replicates, list(res.arms["arm"])
(2, ['placebo', 'belimumab_1mg', 'belimumab_10mg'])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lupsim.analysis.endpoints import arm_summary, weekly_sri
from lupsim.errors import LupsimError
from lupsim.scenario import Scenario
from lupsim.trial import simulate_trial
from lupsim.trial.dataset import TrialDataset

__all__ = ["SimulationResult", "simulate_replicates", "summarise_trial"]

#: Endpoint columns of the per-arm summary, as reported (percentages).
ENDPOINTS = (
    "completed_pct",
    "sri4",
    "sledai_reduction4",
    "no_bilag_worsening",
    "no_pga_worsening",
    "sri5",
    "sri6",
    "bicla",
    "lldas",
    "severe_flare",
    "steroid_reduction",
)


def summarise_trial(ds: TrialDataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-arm endpoint percentages and weekly SRI-4 of one trial."""
    return arm_summary(ds), weekly_sri(ds)


@dataclass(frozen=True)
class SimulationResult:
    """Replicated trials summarised per arm, each figure with its Monte Carlo SE.

    Attributes
    ----------
    arms
        One row per arm: ``n_randomised`` (mean), each endpoint's mean percentage
        and, in ``<endpoint>_mc_se``, its Monte Carlo standard error. With one
        replicate the SE is the within-trial binomial SE.
    weekly
        SRI-4 per arm and visit week, mean over replicates, with MC SE.
    """

    scenario: str
    seed: int
    replicates: int
    arms: pd.DataFrame
    weekly: pd.DataFrame

    def to_json(self) -> dict[str, Any]:
        """The ``lupsim simulate --format json`` document."""
        arms = []
        for _, r in self.arms.iterrows():
            row: dict[str, Any] = {"arm": r["arm"], "n_randomised": float(r["n_randomised"])}
            for col in ENDPOINTS:
                key = col if col.endswith("_pct") else f"{col}_pct"
                row[key] = round(float(r[col]), 4)
            row["sri4_mc_se"] = round(float(r["sri4_mc_se"]), 4)
            arms.append(row)
        weekly = [
            {"arm": r["arm"], "week": float(r["week"]), "sri4_pct": round(float(r["sri4_pct"]), 4)}
            for _, r in self.weekly.iterrows()
        ]
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "replicates": self.replicates,
            "arms": arms,
            "weekly": weekly,
        }

    def summary(self) -> str:
        """A human-readable table of the per-arm results."""
        lines = [
            f"{self.scenario}: {self.replicates} replicate(s), seed {self.seed} "
            "(percentages; +/- Monte Carlo SE)",
            f"{'':22s}" + "".join(f"{a:>18s}" for a in self.arms["arm"]),
        ]
        labels = {
            "n_randomised": "Randomised (n)",
            "completed_pct": "Completed",
            "sri4": "SRI-4",
            "sledai_reduction4": "  >= 4-point SS drop",
            "no_bilag_worsening": "  no BILAG worsening",
            "no_pga_worsening": "  no PGA worsening",
            "sri5": "SRI-5",
            "sri6": "SRI-6",
            "bicla": "BICLA",
            "lldas": "LLDAS",
            "severe_flare": "Severe flare (mSFI)",
            "steroid_reduction": "Steroid reduction",
        }
        for col, label in labels.items():
            cells = []
            for _, r in self.arms.iterrows():
                if col == "n_randomised":
                    cells.append(f"{r[col]:18.1f}")
                else:
                    cells.append(f"{r[col]:11.1f} +/-{r[col + '_mc_se']:4.1f}")
            lines.append(f"{label:22s}" + "".join(cells))
        return "\n".join(lines)


def simulate_replicates(
    scenario: Scenario,
    seed: int,
    replicates: int,
    *,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Simulate ``replicates`` trials (serially) and summarise them.

    Memory stays flat: each trial is summarised and dropped.
    """
    if replicates < 1:
        raise LupsimError(f"replicates must be >= 1, got {replicates}")
    per_arm: list[pd.DataFrame] = []
    per_week: list[pd.DataFrame] = []
    for k in range(replicates):
        ds = simulate_trial(scenario, seed, replicate=k if replicates > 1 else None)
        a, w = summarise_trial(ds)
        per_arm.append(a.reset_index())
        per_week.append(w)
        if progress is not None:
            progress(k + 1)
    arms = _aggregate(per_arm, ["arm"], ["n_randomised", *ENDPOINTS])
    if replicates == 1:
        # One trial: report the within-trial binomial SE of each percentage.
        n = arms["n_randomised"].to_numpy(dtype=float)
        for col in ENDPOINTS:
            p = arms[col].to_numpy(dtype=float) / 100
            arms[col + "_mc_se"] = 100 * np.sqrt(np.clip(p * (1 - p), 0, None) / n)
    weekly = _aggregate(per_week, ["arm", "week"], ["sri4_pct"])
    return SimulationResult(scenario.name, seed, replicates, arms, weekly)


def _aggregate(frames: list[pd.DataFrame], keys: list[str], cols: list[str]) -> pd.DataFrame:
    df = pd.concat(frames, ignore_index=True)
    order = frames[0][keys].drop_duplicates()
    g = df.groupby(keys, sort=False)[cols]
    mean = g.mean()
    se = pd.DataFrame(g.std(ddof=1) / np.sqrt(g.count()))
    out = mean.join(se.add_suffix("_mc_se"))
    return order.merge(out.reset_index(), on=keys, how="left")
