"""Fit the generative model so that *screened* patients reproduce a Table 1.

A published baseline table describes randomised patients, i.e. candidates who
passed the eligibility rules. Screening on SELENA-SLEDAI >= 6 selects the more
active candidates, which shifts every correlated figure (prednisone dose, BILAG,
serology). The model is therefore fitted through the screen:

1. Each stated figure switches on the parameter that mainly moves it (the
   share of women moves ``female_logit``; the SLEDAI SD moves the loading of
   descriptors on the activity factor; and so on, :data:`LEVERS`).
2. A fixed pilot batch of candidates (common random numbers from a fixed seed)
   is built, screened and summarised for any parameter vector.
3. The residuals (generated minus target, in tolerance units: 2 points for a
   percentage, 0.1 SD for a mean, 10% for an SD) are driven to zero by a
   Levenberg-Marquardt iteration with a finite-difference Jacobian, first on a
   small pilot, then refined on a large one with Broyden updates.

Figures published only as a bound (``"<16"``) are aimed at a documented value
inside the bound (:data:`BOUND_AIMS`). Figures not stated are not targets: the
parameters they would move keep their defaults.

The result depends only on the population and the eligibility rules, is
deterministic, and is cached for the life of the process and on disk (in
``$LUPSIM_CACHE_DIR``, default ``~/.cache/lupsim``; ``LUPSIM_NO_CACHE=1``
turns the disk cache off), keyed by the lupsim version and model source.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from lupsim.cohort.columns import VARIABLES, PatientView
from lupsim.cohort.eligibility import Eligibility, Rule, parse_rule
from lupsim.cohort.model import (
    Noise,
    Parameters,
    build_patients,
    default_parameters,
    draw_noise,
)
from lupsim.cohort.population import Bound, Population, parse_bound
from lupsim.cohort.table import ROWS, statistics, target_of
from lupsim.cohort.vocabulary import RACE_GROUPS, REGIONS
from lupsim.errors import ScenarioError
from lupsim.fitting import levenberg_marquardt
from lupsim.random import stream

__all__ = [
    "BOUND_AIMS",
    "LEVERS",
    "CalibrationResult",
    "Target",
    "calibrate",
    "calibration_targets",
    "region_codes_of",
]

#: Fixed seed of the pilot batches: the fit is a function of the population only.
CALIBRATION_SEED = 20110226  # date of the BLISS-52 publication (Lancet, 26 Feb 2011)
PILOT_SMALL = 16_384
PILOT_LARGE = 65_536

#: Which parameters each stated figure switches on.
LEVERS: dict[str, tuple[str, ...]] = {
    "female_pct": ("female_logit",),
    "age_mean": ("age_mu",),
    "age_sd": ("age_log_sigma",),
    "disease_duration_mean": ("duration_log_mu",),
    "disease_duration_sd": ("duration_log_sd",),
    "sledai_mean": ("multiplicity", "activity_shift"),  # one of the two, see _levers
    "sledai_sd": ("activity_log_loading",),
    "pga_mean": ("pga_intercept",),
    "bilag_any_a_pct": ("bilag_tau_a",),
    "bilag_a_or_2b_pct": ("bilag_tau_b",),
    "sdi_mean": ("sdi_log_rate",),
    "ana_pct": ("ana_logit",),
    "anti_dsdna_pct": ("dsdna_mu",),
    "low_c3_pct": ("c3_mu",),
    "low_c4_pct": ("c4_log_mu",),
    "serologically_active_pct": ("dsdna_loading",),
    "proteinuria_ge_2g_pct": ("proteinuria_log_median",),
    "proteinuria_ge_3g_pct": ("proteinuria_log_median",),
    "egfr_ge_90_pct": ("egfr_shift",),
    "prednisone_pct": ("prednisone_logit",),
    "prednisone_mean_mg": ("prednisone_high_log_mu",),
    "prednisone_sd_mg": ("prednisone_high_log_sigma",),
    "prednisone_gt_7_5_pct": ("prednisone_high_logit",),
    "antimalarial_pct": ("antimalarial_logit",),
    "immunosuppressant_pct": ("immunosuppressant_logit",),
    "domain_immunological_pct": ("complement_loading",),
    **{
        f"domain_{d}_pct": (f"domain_{d}",)
        for d in (
            "cns",
            "vascular",
            "musculoskeletal",
            "renal",
            "mucocutaneous",
            "cardiorespiratory",
            "constitutional",
            "haematological",
        )
    },
}

#: Where the fit aims for a figure published only as a bound, and for the rare
#: domains a population that states domain shares leaves unstated: the share of
#: patients with the SELENA-SLEDAI domain active. lupsim assumption from the
#: organ involvement of the belimumab phase 3 populations (BLISS-52, Navarra
#: 2011; BLISS-76, Furie 2011), where these domains were rare. If the aim does
#: not satisfy a bound, the fit aims at three quarters of the bound instead.
BOUND_AIMS: dict[str, float] = {
    "domain_cns_pct": 1.5,
    "domain_vascular_pct": 4.0,
    "domain_renal_pct": 12.0,
    "domain_cardiorespiratory_pct": 4.0,
    "domain_constitutional_pct": 3.0,
    "domain_haematological_pct": 5.0,
}

# Finite-difference step of each parameter (its natural scale).
_STEP = {"age_mu": 0.5, "c3_mu": 1.0, "pga_intercept": 0.05, "egfr_shift": 1.0}
_DEFAULT_STEP = 0.1
# A parameter with no target of its own is fixed far out to make a share zero.
_ABSENT = -30.0


@dataclass(frozen=True)
class Target:
    """A figure the fit matches: its aim, and the tolerance unit of residuals."""

    variable: str
    aim: float
    unit: float
    published: float | Bound


@dataclass(frozen=True)
class CalibrationResult:
    """Fitted parameters and how well they reproduce the targets on the pilot."""

    parameters: Parameters
    targets: tuple[Target, ...]
    achieved: dict[str, float]
    evaluations: int
    pass_rate: float = 1.0  # share of candidates who pass the eligibility rules

    @property
    def max_residual(self) -> float:
        """Largest |generated - aim| in tolerance units (< 1 means within tolerance)."""
        if not self.targets:
            return 0.0
        return max(abs(self.achieved[t.variable] - t.aim) / t.unit for t in self.targets)


def region_codes_of(population: Population) -> tuple[int, ...]:
    """Indices of the regions a population enrols in (rest of world if none stated).

    Examples
    --------
    >>> region_codes_of(Population(region_pct={"asia_pacific": 60, "eastern_europe": 40}))
    (1, 2)
    """
    if not population.region_pct:
        return (REGIONS.index("rest_of_world"),)
    shares = population.region_shares()
    return tuple(REGIONS.index(r) for r in REGIONS if shares.get(r, 0.0) > 0)


def calibration_targets(population: Population, defaults: dict[str, float]) -> list[Target]:
    """The figures to match, with their aims and tolerance units.

    ``defaults`` are the statistics of the default model, used for the scale
    of a mean whose SD is not stated and for aims inside bounds.
    """
    targets: list[Target] = []
    race_total = sum(population.race_pct.values()) if population.race_pct else 100.0
    region_total = sum(population.region_pct.values()) if population.region_pct else 100.0
    for row in ROWS:
        published = target_of(population, row.variable)
        if published is None and population.domain_pct and row.variable in BOUND_AIMS:
            # A population that states organ domains keeps the unstated rare
            # ones at their usual share, so the fit cannot inflate them.
            published = Bound(relation="<=", value=100.0)
        if published is None or (
            row.variable not in LEVERS and not (row.variable.startswith(("race_", "region_")))
        ):
            continue
        if isinstance(published, Bound):
            aim = BOUND_AIMS.get(row.variable, published.value * 0.75)
            if not published.holds(aim):
                aim = published.value * (0.75 if published.relation.startswith("<") else 1.25)
        else:
            aim = float(published)
        if row.variable.startswith("race_"):
            aim *= 100.0 / race_total
        if row.variable.startswith("region_"):
            if aim == 0:
                continue
            aim *= 100.0 / region_total
        if row.kind == "pct":
            unit = 2.0
        elif row.kind == "mean":
            sd_target = target_of(population, row.sd_of) if row.sd_of else None
            sd = float(sd_target) if isinstance(sd_target, float) else defaults[row.sd_of or ""]
            unit = 0.1 * sd
        else:
            unit = 0.1 * aim
        targets.append(Target(row.variable, aim, unit, published))
    return targets


def _levers(population: Population, targets: list[Target]) -> tuple[list[str], dict[str, float]]:
    """Parameters to fit, and parameters to pin (absent race groups, reference groups)."""
    free: list[str] = []
    pinned: dict[str, float] = {}
    domains = population.domain_targets()
    for t in targets:
        levers = LEVERS.get(t.variable, ())
        if t.variable == "sledai_mean":
            # With the skin domain's share fixed, the mean moves through how many
            # skin items co-occur; otherwise through activity in every organ.
            levers = ("multiplicity",) if "mucocutaneous" in domains else ("activity_shift",)
        for p in levers:
            if p not in free:
                free.append(p)
    if population.race_pct is not None:
        stated = population.race_shares()
        shares = {g: stated.get(g, 0.0) for g in RACE_GROUPS}
        reference = max(shares, key=lambda g: shares[g])
        for g in RACE_GROUPS:
            if shares[g] == 0:
                pinned[f"race_{g}"] = _ABSENT
            elif g != reference:
                free.append(f"race_{g}")
    if population.region_pct is not None:
        used = [REGIONS[i] for i in region_codes_of(population)]
        free.extend(f"region_{r}" for r in used[1:])
    return free, pinned


class _Pilot:
    """A fixed batch of candidates, rebuilt for each parameter vector."""

    def __init__(self, population: Population, eligibility: Eligibility | None, n: int) -> None:
        self.noise: Noise = draw_noise(n, stream(CALIBRATION_SEED, "calibration", n))
        self.regions = region_codes_of(population)
        self.age_range = (population.age_min, population.age_max)
        self.eligibility = eligibility
        self.with_history = eligibility is not None and any(
            v in ("acr1997", "slicc2012", "eular_acr2019") or v.startswith("ever_")
            for v in eligibility.variables
        )

    def candidates(self, params: Parameters) -> PatientView:
        """The pilot candidates under ``params``, before screening."""
        p = build_patients(
            self.noise,
            params,
            region_codes=self.regions,
            age_range=self.age_range,
            with_history=self.with_history,
        )
        return PatientView(p)

    def view(self, params: Parameters) -> PatientView:
        """The screened pilot patients under ``params``."""
        view = self.candidates(params)
        if self.eligibility is None:
            return view
        return view.subset(self.eligibility.screen(view).eligible)

    def stats(self, params: Parameters, variables: tuple[str, ...] | None) -> dict[str, float]:
        return statistics(self.view(params), variables)

    def pass_rate(self, params: Parameters) -> float:
        """Share of the pilot candidates who pass the eligibility rules."""
        view = self.view(params)
        return len(view["age"]) / self.noise.n


@lru_cache(maxsize=32)
def _calibrate_cached(population_json: str, eligibility_json: str | None) -> CalibrationResult:
    path = _cache_file(population_json, eligibility_json)
    cached = _load(path)
    if cached is not None:
        return cached
    result = _fit(population_json, eligibility_json)
    _store(path, result)
    return result


def _fit(population_json: str, eligibility_json: str | None) -> CalibrationResult:
    population = Population.model_validate_json(population_json)
    eligibility = Eligibility.model_validate_json(eligibility_json) if eligibility_json else None
    params = default_parameters()
    small = _Pilot(population, eligibility, PILOT_SMALL)
    if eligibility is not None and small.pass_rate(params) == 0.0:
        # An empty screen gives the fit nothing to move: say which rule empties it.
        _check_passable(small, params, eligibility, ("include", "exclude"))
    defaults = small.stats(params, None)
    targets = calibration_targets(population, defaults)
    free, pinned = _levers(population, targets)
    if pinned:
        params = params.replace(**pinned)
    if not targets:
        return CalibrationResult(params, (), {}, 1, small.pass_rate(params))
    names = tuple(t.variable for t in targets)
    aims = np.array([t.aim for t in targets])
    units = np.array([t.unit for t in targets])
    idx = np.array([Parameters.index(p) for p in free], dtype=np.intp)
    steps = np.array([_STEP.get(p, _DEFAULT_STEP) for p in free])

    def make(pilot: _Pilot) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
        def residual(x: NDArray[np.float64]) -> NDArray[np.float64]:
            v = params.values.copy()
            v[idx] = x
            s = pilot.stats(Parameters(v), names)
            out = (np.array([s[n] for n in names]) - aims) / units
            # An empty screen (no eligible pilot patient) is a large residual, not NaN.
            return np.nan_to_num(out, nan=1e3)

        return residual

    x0 = params.values[idx].copy()
    first = levenberg_marquardt(make(small), x0, steps, max_iter=25, tol=0.05)
    large = _Pilot(population, eligibility, PILOT_LARGE)
    second = levenberg_marquardt(
        make(large), first.x, steps, jacobian=first.jacobian, max_iter=15, tol=0.05
    )
    x, e1, e2 = second.x, first.evaluations, second.evaluations
    v = params.values.copy()
    v[idx] = x
    fitted = Parameters(v)
    achieved = large.stats(fitted, names)
    return CalibrationResult(fitted, tuple(targets), achieved, e1 + e2 + 1, large.pass_rate(fitted))


def _cache_file(population_json: str, eligibility_json: str | None) -> Path | None:
    """Where a fit is kept between runs, or None when caching is off.

    The key covers the lupsim version, the source of the model (with the
    random draws and instruments it builds patients from), and the population
    and rules, so a changed model never reuses an old fit.
    """
    if os.environ.get("LUPSIM_NO_CACHE"):
        return None
    root = Path(os.environ.get("LUPSIM_CACHE_DIR") or Path.home() / ".cache" / "lupsim")
    h = hashlib.sha256()
    from lupsim import __version__, fitting
    from lupsim import random as lupsim_random
    from lupsim.activity import bilag, classification, sledai
    from lupsim.cohort import columns, eligibility, model, population, table, vocabulary

    h.update(__version__.encode())
    sources = (
        model,
        columns,
        table,
        vocabulary,
        eligibility,
        population,
        fitting,
        lupsim_random,
        bilag,
        classification,
        sledai,
        sys.modules[__name__],
    )
    for mod in sources:
        h.update(Path(str(mod.__file__)).read_bytes())
    h.update(population_json.encode())
    h.update((eligibility_json or "").encode())
    return root / "calibration" / f"{h.hexdigest()[:32]}.json"


def _load(path: Path | None) -> CalibrationResult | None:
    if path is None or not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text())
        return CalibrationResult(
            parameters=Parameters(np.array(raw["parameters"], dtype=np.float64)),
            targets=tuple(
                Target(t["variable"], t["aim"], t["unit"], _published(t["published"]))
                for t in raw["targets"]
            ),
            achieved={k: float(v) for k, v in raw["achieved"].items()},
            evaluations=int(raw["evaluations"]),
            pass_rate=float(raw["pass_rate"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a damaged cache entry is refitted, never trusted


def _published(x: float | str) -> float | Bound:
    return parse_bound(x) if isinstance(x, str) else float(x)


def _store(path: Path | None, result: CalibrationResult) -> None:
    if path is None:
        return
    raw = {
        "parameters": result.parameters.values.tolist(),
        "targets": [
            {
                "variable": t.variable,
                "aim": t.aim,
                "unit": t.unit,
                "published": str(t.published) if isinstance(t.published, Bound) else t.published,
            }
            for t in result.targets
        ],
        "achieved": result.achieved,
        "evaluations": result.evaluations,
        "pass_rate": result.pass_rate,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
        tmp.write_text(json.dumps(raw))
        tmp.replace(path)  # atomic: concurrent workers never read half a file
    except OSError:
        pass  # caching is an optimisation; a read-only home must not fail a run


def calibrate(population: Population, eligibility: Eligibility | None = None) -> CalibrationResult:
    """Fit the generative model to a population's stated figures (cached).

    Examples
    --------
    >>> res = calibrate(Population(female_pct=80.0))
    >>> abs(res.achieved["female_pct"] - 80.0) < 0.5
    True
    """
    pj = population.model_dump_json()
    if eligibility is not None and eligibility.enrich:
        # The figures describe the reference screen: fit there, then measure
        # how many candidates the enriched screen lets through.
        ref = eligibility.reference().model_dump_json()
        return _enriched(pj, ref, eligibility.model_dump_json())
    ej = eligibility.model_dump_json() if eligibility is not None else None
    return _calibrate_cached(pj, ej)


@lru_cache(maxsize=32)
def _enriched(
    population_json: str, reference_json: str, eligibility_json: str
) -> CalibrationResult:
    fit = _calibrate_cached(population_json, reference_json)
    population = Population.model_validate_json(population_json)
    eligibility = Eligibility.model_validate_json(eligibility_json)
    pilot = _Pilot(population, eligibility, PILOT_SMALL)
    rate = pilot.pass_rate(fit.parameters)
    if rate == 0.0:
        _check_passable(pilot, fit.parameters, eligibility, ("enrich",))
    return replace(fit, pass_rate=rate)


def _variable_range(view: PatientView, rule: Rule) -> str:
    """What the rule's variables look like among ``view``'s patients."""
    parts = []
    for name in sorted(rule.variables):
        kind = VARIABLES[name].kind
        x = np.asarray(view[name])
        if x.size == 0:
            continue
        if kind == "bool":
            parts.append(f"{name} is yes for {100 * float(np.mean(x)):.3g}%")
        elif kind != "text":
            unit = f" {VARIABLES[name].unit}" if VARIABLES[name].unit else ""
            parts.append(
                f"{name} ranges {float(np.nanmin(x)):.4g} to {float(np.nanmax(x)):.4g}{unit}"
            )
    return "; ".join(parts)


def _check_passable(
    pilot: _Pilot, params: Parameters, eligibility: Eligibility, kinds: tuple[str, ...]
) -> None:
    """Raise a ScenarioError naming the rules of ``kinds`` that no pilot candidate
    passes (for ``enrich``: no candidate who passed ``include`` and ``exclude``).

    Examples
    --------
    >>> pop = Population()
    >>> e = Eligibility(enrich=("selena_sledai >= 100",))
    >>> _check_passable(_Pilot(pop, e, 2048), default_parameters(), e, ("enrich",))
    Traceback (most recent call last):
    ...
    lupsim.errors.ScenarioError: eligibility.enrich[0]: no candidate passes the rule ...
    """
    view = pilot.candidates(params)
    n = pilot.noise.n
    if "enrich" in kinds:
        view = view.subset(eligibility.reference().screen(view).eligible)
    pool = len(view["age"])
    screened = "candidates" if "enrich" not in kinds else "candidates who pass include and exclude"
    problems: list[str] = []
    passing = np.ones(pool, dtype=bool)
    for kind in kinds:
        for k, text in enumerate(getattr(eligibility, kind)):
            rule = parse_rule(text)
            holds = rule.evaluate(view)
            passes = ~holds if kind == "exclude" else holds
            passing &= passes
            if pool and not passes.any():
                what = (
                    f"the rule {text!r} excludes every candidate"
                    if kind == "exclude"
                    else f"no candidate passes the rule {text!r}"
                )
                problems.append(
                    f"eligibility.{kind}[{k}]: {what} (pass rate 0 of {pool:,} pilot "
                    f"{screened}; {_variable_range(view, rule)}); relax the rule or remove it "
                    "(variables and their units: docs/variables.md)"
                )
    if problems:
        raise ScenarioError(problems)
    if pool == 0 or not passing.any():
        rules = "; ".join(f"{kind}: {t}" for kind in kinds for t in getattr(eligibility, kind))
        where = "eligibility." + ("enrich" if kinds == ("enrich",) else "include/exclude")
        raise ScenarioError(
            f"{where}: no candidate passes the rules together ({rules}; pass rate 0 of "
            f"{n:,} pilot candidates); relax one of them, or check the population figures"
        )
