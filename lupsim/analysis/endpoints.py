"""Trial endpoints: pure functions of a TrialDataset, at any visit.

Definitions (sle-reference.md section 4):

- **SRI-X** (Furie et al., Arthritis Rheum 2009;61:1143-51): responder if (1)
  SELENA-SLEDAI fell by >= X points from baseline, (2) no new BILAG A and at
  most one new BILAG B domain, and (3) PGA did not rise by >= 0.3. SRI-4 is
  the BLISS primary endpoint; X = 5..8 are stricter versions.
- **BICLA** (Wallace et al., Ann Rheum Dis 2014;73:183-90): every baseline
  BILAG A improves to B/C/D and every B to C/D; no new A and at most one new B;
  no rise of SLEDAI-2K; PGA rise < 10% (< 0.3); no treatment failure.
- **LLDAS** (Franklyn et al., Ann Rheum Dis 2016;75:1615-21): SLEDAI-2K <= 4
  with no activity in major organs (renal, CNS, cardiopulmonary, vasculitis,
  fever) and no GI activity; no new activity since the previous visit;
  PGA <= 1; prednisone <= 7.5 mg/day.
- **Flares** by the SELENA flare index; the belimumab programme's modified SFI
  excludes severe flares triggered only by SELENA-SLEDAI rising above 12.
- **Steroid reduction** (BLISS): among patients on > 7.5 mg/day at baseline,
  prednisone reduced by >= 25% from baseline to <= 7.5 mg/day at every visit
  of weeks 40-52.
- **PERR**, primary efficacy renal response (BLISS-LN; Furie R et al., N Engl
  J Med 2020;383:1117-28): urine protein:creatinine ratio (uPCR) <= 0.7 g/g,
  eGFR no worse than 20% below baseline or >= 60 mL/min/1.73 m2, no
  treatment failure (rescue therapy), and glucocorticoids reduced to
  <= 10 mg/day prednisone-equivalent from week 24 (US prescribing information
  of belimumab, lupus nephritis study: "to be considered a responder, steroid
  use had to be reduced to <= 10 mg/day from Week 24").
- **CRR**, complete renal response (BLISS-LN): uPCR < 0.5 g/g, eGFR no worse
  than 10% below baseline or >= 90 mL/min/1.73 m2, no treatment failure, and
  the same glucocorticoid criterion.

lupsim measures proteinuria in g/24 h and reads a uPCR in g/g as the same
number (a daily creatinine excretion of about 1 g; the two agree well enough
for a threshold, not for an individual). BLISS-LN compared eGFR with its value
before the flare; lupsim compares it with the baseline visit. The steroid
criterion holds when prednisone was <= 10 mg/day at every visit the patient
attended from week 24 up to the assessment visit (vacuous before week 24).

Patients who left the study before the visit, or who are treatment failures
by then (rescue, protocol-prohibited increases of background therapy), count
as non-responders in every endpoint and every component, as in BLISS.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
>>> r = sri(ds, week=52)
>>> bool((r.responder <= r.sledai_reduction).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lupsim.activity.bilag import BILAG_DOMAINS, compare_bilag
from lupsim.activity.pga import PGA_WORSENING
from lupsim.activity.sledai import ORGAN_DOMAINS
from lupsim.errors import LupsimError
from lupsim.trial.dataset import TrialDataset

__all__ = [
    "CRR",
    "PERR",
    "RENAL_ENDPOINTS",
    "SUMMARY_ENDPOINTS",
    "FlareResult",
    "RenalCriteria",
    "RenalResult",
    "SRIResult",
    "arm_summary",
    "bicla",
    "crr",
    "endpoint_table",
    "flares",
    "lldas",
    "perr",
    "renal_response",
    "sri",
    "steroid_reduction",
    "weekly_renal",
    "weekly_sri",
]

B = NDArray[np.bool_]
_EPS = 1e-9


@dataclass(frozen=True)
class SRIResult:
    """SRI per subject: the three components and the response (booleans)."""

    sledai_reduction: B
    no_bilag_worsening: B
    no_pga_worsening: B
    responder: B
    evaluable: B  # observed at the visit and not a treatment failure


def _evaluable(ds: TrialDataset, j: int) -> B:
    a = ds.arrays
    return a.observed[:, j] & ~a.treatment_failure[:, j]


def sri(ds: TrialDataset, week: float | None = None, reduction: int = 4) -> SRIResult:
    """SRI-``reduction`` at ``week`` (default: the primary week).

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> bool(0.3 < sri(ds).responder.mean() < 0.7)
    True
    """
    if not 1 <= reduction <= 105:
        raise LupsimError(f"SRI reduction must be 1-105 points, got {reduction}")
    j = ds.visit_column(ds.primary_week if week is None else week)
    a = ds.arrays
    ok = _evaluable(ds, j)
    red = (a.selena[:, 0].astype(np.int32) - a.selena[:, j]) >= reduction
    bil = compare_bilag(a.bilag[:, 0], a.bilag[:, j]).no_worsening
    pga = (a.pga[:, j] - a.pga[:, 0]) < PGA_WORSENING - _EPS
    return SRIResult(
        sledai_reduction=red & ok,
        no_bilag_worsening=bil & ok,
        no_pga_worsening=pga & ok,
        responder=red & bil & pga & ok,
        evaluable=ok,
    )


def bicla(ds: TrialDataset, week: float | None = None) -> B:
    """BICLA response per subject at ``week`` (default: the primary week)."""
    j = ds.visit_column(ds.primary_week if week is None else week)
    a = ds.arrays
    comp = compare_bilag(a.bilag[:, 0], a.bilag[:, j])
    no_sledai_rise = a.sledai_2k[:, j] <= a.sledai_2k[:, 0]
    pga = (a.pga[:, j] - a.pga[:, 0]) < PGA_WORSENING - _EPS
    return comp.all_improved & comp.no_worsening & no_sledai_rise & pga & _evaluable(ds, j)


_MAJOR = np.array(
    [
        *ORGAN_DOMAINS["renal"],
        *ORGAN_DOMAINS["cns"],
        *ORGAN_DOMAINS["cardiorespiratory"],
        *ORGAN_DOMAINS["vascular"],
        *ORGAN_DOMAINS["constitutional"],
    ]
)
_GI = BILAG_DOMAINS.index("gastrointestinal")
#: LLDAS thresholds (Franklyn 2016).
LLDAS_SLEDAI_MAX = 4
LLDAS_PGA_MAX = 1.0
LLDAS_PREDNISONE_MAX = 7.5


def lldas(ds: TrialDataset, week: float | None = None) -> B:
    """Lupus low disease activity state per subject at ``week``."""
    j = ds.visit_column(ds.primary_week if week is None else week)
    a = ds.arrays
    major = a.present[:, j][:, _MAJOR].any(axis=1)
    gi = a.bilag[:, j, _GI] <= 2
    new = a.new[:, j].any(axis=1) if j > 0 else np.zeros(ds.n, dtype=bool)
    return (
        (a.sledai_2k[:, j] <= LLDAS_SLEDAI_MAX)
        & ~major
        & ~gi
        & ~new
        & (a.pga[:, j] <= LLDAS_PGA_MAX + _EPS)
        & (a.prednisone_mg[:, j] <= LLDAS_PREDNISONE_MAX + _EPS)
        & _evaluable(ds, j)
    )


@dataclass(frozen=True)
class FlareResult:
    """Flares up to a week: any mild/moderate, any severe (modified SFI), and
    time to first severe flare (study day; censored at the last visit seen)."""

    any_mild_moderate: B
    any_severe: B
    time_to_severe: NDArray[np.float64]
    severe_event: B


def flares(ds: TrialDataset, week: float | None = None, *, modified: bool = True) -> FlareResult:
    """SELENA flare index flares observed up to ``week`` (default: primary)."""
    j = ds.visit_column(ds.primary_week if week is None else week)
    a = ds.arrays
    obs = a.observed[:, 1 : j + 1]
    severe = (a.flare_severe_modified if modified else a.flare_severe)[:, 1 : j + 1] & obs
    mild = a.flare_mild[:, 1 : j + 1] & obs
    event = severe.any(axis=1)
    first = np.argmax(severe, axis=1) + 1
    last_seen = np.where(obs.any(axis=1), obs.shape[1] - np.argmax(obs[:, ::-1], axis=1), 0)
    day = a.day
    rows = np.arange(ds.n)
    t = np.where(event, day[rows, first], day[rows, last_seen])
    return FlareResult(
        any_mild_moderate=np.asarray(mild.any(axis=1)),
        any_severe=np.asarray(event),
        time_to_severe=t.astype(np.float64),
        severe_event=np.asarray(event),
    )


def steroid_reduction(
    ds: TrialDataset, weeks: tuple[float, float] | None = None
) -> NDArray[np.float64]:
    """BLISS steroid-reduction response: 1.0/0.0, NaN if not on > 7.5 mg/day at baseline.

    ``weeks`` is the window in which the reduction must hold at every visit;
    by default the last 12 weeks up to the primary visit (weeks 40-52 in
    BLISS). With the default window, a trial with no visit in it gives NaN for
    everyone; an explicit window without visits is an error.
    """
    a = ds.arrays
    default = weeks is None
    if weeks is None:
        weeks = (max(ds.primary_week - 12.0, 0.0), ds.primary_week)
    w = np.asarray(ds.visit_weeks)
    cols = np.flatnonzero((w >= weeks[0] - _EPS) & (w <= weeks[1] + _EPS) & (w > 0))
    if cols.size == 0:
        if default:
            return np.full(ds.n, np.nan)
        raise LupsimError(
            f"no visit in weeks {weeks[0]:g}-{weeks[1]:g}; visits are at weeks "
            f"{', '.join(f'{x:g}' for x in w)}"
        )
    base = a.prednisone_mg[:, 0]
    dose = a.prednisone_mg[:, cols]
    ok = (dose <= 0.75 * base[:, None] + _EPS) & (dose <= LLDAS_PREDNISONE_MAX + _EPS)
    seen = a.observed[:, cols].all(axis=1) & ~a.treatment_failure[:, cols].any(axis=1)
    met = ok.all(axis=1) & seen
    return np.where(base > LLDAS_PREDNISONE_MAX, met.astype(np.float64), np.nan)


@dataclass(frozen=True)
class RenalCriteria:
    """Thresholds of a renal response: proteinuria, eGFR against baseline, steroids.

    ``upcr_max`` is the largest uPCR (g/g, read as g/24 h) that responds,
    inclusive when ``upcr_inclusive``; eGFR responds when it is no worse than
    ``egfr_max_drop`` (a fraction) below baseline, or at least ``egfr_floor``
    (mL/min/1.73 m2); both inclusive. The steroid criterion needs prednisone
    at most ``steroid_max_mg`` mg/day (inclusive) at every attended visit from
    week ``steroid_from_week`` up to the assessment visit; ``None`` drops it.
    """

    name: str
    upcr_max: float
    upcr_inclusive: bool
    egfr_max_drop: float
    egfr_floor: float
    steroid_max_mg: float | None = 10.0
    steroid_from_week: float = 24.0


#: Primary efficacy renal response of BLISS-LN (Furie 2020; steroid criterion
#: from the US prescribing information of belimumab).
PERR = RenalCriteria("PERR", 0.7, True, 0.20, 60.0, 10.0, 24.0)
#: Complete renal response of BLISS-LN (same sources).
CRR = RenalCriteria("CRR", 0.5, False, 0.10, 90.0, 10.0, 24.0)


@dataclass(frozen=True)
class RenalResult:
    """A renal response per subject: its three criteria and the response.

    The criteria are as measured (False where the assessment visit was
    missed): proteinuria and eGFR at the visit, ``steroids`` the prednisone
    doses of the attended visits from the criteria's ``steroid_from_week`` up
    to it. ``responder`` also needs the subject evaluable (seen at the visit,
    not a treatment failure by then): non-responder imputation, as for the SRI.
    """

    proteinuria: B
    egfr: B
    steroids: B
    responder: B
    evaluable: B


def renal_response(
    ds: TrialDataset, criteria: RenalCriteria, week: float | None = None
) -> RenalResult:
    """A renal response (:data:`PERR`, :data:`CRR` or custom thresholds) at ``week``.

    Parameters
    ----------
    ds
        A trial with proteinuria and eGFR at every visit.
    criteria
        The thresholds.
    week
        Visit week (default: the primary week).

    Returns
    -------
    RenalResult
        Per subject: proteinuria, eGFR and steroid criteria, response.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("nephritis-addon"), seed=1)
    >>> r = renal_response(ds, PERR, week=104)
    >>> bool((r.responder <= r.proteinuria & r.egfr & r.steroids).all())
    True
    """
    j = ds.visit_column(ds.primary_week if week is None else week)
    a = ds.arrays
    base = a.egfr[:, 0]
    egfr = a.egfr[:, j]
    if np.isnan(base).any() or np.isnan(egfr[a.observed[:, j]]).any():
        raise LupsimError(
            f"{criteria.name} needs eGFR at baseline and at week {ds.visit_weeks[j]:g} for "
            "every subject seen; this dataset has none (give the visits an EGFR parameter)"
        )
    prot = a.proteinuria_g[:, j]
    if criteria.upcr_inclusive:
        prot_ok = prot <= criteria.upcr_max + _EPS
    else:
        prot_ok = prot < criteria.upcr_max - _EPS
    # "No worse than 20% below baseline": exactly 20% below still responds.
    egfr_ok = (egfr >= (1.0 - criteria.egfr_max_drop) * base - _EPS) | (
        egfr >= criteria.egfr_floor - _EPS
    )
    seen = a.observed[:, j]
    steroid_ok = _steroids_ok(ds, criteria, j)
    ok = _evaluable(ds, j)
    return RenalResult(
        proteinuria=prot_ok & seen,
        egfr=egfr_ok & seen,
        steroids=steroid_ok & seen,
        responder=prot_ok & egfr_ok & steroid_ok & ok,
        evaluable=ok,
    )


def _steroids_ok(ds: TrialDataset, criteria: RenalCriteria, j: int) -> B:
    """Prednisone <= the criteria's maximum at every attended visit from its
    first week up to visit column ``j`` (True when there is no such visit)."""
    if criteria.steroid_max_mg is None:
        return np.ones(ds.n, dtype=bool)
    a = ds.arrays
    w = np.asarray(ds.visit_weeks)[: j + 1]
    cols = np.flatnonzero(w >= criteria.steroid_from_week - _EPS)
    dose = a.prednisone_mg[:, cols]
    low = dose <= criteria.steroid_max_mg + _EPS
    return np.asarray((low | ~a.observed[:, cols]).all(axis=1))


def perr(ds: TrialDataset, week: float | None = None) -> RenalResult:
    """Primary efficacy renal response (BLISS-LN) at ``week`` (default: primary).

    uPCR <= 0.7 g/g, eGFR no worse than 20% below baseline or >= 60
    mL/min/1.73 m2, prednisone <= 10 mg/day at every attended visit from week
    24, and no treatment failure; dropouts are non-responders.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> r = perr(simulate_trial(load_scenario("nephritis-addon"), seed=1))
    >>> bool(0.1 < r.responder.mean() < 0.7)
    True
    """
    return renal_response(ds, PERR, week)


def crr(ds: TrialDataset, week: float | None = None) -> RenalResult:
    """Complete renal response (BLISS-LN) at ``week`` (default: primary).

    uPCR < 0.5 g/g, eGFR no worse than 10% below baseline or >= 90
    mL/min/1.73 m2, prednisone <= 10 mg/day at every attended visit from week
    24, and no treatment failure; dropouts are non-responders.
    Every complete response is a primary efficacy renal response.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("nephritis-addon"), seed=1)
    >>> bool((crr(ds).responder <= perr(ds).responder).all())
    True
    """
    return renal_response(ds, CRR, week)


def endpoint_table(ds: TrialDataset, week: float | None = None) -> pd.DataFrame:
    """One row per subject: arm, strata and every endpoint at ``week``."""
    wk = ds.primary_week if week is None else week
    s4 = sri(ds, wk, 4)
    f = flares(ds, wk)
    j = ds.visit_column(wk)
    sub = ds.subjects
    df = pd.DataFrame(
        {
            "USUBJID": sub["USUBJID"],
            "arm": sub["arm"],
            "completed": ds.arrays.observed[:, j],
            "treatment_failure": ds.arrays.treatment_failure[:, j],
            "sri4": s4.responder,
            "sledai_reduction4": s4.sledai_reduction,
            "no_bilag_worsening": s4.no_bilag_worsening,
            "no_pga_worsening": s4.no_pga_worsening,
            **{f"sri{x}": sri(ds, wk, x).responder for x in (5, 6, 7, 8)},
            "bicla": bicla(ds, wk),
            "lldas": lldas(ds, wk),
            "any_flare": f.any_mild_moderate | f.any_severe,
            "severe_flare": f.any_severe,
            "time_to_severe_flare": f.time_to_severe,
            "steroid_reduction": steroid_reduction(ds),
        }
    )
    if ds.nephritis:
        df["perr"] = perr(ds, wk).responder
        df["crr"] = crr(ds, wk).responder
    for col in [c for c in sub.columns if c.startswith("STRAT")]:
        df[col] = sub[col]
    return df


def weekly_sri(ds: TrialDataset, reduction: int = 4) -> pd.DataFrame:
    """SRI response rate (%) per arm at every post-baseline visit."""
    rows = []
    arm = ds.arm_index
    for w in ds.visit_weeks[1:]:
        r = sri(ds, w, reduction).responder
        for k, name in enumerate(ds.arms):
            sel = arm == k
            rows.append({"arm": name, "week": w, f"sri{reduction}_pct": 100 * r[sel].mean()})
    return pd.DataFrame(rows)


#: Renal endpoints of :func:`arm_summary`, for trials with a nephritis
#: background regimen (:attr:`TrialDataset.nephritis`).
RENAL_ENDPOINTS = ("perr", "crr")

#: The SLE endpoints of :func:`arm_summary`, in reporting order (percentages
#: of everyone randomised; SRI-4 then its three components).
SUMMARY_ENDPOINTS = (
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


def weekly_renal(ds: TrialDataset) -> pd.DataFrame:
    """PERR and CRR response rates (%) per arm at every post-baseline visit.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> weekly_renal(simulate_trial(load_scenario("nephritis-addon"), seed=1)).columns.tolist()
    ['arm', 'week', 'perr_pct', 'crr_pct']
    """
    rows = []
    arm = ds.arm_index
    for w in ds.visit_weeks[1:]:
        p = perr(ds, w).responder
        c = crr(ds, w).responder
        for k, name in enumerate(ds.arms):
            sel = arm == k
            rows.append(
                {
                    "arm": name,
                    "week": w,
                    "perr_pct": 100 * p[sel].mean(),
                    "crr_pct": 100 * c[sel].mean(),
                }
            )
    return pd.DataFrame(rows)


def arm_summary(ds: TrialDataset, week: float | None = None) -> pd.DataFrame:
    """Per arm: n randomised and the percentage meeting each endpoint.

    Trials with a nephritis background regimen also show the renal responses
    (:data:`RENAL_ENDPOINTS`), after completion. A binomial trial
    (:mod:`lupsim.trial.binomial`) has only completion and ``sri4``, its drawn
    response: the disease endpoints mean nothing there.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> arm_summary(simulate_trial(load_scenario("nephritis-addon"), seed=1)).columns[:4].tolist()
    ['n_randomised', 'completed_pct', 'perr', 'crr']
    """
    t = endpoint_table(ds, week)
    if ds.binomial:
        cols = ["completed", "sri4"]
    else:
        cols = ["completed", *(RENAL_ENDPOINTS if ds.nephritis else ()), *SUMMARY_ENDPOINTS]
    out = t.groupby("arm", sort=False)[cols].mean() * 100
    out.insert(0, "n_randomised", t.groupby("arm", sort=False).size())
    return out.reindex(list(ds.arms)).rename(columns={"completed": "completed_pct"})
