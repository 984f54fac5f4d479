"""The baseline table (Table 1): one row per figure, generated value beside target.

The same function computes the figures of a generated cohort, the statistics
the calibration matches, and the published figures a :class:`Population`
states, so the three cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lupsim.cohort.columns import PatientView
from lupsim.cohort.population import Bound, Population
from lupsim.cohort.vocabulary import ORGAN_DOMAIN_NAMES, RACE_GROUPS, REGIONS

__all__ = ["ROWS", "Row", "statistics", "target_of"]


@dataclass(frozen=True)
class Row:
    """One figure of Table 1.

    ``scale`` is the tolerance unit used to compare generated and target
    values: 2 points for percentages, 0.1 SD for means, 10% for SDs (the
    agreement the BLISS-52 reproduction test demands).
    """

    variable: str
    label: str
    kind: str  # "pct", "mean" or "sd"
    compute: Callable[[PatientView], float]
    sd_of: str | None = None  # for a mean: the row holding its SD


def _pct(name: str) -> Callable[[PatientView], float]:
    return lambda v: 100.0 * float(np.mean(v[name])) if len(v[name]) else float("nan")


def _mean(name: str) -> Callable[[PatientView], float]:
    return lambda v: float(np.mean(v[name])) if len(v[name]) else float("nan")


def _sd(name: str) -> Callable[[PatientView], float]:
    return lambda v: float(np.std(v[name], ddof=1)) if len(v[name]) > 1 else float("nan")


def _users(v: PatientView) -> NDArray[np.float64]:
    dose = np.asarray(v["prednisone_mg"], dtype=float)
    return dose[dose > 0]


def _pred_mean(v: PatientView) -> float:
    u = _users(v)
    return float(u.mean()) if u.size else float("nan")


def _pred_sd(v: PatientView) -> float:
    u = _users(v)
    return float(u.std(ddof=1)) if u.size > 1 else float("nan")


ROWS: tuple[Row, ...] = (
    Row("female_pct", "Female, %", "pct", _pct("female")),
    Row("age_mean", "Age, mean (years)", "mean", _mean("age"), sd_of="age_sd"),
    Row("age_sd", "Age, SD (years)", "sd", _sd("age")),
    *(
        Row(f"race_{g}_pct", f"Race: {g.replace('_', ' ')}, %", "pct", _pct(f"race_{g}"))
        for g in RACE_GROUPS
    ),
    *(
        Row(f"region_{r}_pct", f"Region: {r.replace('_', ' ')}, %", "pct", _pct(f"region_{r}"))
        for r in REGIONS
    ),
    Row(
        "disease_duration_mean",
        "Disease duration, mean (years)",
        "mean",
        _mean("disease_duration"),
        sd_of="disease_duration_sd",
    ),
    Row("disease_duration_sd", "Disease duration, SD (years)", "sd", _sd("disease_duration")),
    Row("sledai_mean", "SELENA-SLEDAI, mean", "mean", _mean("selena_sledai"), sd_of="sledai_sd"),
    Row("sledai_sd", "SELENA-SLEDAI, SD", "sd", _sd("selena_sledai")),
    Row("pga_mean", "PGA, mean (0-3)", "mean", _mean("pga"), sd_of="pga_sd"),
    Row("pga_sd", "PGA, SD", "sd", _sd("pga")),
    Row("bilag_any_a_pct", "BILAG >= 1 A, %", "pct", _pct("bilag_any_a")),
    Row("bilag_a_or_2b_pct", "BILAG >= 1 A or >= 2 B, %", "pct", _pct("bilag_a_or_2b")),
    Row("sdi_mean", "SLICC damage index, mean", "mean", _mean("sdi"), sd_of="sdi_sd"),
    Row("sdi_sd", "SLICC damage index, SD", "sd", _sd("sdi")),
    Row("ana_pct", "ANA >= 1:80, %", "pct", _pct("ana_positive")),
    Row("anti_dsdna_pct", "Anti-dsDNA >= 30 IU/mL, %", "pct", _pct("anti_dsdna_positive")),
    Row("low_c3_pct", "Low C3 (< 90 mg/dL), %", "pct", _pct("low_c3")),
    Row("low_c4_pct", "Low C4 (< 16 mg/dL), %", "pct", _pct("low_c4")),
    Row(
        "serologically_active_pct",
        "Anti-dsDNA+ and low C3 or C4, %",
        "pct",
        _pct("serologically_active"),
    ),
    Row(
        "proteinuria_ge_2g_pct",
        "Proteinuria >= 2 g/24 h, %",
        "pct",
        lambda v: 100.0 * float(np.mean(np.asarray(v["proteinuria_g"]) >= 2.0)),
    ),
    Row(
        "proteinuria_ge_3g_pct",
        "Proteinuria >= 3 g/24 h, %",
        "pct",
        lambda v: 100.0 * float(np.mean(np.asarray(v["proteinuria_g"]) >= 3.0)),
    ),
    Row(
        "egfr_ge_60_pct",
        "eGFR >= 60 mL/min/1.73 m2, %",
        "pct",
        lambda v: 100.0 * float(np.mean(np.asarray(v["egfr"]) >= 60.0)),
    ),
    Row(
        "egfr_ge_90_pct",
        "eGFR >= 90 mL/min/1.73 m2, %",
        "pct",
        lambda v: 100.0 * float(np.mean(np.asarray(v["egfr"]) >= 90.0)),
    ),
    Row("prednisone_pct", "Prednisone use, %", "pct", _pct("on_prednisone")),
    Row(
        "prednisone_mean_mg",
        "Prednisone dose among users, mean (mg/day)",
        "mean",
        _pred_mean,
        sd_of="prednisone_sd_mg",
    ),
    Row("prednisone_sd_mg", "Prednisone dose among users, SD (mg/day)", "sd", _pred_sd),
    Row(
        "prednisone_gt_7_5_pct",
        "Prednisone > 7.5 mg/day, %",
        "pct",
        lambda v: 100.0 * float(np.mean(np.asarray(v["prednisone_mg"]) > 7.5)),
    ),
    Row("antimalarial_pct", "Antimalarials, %", "pct", _pct("antimalarial")),
    Row("immunosuppressant_pct", "Immunosuppressants, %", "pct", _pct("immunosuppressant")),
    *(
        Row(f"domain_{d}_pct", f"SELENA-SLEDAI {d} domain active, %", "pct", _pct(f"domain_{d}"))
        for d in ORGAN_DOMAIN_NAMES
    ),
)
ROW_INDEX = {r.variable: r for r in ROWS}


def target_of(population: Population, variable: str) -> float | Bound | None:
    """The figure a population states for a Table 1 variable, or None.

    Examples
    --------
    >>> target_of(Population(race_pct={"white": 60, "black": 40}), "race_black_pct")
    40.0
    >>> target_of(Population(race_pct={"white": 100}), "race_black_pct")
    0.0
    """
    if variable.startswith("race_") and variable != "race_pct":
        if population.race_pct is None:
            return None
        return population.race_shares().get(variable[5:-4], 0.0)
    if variable.startswith("region_"):
        if population.region_pct is None:
            return None
        return population.region_shares().get(variable[7:-4], 0.0)
    if variable.startswith("domain_"):
        if population.domain_pct is None:
            return None
        return population.domain_targets().get(variable[7:-4])
    value = getattr(population, variable, None)
    return None if value is None else float(value)


def statistics(view: PatientView, variables: tuple[str, ...] | None = None) -> dict[str, float]:
    """Table 1 figures of a batch of patients (all rows, or the ones named)."""
    rows = ROWS if variables is None else tuple(ROW_INDEX[v] for v in variables)
    return {r.variable: r.compute(view) for r in rows}
