"""The qualification report: lupsim's figures beside published or analytic ones.

``lupsim validate`` reruns, from scratch:

1. **BLISS-52 Table 1** (Navarra et al., Lancet 2011): a 20,000-patient screened
   cohort, every published figure (percentages within 2 points, means within
   0.1 SD, SDs within 10%, bounds respected);
2. **BLISS-52 week-52 results**: per arm SRI-4 (within 2.5 points), its three
   components (4 points) and completion (3 points), over ``replicates`` trials;
3. **BLISS-LN week-104 renal responses** (Furie et al., N Engl J Med
   2020;383:1117-28) with the ``nephritis-addon`` scenario: per arm PERR and
   CRR (within 3 points, about one sampling SE of the published figure) and
   the belimumab gain in each (within 4 points), over ``replicates`` trials;
4. **Power engine vs formula** on the two-arm binomial design (44% vs 58%):
   simulated power vs the normal approximation, type I error with no effect,
   coverage of the odds ratio's 95% CI (each within 3 Monte Carlo SE);
5. **Group-sequential boundaries** vs published rpact/gsDesign values.

Each row: the check, the reference, lupsim's value, its Monte Carlo SE where it
has one, the tolerance and pass/fail.

Examples
--------
>>> Check("demo", 1.0, 1.01, 0.0, 0.05).passed
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Check", "run_validation"]


@dataclass(frozen=True)
class Check:
    """One validation row; passes if |simulated - reference| <= tolerance
    (or the bound holds, for a reference published as a bound)."""

    name: str
    reference: float
    simulated: float
    mc_se: float
    tolerance: float
    relation: str = "="

    @property
    def passed(self) -> bool:
        if not math.isfinite(self.simulated):
            return False
        if self.relation == "<":
            return self.simulated < self.reference
        return abs(self.simulated - self.reference) <= self.tolerance + 1e-12

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "reference": self.reference,
            "relation": self.relation,
            "simulated": self.simulated,
            "mc_se": None if not math.isfinite(self.mc_se) else self.mc_se,
            "tolerance": self.tolerance,
            "passed": self.passed,
        }

    def line(self) -> str:
        se = f"{self.mc_se:7.3f}" if math.isfinite(self.mc_se) else f"{'':7s}"
        # Four significant figures: a rescaled race share is 26.32, not 26.3158.
        ref = f"{self.reference:.4g}"
        if self.relation != "=":
            ref = self.relation + ref
        tol = "bound" if self.relation != "=" else f"+/-{self.tolerance:.3g}"
        return (
            f"{self.name:58s} {ref:>10s} {self.simulated:10.3f} {se} {tol:>10s}  "
            f"{'pass' if self.passed else 'FAIL'}"
        )


def _table1(seed: int) -> list[Check]:
    from lupsim.cohort import generate_cohort
    from lupsim.scenario import load_scenario

    s = load_scenario("bliss52")
    cohort = generate_cohort(s.population, 20_000, seed, eligibility=s.eligibility)
    table = cohort.table1().set_index("variable")
    race_total = sum(s.population.race_shares().values())
    sd_of = {
        "age_mean": "age_sd",
        "sledai_mean": "sledai_sd",
        "disease_duration_mean": "disease_duration_sd",
        "prednisone_mean_mg": "prednisone_sd_mg",
    }
    out = []
    for var, row in table.iterrows():
        rel = row["relation"]
        if rel == "":
            continue
        value, target = float(row["value"]), float(row["target"])
        n = 20_000
        if rel != "=":
            out.append(Check(f"BLISS-52 Table 1: {var}", target, value, float("nan"), 0.0, rel))
            continue
        if str(var).endswith("_pct"):
            if str(var).startswith("race_"):
                target *= 100 / race_total
            se = 100 * math.sqrt(value / 100 * (1 - value / 100) / n)
            out.append(Check(f"BLISS-52 Table 1: {var}", target, value, se, 2.0))
        elif str(var) in sd_of:
            sd = float(table.at[sd_of[str(var)], "target"])  # type: ignore[arg-type]
            out.append(
                Check(f"BLISS-52 Table 1: {var}", target, value, sd / math.sqrt(n), 0.1 * sd)
            )
        elif str(var).endswith(("_sd", "_sd_mg")):
            out.append(
                Check(
                    f"BLISS-52 Table 1: {var}",
                    target,
                    value,
                    value / math.sqrt(2 * n),
                    0.1 * target,
                )
            )
        else:  # a mean whose SD is not published (PGA, SDI)
            sd = float(table.at[str(var).replace("_mean", "_sd"), "value"])  # type: ignore[arg-type]
            out.append(
                Check(f"BLISS-52 Table 1: {var}", target, value, sd / math.sqrt(n), 0.1 * sd)
            )
    return out


def _bliss_results(replicates: int, seed: int) -> list[Check]:
    from lupsim.scenario import load_scenario
    from lupsim.trial import simulate_trial
    from lupsim.trial.calibration import BLISS52_TARGETS, trial_statistics

    s = load_scenario("bliss52")
    stats = [trial_statistics(simulate_trial(s, seed, replicate=k)) for k in range(replicates)]
    tolerance = {
        "sri4": 2.5,
        "sledai_reduction4": 4.0,
        "no_bilag_worsening": 4.0,
        "no_pga_worsening": 4.0,
        "completed": 3.0,
    }
    out = []
    for arm, figures in BLISS52_TARGETS.items():
        for figure, target in figures.items():
            values = np.array([st[arm][figure] for st in stats])
            se = (
                float(values.std(ddof=1) / math.sqrt(values.size))
                if values.size > 1
                else (float("nan"))
            )
            out.append(
                Check(
                    f"BLISS-52 week 52, {arm}: {figure} (%)",
                    target,
                    float(values.mean()),
                    se,
                    tolerance[figure],
                )
            )
    return out


def _bliss_ln_results(replicates: int, seed: int) -> list[Check]:
    from lupsim.scenario import load_scenario
    from lupsim.trial import simulate_trial
    from lupsim.trial.calibration import BLISS_LN_TARGETS, renal_statistics

    s = load_scenario("nephritis-addon")
    stats = [renal_statistics(simulate_trial(s, seed, replicate=k)) for k in range(replicates)]

    def values(arm: str, figure: str) -> np.ndarray:
        return np.array([st[arm][figure] for st in stats])

    def se_of(v: np.ndarray) -> float:
        return float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else float("nan")

    out = []
    for arm, figures in BLISS_LN_TARGETS.items():
        for figure, target in figures.items():
            v = values(arm, figure)
            out.append(
                Check(
                    f"BLISS-LN week 104, {arm}: {figure} (%)",
                    target,
                    float(v.mean()),
                    se_of(v),
                    3.0,
                )
            )
    control, active = list(BLISS_LN_TARGETS)
    for figure in ("perr", "crr"):
        gain = values(active, figure) - values(control, figure)
        published = BLISS_LN_TARGETS[active][figure] - BLISS_LN_TARGETS[control][figure]
        out.append(
            Check(
                f"BLISS-LN week 104: {figure} gain over {control} (points)",
                published,
                float(gain.mean()),
                se_of(gain),
                4.0,
            )
        )
    return out


def _power_checks(seed: int) -> list[Check]:
    from lupsim.analysis.power import run_power
    from lupsim.scenario import load_scenario

    s = load_scenario("two-arm-binomial")
    out = []
    res = run_power(s, [532], replicates=4000, seed=seed)
    row = res.table.iloc[0]
    out.append(
        Check(
            "Binomial 44% vs 58%, n=532: power vs normal approximation",
            float(row["analytic_power"]),
            float(row["power"]),
            float(row["mc_se"]),
            3 * float(row["mc_se"]),
        )
    )
    rec = res.records
    true = (0.58 / 0.42) / (0.44 / 0.56)
    lo = np.exp(rec["log_or"] - 1.959964 * rec["se"])
    hi = np.exp(rec["log_or"] + 1.959964 * rec["se"])
    cover = float(((lo <= true) & (true <= hi)).mean())
    se = math.sqrt(0.95 * 0.05 / len(rec))
    out.append(Check("Binomial: coverage of the odds ratio's 95% CI", 0.95, cover, se, 3 * se))
    null = run_power(s, [532], replicates=6000, seed=seed + 1, grid={"effect_scale": [0.0]})
    p = float(null.table.iloc[0]["power"])
    se = math.sqrt(0.025 * 0.975 / 6000)
    out.append(Check("Binomial, no effect: type I error (one-sided 0.025)", 0.025, p, se, 3 * se))
    return out


def _gsd_checks() -> list[Check]:
    from lupsim.analysis.gsd import efficacy_boundaries

    # gsDesign(k=3, test.type=1, alpha=0.025, sfu=sfLDOF, timing=c(1,2,3)/3)$upper$bound
    # = 3.710303, 2.511427, 1.993048 (the same as rpact asOF).
    b = efficacy_boundaries([1 / 3, 2 / 3, 1.0], 0.025, "obf")
    ref = (3.710303, 2.511427, 1.993048)
    return [
        Check(
            f"Lan-DeMets O'Brien-Fleming, 3 looks: boundary {k + 1} (gsDesign)",
            r,
            float(v),
            float("nan"),
            1e-3,
        )
        for k, (r, v) in enumerate(zip(ref, b, strict=True))
    ]


def run_validation(
    replicates: int = 200, seed: int = 2011, progress: Callable[[str], None] | None = None
) -> list[Check]:
    """Run every check (about a minute and a half with the default replicates)."""
    say = progress or (lambda _msg: None)
    rows: list[Check] = []
    say("BLISS-52 Table 1 (20,000 screened patients)...")
    rows += _table1(seed)
    say(f"BLISS-52 week-52 results ({replicates} trials)...")
    rows += _bliss_results(replicates, seed)
    say(f"BLISS-LN week-104 renal responses ({replicates} trials)...")
    rows += _bliss_ln_results(replicates, seed)
    say("power engine against the normal approximation...")
    rows += _power_checks(seed)
    say("group-sequential boundaries...")
    rows += _gsd_checks()
    return rows
