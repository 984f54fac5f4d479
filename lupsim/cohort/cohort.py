"""Generate a cohort of synthetic SLE patients and show its baseline table.

:func:`generate_cohort` draws candidates from the calibrated generative model
(:mod:`lupsim.cohort.model`, :mod:`lupsim.cohort.calibration`), screens them with
the trial's eligibility rules, and keeps the first ``n`` who pass. The
published Table 1 a population states describes randomised patients, so the
generated cohort reproduces it *after* screening.

Candidates are drawn in fixed chunks, chunk ``k`` from its own stream
(``stream(seed, "baseline", k)``), so the first ``m`` patients of a cohort of
``n > m`` are the cohort of ``m``, and any cohort is reproducible from its seed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lupsim.activity import classification as cls
from lupsim.activity.sledai import DESCRIPTORS
from lupsim.cohort.calibration import CalibrationResult, calibrate, region_codes_of
from lupsim.cohort.columns import PatientView
from lupsim.cohort.eligibility import Eligibility
from lupsim.cohort.model import (
    EURO_LUPUS_FREQUENCY,
    IS_AGENTS,
    Parameters,
    PatientArrays,
    build_patients,
    draw_noise,
    history,
)
from lupsim.cohort.population import Bound, Population
from lupsim.cohort.table import ROWS, statistics, target_of
from lupsim.cohort.vocabulary import REGIONS
from lupsim.errors import LupsimError, ScenarioError
from lupsim.random import stream

__all__ = ["CHUNK", "Cohort", "draw_candidates", "generate_cohort"]

#: Candidates drawn per chunk.
CHUNK = 1024
# Give up when this many candidates in a row yield fewer than one eligible
# patient per 1,000: the rule is (nearly) impossible for this population.
_GIVE_UP_AFTER = 200_000
# Past manifestations are redrawn at most this many times for a patient who
# does not meet ACR 1997 or SLICC 2012; the few left get the commonest criteria.
_REDRAWS = 20
_FALLBACK = ("ana", "arthritis", "acute_cutaneous", "anti_dsdna", "oral_ulcers")
_HIST_RATES = np.array([EURO_LUPUS_FREQUENCY[m] for m in cls.MANIFESTATIONS])


def _ensure_classified(
    p: PatientArrays, rng: np.random.Generator
) -> tuple[PatientArrays, NDArray[np.bool_]]:
    """Redraw past manifestations until every patient meets ACR 1997 or SLICC 2012.

    Current activity is kept; only the history drawn from Euro-Lupus rates is
    redrawn, so classification never biases the activity a screen selects on.
    Returns the patients and whether each meets ACR 1997 (which screening
    rules often ask again).
    """
    ever = p.manifestations
    acr, slicc = cls.meets_acr1997_and_slicc2012(ever)
    bad = np.flatnonzero(~(acr | slicc))
    for _ in range(_REDRAWS):
        if bad.size == 0:
            break
        past = rng.random((bad.size, cls.N_MANIFESTATIONS)) < _HIST_RATES
        ever[bad] = history(
            p.present[bad],
            p.ana_titre[bad],
            p.anti_dsdna_iu[bad],
            p.c3[bad],
            p.c4[bad],
            past,
            p.proteinuria_g[bad],
        )
        acr[bad], slicc_bad = cls.meets_acr1997_and_slicc2012(ever[bad])
        bad = bad[~(acr[bad] | slicc_bad)]
    for code in _FALLBACK:
        if bad.size == 0:
            break
        ever[bad, cls.MANIFESTATIONS.index(code)] = True
        acr[bad], slicc_bad = cls.meets_acr1997_and_slicc2012(ever[bad])
        bad = bad[~(acr[bad] | slicc_bad)]
    return p, acr


def draw_candidates(
    population: Population,
    parameters: Parameters,
    seed: int | np.random.SeedSequence,
    chunk: int,
    eligibility: Eligibility | None = None,
    size: int = CHUNK,
) -> tuple[PatientArrays, NDArray[np.bool_], NDArray[np.int16]]:
    """Build and screen candidate chunk number ``chunk`` (``size`` candidates).

    Returns the candidates, whether each is eligible, and the index of the
    first rule each failed (-1 if none). The trial engine screens arrivals in
    this order.
    """
    noise = draw_noise(size, stream(seed, "baseline", chunk))
    p = build_patients(
        noise,
        parameters,
        region_codes=region_codes_of(population),
        age_range=(population.age_min, population.age_max),
    )
    p, acr1997 = _ensure_classified(p, stream(seed, "history", chunk))
    if eligibility is None:
        return p, np.ones(p.n, dtype=bool), np.full(p.n, -1, dtype=np.int16)
    view = PatientView(p)
    view.remember("acr1997", acr1997)
    res = eligibility.screen(view)
    return p, res.eligible, res.first_failure


def generate_cohort(
    population: Population,
    n: int,
    seed: int,
    *,
    eligibility: Eligibility | None = None,
    parameters: Parameters | None = None,
) -> Cohort:
    """Generate ``n`` patients of a population, screened by an eligibility rule.

    Parameters
    ----------
    population
        The figures to reproduce (after screening).
    n
        Number of patients to keep (eligible ones when a rule is given).
    seed
        Seed of the run; the same seed gives the same cohort.
    eligibility
        Inclusion and exclusion rules; ``None`` keeps every candidate.
    parameters
        Model parameters; by default they are fitted to ``population`` and
        ``eligibility`` (:func:`lupsim.cohort.calibration.calibrate`).

    Examples
    --------
    >>> from lupsim.cohort import Population
    >>> cohort = generate_cohort(Population(female_pct=90.0), 200, seed=1)
    >>> cohort.n
    200
    >>> float(cohort.table1().set_index("variable").loc["female_pct", "target"])
    90.0
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ScenarioError(f"n: the number of patients must be a whole number >= 1, got {n!r}")
    calibration = calibrate(population, eligibility) if parameters is None else None
    params = parameters if parameters is not None else calibration.parameters  # type: ignore[union-attr]
    rules = eligibility.labels() if eligibility is not None else ()
    failures = np.zeros(len(rules), dtype=np.int64)
    parts: list[PatientArrays] = []
    got = screened = 0
    chunk = 0
    while got < n:
        p, eligible, first_failure = draw_candidates(population, params, seed, chunk, eligibility)
        idx = np.flatnonzero(eligible)
        need = n - got
        if idx.size >= need:
            last = int(idx[need - 1]) + 1
            idx = idx[:need]
        else:
            last = p.n
        screened += last
        ff = first_failure[:last]
        failures += np.bincount(ff[ff >= 0], minlength=len(rules))[: len(rules)]
        parts.append(p.take(idx))
        got += idx.size
        chunk += 1
        if screened >= _GIVE_UP_AFTER and got < screened / 1000:
            raise ScenarioError(
                f"eligibility: only {got} of {screened} generated candidates met the rules "
                f"({'; '.join(rules)}); the rules exclude almost every patient of this "
                "population: relax them or check the population figures"
            )
    patients = PatientArrays.concat(parts)
    return Cohort(
        patients=patients,
        population=population,
        eligibility=eligibility,
        seed=seed,
        parameters=params,
        n_screened=screened,
        screen_failures=dict(zip(rules, map(int, failures), strict=True)),
        calibration=calibration,
    )


# Columns of the patient table, in order (variables of lupsim.cohort.columns).
_FRAME_VARIABLES: tuple[str, ...] = (
    "age",
    "female",
    "race",
    "region",
    "weight_kg",
    "disease_duration",
    "selena_sledai",
    "sledai_2k",
    "sledai_original",
    "clinical_sledai",
    "pga",
    "bilag_numeric",
    *(
        f"bilag_{d}"
        for d in (
            "constitutional",
            "mucocutaneous",
            "neuropsychiatric",
            "musculoskeletal",
            "cardiorespiratory",
            "gastrointestinal",
            "ophthalmic",
            "renal",
            "haematological",
        )
    ),
    "ana_titre",
    "anti_dsdna_iu",
    "anti_dsdna_positive",
    "c3",
    "c4",
    "low_c3",
    "low_c4",
    "serologically_active",
    "proteinuria_g",
    "egfr",
    "prednisone_mg",
    "antimalarial",
    "sdi",
    "acr1997",
    "slicc2012",
    "eular_acr2019",
)


@dataclass(frozen=True)
class Cohort:
    """Synthetic patients, one row each, with how they were screened.

    Attributes
    ----------
    patients
        The patients as a struct of arrays (the trial engine's state).
    population, eligibility, seed, parameters
        What generated them.
    n_screened
        Candidates screened to obtain them; ``n_screened - n`` failed.
    screen_failures
        Screen failures by the first rule they broke.
    calibration
        The fit of the model to the population (None if parameters were given).
    """

    patients: PatientArrays
    population: Population
    eligibility: Eligibility | None
    seed: int
    parameters: Parameters
    n_screened: int
    screen_failures: dict[str, int] = field(default_factory=dict)
    calibration: CalibrationResult | None = None

    @property
    def n(self) -> int:
        """Number of patients."""
        return self.patients.n

    @cached_property
    def view(self) -> PatientView:
        """Lazy named variables of the patients."""
        return PatientView(self.patients)

    def to_frame(self) -> pd.DataFrame:
        """One row per patient: demographics, serology, scores, BILAG grades, the
        24 SLEDAI descriptors (present and new), therapy, classification and
        cumulative manifestations.

        Examples
        --------
        >>> from lupsim.cohort import Population
        >>> df = generate_cohort(Population(), 5, seed=1).to_frame()
        >>> df.shape[0], "selena_sledai" in df.columns
        (5, True)
        """
        v = self.view
        cols: dict[str, Any] = {"patient_id": [f"P{i + 1:06d}" for i in range(self.n)]}
        for name in _FRAME_VARIABLES:
            cols[name] = v[name]
        agents = np.array(("none", *IS_AGENTS))
        cols["immunosuppressant"] = agents[self.patients.immunosuppressant]
        for j, d in enumerate(DESCRIPTORS):
            cols[d.code] = self.patients.present[:, j]
        for j, d in enumerate(DESCRIPTORS):
            cols[f"{d.code}_new"] = self.patients.new[:, j]
        for k, m in enumerate(cls.MANIFESTATIONS):
            cols[f"ever_{m}"] = self.patients.manifestations[:, k]
        return pd.DataFrame(cols)

    def table1(self) -> pd.DataFrame:
        """The baseline table: one row per figure, generated value beside target.

        Columns: ``variable``, ``label``, ``value``, ``target`` (NaN if the
        population states none; the bound's value for a bound) and
        ``relation`` (``"="``, ``"<"``, ...; empty if no target).
        """
        used_regions = {f"region_{r}_pct" for r in _region_names(self.population)}
        stats = statistics(self.view)
        rows = []
        for row in ROWS:
            if row.variable.startswith("region_") and row.variable not in used_regions:
                continue
            target = target_of(self.population, row.variable)
            rel: str
            if isinstance(target, Bound):
                tval, rel = target.value, target.relation
            elif target is None:
                tval, rel = float("nan"), ""
            else:
                tval, rel = float(target), "="
            rows.append(
                {
                    "variable": row.variable,
                    "label": row.label,
                    "value": stats[row.variable],
                    "target": tval,
                    "relation": rel,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A human-readable Table 1 with the screening counts."""
        t = self.table1()
        name = self.population.name
        lines = [
            f"Cohort of {self.n} patients ({name}), seed {self.seed}; "
            f"{self.n_screened} screened, {self.n_screened - self.n} screen failures",
        ]
        for rule, count in self.screen_failures.items():
            if count:
                lines.append(f"  failed {rule}: {count}")
        lines.append("")
        lines.append(f"{'':46s} {'generated':>10s} {'published':>10s}")
        for _, r in t.iterrows():
            target = (
                ""
                if r["relation"] == ""
                else (
                    f"{r['target']:g}"
                    if r["relation"] == "="
                    else f"{r['relation']}{r['target']:g}"
                )
            )
            lines.append(f"{r['label']:46s} {r['value']:10.2f} {target:>10s}")
        return "\n".join(lines)

    def to_csv(self, path: str | Path) -> Path:
        """Write the patient table as CSV (written whole, or not at all)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        try:
            self.to_frame().to_csv(tmp, index=False)
            tmp.replace(path)
        except OSError as exc:
            with contextlib.suppress(OSError):  # e.g. the folder is a file: no part was made
                tmp.unlink(missing_ok=True)
            raise LupsimError(
                f"could not write {path}: {exc.strerror or exc}; check that the folder exists "
                "and is writable"
            ) from None
        return path


def _region_names(population: Population) -> list[str]:
    return [REGIONS[i] for i in region_codes_of(population)]
