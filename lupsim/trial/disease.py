"""The disease course of randomised patients, advanced visit by visit as arrays.

Each patient carries, per organ domain, whether it is active now, and, per
SLEDAI descriptor, whether it is present (and new). Between two visits every
organ is a two-state continuous-time Markov chain: with stationary probability
``pi`` of activity and a renewal rate ``r``, the chance of being active at the
next visit is ``pi + (1 - pi) exp(-r dt)`` if active now and
``pi (1 - exp(-r dt))`` if not. The items of an active organ follow the same
kind of chain inside it. ``pi`` is the patient's own long-run activity: the
cohort model's organ log-odds (patient covariates and persistent organ
propensity), moved by

- the prednisone dose relative to baseline,
- the anti-BAFF effect (:mod:`lupsim.trial.pkpd`), larger in serologically
  active patients,

so that patients screened at a high point regress towards their own mean
(the placebo response) and a drug lowers that mean. Renal activity drives
proteinuria (log-normal, autocorrelated) and the urinary sediment; anti-dsDNA,
C3 and C4 are autocorrelated values that the drug moves, and their thresholds
make the two immunological SLEDAI items. BILAG grades, PGA and the SELENA
flare index are scored from the state at every visit, never drawn as numbers.

Standard care reacts to the disease: flares raise prednisone (a severe flare
is rescued with high-dose prednisone and may start an immunosuppressant),
responders may taper, and a protocol window can force a taper. Patients leave
the study with competing hazards (withdrawal, adverse events, lack of efficacy,
after a severe flare).

All patients due at a visit advance together; there is no Python loop over
patients. Every parameter is in :class:`DiseaseParameters` with its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lupsim.activity.bilag import N_BILAG_DOMAINS
from lupsim.activity.sledai import DESCRIPTOR_CODES, N_DESCRIPTORS, WEIGHTS
from lupsim.cohort import model as cm
from lupsim.cohort.model import Parameters, PatientArrays
from lupsim.cohort.vocabulary import INDUCTION_REGIMENS
from lupsim.random import bernoulli_thresholds16, coarse_normals, raw16
from lupsim.trial.design import Discontinuation, Rescue, SteroidProtocol

__all__ = ["DROPOUT_REASONS", "Course", "DiseaseModel", "DiseaseParameters", "cumulative_or"]

F = NDArray[np.float64]
B = NDArray[np.bool_]

# Layout shared with the cohort model (which items belong to which organ).
_GENERIC_IDX = cm._GENERIC_IDX
_GENERIC_ORGAN = cm._GENERIC_DOMAIN
# The generic items' descriptor rows as runs of consecutive rows: (descriptor
# slice, item slice) pairs, so that a visit copies slices instead of gathering.
_RUN_START = np.flatnonzero(np.diff(_GENERIC_IDX, prepend=-2) != 1)
_RUN_STOP = np.append(_RUN_START[1:], _GENERIC_IDX.size)
_GENERIC_RUNS = tuple(
    (slice(int(_GENERIC_IDX[a]), int(_GENERIC_IDX[b - 1]) + 1), slice(int(a), int(b)))
    for a, b in zip(_RUN_START, _RUN_STOP, strict=True)
)
assert [i for d, _ in _GENERIC_RUNS for i in range(d.start, d.stop)] == _GENERIC_IDX.tolist()
_ITEM_LOGIT = cm._ITEM_LOGIT
_ITEM_MULT = cm._ITEM_MULT
_MEMBER = cm._MEMBER
_MEMBER_F32 = _MEMBER.astype(np.float32)
# (n_generic, n_organs): 0 for an organ's own items, -inf for the others
# (masking by addition, see the cohort model's _NOT_MEMBER).
_NOT_MEMBER_F32 = np.ascontiguousarray(cm._NOT_MEMBER.T).astype(np.float32)
_SEDIMENT_IDX = cm._SEDIMENT_IDX
_PROTEINURIA = cm._PROTEINURIA
_IMMUNO_IDX = cm._IMMUNO_IDX
_N_ORGANS = len(cm.ORGAN_ORDER)  # 7 two-step organs, then renal
_RENAL = _N_ORGANS - 1
_D = {c: i for i, c in enumerate(DESCRIPTOR_CODES)}

#: Why patients leave the study.
DROPOUT_REASONS = ("withdrawal", "adverse_event", "lack_of_efficacy", "severe_flare")

#: PGA points added at a visit where an organ domain has newly become active
#: (lupsim assumption: physicians rate a flaring patient higher than the
#: SLEDAI items alone would suggest).
PGA_PER_NEW_ORGAN = 0.25

#: Renewal rate of each organ relative to ``organ_rate_per_week`` (organ order
#: of the cohort model: cns, vascular, musculoskeletal, mucocutaneous,
#: cardiorespiratory, constitutional, haematological, renal). lupsim
#: assumption: major-organ disease (CNS, vasculitis, nephritis, cytopenias)
#: changes more slowly than skin, joints and serositis.
_ORGAN_RATE = np.array([0.4, 0.4, 1.0, 1.0, 1.0, 1.0, 0.6, 0.5])

# Columns of the uniform draws of one interval: organs, items, sediment, mild
# BILAG, BILAG innovations.
_U_ORGAN = slice(0, _N_ORGANS)
_U_ITEM = slice(_N_ORGANS, _N_ORGANS + _GENERIC_IDX.size)
_U_SEDIMENT = slice(_U_ITEM.stop, _U_ITEM.stop + 3)
_U_MILD = slice(_U_SEDIMENT.stop, _U_SEDIMENT.stop + N_BILAG_DOMAINS)
_U_BILAG = slice(_U_MILD.stop, _U_MILD.stop + N_BILAG_DOMAINS)
_N_UNIFORMS = _U_BILAG.stop
# Columns of the normal draws of one interval.
_Z_FLARE_PROTEINURIA, _Z_PROTEINURIA, _Z_DSDNA, _Z_C3, _Z_C4, _Z_PGA = range(6)
_N_NORMALS = 6
_SQRT12 = np.float32(np.sqrt(12.0))
# The disease's uniforms are the 16-bit integers k of lupsim.random.raw16:
# u = k / 65536. The chains compare k with 65536 p rather than u with p: the
# same comparison (scaling by a power of two is exact), without a pass to
# scale them.
_U16 = np.float32(1.0 / 65536.0)
_CELLS = np.float32(65536.0)
_LN10 = float(np.log(10.0))

_SEDIMENT_Q = cm._SEDIMENT_P[:, None].astype(np.float32)
_SEDIMENT_Q_CELLS = _SEDIMENT_Q * _CELLS
_QUIET_LOG_PROT = float(np.log(cm.PROTEINURIA_QUIET_MEDIAN))
_QUIET_MAX_LOG_PROT = float(np.log(0.45))
# Mild (C-only) BILAG activity persists about half the time from visit to visit.
_MILD_STAY = 0.5 + 0.5 * cm.BILAG_MILD_ONLY
_MILD_START = 0.5 * cm.BILAG_MILD_ONLY
assert (_MILD_START < _MILD_STAY).all()


# Mild activity stays or starts when k < threshold, as uint16 columns (the
# probabilities are below 1): a comparison of like with like.
_MILD_STAY_K = bernoulli_thresholds16(_MILD_STAY)[:, None]
_MILD_START_K = bernoulli_thresholds16(_MILD_START)[:, None]
_W2K = WEIGHTS.astype(np.float32)
_ORIGINAL_NEW_ONLY = np.array(
    [_D[c] for c in ("rash", "alopecia", "mucosal_ulcers", "proteinuria")]
)
_ORIGINAL_W = np.zeros(N_DESCRIPTORS, dtype=np.float32)
_ORIGINAL_W[_ORIGINAL_NEW_ONLY] = WEIGHTS[_ORIGINAL_NEW_ONLY]
_SELENA_W = np.zeros(N_DESCRIPTORS, dtype=np.float32)
_SELENA_W[_PROTEINURIA] = WEIGHTS[_PROTEINURIA]

# SELENA flare index items (Petri et al., NEJM 2005;353:2550-8).
_SFI_MILD_NEW = np.array(
    [_D[c] for c in ("rash", "mucosal_ulcers", "pleurisy", "pericarditis", "arthritis", "fever")]
)
# New CNS items (severe when the CNS organ has newly become active); vasculitis
# and myositis, the other severe items, are judged on their own.
_SFI_SEVERE_CNS = np.array(
    [
        _D[c]
        for c in (
            "seizure",
            "psychosis",
            "organic_brain_syndrome",
            "visual_disturbance",
            "cranial_nerve_disorder",
            "lupus_headache",
            "cva",
        )
    ]
)
_MYOSITIS = _D["myositis"]
_BILAG_RENAL = 7
_BILAG_HAEM = 8


def _indicator(idx: NDArray[np.intp]) -> NDArray[np.float32]:
    out = np.zeros(N_DESCRIPTORS, dtype=np.float32)
    out[idx] = 1.0
    return out


# Every per-visit count is one small float32 matrix product (BLAS; sums of at
# most 105 are exact), on the present and on the new descriptors:
# present -> SLEDAI-2K, clinical SLEDAI (no serology), the 9 BILAG item counts,
# and the points of the persistent-or-new items of the original and SELENA
# versions; new -> those points again, new CNS items, new SFI mild items.
_PRESENT_COLUMNS = np.column_stack(
    [_W2K, cm._CLINICAL_WEIGHTS, cm._BILAG_SOURCE_MATRIX, _ORIGINAL_W, _SELENA_W]
).astype(np.float32)
_P_2K, _P_CLINICAL = 0, 1
_P_BILAG = slice(2, 2 + N_BILAG_DOMAINS)
_P_ORIGINAL, _P_SELENA = _P_BILAG.stop, _P_BILAG.stop + 1
_NEW_COLUMNS = np.column_stack(
    [_ORIGINAL_W, _SELENA_W, _indicator(_SFI_SEVERE_CNS), _indicator(_SFI_MILD_NEW)]
).astype(np.float32)
_N_ORIGINAL, _N_SELENA, _N_CNS, _N_SFI_MILD = range(4)

# Feature-major: counts = _PRESENT_ROWS @ present, present (24, n).
_PRESENT_ROWS = np.ascontiguousarray(_PRESENT_COLUMNS.T)
_NEW_ROWS = np.ascontiguousarray(_NEW_COLUMNS.T)
_MEMBER_T = np.ascontiguousarray(_MEMBER_F32.T)


def _sledai(present: B, new: B) -> tuple[NDArray[np.int16], NDArray[np.int16], NDArray[np.int16]]:
    """SLEDAI-2K, SELENA-SLEDAI and original SLEDAI of feature-major (24, n) states.

    Same rules as :func:`lupsim.activity.sledai.score_sledai` (the trial's
    scores are tested equal to it), from the products the visits use: the
    original and SELENA versions count some items only when new, and
    persistent = present - new (new items are present).
    """
    counts_p = _PRESENT_ROWS @ present.astype(np.float32)
    counts_n = _NEW_ROWS @ new.astype(np.float32)
    two_k = counts_p[_P_2K]
    selena = two_k - (counts_p[_P_SELENA] - counts_n[_N_SELENA])
    original = two_k - (counts_p[_P_ORIGINAL] - counts_n[_N_ORIGINAL])
    return two_k.astype(np.int16), selena.astype(np.int16), original.astype(np.int16)


def _expit32(x: F) -> NDArray[np.float32]:
    """The logistic function in float32, by numpy's SIMD exp: three to four
    times faster than ``scipy.special.expit`` on a trial's patients. The
    chains' probabilities are float32 anyway; the logits are clipped at +-80
    (no overflow), and they stay well below 16, where ``1 - p`` in float32
    would lose its relative precision."""
    e = np.exp(-np.clip(x, -80.0, 80.0).astype(np.float32))
    e += np.float32(1.0)
    return np.reciprocal(e, out=e)


# The BILAG grading and PGA of the cohort model (cm.bilag_active_grades,
# cm.pga_from_state), feature-major, for the visit loop.
_MUCO_BILAG = cm._MUCO_BILAG
_RENAL_BILAG = cm._RENAL_BILAG
_VASCULITIS = cm._VASCULITIS
# PGA points of the grades above C: (A - B) per A plus B per A or B.
_PGA_AB = np.repeat(
    np.array([cm.PGA_PER_BILAG_A - cm.PGA_PER_BILAG_B, cm.PGA_PER_BILAG_B], dtype=np.float32),
    N_BILAG_DOMAINS,
)


def _grade_thresholds(cp: Parameters) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Severity thresholds of grades A and B per domain, ``(9, 1)``, on the
    latent plus ``BILAG_EXTRA_ITEM`` per item (the first item is in them)."""
    thr_a = cp["bilag_tau_a"] + cm.BILAG_A_OFFSET
    thr_b = np.minimum(cp["bilag_tau_b"] + cm.BILAG_B_OFFSET, thr_a)
    return (
        (thr_a + cm.BILAG_EXTRA_ITEM).astype(np.float32)[:, None],
        (thr_b + cm.BILAG_EXTRA_ITEM).astype(np.float32)[:, None],
    )


def _grade_and_rate(
    present: B,
    new: B,
    latent: NDArray[np.float32],
    proteinuria: F,
    counts: NDArray[np.float32],
    thresholds: tuple[NDArray[np.float32], NDArray[np.float32]],
    pga_base: F,
    clinical: NDArray[np.float32],
    newly_any: B,
    out: B | None = None,
) -> tuple[B, F]:
    """BILAG grades of the active domains (C elsewhere) and the PGA of a visit.

    The grades come as ``above`` (2, 9, n): which domains are above the A and
    the B thresholds (A = 2 - 2, B = 2 - 1, C = 2: ``2 - above[1] - above[0]``,
    formed for every visit at once after the last); ``out`` receives them.

    The rules of :func:`lupsim.cohort.model.bilag_active_grades` and
    :func:`lupsim.cohort.model.pga_from_state` on feature-major arrays
    (``present``, ``new`` (24, n); ``latent``, ``counts`` (9, n)) with fewer
    operations: the first item's severity is in the thresholds, and the PGA's
    A and B counts come from one product. ``pga_base`` is the intercept plus
    the rater's and the visit's noise; a visit where an organ newly became
    active adds :data:`PGA_PER_NEW_ORGAN` to the clipped rating.
    """
    thr_a, thr_b = thresholds
    active = counts > 0
    sev = counts * np.float32(cm.BILAG_EXTRA_ITEM)
    sev += latent
    sev[_MUCO_BILAG] += np.float32(cm.BILAG_VASCULITIS) * present[_VASCULITIS]
    above = np.empty((2, N_BILAG_DOMAINS, present.shape[1]), dtype=bool) if out is None else out
    above_a, above_b = above
    np.greater(sev, thr_a, out=above_a)
    above_a &= active
    np.greater(sev, thr_b, out=above_b)
    above_b &= active
    # Renal: grades follow proteinuria and sediment, not the latent.
    sediment = present[_SEDIMENT_IDX[0]] | present[_SEDIMENT_IDX[1]]
    sediment |= present[_SEDIMENT_IDX[2]]
    renal = active[_RENAL_BILAG]
    renal_a = (proteinuria >= cm.RENAL_A_PROTEINURIA) | (
        (proteinuria >= cm.RENAL_A_PROTEINURIA_WITH_SEDIMENT) & sediment
    )
    np.logical_and(renal_a, renal, out=above_a[_RENAL_BILAG])
    renal_b = sediment | (present[_PROTEINURIA] & new[_PROTEINURIA])
    renal_b |= above_a[_RENAL_BILAG]
    np.logical_and(renal_b, renal, out=above_b[_RENAL_BILAG])
    # Float64 from here, as the cohort model's PGA.
    raw = pga_base + _PGA_AB @ above.reshape(2 * N_BILAG_DOMAINS, -1).astype(np.float32)
    raw += cm.PGA_PER_CLINICAL_POINT * clinical
    np.maximum(raw, 0.0, out=raw)
    raw += PGA_PER_NEW_ORGAN * newly_any
    return above, np.minimum(raw, 3.0, out=raw).round(2)


@dataclass(frozen=True)
class DiseaseParameters:
    """Parameters of the disease course. Defaults are calibrated to BLISS-52.

    Attributes
    ----------
    organ_rate_per_week
        Renewal rate of organ activity (1/week): how fast a patient screened
        at a high point returns towards their own mean. Calibrated to the
        BLISS-52 placebo >= 4-point SELENA-SLEDAI reduction (46%).
    item_rate_per_week
        Renewal rate of items inside an active organ (lupsim assumption: items
        change about twice as fast as whole organs).
    standard_care_logodds
        Reduction of the log-odds of organ activity in every patient once in
        the trial: background therapy optimised at entry, adherence under trial
        conditions. With regression to the mean from the screening threshold
        this makes the placebo response (sle-reference.md section 6).
        Calibrated to the BLISS-52 placebo >= 4-point reduction (46%).
    drug_logodds
        Reduction of the log-odds of organ activity at the full anti-BAFF
        effect in a serologically active patient. Calibrated to BLISS-52
        (10 mg/kg SRI-4 57.6%).
    drug_onset_logodds
        Further reduction of the log onset rate of organ activity at the full
        effect: flare prevention. lupsim assumption (0.5: new activity about 40%
        less frequent at the full effect in serologically active patients), of
        the order of the reduction of severe flares by about a third with
        belimumab 10 mg/kg in BLISS (Navarra 2011; Furie 2011). Not fitted: the
        published components cannot separate it from ``drug_logodds``.
    seronegative_fraction
        Fraction of that effect in patients without anti-dsDNA and low
        complement: pooled BLISS data show almost none (sle-reference.md 6;
        van Vollenhoven et al., Ann Rheum Dis 2012;71:1343-9).
    sero_active_turnover
        How much faster organ activity turns over (flares and remits) in
        serologically active patients (anti-dsDNA and low complement). lupsim
        assumption, informed by serological activity preceding flares (Ng et
        al., Ann Rheum Dis 2006;65:1323-8; Petri et al., Arthritis Rheum 2009).
    steroid_logodds
        Log-odds of organ activity per unit of log(1 + prednisone mg/day)
        relative to baseline (lupsim assumption: doubling 10 to 20 mg/day
        lowers the odds of activity by about 30%).
    dsdna_drop_log10, c3_rise, c4_rise_log
        Full-effect change of the serology means: anti-dsDNA -37% (log10 -0.2),
        C3 +8 mg/dL, C4 +15%. Belimumab lowers anti-dsDNA and raises C3/C4 over
        weeks (Navarra 2011; Stohl et al., Arthritis Rheum 2012); magnitudes are
        lupsim assumptions of that order.
    serology_persistence
        Share of a patient's baseline serology deviation that is their own
        mean (0.85, lupsim assumption); the rest is visit-to-visit noise.
    serology_ar
        Autocorrelation of serology deviations over 4 weeks (lupsim assumption).
    proteinuria_ar
        Autocorrelation of log proteinuria over 4 weeks (lupsim assumption).
    bilag_ar
        Autocorrelation of the transient part of the BILAG severity latent over
        4 weeks (lupsim assumption).
    bilag_persistence
        Share of a patient's baseline BILAG severity (beyond the activity
        factor) that is their own and persists (lupsim assumption: how severe an
        organ's disease is, when active, is largely a trait of the patient).
    flare_severity
        Added to the BILAG severity latent of an organ that becomes active
        after being quiet at baseline. Calibrated to the BLISS-52 shares
        without BILAG worsening (73/79/81%); the fit makes it negative: under
        trial follow-up new activity is caught early and is milder than the
        activity that brought the patient into the trial.
    pga_visit_sd
        Visit-to-visit rater noise of the PGA. Calibrated to the BLISS-52
        placebo share without PGA worsening (69%).

    The parameters below act only on patients given a lupus nephritis
    induction regimen (``[design.background] induction``), except the eGFR
    ones, which give every patient an eGFR at every visit (eGFR feeds back into
    nothing, so BLISS-52 results are unchanged). The fitted ones are calibrated
    so that the ``nephritis-addon`` scenario reproduces BLISS-LN at week 104
    (Furie R et al., N Engl J Med 2020;383:1117-28; :mod:`lupsim.trial.calibration`).

    induction_renal_logodds
        Reduction of the log-odds of renal activity by induction therapy
        (mycophenolate or Euro-Lupus cyclophosphamide, with their maintenance),
        split like every shift: renal activity resolves faster and relapses
        less. Calibrated, with the remission level and its spread, to the four BLISS-LN
        renal responses at week 104 (PERR 32% and 43%, CRR 20% and 30%,
        placebo and belimumab); the belimumab arm's gain comes from the
        anti-BAFF effect calibrated to BLISS-52, which acts on every organ.
    cyclophosphamide_vs_mycophenolate_logodds
        How much more (positive) or less the Euro-Lupus regimen lowers it than
        mycophenolate. 0: equal efficacy, as in ALMS (response at 24 weeks 56.2%
        vs 53.0%; Appel GB et al., J Am Soc Nephrol 2009;20:1103-12) and as
        Euro-Lupus low dose against high-dose cyclophosphamide (Houssiau FA et
        al., Arthritis Rheum 2002;46:2121-31).
    remission_proteinuria_g
        Median proteinuria (g/24 h) a kidney keeps once its nephritis has
        resolved (residual proteinuria of partial remission and scarring).
        Calibrated with ``induction_renal_logodds``: mainly the share of
        complete responses (uPCR < 0.5 g/g) among the responses with
        uPCR <= 0.7.
    remission_proteinuria_log_sd
        Between-patient SD of the log of that level. Calibrated with the two
        above: it sets how many remitting kidneys end between the CRR and the
        PERR thresholds (0.17: remission levels within about 30% of 0.45 g/24 h
        for most patients, visit-to-visit variation coming on top).
    proteinuria_remission_per_week
        Rate (1/week) at which log proteinuria falls from its active level
        towards the remission level once nephritis resolves: half the way in
        about 10 weeks (lupsim assumption; proteinuria of responding lupus
        nephritis falls over months, not at once).
    egfr_recoverable_fraction
        Share of the eGFR lost to active nephritis that comes back when it
        resolves; the rest is permanent (lupsim assumption).
    egfr_loss_per_week, egfr_recovery_per_week
        Rates (1/week) at which eGFR approaches its active-nephritis level
        (the recoverable part of the cohort model's 20 mL/min/1.73 m2 loss)
        and recovers from it (lupsim assumption: time constants of about 8 and
        12 weeks).
    egfr_chronic_loss_per_year
        Permanent eGFR loss (mL/min/1.73 m2) per year of active nephritis
        (lupsim assumption, of the order of the eGFR decline of persistently
        active lupus nephritis).
    egfr_visit_cv
        Visit-to-visit coefficient of variation of a measured eGFR (lupsim
        assumption: within-subject biological and analytical variation of
        serum creatinine of about 5-7%).
    """

    organ_rate_per_week: float = 0.05
    standard_care_logodds: float = 1.219
    item_rate_per_week: float = 0.05
    drug_logodds: float = 1.276
    drug_onset_logodds: float = 0.5
    seronegative_fraction: float = 0.15
    sero_active_turnover: float = 1.0
    steroid_logodds: float = 0.5
    dsdna_drop_log10: float = 0.2
    c3_rise: float = 8.0
    c4_rise_log: float = 0.14
    serology_persistence: float = 0.85
    serology_ar: float = 0.6
    proteinuria_ar: float = 0.6
    bilag_ar: float = 0.5
    bilag_persistence: float = 0.9
    flare_severity: float = -0.50
    pga_visit_sd: float = 0.051
    # Fitted to BLISS-LN (Furie 2020) by calibrate_nephritis on the
    # nephritis-addon scenario (40,000 patients per arm, the default seed;
    # responses with the glucocorticoid criterion and the week-4 taper: 1.027,
    # 0.449 g/24 h and 0.167).
    induction_renal_logodds: float = 1.03
    cyclophosphamide_vs_mycophenolate_logodds: float = 0.0
    remission_proteinuria_g: float = 0.45
    remission_proteinuria_log_sd: float = 0.17
    proteinuria_remission_per_week: float = 0.07
    egfr_recoverable_fraction: float = 0.7
    egfr_loss_per_week: float = 0.125
    egfr_recovery_per_week: float = 0.08
    egfr_chronic_loss_per_year: float = 3.0
    egfr_visit_cv: float = 0.06

    def replace(self, **changes: float) -> DiseaseParameters:
        """A copy with some parameters changed."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return DiseaseParameters(**values)


@dataclass
class Course:
    """What is measured at every visit, for every patient, visit-major.

    Arrays are ``(visits, n)``, or ``(visits, 24, n)`` descriptors and
    ``(visits, 9, n)`` BILAG domains: each visit fills contiguous rows, and
    ``.T`` / ``.transpose(2, 0, 1)`` shows them as ``(n, visits[, 24])``
    without a copy. Visit 0 is baseline.
    """

    present: B
    new: B
    selena: NDArray[np.int16]
    sledai_2k: NDArray[np.int16]
    sledai_original: NDArray[np.int16]
    bilag: NDArray[np.int8]
    pga: F
    prednisone_mg: F
    anti_dsdna_iu: F
    c3: F
    c4: F
    proteinuria_g: F
    flare_mild: B
    flare_severe: B
    flare_severe_modified: B
    rescue: B
    immunosuppressant: NDArray[np.int8]
    renal_active: B  # the renal organ's state (nephritis active), not a measurement
    egfr: F

    @staticmethod
    def empty(visits: int, n: int) -> Course:
        """Unfilled arrays for ``visits`` visits of ``n`` patients."""

        def a(dtype: Any, *features: int) -> NDArray[Any]:
            return np.empty((visits, *features, n), dtype=dtype)

        return Course(
            present=a(bool, N_DESCRIPTORS),
            new=a(bool, N_DESCRIPTORS),
            selena=a(np.int16),
            sledai_2k=a(np.int16),
            sledai_original=a(np.int16),
            bilag=a(np.int8, N_BILAG_DOMAINS),
            pga=a(np.float64),
            prednisone_mg=a(np.float64),
            anti_dsdna_iu=a(np.float64),
            c3=a(np.float64),
            c4=a(np.float64),
            proteinuria_g=a(np.float64),
            flare_mild=a(bool),
            flare_severe=a(bool),
            flare_severe_modified=a(bool),
            rescue=a(bool),
            immunosuppressant=a(np.int8),
            renal_active=a(bool),
            egfr=a(np.float64),
        )


@dataclass
class _State:
    """Baseline state of the patients and their fixed per-patient quantities.

    Per-organ, per-item and per-domain arrays are feature-major: ``(8, n)``,
    ``(18, n)``, ``(9, n)``.
    """

    organ_active: B  # (8, n)
    baseline_active: B  # (8, n) active at baseline
    log_prot: F
    prot_mean: F  # patient's log proteinuria when renal disease is active
    ds_mean: F
    ds_dev: F
    c3_mean: F
    c3_dev: F
    c4_mean: F
    c4_dev: F
    bilag_dev: F  # (9, n)
    bilag_mild: B  # (9, n)
    ever_domain: B  # (9, n)
    pga_rater: F
    prednisone: F
    weight: F
    selena_baseline: NDArray[np.int16]
    sledai_2k_baseline: NDArray[np.int16]
    sledai_original_baseline: NDArray[np.int16]
    onset0: NDArray[np.float32]  # (8, n) onset rate per week at baseline therapy
    resolution0: NDArray[np.float32]  # (8, n) resolution rate per week
    item_q: NDArray[np.float32]  # (18, n) probability of each item given its organ is active
    bilag_base: F  # (9, n) persistent part of the BILAG severity latent
    drug_weight: F  # 1 if serologically active, else the seronegative fraction
    log1p_pred0: F
    serology_dev_sd: float
    bilag_dev_sd: float
    induction: B  # on a background lupus nephritis induction regimen


_MAX_INTERVAL_DAYS = 400
_WEEKS_PER_YEAR = 365.25 / 7.0


@dataclass(frozen=True)
class _Remission:
    """How the proteinuria of patients on nephritis induction falls (per patient)."""

    gradual: B  # falls gradually towards its own remission level once quiet
    floor: F  # log proteinuria it falls towards (the quiet median for the others)
    cap: F  # largest log proteinuria while quiet (none for the gradual ones)
    rate: float  # 1/week


@lru_cache(maxsize=64)
def _factor_tables(
    proteinuria_ar: float,
    serology_ar: float,
    bilag_ar: float,
    item_rate_per_week: float,
    serology_dev_sd: float,
    bilag_dev_sd: float,
) -> tuple[NDArray[Any], ...]:
    """The decay factors of :class:`_Factors` for intervals of 0, 1, ... days (read-only)."""
    days = np.arange(0, _MAX_INTERVAL_DAYS + 1, dtype=np.float64)
    w = days / 7.0
    rho_p = proteinuria_ar ** (w / 4.0)
    rho_s = serology_ar ** (w / 4.0)
    rho_b = bilag_ar ** (w / 4.0)
    tables = (
        w.astype(np.float32),
        np.exp(-item_rate_per_week * w).astype(np.float32),
        rho_p,
        cm.PROTEINURIA_WITHIN_LOG_SD * np.sqrt(1.0 - rho_p**2),
        rho_s,
        serology_dev_sd * np.sqrt(1.0 - rho_s**2),
        rho_b.astype(np.float32),
        (bilag_dev_sd * np.sqrt(1.0 - rho_b**2)).astype(np.float32),
    )
    for table in tables:
        table.setflags(write=False)
    return tables


@dataclass
class _Factors:
    """Decay factors of every interval, visit-major ``(visits - 1, n)``."""

    weeks: NDArray[np.float32]  # interval length in weeks
    keep_item: NDArray[np.float32]  # an item keeps its state over the interval
    rho_p: F
    sd_p: F
    rho_s: F
    sd_s: F
    rho_b: NDArray[np.float32]
    sd_b: NDArray[np.float32]


@dataclass
class DiseaseModel:
    """Advances the disease of a set of randomised patients between visits.

    Parameters
    ----------
    patients
        Baseline state of the randomised patients (from the cohort generator).
    cohort_parameters
        Parameters of the cohort model that generated them (their long-run
        organ activity follows from it).
    params, steroids, rescue, discontinuation
        Disease parameters and the protocol rules.
    """

    patients: PatientArrays
    cohort_parameters: Parameters
    params: DiseaseParameters = field(default_factory=DiseaseParameters)
    steroids: SteroidProtocol = field(default_factory=SteroidProtocol)
    rescue: Rescue = field(default_factory=Rescue)
    discontinuation: Discontinuation = field(default_factory=Discontinuation)

    def __post_init__(self) -> None:
        self.state = self._initial_state()

    # -- set-up ---------------------------------------------------------------
    def _initial_state(self) -> _State:
        p = self.patients
        cp = self.cohort_parameters
        n = p.n
        organ_base = np.empty((n, _N_ORGANS))
        organ_base[:, :_RENAL] = cm.organ_logits(cp, p.z_act) + p.organ_effect[:, :_RENAL]
        organ_base[:, _RENAL] = (
            cm.renal_logit(cp, p.z_act, p.z_sero, p.race, p.female, p.age)
            + p.organ_effect[:, _RENAL]
        )
        active = np.zeros((n, _N_ORGANS), dtype=bool)
        gen = p.present[:, _GENERIC_IDX].astype(np.float32) @ _MEMBER_F32
        active[:, :_RENAL] = gen > 0
        renal_items = p.present[:, cm._RENAL_IDX].any(axis=1)
        active[:, _RENAL] = renal_items
        item_base = (_ITEM_LOGIT + cp["multiplicity"] * _ITEM_MULT)[
            None, :
        ] + cm.ITEM_ACT_LOADING * p.z_act[:, None]
        log_prot = np.log(np.maximum(p.proteinuria_g, 0.01))
        prot_mean = np.where(
            active[:, _RENAL], log_prot, cp["proteinuria_log_median"] + 0.0 * log_prot
        )
        w = self.params.serology_persistence
        ds_mu = cp["dsdna_mu"]
        ds = np.log10(np.maximum(p.anti_dsdna_iu, 1.0))
        ds_mean = ds_mu + w * (ds - ds_mu)
        c3_mean = cp["c3_mu"] + w * (p.c3 - cp["c3_mu"])
        c4l = np.log(np.maximum(p.c4, 1.0))
        c4_mean = cp["c4_log_mu"] + w * (c4l - cp["c4_log_mu"])
        sero = (p.anti_dsdna_iu >= cm.DSDNA_POSITIVE_IU) & ((p.c3 < cm.C3_LOW) | (p.c4 < cm.C4_LOW))
        # Two-state chain of each organ: stationary activity pi0, renewal rate r.
        pi0 = _expit32(organ_base)
        # Serologically active disease is unstable: its organs switch on and off
        # more often (rising anti-dsDNA and falling complement herald flares).
        rate = (
            self.params.organ_rate_per_week
            * _ORGAN_RATE[None, :]
            * np.where(sero, self.params.sero_active_turnover, 1.0)[:, None]
        )
        ever_domain = p.bilag <= 3  # anything but E has been involved
        two_k, selena, original = _sledai(p.present.T, p.new.T)

        def fm(a: NDArray[Any]) -> NDArray[Any]:
            return np.ascontiguousarray(a.T)

        state = _State(
            organ_active=fm(active),
            baseline_active=fm(active),
            log_prot=log_prot,
            prot_mean=prot_mean,
            ds_mean=ds_mean,
            ds_dev=ds - ds_mean,
            c3_mean=c3_mean,
            c3_dev=p.c3 - c3_mean,
            c4_mean=c4_mean,
            c4_dev=c4l - c4_mean,
            bilag_dev=fm(
                (1.0 - self.params.bilag_persistence)
                * (p.bilag_latent - cm.BILAG_ACT_LOADING * p.z_act[:, None])
            ),
            bilag_mild=fm((p.bilag == 2) & ~_bilag_active(p.present)),
            ever_domain=fm(ever_domain),
            pga_rater=p.pga_rater,
            prednisone=p.prednisone_mg.astype(np.float64),
            weight=p.weight_kg,
            selena_baseline=selena,
            sledai_2k_baseline=two_k,
            sledai_original_baseline=original,
            onset0=fm((rate * pi0).astype(np.float32)),
            resolution0=fm((rate * (1.0 - pi0)).astype(np.float32)),
            item_q=fm(_expit32(item_base)),
            bilag_base=fm(
                cm.BILAG_ACT_LOADING * p.z_act[:, None]
                + self.params.bilag_persistence
                * (p.bilag_latent - cm.BILAG_ACT_LOADING * p.z_act[:, None])
            ),
            bilag_dev_sd=float(np.sqrt(1.0 - self.params.bilag_persistence**2)),
            drug_weight=np.where(sero, 1.0, self.params.seronegative_fraction),
            log1p_pred0=np.log1p(p.prednisone_mg),
            serology_dev_sd=float(np.sqrt(1.0 - w**2)),
            induction=p.induction > 0,
        )
        if state.induction.any():
            self._induction_shift(state)
        return state

    def _induction_shift(self, state: _State) -> None:
        """Lower the long-run odds of renal activity of patients on induction.

        The shift splits evenly between onset and resolution, as every shift of
        the organ chains does: induction therapy makes active nephritis resolve
        faster, and its maintenance phase makes it relapse less.
        """
        par = self.params
        on = np.flatnonzero(state.induction)
        regimen = self.patients.induction[on]
        shift = par.induction_renal_logodds + (
            par.cyclophosphamide_vs_mycophenolate_logodds
            * (regimen == 1 + INDUCTION_REGIMENS.index("euro_lupus_cyclophosphamide"))
        )
        half = (0.5 * shift).astype(np.float32)
        state.onset0[_RENAL, on] *= np.exp(-half)
        state.resolution0[_RENAL, on] *= np.exp(half)

    def _factors(self, intervals: F) -> _Factors:
        """Look up the decay factors of every interval of the trial at once.

        ``intervals`` is (patients, visits - 1), in whole days. Visits fall on
        whole study days, so each factor is computed once per length of
        interval (and kept for the next trial with the same parameters) and
        gathered, not computed per patient and visit.
        """
        par = self.params
        tables = _factor_tables(
            par.proteinuria_ar,
            par.serology_ar,
            par.bilag_ar,
            par.item_rate_per_week,
            self.state.serology_dev_sd,
            self.state.bilag_dev_sd,
        )
        # Visit-major layout, so that each visit reads contiguous rows.
        d = np.ascontiguousarray(np.clip(intervals.astype(np.intp), 0, _MAX_INTERVAL_DAYS).T)
        return _Factors(*(table.take(d) for table in tables))

    def _baseline(self, c: Course) -> None:
        """Fill visit 0 of ``c`` with the baseline state."""
        p = self.patients
        s = self.state
        c.present[0] = p.present.T
        c.new[0] = p.new.T
        c.selena[0] = s.selena_baseline
        c.sledai_2k[0] = s.sledai_2k_baseline
        c.sledai_original[0] = s.sledai_original_baseline
        c.bilag[0] = p.bilag.T
        c.pga[0] = p.pga
        c.prednisone_mg[0] = s.prednisone
        c.anti_dsdna_iu[0] = p.anti_dsdna_iu
        c.c3[0] = p.c3
        c.c4[0] = p.c4
        c.proteinuria_g[0] = p.proteinuria_g
        for flag in (c.flare_mild, c.flare_severe, c.flare_severe_modified, c.rescue):
            flag[0] = False
        c.immunosuppressant[0] = p.immunosuppressant
        c.renal_active[0] = s.organ_active[_RENAL]
        c.egfr[0] = p.egfr

    # -- the course -------------------------------------------------------------
    def run(
        self,
        intervals: F,
        effects: F,
        weeks: Sequence[float],
        rng: np.random.Generator,
        steroid_rng: np.random.Generator,
        egfr_rng: np.random.Generator,
        nephritis_rng: np.random.Generator | None = None,
    ) -> Course:
        """Advance every patient visit by visit and score every visit.

        Parameters
        ----------
        intervals
            Days between consecutive visits, ``(n, visits - 1)``, whole days.
        effects
            Anti-BAFF effect fraction of each patient at each visit, ``(n, visits)``.
        weeks
            Nominal week of each visit (the steroid protocol's windows).
        rng, steroid_rng
            The ``disease`` and ``steroids`` streams.
        egfr_rng
            The ``egfr`` stream (visit-to-visit eGFR variation).
        nephritis_rng
            The ``nephritis`` stream (each kidney's remission proteinuria),
            needed when some patients are on a nephritis induction regimen.

        Returns
        -------
        Course
            Every visit, baseline included.

        Notes
        -----
        The random draws have fixed shapes whatever the state, so that the same
        seed gives the same numbers to each purpose (common random numbers).
        They are drawn for every interval at once, before the first (all the
        uniforms, then all the normals). What does not depend on the disease
        state (serology, the BILAG severity noise, the drug's shift of the organ
        log-odds, the steroid decisions' uniforms) is computed for every visit
        at once; only the organ chains and what follows from them go visit by
        visit.

        Arrays are feature-major, ``(organs, n)``, ``(items, n)``: numpy then
        runs every operation along the patients, whatever broadcasts against it
        (per-patient factors, per-organ constants), which is several times
        faster for a few hundred patients than rows of 8 or 18.
        """
        s = self.state
        par = self.params
        cp = self.cohort_parameters
        st = self.steroids
        n = s.prednisone.size
        n_int = intervals.shape[1]
        t = self._factors(intervals)
        c = Course.empty(n_int + 1, n)
        self._baseline(c)

        # The uniforms of every interval, then the normals: (interval, column,
        # patient). The normals are visit-to-visit variation (serology,
        # proteinuria, the PGA's rating) and a new nephritis's level: drawn from
        # a table of 16-bit quantiles (cut at 4.3 SD), a quarter of the cost of
        # exact ones, where nothing turns on a 1-in-100,000 value.
        u = raw16(rng, n_int * _N_UNIFORMS * n).reshape(n_int, _N_UNIFORMS, n)
        z = coarse_normals(rng, (n_int, _N_NORMALS, n))
        # Standard care's decisions (taper, raise for a mild flare, start an
        # immunosuppressant at a rescue): 16-bit uniforms, visit-major.
        su = raw16(steroid_rng, 3 * n_int * n).reshape(3, n_int, n) * _U16

        # Serology: AR(1) deviations around each patient's mean; the drug moves the means.
        effect = np.ascontiguousarray(effects[:, 1:].T)
        sd = np.array([cm.DSDNA_LOG10_SD, cm.C3_SD, cm.C4_LOG_SD])
        dev = (sd[None, :, None] * t.sd_s[:, None, :]) * z[:, _Z_DSDNA : _Z_C4 + 1]
        prev: F = np.stack([s.ds_dev, s.c3_dev, s.c4_dev])
        for k in range(n_int):
            prev = np.add(t.rho_s[k] * prev, dev[k], out=dev[k])
        dsdna = np.clip(
            np.exp(_LN10 * (s.ds_mean - par.dsdna_drop_log10 * effect + dev[:, 0])), 1, 5000
        )
        c3 = np.maximum(s.c3_mean + par.c3_rise * effect + dev[:, 1], 15.0)
        c4 = np.clip(np.exp(s.c4_mean + par.c4_rise_log * effect + dev[:, 2]), 1.0, 80.0)
        c.present[1:, _IMMUNO_IDX[0]] = (c3 < cm.C3_LOW) | (c4 < cm.C4_LOW)
        c.present[1:, _IMMUNO_IDX[1]] = dsdna >= cm.DSDNA_POSITIVE_IU
        np.round(dsdna, 1, out=c.anti_dsdna_iu[1:])
        np.round(c3, 1, out=c.c3[1:])
        np.round(c4, 1, out=c.c4[1:])

        # BILAG severity latent: persistent part plus an AR(1) transient part.
        # Uniform innovations with unit variance: the AR(1) latent is close to
        # normal, and uniforms cost a fifth of normals to draw.
        # Float32 throughout (the innovations, decay factors and flare shifts
        # are float32 already): the latent only meets the grade thresholds,
        # and float32's 7 digits move a grade across one only in a tie about
        # 1e-7 wide; half the memory traffic of float64 in the visit loop.
        latent = t.sd_b[:, None, :] * ((u[:, _U_BILAG] * _U16 - 0.5) * _SQRT12)
        carried = np.empty((N_BILAG_DOMAINS, n), dtype=np.float32)
        prev = s.bilag_dev.astype(np.float32)
        for k in range(n_int):
            np.multiply(t.rho_b[k], prev, out=carried)
            prev = np.add(carried, latent[k], out=latent[k])
        latent += s.bilag_base.astype(np.float32)
        # Mild (C-only) BILAG activity: the draw against either probability
        # (starting implies staying: _MILD_START < _MILD_STAY).
        u_mild = u[:, _U_MILD]
        mild_stays = u_mild < _MILD_STAY_K
        mild_starts = u_mild < _MILD_START_K

        # The drug's shift of the organ log-odds and onset rates.
        drug = effect * s.drug_weight
        # Half the shift of the organ log-odds at each visit but for the
        # steroid term (which follows the dose): the shift splits evenly
        # between onset and resolution. The drug also lowers the onset rate
        # alone (flare prevention), by the factor onset_drug.
        half_base = 0.5 * (
            (par.steroid_logodds * s.log1p_pred0 - par.standard_care_logodds)
            - par.drug_logodds * drug
        )
        half_steroid = 0.5 * par.steroid_logodds
        onset_drug = np.exp(-(par.drug_onset_logodds * drug)).astype(np.float32)
        # Proteinuria: level of a new nephritis, visit-to-visit noise.
        flare_level = cp["proteinuria_log_median"] + (
            cm.PROTEINURIA_LOG_SD * z[:, _Z_FLARE_PROTEINURIA]
        )
        prot_noise = t.sd_p * z[:, _Z_PROTEINURIA]
        # The PGA's intercept, rater and visit noise, for every visit at once.
        pga_base = (cp["pga_intercept"] + s.pga_rater) + par.pga_visit_sd * z[:, _Z_PGA].astype(
            np.float64
        )
        thresholds = _grade_thresholds(cp)
        # Standard care's decisions, against their uniforms.
        w = np.asarray(weeks, dtype=np.float64)[1:]
        lo, hi = st.failure_window_weeks
        p_raise = np.where((lo <= w) & (w <= hi), 0.0, st.flare_increase_probability)
        tapers = su[0] < st.taper_probability
        raises = su[1] < p_raise[:, None]
        starts_is = su[2] < self.rescue.new_immunosuppressant_probability
        forced = np.zeros(n_int, dtype=bool)
        if st.forced_taper_weeks is not None:
            forced = (st.forced_taper_weeks[0] <= w) & (w <= st.forced_taper_weeks[1])
        burst = 2.5 * np.ceil(st.severe_flare_mg_per_kg * s.weight / 2.5)
        heavy = 0.5 * s.weight + 1e-9
        responder_bar = s.selena_baseline - 4

        # flare_severity times the number of flaring organs of each domain
        # (0, 1 or 2 of them: sums of equal terms, exact in any order).
        flare_shift = (par.flare_severity * _ORGAN_TO_BILAG_T).astype(np.float32)
        q = s.item_q
        quiet_renal0 = ~s.baseline_active[_RENAL]
        active_prev = s.organ_active
        items_prev = c.present[0, _GENERIC_IDX]
        sediment_prev = c.present[0, _SEDIMENT_IDX]
        log_prot = s.log_prot
        prev_prot = np.exp(log_prot)  # the previous visit's, at least 0.01 g/24 h
        prot_mean = s.prot_mean.copy()
        pred = s.prednisone
        floor = pred  # the dose a flare increase decays back to
        immunosuppressant = self.patients.immunosuppressant.copy()
        # Patients on nephritis induction: proteinuria falls gradually towards
        # each kidney's remission level (None: every patient follows the
        # two-level proteinuria of the calibrated SLE model).
        rem = None
        proteinuric_worsening: B | bool = True
        if s.induction.any():
            if nephritis_rng is None:
                raise ValueError("patients on induction need the nephritis stream")
            rem = self._remission(nephritis_rng)
            quiet_centre = np.where(active_prev[_RENAL], prot_mean, rem.floor)
            prev_centre = quiet_centre
            # Under treatment for nephritis, a renal flare is a relapse of the
            # renal organ: proteinuria moving about within still-active
            # nephritis (visit-to-visit SD about 40%) is not one.
            proteinuric_worsening = ~s.induction
        counts_present = np.empty((n_int, _PRESENT_ROWS.shape[0], n), dtype=np.float32)
        counts_new = np.empty((n_int, _NEW_ROWS.shape[0], n), dtype=np.float32)
        # Which BILAG domains are above the A and B thresholds at each visit.
        above_all = np.empty((n_int, 2, N_BILAG_DOMAINS, n), dtype=bool)
        # Per-interval factors the loop would otherwise form at every visit
        # (negation is exact: -(a b) = a (-b)).
        neg_weeks = -t.weeks
        change_item = 1.0 - t.keep_item
        # The item chains' probabilities times 65536 (see _CELLS).
        q_cells = q * _CELLS
        keep_cells = t.keep_item * _CELLS
        if rem is None:
            prev_centre = np.where(active_prev[_RENAL], prot_mean, _QUIET_LOG_PROT)
        for k in range(n_int):
            v = k + 1
            # This visit's uniforms as float32 (times 65536, exactly): one
            # contiguous conversion, then comparisons of like with like.
            uk = u[k].astype(np.float32)
            # Organs: two-state chains towards each patient's current long-run
            # activity. The log-odds shift splits evenly between onset and
            # resolution; the drug also lowers the onset rate alone (it
            # prevents flares).
            half = half_base[k] - half_steroid * np.log1p(pred)
            odds = np.exp(half.astype(np.float32))
            onset = s.onset0 * (odds * onset_drug[k])
            resolution = s.resolution0 / odds
            total = onset + resolution
            pi = np.divide(onset, total, out=onset)
            keep = np.exp(np.multiply(total, neg_weeks[k], out=total), out=total)
            # pi + (1 - pi) keep if active now, pi (1 - keep) if not:
            # pi + keep (active - pi).
            p_active = np.subtract(active_prev, pi, out=resolution)
            p_active *= keep
            p_active += pi
            p_active *= _CELLS
            active = uk[_U_ORGAN] < p_active
            newly = np.greater(active, active_prev)

            # Items inside the seven two-step organs: the same kind of chain,
            # with probability q when active; a fresh organ draws them anew
            # (its items were all absent, the organ being quiet).
            keep_i = keep_cells[k]
            p_item = q_cells * change_item[k]
            p_item += keep_i * items_prev
            # Few organs become active at a visit: set their items' chances by
            # index (a masked copy over every item costs several times more).
            fresh = np.flatnonzero(newly.take(_GENERIC_ORGAN, axis=0))
            p_item.flat[fresh] = q_cells.flat[fresh]
            u_item = uk[_U_ITEM]
            items = (u_item < p_item) & active.take(_GENERIC_ORGAN, axis=0)
            # An active organ shows at least its item closest to presence.
            shown = _MEMBER_T @ items.astype(np.float32)
            empty = np.flatnonzero(active[:_RENAL] & (shown == 0))
            if empty.size:
                organs, rows = np.divmod(empty, n)
                margin = p_item.take(rows, axis=1)
                margin -= u_item.take(rows, axis=1)
                margin += _NOT_MEMBER_F32.take(organs, axis=1)
                items[np.argmax(margin, axis=0), rows] = True

            # Renal: proteinuria follows activity; the sediment lives inside it.
            renal = active[_RENAL]
            newly_renal = newly[_RENAL]
            np.copyto(prot_mean, flare_level[k], where=newly_renal & quiet_renal0)
            if rem is None:
                # The previous visit's centre is the previous centre: prot_mean
                # changed only for organs that were quiet then.
                centre = np.where(renal, prot_mean, _QUIET_LOG_PROT)
                log_prot_raw = centre + t.rho_p[k] * (log_prot - prev_centre) + prot_noise[k]
                prev_centre = centre
                prot = np.exp(
                    np.where(renal, log_prot_raw, np.minimum(log_prot_raw, _QUIET_MAX_LOG_PROT))
                ).round(2)
            else:
                # Quiet: the centre falls from where it was towards the remission
                # level (at once for patients without a remission level).
                fall = np.where(rem.gradual, np.exp(-rem.rate * t.weeks[k]), 0.0)
                quiet_centre = np.where(
                    renal, prot_mean, rem.floor + (quiet_centre - rem.floor) * fall
                )
                log_prot_raw = quiet_centre + t.rho_p[k] * (log_prot - prev_centre) + prot_noise[k]
                prev_centre = quiet_centre
                prot = np.exp(np.where(renal, log_prot_raw, np.minimum(log_prot_raw, rem.cap)))
                prot = prot.round(2)
            # A fresh renal organ draws its sediment anew, with probability q
            # (its sediment was absent): q (1 - keep) + keep q.
            p_sed = _SEDIMENT_Q_CELLS * change_item[k]
            p_sed += keep_i * (sediment_prev + _SEDIMENT_Q * newly_renal)
            sediment = (uk[_U_SEDIMENT] < p_sed) & renal
            sediment[0] |= renal & (prot <= 0.5) & ~(sediment[0] | sediment[1] | sediment[2])

            # The visit's descriptors (the serological ones are already in).
            present = c.present[v]
            for dst, src in _GENERIC_RUNS:  # three slice copies, not a gather
                present[dst] = items[src]
            present[_SEDIMENT_IDX] = sediment
            present[_PROTEINURIA] = prot > 0.5
            new = np.greater(present, c.present[k], out=c.new[v])
            new[_PROTEINURIA] |= present[_PROTEINURIA] & (prot - prev_prot > 0.5)
            counts_p = np.matmul(_PRESENT_ROWS, present.astype(np.float32), out=counts_present[k])
            counts_n = np.matmul(_NEW_ROWS, new.astype(np.float32), out=counts_new[k])

            # BILAG: more severe for organs flaring from quiet.
            flaring = np.greater(active, s.baseline_active).astype(np.float32)
            lat = latent[k] + flare_shift @ flaring
            # Only A and B matter to PGA and flares: the inactive domains (C
            # for now) are graded C, D or E after the last visit.
            above, pga = _grade_and_rate(
                present,
                new,
                lat,
                prot,
                counts_p[_P_BILAG],
                thresholds,
                pga_base[k],
                counts_p[_P_CLINICAL],
                np.logical_or.reduce(newly, axis=0),
                out=above_all[k],
            )

            # SLEDAI: the original and SELENA versions count some items only
            # when new (persistent = present - new: new items are present).
            c.selena[v] = counts_p[_P_2K] - (counts_p[_P_SELENA] - counts_n[_N_SELENA])
            selena = c.selena[v]

            # SELENA flare index, against the previous visit.
            mild_f, severe_f, severe_mod = _sfi(
                selena,
                c.selena[k],
                pga,
                c.pga[k],
                above[0],
                newly,
                prot,
                prev_prot,
                new_cns_item=counts_n[_N_CNS] > 0,
                new_mild_item=counts_n[_N_SFI_MILD] > 0,
                new_myositis=new[_MYOSITIS],
                proteinuric_worsening=proteinuric_worsening,
            )

            # Standard care reacts: rescue, flare increases, tapers.
            c.rescue[v] = severe_mod
            prev_pred = pred
            # A flare increase or rescue burst decays back halfway each visit, on
            # the 2.5 mg grid, rounding towards the pre-flare dose.
            excess = np.maximum(pred - floor, 0.0)
            pred = floor + 2.5 * np.floor(0.5 * excess / 2.5)
            responding = (selena <= responder_bar) & ~(mild_f | severe_mod)
            taper = responding & (pred > st.taper_floor_mg) & tapers[k]
            lowest: F | float = st.taper_floor_mg
            if forced[k]:
                # The protocol's taper goes down to its target, not to the
                # floor; a responder tapering by choice may go lower.
                forced_only = (pred > st.forced_taper_target_mg) & ~taper
                taper = taper | forced_only
                lowest = np.where(
                    forced_only,
                    max(st.forced_taper_target_mg, st.taper_floor_mg),
                    st.taper_floor_mg,
                )
            pred = np.where(taper, np.maximum(pred - st.taper_step_mg, lowest), pred)
            floor = np.where(taper, pred, floor)
            # Investigators avoid raising steroids for mild flares inside the
            # failure window, where it would make the patient a non-responder.
            raise_dose = mild_f & ~severe_mod & raises[k]
            pred = np.where(raise_dose, pred + st.flare_increase_mg, pred)
            pred = np.where(severe_mod, np.maximum(pred, burst), pred)
            np.copyto(
                immunosuppressant, 3, where=severe_mod & (immunosuppressant == 0) & starts_is[k]
            )
            c.immunosuppressant[v] = immunosuppressant
            # The SFI also counts an increase of prednisone to > 0.5 mg/kg/day as
            # severe (only an increase: some patients enter above that dose).
            severe_mod = severe_mod | ((pred > heavy) & (pred > prev_pred + 1e-9))
            c.flare_mild[v] = mild_f  # made exclusive of severe flares below
            c.flare_severe[v] = severe_f
            c.flare_severe_modified[v] = severe_mod
            c.pga[v] = pga
            c.prednisone_mg[v] = pred
            c.proteinuria_g[v] = prot
            c.renal_active[v] = renal

            active_prev = active
            items_prev = items
            sediment_prev = sediment
            prev_prot = np.maximum(prot, 0.01)
            log_prot = np.log(prev_prot)

        # What the visit-by-visit decisions do not need, for every visit at once.
        two_k = counts_present[:, _P_2K]
        c.sledai_2k[1:] = two_k
        c.sledai_original[1:] = two_k - (
            counts_present[:, _P_ORIGINAL] - counts_new[:, _N_ORIGINAL]
        )
        c.flare_severe[1:] |= c.flare_severe_modified[1:]
        # Grades of the active domains: 2 (C), minus one above B, one more above A.
        np.subtract(2, above_all[:, 1].view(np.int8), out=c.bilag[1:])
        c.bilag[1:] -= above_all[:, 0].view(np.int8)
        self._inactive_bilag(c, counts_present[:, _P_BILAG] > 0, mild_starts, mild_stays)
        c.flare_mild[1:] &= ~c.flare_severe[1:]  # a flare is one or the other
        self._egfr(c, t.weeks, egfr_rng)
        return c

    def _inactive_bilag(self, c: Course, active: B, mild_starts: B, mild_stays: B) -> None:
        """Grade the inactive BILAG domains of every follow-up visit: C, D or E.

        ``active`` (visits - 1, 9, n) marks the domains with active items.
        Mild (C-only) activity persists or starts against its uniforms, from
        baseline's; a domain involved at baseline's history or any visit so far
        is D rather than E.
        """
        s = self.state
        mild = np.empty_like(mild_starts)
        prev = s.bilag_mild
        for k in range(mild.shape[0]):
            prev = np.logical_and(prev, mild_stays[k], out=mild[k])
            prev |= mild_starts[k]
        ever = cumulative_or(active)
        ever |= s.ever_domain
        inactive = cm.bilag_inactive_grades(mild, ever)
        # From C to their grade by arithmetic (np.copyto with an irregular mask
        # costs about forty times more here).
        inactive -= 2
        inactive *= (~active).view(np.int8)
        c.bilag[1:] += inactive

    def _remission(self, rng: np.random.Generator) -> _Remission:
        """Remission proteinuria of the patients on induction with active nephritis.

        One normal per patient from the ``nephritis`` stream, whoever needs it
        (fixed shapes: common random numbers across scenarios).
        """
        par = self.params
        s = self.state
        z = rng.standard_normal(s.prednisone.size)
        gradual = s.induction & s.baseline_active[_RENAL]
        level = np.log(par.remission_proteinuria_g) + par.remission_proteinuria_log_sd * z
        return _Remission(
            gradual=gradual,
            floor=np.where(gradual, level, _QUIET_LOG_PROT),
            cap=np.where(gradual, np.inf, _QUIET_MAX_LOG_PROT),
            rate=par.proteinuria_remission_per_week,
        )

    def _egfr(self, c: Course, weeks: NDArray[np.float32], rng: np.random.Generator) -> None:
        """Fill ``c.egfr`` after baseline: kidney function follows nephritis activity.

        The baseline eGFR is the cohort's measurement, the patient's true value
        times (1 + CV z). Active nephritis at entry (proteinuria >= 1 g/24 h)
        cost the cohort model's 20 mL/min/1.73 m2, of which
        ``egfr_recoverable_fraction`` is reversible. Over each interval the
        reversible loss moves towards its active-nephritis level while the
        renal organ is active (rate ``egfr_loss_per_week``) and back towards
        zero while it is quiet (``egfr_recovery_per_week``); each week of
        activity adds a permanent loss, and ageing costs 0.7 a year. Every
        visit's measurement has its own relative error. Draws: one normal per
        patient and visit from the ``egfr`` stream, whatever the course.
        """
        par = self.params
        p = self.patients
        f32 = np.float32
        n_visits, n = c.egfr.shape
        noise = coarse_normals(rng, (n_visits, n))
        noise *= f32(par.egfr_visit_cv)
        noise += f32(1.0)
        rho = par.egfr_recoverable_fraction
        nephritic = c.renal_active[0] & (p.proteinuria_g >= cm.EGFR_NEPHRITIS_PROTEINURIA_G)
        loss0 = (rho * cm.EGFR_NEPHRITIS_LOSS) * nephritic
        # Kidney function once the reversible loss has recovered (the permanent
        # part of the loss at entry stays lost). Float32 throughout: eGFR is
        # kept to 0.1 mL/min/1.73 m2, float32 carries 7 digits.
        recovered = (p.egfr / noise[0] + loss0).astype(f32)
        active = c.renal_active[1:]
        keep = np.where(active, f32(par.egfr_loss_per_week), f32(par.egfr_recovery_per_week))
        keep *= weeks
        np.negative(keep, out=keep)
        np.exp(keep, out=keep)
        # Over an interval the reversible loss r moves towards its level
        # (exactly, for a state constant over it): r <- r keep + level (1 - keep).
        step = active * f32(rho * cm.EGFR_NEPHRITIS_LOSS)
        step *= f32(1.0) - keep
        # Permanent loss per interval: ageing, and more while nephritis is active.
        lost = np.where(
            active,
            f32((cm.EGFR_PER_YEAR_OF_AGE + par.egfr_chronic_loss_per_year) / _WEEKS_PER_YEAR),
            f32(cm.EGFR_PER_YEAR_OF_AGE / _WEEKS_PER_YEAR),
        )
        lost *= weeks
        reversible = np.empty(active.shape, dtype=f32)
        r = loss0.astype(f32)
        for k in range(active.shape[0]):
            r = np.multiply(r, keep[k], out=reversible[k])
            r += step[k]
            if k:
                lost[k] += lost[k - 1]
        value = recovered - reversible
        value -= lost
        value *= noise[1:]
        # Clipped by two ufuncs (np.clip's checks cost more).
        np.maximum(value, f32(cm.EGFR_MIN), out=value)
        np.minimum(value, f32(cm.EGFR_MAX), out=value)
        np.round(value, 1, out=c.egfr[1:])

    def dropout(
        self, course: Course, intervals: F, u: NDArray[np.float32]
    ) -> tuple[B, NDArray[np.int8]]:
        """Who leaves the study after each follow-up visit, and why.

        Parameters
        ----------
        course
            The visits (from :meth:`run`).
        intervals
            Days between consecutive visits, ``(n, visits - 1)``.
        u
            Uniforms of the ``dropout`` stream, ``(3, visits - 1, n)``: the
            chance of leaving, the reason, leaving after a severe flare.

        Returns
        -------
        tuple of numpy.ndarray
            Whether each patient leaves after visits 1, 2, ... and why (index
            in :data:`DROPOUT_REASONS`), each ``(visits - 1, n)``.
        """
        d = self.discontinuation
        # Visit-major in memory like the course, so the arithmetic below runs
        # over contiguous rows.
        scale = np.divide(intervals.T, 28.0, order="C")
        # Lack of efficacy as patients and physicians see it: no clinically
        # meaningful (>= 4-point) improvement from baseline.
        no_gain = course.selena[1:] > self.state.selena_baseline - 4
        # Competing hazards: withdrawal, adverse event, lack of efficacy.
        h_w = d.withdrawal_per_4w * scale
        h_ae = d.adverse_event_per_4w * scale
        h_loe = d.lack_of_efficacy_per_4w * scale * no_gain
        total = h_w + h_ae + h_loe
        leave = u[0] < -np.expm1(-total)
        v = u[1] * total
        reason = ((v >= h_w).astype(np.int8) + (v >= h_w + h_ae)).astype(np.int8)
        flare_exit = course.flare_severe_modified[1:] & (u[2] < d.after_severe_flare)
        reason = np.where(flare_exit & ~leave, 3, reason).astype(np.int8)
        return leave | flare_exit, reason


def cumulative_or(a: B, out: B | None = None) -> B:
    """``np.logical_or.accumulate(a, axis=0)``, one row at a time.

    numpy accumulates along the first axis element by element; an OR of whole
    rows is about 25 times faster for (visits, n) or (visits, 9, n) arrays.

    Examples
    --------
    >>> cumulative_or(np.array([[False, True], [True, False], [False, False]])).tolist()
    [[False, True], [True, True], [True, True]]
    """
    if out is None:
        out = np.empty_like(a)
    if a.shape[0]:
        out[0] = a[0]
        prev = out[0]
        for k in range(1, a.shape[0]):
            prev = np.logical_or(prev, a[k], out=out[k])
    return out


def _bilag_active(present: B) -> B:
    counts = present.astype(np.float32) @ cm._BILAG_SOURCE_MATRIX
    return counts > 0


# Which BILAG domains an organ's flare makes more severe (organ order of the
# cohort model: cns, vascular, musculoskeletal, mucocutaneous,
# cardiorespiratory, constitutional, haematological, renal).
_ORGAN_TO_BILAG = np.zeros((_N_ORGANS, N_BILAG_DOMAINS))
for _organ, _domains in {
    0: (2, 6),  # cns -> neuropsychiatric, ophthalmic
    1: (1,),  # vasculitis -> mucocutaneous
    2: (3,),
    3: (1,),
    4: (4,),
    5: (0,),
    6: (8,),
    7: (7,),
}.items():
    for _k in _domains:
        _ORGAN_TO_BILAG[_organ, _k] = 1.0
_ORGAN_TO_BILAG_T = np.ascontiguousarray(_ORGAN_TO_BILAG.T)


def _sfi(
    selena: NDArray[np.int16],
    selena_prev: NDArray[np.int16],
    pga: F,
    pga_prev: F,
    bilag_a: B,
    organ_newly: B,
    proteinuria: F,
    proteinuria_prev: F,
    *,
    new_cns_item: B,
    new_mild_item: B,
    new_myositis: B,
    proteinuric_worsening: B | bool = True,
) -> tuple[B, B, B]:
    """SELENA flare index from clinical change since the previous visit.

    ``bilag_a`` (9, n, the BILAG A grades) and ``organ_newly`` (8, n) are feature-major;
    ``new_cns_item`` and ``new_mild_item`` mark patients with a new CNS item
    and a new item of the SFI mild list. ``proteinuric_worsening`` marks the
    patients for whom a rise of proteinuria within active nephritis is worse
    nephritis (for the others only a renal relapse is). Returns (mild/moderate, severe,
    severe as in the modified SFI of the belimumab programme, which ignores
    severe flares triggered only by the SELENA-SLEDAI rising above 12).
    Treatment-defined items (prednisone increases) are added by the caller
    after standard care reacts.
    """
    delta3 = (selena - selena_prev) >= 3
    high = selena > 12
    # "New or worse" organ disease: the organ was quiet at the previous visit
    # (not an item flickering inside an active organ), or nephritis worsened
    # (proteinuria up by >= 1 g/24 h to >= 2 g/24 h).
    new_cns = organ_newly[0] & new_cns_item
    new_vasculitis = organ_newly[1]
    rise = (proteinuria - proteinuria_prev >= 1.0) & (proteinuria >= 2.0)
    if proteinuric_worsening is not True:
        rise &= proteinuric_worsening
    new_nephritis = bilag_a[_BILAG_RENAL] & (organ_newly[7] | rise)
    new_haem_a = bilag_a[_BILAG_HAEM] & organ_newly[6]
    clinical_severe = (
        new_cns
        | new_vasculitis
        | new_myositis
        | new_nephritis
        | new_haem_a
        | ((pga > 2.5) & (pga_prev <= 2.5))
    )
    score_severe = high & (selena_prev <= 12) & delta3
    severe = clinical_severe | score_severe
    mild = ~severe & (
        (delta3 & ~high) | new_mild_item | ((pga - pga_prev >= 1.0 - 1e-9) & (pga <= 2.5))
    )
    return mild, severe, clinical_severe
