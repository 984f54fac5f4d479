"""Calibrate the disease model so that a trial reproduces its published results.

The defaults of :class:`~lupsim.trial.disease.DiseaseParameters`,
:class:`~lupsim.trial.pkpd.PKPD` and
:class:`~lupsim.trial.design.Discontinuation` come from this procedure run on
BLISS-52 (:data:`BLISS52_TARGETS`). It gets there through the mechanisms, not
by forcing response rates: it fits

- ``standard_care_logodds`` (the placebo response: background therapy, regression
  to the mean),
- ``drug_logodds`` and the PK/PD ``ec50_ug_ml`` (how much the anti-BAFF effect
  lowers organ activity, and how 1 mg/kg compares with 10 mg/kg),
- ``flare_severity`` (how severe new activity is on BILAG),
- ``pga_visit_sd`` (rater noise of the PGA),
- ``lack_of_efficacy_per_4w`` (discontinuation through lack of efficacy),

to the per-arm SRI-4, its three components and completion, by
Levenberg-Marquardt on common random numbers: one large simulated trial (the
scenario's design with many more patients, fixed seed) per evaluation.

Run it again against other targets with ``lupsim calibrate SCENARIO
--targets FILE`` or :func:`calibrate_trial`.

The lupus nephritis parameters (the renal effect of induction therapy, the
anti-BAFF effect on nephritis under induction, the proteinuria a kidney keeps
in remission) come from :func:`calibrate_nephritis` run on the
``nephritis-addon`` scenario against BLISS-LN (:data:`BLISS_LN_TARGETS`): the
renal responses of each arm at week 104, the other defaults left as fitted to
BLISS-52.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lupsim.analysis.endpoints import crr, perr, sri
from lupsim.errors import ScenarioError
from lupsim.fitting import levenberg_marquardt
from lupsim.scenario import Scenario
from lupsim.trial.design import Discontinuation
from lupsim.trial.disease import DiseaseParameters
from lupsim.trial.engine import simulate_trial
from lupsim.trial.pkpd import PKPD

__all__ = [
    "BLISS52_TARGETS",
    "BLISS_LN_TARGETS",
    "FREE_PARAMETERS",
    "RENAL_FREE_PARAMETERS",
    "TrialCalibration",
    "calibrate_nephritis",
    "calibrate_trial",
    "renal_statistics",
    "trial_statistics",
]

#: BLISS-52 week-52 results (Navarra et al., Lancet 2011;377:721-31; kept in
#: ../shared/reference/sle-reference.md section 5), in percent, per arm of
#: scenarios/bliss52.toml. Completion: 226/287, 240/288, 241/290.
BLISS52_TARGETS: dict[str, dict[str, float]] = {
    "placebo": {
        "sri4": 43.6,
        "sledai_reduction4": 46.0,
        "no_bilag_worsening": 73.0,
        "no_pga_worsening": 69.0,
        "completed": 100 * 226 / 287,
    },
    "belimumab_1mg": {
        "sri4": 51.4,
        "sledai_reduction4": 53.0,
        "no_bilag_worsening": 79.0,
        "no_pga_worsening": 79.0,
        "completed": 100 * 240 / 288,
    },
    "belimumab_10mg": {
        "sri4": 57.6,
        "sledai_reduction4": 58.0,
        "no_bilag_worsening": 81.0,
        "no_pga_worsening": 80.0,
        "completed": 100 * 241 / 290,
    },
}

#: Tolerance unit of each figure in the fit (percentage points): SRI-4 is the
#: primary figure and weighs most.
_UNITS = {
    "sri4": 0.8,
    "sledai_reduction4": 1.5,
    "no_bilag_worsening": 1.5,
    "no_pga_worsening": 1.5,
    "completed": 1.0,
}

#: Fitted parameters: (where, name, transform). "log" parameters are fitted on
#: the log scale (they are positive).
FREE_PARAMETERS: tuple[tuple[str, str, str], ...] = (
    ("disease", "standard_care_logodds", "identity"),
    ("disease", "drug_logodds", "identity"),
    ("pkpd", "ec50_ug_ml", "log"),
    ("disease", "flare_severity", "identity"),
    ("disease", "pga_visit_sd", "log"),
    ("discontinuation", "withdrawal_per_4w", "log"),
    ("discontinuation", "lack_of_efficacy_per_4w", "log"),
)
_STEP = 0.1
CALIBRATION_SEED = 52


def trial_statistics(ds: Any, week: float | None = None) -> dict[str, dict[str, float]]:
    """Per arm, in percent: SRI-4, its three components, completion.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> stats = trial_statistics(simulate_trial(load_scenario("bliss52"), seed=1))
    >>> sorted(stats["placebo"])
    ['completed', 'no_bilag_worsening', 'no_pga_worsening', 'sledai_reduction4', 'sri4']
    """
    r = sri(ds, week)
    j = ds.visit_column(ds.primary_week if week is None else week)
    out: dict[str, dict[str, float]] = {}
    for k, arm in enumerate(ds.arms):
        sel = ds.arm_index == k
        out[arm] = {
            "sri4": 100 * float(r.responder[sel].mean()),
            "sledai_reduction4": 100 * float(r.sledai_reduction[sel].mean()),
            "no_bilag_worsening": 100 * float(r.no_bilag_worsening[sel].mean()),
            "no_pga_worsening": 100 * float(r.no_pga_worsening[sel].mean()),
            "completed": 100 * float(ds.arrays.observed[sel, j].mean()),
        }
    return out


@dataclass(frozen=True)
class TrialCalibration:
    """Result of a trial calibration: parameters, what they achieve, and the fit."""

    disease: DiseaseParameters
    pkpd: PKPD
    discontinuation: Discontinuation
    targets: dict[str, dict[str, float]]
    achieved: dict[str, dict[str, float]]
    evaluations: int
    n_per_arm: int

    def table(self) -> list[dict[str, Any]]:
        """Rows (arm, figure, target, achieved, difference)."""
        rows = []
        for arm, figs in self.targets.items():
            for name, target in figs.items():
                got = self.achieved[arm][name]
                rows.append(
                    {
                        "arm": arm,
                        "figure": name,
                        "target": target,
                        "achieved": got,
                        "difference": got - target,
                    }
                )
        return rows

    free: tuple[tuple[str, str, str], ...] = FREE_PARAMETERS

    def parameters(self) -> dict[str, float]:
        """The fitted values, by name."""
        sources = {
            "disease": self.disease,
            "pkpd": self.pkpd,
            "discontinuation": self.discontinuation,
        }
        return {name: float(getattr(sources[where], name)) for where, name, _ in self.free}


def _apply(
    x: np.ndarray,
    disease: DiseaseParameters,
    pk: PKPD,
    disc: Discontinuation,
    free: tuple[tuple[str, str, str], ...] = FREE_PARAMETERS,
) -> tuple[DiseaseParameters, PKPD, Discontinuation]:
    changes: dict[str, dict[str, float]] = {"disease": {}, "pkpd": {}, "discontinuation": {}}
    for value, (where, name, transform) in zip(x, free, strict=True):
        changes[where][name] = float(np.exp(value) if transform == "log" else value)
    return (
        disease.replace(**changes["disease"]),
        replace(pk, **changes["pkpd"]),
        disc.model_copy(update=changes["discontinuation"]),
    )


def _start(
    disease: DiseaseParameters,
    pk: PKPD,
    disc: Discontinuation,
    free: tuple[tuple[str, str, str], ...] = FREE_PARAMETERS,
) -> np.ndarray:
    sources = {"disease": disease, "pkpd": pk, "discontinuation": disc}
    out = []
    for where, name, transform in free:
        v = float(getattr(sources[where], name))
        out.append(np.log(v) if transform == "log" else v)
    return np.array(out)


def calibrate_trial(
    scenario: Scenario,
    targets: dict[str, dict[str, float]] | None = None,
    *,
    n_per_arm: int = 6000,
    seed: int = CALIBRATION_SEED,
    disease: DiseaseParameters | None = None,
    pkpd: PKPD | None = None,
    max_iter: int = 20,
    progress: Any = None,
) -> TrialCalibration:
    """Fit the disease, PK/PD and discontinuation parameters to published results.

    Parameters
    ----------
    scenario
        The trial (its design's arms must be the keys of ``targets``).
    targets
        Per arm, percentages of ``sri4``, ``sledai_reduction4``,
        ``no_bilag_worsening``, ``no_pga_worsening`` and ``completed`` (any
        subset). Default: :data:`BLISS52_TARGETS`.
    n_per_arm
        Patients per arm of the simulated calibration trial (Monte Carlo SE of
        a 50% figure: 50 / sqrt(n_per_arm) points).
    seed
        Seed of the calibration trial (common random numbers across evaluations).
    disease, pkpd
        Starting values (default: the current defaults).
    progress
        Optional callable receiving (evaluation number, largest residual).
    """
    design = scenario.design
    if design is None:
        raise ScenarioError(f"scenario {scenario.name!r} has no design to calibrate")
    targets = targets or BLISS52_TARGETS
    arms = [a.name for a in design.arms]
    for arm, figs in targets.items():
        if arm not in arms:
            raise ScenarioError(f"targets: arm {arm!r} is not in the design; arms are {arms}")
        for name in figs:
            if name not in _UNITS:
                raise ScenarioError(
                    f"targets.{arm}.{name}: unknown figure; use {', '.join(_UNITS)}"
                )
    disease0 = disease or DiseaseParameters()
    pk0 = pkpd or PKPD()
    disc0 = design.discontinuation
    total = n_per_arm * sum(design.allocation or ()) // min(design.allocation or (1,))
    # A larger trial with proportionally more sites, so it enrols in the same time.
    sites = max(1, round(design.enrolment.sites * total / design.n_randomised))
    big = scenario.model_copy(
        update={
            "design": design.model_copy(
                update={
                    "n_randomised": int(total),
                    "enrolment": design.enrolment.model_copy(update={"sites": sites}),
                }
            )
        }
    )
    keys = [(arm, name) for arm, figs in targets.items() for name in figs]
    aims = np.array([targets[a][f] for a, f in keys])
    units = np.array([_UNITS[f] for _, f in keys])
    count = {"n": 0}
    last: dict[str, dict[str, float]] = {}

    def residual(x: np.ndarray) -> np.ndarray:
        d, p, disc = _apply(x, disease0, pk0, disc0)
        sc = big.model_copy(
            update={"design": big.design.model_copy(update={"discontinuation": disc})}  # type: ignore[union-attr]
        )
        stats = trial_statistics(simulate_trial(sc, seed, disease=d, pkpd=p))
        last.clear()
        last.update(stats)
        r = (np.array([stats[a][f] for a, f in keys]) - aims) / units
        count["n"] += 1
        if progress is not None:
            progress(count["n"], float(np.max(np.abs(r))))
        return r

    x0 = _start(disease0, pk0, disc0)
    fit = levenberg_marquardt(residual, x0, np.full(x0.size, _STEP), max_iter=max_iter, tol=0.25)
    d, p, disc = _apply(fit.x, disease0, pk0, disc0)
    sc = big.model_copy(
        update={"design": big.design.model_copy(update={"discontinuation": disc})}  # type: ignore[union-attr]
    )
    achieved = trial_statistics(simulate_trial(sc, seed, disease=d, pkpd=p))
    return TrialCalibration(
        disease=d,
        pkpd=p,
        discontinuation=disc,
        targets=targets,
        achieved=achieved,
        evaluations=fit.evaluations + 1,
        n_per_arm=n_per_arm,
    )


#: BLISS-LN week-104 results (Furie R, Rovin BH, Houssiau F, et al. N Engl J
#: Med 2020;383:1117-28), in percent, per arm of scenarios/nephritis-addon.toml:
#: primary efficacy renal response 96/223 belimumab vs 72/223 placebo (43% vs
#: 32%; OR 1.6, 95% CI 1.0-2.3), complete renal response 67/223 vs 44/223 (30%
#: vs 20%; OR 1.7, 95% CI 1.1-2.7): the counts, not the rounded percentages.
BLISS_LN_TARGETS: dict[str, dict[str, float]] = {
    "placebo": {"perr": 100 * 72 / 223, "crr": 100 * 44 / 223},
    "belimumab_10mg": {"perr": 100 * 96 / 223, "crr": 100 * 67 / 223},
}

#: Parameters :func:`calibrate_nephritis` fits (as :data:`FREE_PARAMETERS`).
#: Three parameters for four figures: the PERR mainly moves the induction
#: effect, the CRR/PERR ratio the remission proteinuria and its spread. The anti-BAFF effect is the
#: one calibrated to BLISS-52, on every organ: the belimumab arm's renal
#: responses are checked, not fitted, through it.
RENAL_FREE_PARAMETERS: tuple[tuple[str, str, str], ...] = (
    ("disease", "induction_renal_logodds", "identity"),
    ("disease", "remission_proteinuria_g", "log"),
    # The spread of the remission levels sets how many remitting kidneys end
    # between the CRR (< 0.5) and PERR (<= 0.7) thresholds.
    ("disease", "remission_proteinuria_log_sd", "log"),
)
#: Tolerance units of the renal figures in the fit (percentage points): the
#: published figures have a sampling SE of about 3 points (224 per arm).
_RENAL_UNITS = {"perr": 1.0, "crr": 1.0}
NEPHRITIS_CALIBRATION_SEED = 104


def renal_statistics(ds: Any, week: float | None = None) -> dict[str, dict[str, float]]:
    """Per arm, in percent: PERR and CRR (non-responder imputation) and completion.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> stats = renal_statistics(simulate_trial(load_scenario("nephritis-addon"), seed=1))
    >>> sorted(stats["placebo"])
    ['completed', 'crr', 'perr']
    """
    p = perr(ds, week).responder
    c = crr(ds, week).responder
    j = ds.visit_column(ds.primary_week if week is None else week)
    out: dict[str, dict[str, float]] = {}
    for k, arm in enumerate(ds.arms):
        sel = ds.arm_index == k
        out[arm] = {
            "perr": 100 * float(p[sel].mean()),
            "crr": 100 * float(c[sel].mean()),
            "completed": 100 * float(ds.arrays.observed[sel, j].mean()),
        }
    return out


def calibrate_nephritis(
    scenario: Scenario,
    targets: dict[str, dict[str, float]] | None = None,
    *,
    n_per_arm: int = 40_000,
    seed: int = NEPHRITIS_CALIBRATION_SEED,
    disease: DiseaseParameters | None = None,
    max_iter: int = 40,
    progress: Any = None,
) -> TrialCalibration:
    """Fit the lupus nephritis parameters to published renal responses.

    Fits :data:`RENAL_FREE_PARAMETERS` by Levenberg-Marquardt on one large
    simulated trial of the scenario (``n_per_arm`` patients per arm, fixed
    seed: common random numbers across evaluations); every other parameter
    keeps its value. The scenario's design must give a nephritis induction
    regimen. With the defaults it takes about 4 minutes on one core; the
    renal responses depend weakly on the induction effect (treatment failure
    and dropout cap them), so smaller trials or fewer iterations stop short
    of the least-squares point.

    Parameters
    ----------
    scenario
        A nephritis trial (``nephritis-addon``).
    targets
        Per arm, percentages of ``perr`` and ``crr`` at the primary week.
        Default: :data:`BLISS_LN_TARGETS`.
    n_per_arm
        Patients per arm of the calibration trial (Monte Carlo SE of a 30%
        figure: 46 / sqrt(n_per_arm) points).
    seed, disease, max_iter, progress
        As :func:`calibrate_trial`.
    """
    design = scenario.design
    if design is None or not design.background.induction:
        raise ScenarioError(
            f"scenario {scenario.name!r} gives no nephritis induction regimen "
            "([design.background] induction); calibrate_nephritis fits nephritis trials"
        )
    targets = targets or BLISS_LN_TARGETS
    arms = [a.name for a in design.arms]
    for arm, figs in targets.items():
        if arm not in arms:
            raise ScenarioError(f"targets: arm {arm!r} is not in the design; arms are {arms}")
        for name in figs:
            if name not in _RENAL_UNITS:
                raise ScenarioError(
                    f"targets.{arm}.{name}: unknown figure; use {', '.join(_RENAL_UNITS)}"
                )
    free = RENAL_FREE_PARAMETERS
    disease0 = disease or DiseaseParameters()
    pk0 = PKPD() if scenario.pkpd is None else scenario.pkpd.apply(PKPD())
    disc0 = design.discontinuation
    big = _enlarged(scenario, n_per_arm)
    keys = [(arm, name) for arm, figs in targets.items() for name in figs]
    aims = np.array([targets[a][f] for a, f in keys])
    units = np.array([_RENAL_UNITS[f] for _, f in keys])
    count = {"n": 0}

    def statistics(x: np.ndarray) -> dict[str, dict[str, float]]:
        d, _, _ = _apply(x, disease0, pk0, disc0, free)
        return renal_statistics(simulate_trial(big, seed, disease=d, pkpd=pk0))

    def residual(x: np.ndarray) -> np.ndarray:
        stats = statistics(x)
        r = (np.array([stats[a][f] for a, f in keys]) - aims) / units
        count["n"] += 1
        if progress is not None:
            progress(count["n"], float(np.max(np.abs(r))))
        return r

    x0 = _start(disease0, pk0, disc0, free)
    fit = levenberg_marquardt(residual, x0, np.full(x0.size, _STEP), max_iter=max_iter, tol=0.1)
    d, _, _ = _apply(fit.x, disease0, pk0, disc0, free)
    return TrialCalibration(
        disease=d,
        pkpd=pk0,
        discontinuation=disc0,
        targets=targets,
        achieved=statistics(fit.x),
        evaluations=fit.evaluations + 1,
        n_per_arm=n_per_arm,
        free=free,
    )


def _enlarged(scenario: Scenario, n_per_arm: int) -> Scenario:
    """The scenario's trial with ``n_per_arm`` patients in the smallest arm and
    proportionally more sites, so that it enrols in the same time."""
    design = scenario.design
    assert design is not None
    allocation = design.allocation or (1,) * len(design.arms)
    total = n_per_arm * sum(allocation) // min(allocation)
    sites = max(1, round(design.enrolment.sites * total / design.n_randomised))
    return scenario.model_copy(
        update={
            "design": design.model_copy(
                update={
                    "n_randomised": int(total),
                    "enrolment": design.enrolment.model_copy(update={"sites": sites}),
                }
            )
        }
    )
