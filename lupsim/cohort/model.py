"""The generative model of one SLE patient at a visit, vectorised over patients.

Every patient is built from two latent factors and the organ states they drive:

- ``z_act``, a clinical activity propensity (standard normal), raises the
  probability of every SLEDAI descriptor, BILAG severity, the PGA and the
  prednisone dose;
- ``z_sero``, a serological activity factor correlated with ``z_act``, lowers
  C3 and C4, raises the anti-dsDNA titre and the odds of renal activity.

Descriptors are drawn as organ states, then SLEDAI, BILAG and PGA are *scored*
from them with :mod:`lupsim.activity`; no score is ever drawn as a number.

Generation is split in two so that the calibration can use common random
numbers: :func:`draw_noise` draws every uniform and normal a batch of patients
needs (independent of the parameters), and :func:`build_patients` turns noise
and :class:`Parameters` into patients. The same noise with nearby parameters
gives nearby patients, which makes the fitted parameters smooth functions of
the targets.

Parameters come in two kinds. *Fitted* parameters (intercepts, thresholds) are
solved by :mod:`lupsim.cohort.calibration` so that screened patients reproduce a
published table; their defaults here describe a generic population of SLE trial
candidates. *Structural* constants (effect sizes of age, sex and ancestry,
correlations, within-organ patterns) are documented below with their source and
are not fitted.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from scipy import special

from lupsim.activity import bilag as _bilag
from lupsim.activity import classification as _cls
from lupsim.activity.sledai import DESCRIPTOR_CODES, N_DESCRIPTORS, ORGAN_DOMAINS, WEIGHTS
from lupsim.cohort.vocabulary import RACE_BY_REGION, RACE_GROUPS, REGIONS
from lupsim.random import bernoulli_thresholds16, logistic16, normals, raw16

__all__ = [
    "BILAG_SOURCES",
    "IS_AGENTS",
    "PARAMETER_NAMES",
    "Noise",
    "Parameters",
    "PatientArrays",
    "build_patients",
    "default_parameters",
    "draw_noise",
]

F = NDArray[np.float64]
B = NDArray[np.bool_]
# Logistic variates: float32 from draw_noise (16-bit quantiles), compared only.
FL = NDArray[np.floating[Any]]
I8 = NDArray[np.int8]

_D = {code: i for i, code in enumerate(DESCRIPTOR_CODES)}
_DOMAIN_OF = np.empty(N_DESCRIPTORS, dtype=object)
for _dom, _idx in ORGAN_DOMAINS.items():
    for _i in _idx:
        _DOMAIN_OF[_i] = _dom

# ---------------------------------------------------------------------------
# Structural constants (not fitted). Each names its source.
# ---------------------------------------------------------------------------

#: Correlation of the serological and clinical activity factors. lupsim
#: assumption: clinical and serological activity are only modestly correlated
#: ("serologically active, clinically quiescent" patients are common; Steiman
#: et al., J Rheumatol 2010;37:1822-7).
RHO_SERO_ACT: Final = 0.3

#: Organ domains other than renal and immunological are drawn in two steps:
#: first whether the domain is active (a fitted intercept, the activity factor),
#: then which of its items are present given that it is. These are the
#: probabilities of each item given an active domain, before at least one item
#: is forced on. lupsim assumption from the relative frequency of descriptors
#: in SLEDAI-2K visit data (Touma et al., J Rheumatol 2011;38:275-9: arthritis
#: and rash dominate; myositis, pericarditis and most CNS items are rare).
ITEM_PROB_GIVEN_ACTIVE: Final = {
    "lupus_headache": 0.40,
    "visual_disturbance": 0.25,
    "cranial_nerve_disorder": 0.20,
    "seizure": 0.15,
    "organic_brain_syndrome": 0.10,
    "psychosis": 0.10,
    "cva": 0.08,
    "vasculitis": 1.0,
    "arthritis": 0.95,
    "myositis": 0.02,
    "rash": 0.75,
    "alopecia": 0.50,
    "mucosal_ulcers": 0.35,
    "pleurisy": 0.70,
    "pericarditis": 0.45,
    "fever": 1.0,
    "leukopenia": 0.70,
    "thrombocytopenia": 0.50,
}
#: SD (log-odds) of each patient's persistent propensity to activity in each
#: organ. The activity of an organ at one visit is this persistent part plus a
#: transient logistic part (SD 1.81); the trial's disease model keeps the
#: persistent part and lets the transient part move, which is what makes
#: patients selected at a high point regress towards their own mean. lupsim
#: assumption: about a fifth of the visit-to-visit log-odds variance is
#: persistent; the switching rate of the trial model is calibrated given it.
ORGAN_PERSISTENCE_SD: Final = 1.0
#: Organ domains drawn in two steps, then renal: the order of ``organ_effect``.
ORGAN_ORDER: Final = (
    "cns",
    "vascular",
    "musculoskeletal",
    "mucocutaneous",
    "cardiorespiratory",
    "constitutional",
    "haematological",
    "renal",
)

#: Items whose odds the fitted ``multiplicity`` parameter moves: the
#: mucocutaneous items. It sets how many items an active skin and mucosa domain
#: shows (hence the SLEDAI mean) without changing how often the domain is
#: active; rash, alopecia and ulcers are the commonest co-occurring items of
#: trial populations.
MULTIPLICITY_ITEMS: Final = ("rash", "alopecia", "mucosal_ulcers")
#: Loading of item presence, within an active organ, on the activity factor
#: (lupsim assumption: more active patients show more items per organ).
ITEM_ACT_LOADING: Final = 0.5

#: Log-odds of renal activity by ancestry, sex and age. Lupus nephritis is more
#: frequent in Black, Asian and Hispanic/Indigenous-American patients, in men,
#: and in younger patients (Feldman et al., Arthritis Rheum 2013;65:753-63;
#: Hanly et al., Rheumatology 2016;55:252-62; Seligman et al., Am J Med
#: 2002;112:726-9). Magnitudes are lupsim assumptions of that order.
RENAL_RACE_LOGODDS: Final = {
    "white": 0.0,
    "black": 0.8,
    "asian": 0.7,
    "indigenous_american": 0.6,
    "other": 0.3,
}
RENAL_MALE_LOGODDS: Final = 0.4
RENAL_AGE_LOGODDS_PER_DECADE: Final = -0.25
#: Anti-dsDNA goes with renal activity (e.g. Ho et al., Arthritis Rheum
#: 2001;44:2342-9): log-odds per SD of the serological factor.
RENAL_SERO_LOGODDS: Final = 0.6

#: Urinary sediment given renal activity (lupsim assumption): probability of
#: haematuria, cellular casts and pyuria.
SEDIMENT_PROB: Final = {"haematuria": 0.5, "urinary_casts": 0.25, "pyuria": 0.35}
#: SD of log proteinuria (g/24 h) among patients with renal activity.
PROTEINURIA_LOG_SD: Final = 0.9
#: Within-patient SD of log proteinuria around the patient's own level while
#: renal disease is active (lupsim assumption: proteinuria varies about +/-50%
#: from visit to visit in active nephritis).
PROTEINURIA_WITHIN_LOG_SD: Final = 0.4
#: Baseline proteinuria without renal activity: log-normal, median 0.12 g/24 h.
PROTEINURIA_QUIET_MEDIAN: Final = 0.12

#: Anti-dsDNA titre: log10 IU/mL SD; positivity threshold 30 IU/mL (the BLISS
#: assay cut-off, Navarra 2011).
DSDNA_LOG10_SD: Final = 0.6
DSDNA_POSITIVE_IU: Final = 30.0
#: C3 (mg/dL, normal SD) and C4 (log mg/dL SD); BLISS lower limits of normal
#: C3 < 90 and C4 < 16 mg/dL (Navarra 2011).
C3_SD: Final = 22.0
C4_LOG_SD: Final = 0.45
C3_LOW: Final = 90.0
C4_LOW: Final = 16.0
#: Correlation of C3 and C4 beyond the shared serological factor (lupsim
#: assumption; both fall with classical-pathway consumption).
RHO_C3_C4: Final = 0.5
#: ANA titres reported (reciprocal) and their probabilities among positives
#: (lupsim assumption); 0 means negative (< 1:80).
ANA_TITRES: Final = np.array([80, 160, 320, 640, 1280])
ANA_TITRE_PROB: Final = np.array([0.15, 0.25, 0.25, 0.2, 0.15])

#: BILAG-2004 domains and the SLEDAI descriptors that reveal their activity.
#: Cutaneous vasculitis is graded in the mucocutaneous domain and retinal
#: disease (SLEDAI "visual disturbance") in the ophthalmic domain (Isenberg
#: 2005 glossary). Renal grades follow proteinuria and sediment (see below).
BILAG_SOURCES: Final[dict[str, tuple[str, ...]]] = {
    "constitutional": ("fever",),
    "mucocutaneous": ("rash", "alopecia", "mucosal_ulcers", "vasculitis"),
    "neuropsychiatric": (
        "seizure",
        "psychosis",
        "organic_brain_syndrome",
        "cranial_nerve_disorder",
        "lupus_headache",
        "cva",
    ),
    "musculoskeletal": ("arthritis", "myositis"),
    "cardiorespiratory": ("pleurisy", "pericarditis"),
    "gastrointestinal": (),
    "ophthalmic": ("visual_disturbance",),
    "renal": ("proteinuria", "haematuria", "urinary_casts", "pyuria"),
    "haematological": ("thrombocytopenia", "leukopenia"),
}
assert tuple(BILAG_SOURCES) == _bilag.BILAG_DOMAINS
#: How much harder an A (resp. B) is to reach in each BILAG domain than the
#: global thresholds, on the severity-latent scale. lupsim assumption encoding
#: the BILAG-2004 glossary: active CNS disease is almost always A, arthritis
#: is usually B, fever alone is at most B, mild cytopenias are C.
BILAG_A_OFFSET: Final = np.array([3.0, 1.0, -0.5, 1.2, 0.4, 0.0, 0.0, 0.0, 1.0])
BILAG_B_OFFSET: Final = np.array([0.3, 0.0, -2.0, -0.6, -0.6, 0.0, 0.0, 0.0, 0.5])
#: Weight of the activity factor and of each extra active item on the BILAG
#: severity latent (lupsim assumption).
BILAG_ACT_LOADING: Final = 0.8
BILAG_EXTRA_ITEM: Final = 0.6
BILAG_VASCULITIS: Final = 1.0
#: Probability of a mild (C) grade in a domain with no SLEDAI-visible activity:
#: arthralgia, mild rash, mild cytopenia ... (lupsim assumption).
BILAG_MILD_ONLY: Final = np.array([0.05, 0.10, 0.01, 0.12, 0.02, 0.01, 0.01, 0.03, 0.05])
#: Renal BILAG-2004, simplified: A with proteinuria >= 3 g/24 h, or >= 1 g/24 h
#: with an active sediment; B with new proteinuria > 0.5 g/24 h or an active
#: sediment; C for stable proteinuria (Yee 2009 renal glossary, simplified).
RENAL_A_PROTEINURIA: Final = 3.0
RENAL_A_PROTEINURIA_WITH_SEDIMENT: Final = 1.0

#: PGA from clinical activity: per SLEDAI point excluding serology, per BILAG A
#: and B, rater (patient-level) and visit noise SDs. lupsim assumption, fitted
#: to the BLISS-52 PGA mean through the intercept.
PGA_PER_CLINICAL_POINT: Final = 0.05
PGA_PER_BILAG_A: Final = 0.25
PGA_PER_BILAG_B: Final = 0.12
PGA_RATER_SD: Final = 0.15
PGA_VISIT_SD: Final = 0.15

#: Prednisone: maintenance doses (mg/day) and their probabilities among patients
#: on <= 7.5 mg/day; the higher doses are log-normal, at least 10 mg/day, on a
#: 2.5 mg grid, capped at 60. lupsim assumption.
PRED_MAINTENANCE_DOSES: Final = np.array([2.5, 5.0, 7.5])
PRED_MAINTENANCE_PROB: Final = np.array([0.1, 0.5, 0.4])
PRED_MAX: Final = 60.0
#: Manifest activity (:func:`manifest_severity`) raises steroid use and dose:
#: log-odds per unit, and the correlation of the log-dose latent with it.
PRED_ACT_LOGODDS: Final = 0.5
PRED_HIGH_ACT_LOGODDS: Final = 0.8
PRED_DOSE_ACT_CORR: Final = 0.5
#: Immunosuppressant agents and their probabilities without and with renal
#: activity (lupsim assumption; azathioprine, methotrexate and mycophenolate are
#: the common agents in BLISS-52 and BLISS-76).
IS_AGENTS: Final = ("azathioprine", "methotrexate", "mycophenolate")
IS_PROB_NONRENAL: Final = np.array([0.45, 0.35, 0.20])
IS_PROB_RENAL: Final = np.array([0.30, 0.10, 0.60])
IS_RENAL_LOGODDS: Final = 0.8
IS_ACT_LOGODDS: Final = 0.3

#: SLICC damage index: Poisson with log-rate rising with disease duration and
#: age (Gladman et al., Arthritis Rheum 1996; Chambers et al., Rheumatology
#: 2009: damage accrues ~0.1 item per year of disease). Slopes are lupsim
#: assumptions; the intercept is fitted.
SDI_PER_YEAR: Final = 0.07
SDI_PER_YEAR_OF_AGE: Final = 0.015

#: Body weight (kg): log-normal, median 62 (women) and 72 (men), SD log 0.18;
#: Asian patients 8% lighter. lupsim assumption, used for mg/kg dosing.
WEIGHT_MEDIAN: Final = {"female": 62.0, "male": 72.0}
WEIGHT_LOG_SD: Final = 0.18
WEIGHT_ASIAN_FACTOR: Final = 0.92

#: eGFR (mL/min/1.73 m2): normal with mean 105 at age 35, -0.7 per year of age,
#: SD 15; renal activity with proteinuria >= 1 g/24 h lowers it by 20 (lupsim
#: assumption; used by nephritis scenarios). A population that states the
#: share with eGFR >= 90 moves the mean through the fitted ``egfr_shift``. The
#: trial's disease model lets the nephritis loss recover and grow
#: (:mod:`lupsim.trial.disease`).
EGFR_MEAN: Final = 105.0
EGFR_SD: Final = 15.0
EGFR_PER_YEAR_OF_AGE: Final = 0.7
EGFR_NEPHRITIS_LOSS: Final = 20.0
EGFR_NEPHRITIS_PROTEINURIA_G: Final = 1.0
EGFR_MIN: Final = 5.0
EGFR_MAX: Final = 150.0

#: Cumulative manifestations (ever present) in a prevalent SLE population:
#: Euro-Lupus cohort, 1,000 patients (Cervera et al., Medicine 1993;72:113-24):
#: arthritis 84%, malar rash 58%, nephropathy 39%, photosensitivity 45%, oral
#: ulcers 24%, discoid lesions 10%, subacute cutaneous 6%, serositis 36%,
#: neurological involvement 27%, thrombocytopenia 22%, haemolytic anaemia 8%,
#: fever 52%, ANA 96%, anti-dsDNA 78%, anti-Sm 10%, anticardiolipin IgG 24%,
#: lupus anticoagulant 15%. Splits of a reported group into the criteria items
#: (serositis into pleuritis/pericarditis/effusion; nephropathy into
#: proteinuria/casts/biopsy class; neurological involvement into seizure,
#: psychosis, delirium, neuropathy) and the items the cohort did not report
#: (alopecia, leukopenia, lymphopenia, low C3/C4, direct Coombs) are lupsim
#: assumptions.
EURO_LUPUS_FREQUENCY: Final[dict[str, float]] = {
    "acute_cutaneous": 0.58,
    "subacute_cutaneous": 0.06,
    "discoid": 0.10,
    "photosensitivity": 0.45,
    "oral_ulcers": 0.24,
    "alopecia": 0.30,
    "arthritis": 0.84,
    "pleuritis": 0.28,
    "pericarditis": 0.12,
    "serosal_effusion": 0.15,
    "proteinuria": 0.36,
    "cellular_casts": 0.15,
    "nephritis_class_2_5": 0.08,
    "nephritis_class_3_4": 0.17,
    "seizure": 0.07,
    "psychosis": 0.05,
    "delirium": 0.03,
    "neuropathy": 0.05,
    "haemolytic_anaemia": 0.08,
    "leukopenia": 0.40,
    "lymphopenia": 0.35,
    "thrombocytopenia": 0.22,
    "fever": 0.52,
    "ana": 0.96,
    "anti_dsdna": 0.78,
    "anti_sm": 0.10,
    "antiphospholipid": 0.30,
    "low_c3": 0.45,
    "low_c4": 0.45,
    "direct_coombs": 0.15,
}
assert set(EURO_LUPUS_FREQUENCY) == set(_cls.MANIFESTATIONS)
#: Which current SLEDAI descriptor (or flag) implies which manifestation ever.
_CURRENT_IMPLIES: Final = {
    "rash": "acute_cutaneous",
    "alopecia": "alopecia",
    "mucosal_ulcers": "oral_ulcers",
    "arthritis": "arthritis",
    "pleurisy": "pleuritis",
    "pericarditis": "pericarditis",
    "proteinuria": "proteinuria",
    "urinary_casts": "cellular_casts",
    "seizure": "seizure",
    "psychosis": "psychosis",
    "organic_brain_syndrome": "delirium",
    "cranial_nerve_disorder": "neuropathy",
    "thrombocytopenia": "thrombocytopenia",
    "leukopenia": "leukopenia",
    "fever": "fever",
}
#: The manifestations that, once ever present, make a BILAG domain D rather
#: than E when it is inactive now.
_BILAG_HISTORY: Final = {
    "constitutional": ("fever",),
    "mucocutaneous": (
        "acute_cutaneous",
        "subacute_cutaneous",
        "discoid",
        "oral_ulcers",
        "alopecia",
    ),
    "neuropsychiatric": ("seizure", "psychosis", "delirium", "neuropathy"),
    "musculoskeletal": ("arthritis",),
    "cardiorespiratory": ("pleuritis", "pericarditis", "serosal_effusion"),
    "gastrointestinal": (),
    "ophthalmic": (),
    "renal": ("proteinuria", "cellular_casts", "nephritis_class_2_5", "nephritis_class_3_4"),
    "haematological": ("haemolytic_anaemia", "leukopenia", "lymphopenia", "thrombocytopenia"),
}
#: Probability that a present baseline descriptor is new rather than persistent
#: (lupsim assumption). It matters only for the items some SLEDAI versions
#: count when new (rash, alopecia, ulcers, proteinuria).
BASELINE_NEW_PROB: Final = 0.5

# ---------------------------------------------------------------------------
# Fitted parameters
# ---------------------------------------------------------------------------

_LEAD_DOMAINS: Final = (
    "cns",
    "vascular",
    "musculoskeletal",
    "renal",
    "mucocutaneous",
    "cardiorespiratory",
    "constitutional",
    "haematological",
)

# (name, default, meaning). Defaults describe generic SLE trial candidates
# before screening (roughly a BLISS-like population; see calibration.py).
_PARAMETERS: Final[tuple[tuple[str, float, str], ...]] = (
    ("female_logit", 2.2, "log-odds of female sex (about 9 women for 1 man)"),
    ("age_mu", 36.0, "mean of the (truncated) normal age distribution, years"),
    ("age_log_sigma", float(np.log(12.0)), "log SD of age, years"),
    ("duration_log_mu", 1.2, "log-normal disease duration: mean of log years"),
    ("duration_log_sd", float(np.log(0.9)), "log-normal disease duration: log of SD of log years"),
    ("activity_log_loading", float(np.log(0.9)), "log loading of descriptors on z_act"),
    ("activity_shift", 0.0, "shift of every non-serological descriptor log-odds"),
    ("multiplicity", 0.0, "shift of the log-odds of each mucocutaneous item when active"),
    *(
        (f"domain_{d}", v, f"log-odds that the {d} domain is active")
        for d, v in zip(_LEAD_DOMAINS, (-4.5, -3.4, 0.1, -2.0, 1.1, -3.0, -3.5, -2.8), strict=True)
    ),
    ("proteinuria_log_median", 0.0, "log median proteinuria with renal activity, g/24 h"),
    ("dsdna_mu", 1.9, "mean log10 anti-dsDNA, IU/mL"),
    ("dsdna_loading", 0.9, "atanh loading of log anti-dsDNA on z_sero"),
    ("c3_mu", 92.0, "mean C3, mg/dL"),
    ("c4_log_mu", float(np.log(15.0)), "mean log C4, mg/dL"),
    ("complement_loading", 0.9, "atanh loading of C3 and C4 on z_sero"),
    ("ana_logit", 2.5, "log-odds of ANA >= 1:80 at average z_sero"),
    ("bilag_tau_a", 1.8, "BILAG severity threshold for grade A"),
    ("bilag_tau_b", 0.0, "BILAG severity threshold for grade B"),
    ("pga_intercept", 0.5, "PGA at no clinical activity"),
    ("sdi_log_rate", float(np.log(0.3)), "log SLICC damage index rate at 0 years, age 35"),
    ("prednisone_logit", 2.5, "log-odds of prednisone use"),
    ("prednisone_high_logit", 1.0, "log-odds of > 7.5 mg/day among users"),
    ("prednisone_high_log_mu", float(np.log(13.0)), "log median of doses > 7.5 mg/day"),
    ("prednisone_high_log_sigma", float(np.log(0.5)), "log of SD of log high doses"),
    ("antimalarial_logit", 0.7, "log-odds of antimalarial use"),
    ("immunosuppressant_logit", -0.6, "log-odds of immunosuppressant use"),
    ("egfr_shift", 0.0, "shift of the mean eGFR, mL/min/1.73 m2"),
    *((f"region_{r}", 0.0, f"log-weight of region {r}") for r in REGIONS),
    *((f"race_{g}", 0.0, f"log-odds multiplier of race group {g}") for g in RACE_GROUPS),
)
PARAMETER_NAMES: Final[tuple[str, ...]] = tuple(p[0] for p in _PARAMETERS)
PARAMETER_DOCS: Final[dict[str, str]] = {p[0]: p[2] for p in _PARAMETERS}
_PINDEX: Final = {name: i for i, name in enumerate(PARAMETER_NAMES)}


@dataclass(frozen=True)
class Parameters:
    """Fitted parameters of the generative model, as one flat vector.

    ``values`` is read-only; use :meth:`replace` to change entries.

    Examples
    --------
    >>> p = default_parameters()
    >>> round(p["age_mu"], 1)
    36.0
    >>> p.replace(age_mu=40.0)["age_mu"]
    40.0
    """

    values: F

    def __post_init__(self) -> None:
        v = np.array(self.values, dtype=np.float64)
        if v.shape != (len(PARAMETER_NAMES),):
            raise ValueError(f"expected {len(PARAMETER_NAMES)} parameters, got {v.shape}")
        v.setflags(write=False)
        object.__setattr__(self, "values", v)

    def __getitem__(self, name: str) -> float:
        return float(self.values[_PINDEX[name]])

    def replace(self, **changes: float) -> Parameters:
        """A copy with some parameters changed."""
        v = self.values.copy()
        for k, x in changes.items():
            v[_PINDEX[k]] = x
        return Parameters(v)

    def as_dict(self) -> dict[str, float]:
        """Name -> value."""
        return {n: float(x) for n, x in zip(PARAMETER_NAMES, self.values, strict=True)}

    @staticmethod
    def index(name: str) -> int:
        """Position of a parameter in the vector."""
        return _PINDEX[name]

    def __hash__(self) -> int:
        return hash(self.values.tobytes())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Parameters) and bool(np.array_equal(self.values, other.values))


def default_parameters() -> Parameters:
    """The default (uncalibrated) parameters.

    Examples
    --------
    >>> len(default_parameters().values) == len(PARAMETER_NAMES)
    True
    """
    return Parameters(np.array([p[1] for p in _PARAMETERS], dtype=np.float64))


# ---------------------------------------------------------------------------
# Noise and patients
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Noise:
    """Every random number a batch of candidate patients needs.

    Drawn once from the ``baseline`` stream; the patients are a deterministic
    function of noise and parameters.
    """

    l_sex: FL
    u_region: F
    u_race: F
    u_age: F
    u_duration: F
    z_act: F
    z_sero: F
    e_dsdna: F
    e_c3: F
    e_c4: F
    l_ana: FL
    u_ana_titre: F
    l_renal: FL
    e_proteinuria: F
    sediment: B  # (n, 3)
    l_organ: FL  # (n, 7): organ domains drawn in two steps (not renal or serology)
    e_organ: F  # (n, 8): persistent organ propensities (the 7 organs, then renal)
    l_descriptor: FL  # (n, 17): their items
    is_new: B  # (n, 24)
    e_bilag: F  # (n, 9)
    bilag_mild: B  # (n, 9)
    e_pga_rater: F
    e_pga_visit: F
    u_sdi: F
    l_pred: FL
    l_pred_high: FL
    e_pred_dose: F
    u_pred_maint: F
    l_antimalarial: FL
    l_is: FL
    u_is_agent: F
    e_weight: F
    e_egfr: F
    past: B  # (n, n_manifestations): past manifestations drawn at Euro-Lupus rates

    @property
    def n(self) -> int:
        return int(self.z_act.shape[0])


def draw_noise(n: int, rng: np.random.Generator) -> Noise:
    """Draw the noise of ``n`` candidate patients from ``rng``.

    Examples
    --------
    >>> noise = draw_noise(5, np.random.default_rng(1))
    >>> noise.l_organ.shape
    (5, 7)
    """
    # Numbers of one kind drawn together fill the rows of a block: each call
    # costs far more than its numbers at this size. The Bernoulli draws of
    # fixed probabilities and the logistic variates come from 16-bit uniforms,
    # the normals from the Box-Muller transform (:mod:`lupsim.random`), a few
    # times cheaper than the Generator's own methods: screening a trial's
    # candidates draws about 150 numbers for each. The (n, k) matrices are
    # drawn in that shape (a transposed copy would cost more than the draw).
    u = rng.random((_N_NOISE_U, n))
    z = normals(rng, (_N_NOISE_Z, n)).astype(np.float64)
    e_organ = normals(rng, (n, len(_ORGANS) + 1)).astype(np.float64)
    e_bilag = normals(rng, (n, _bilag.N_BILAG_DOMAINS)).astype(np.float64)
    # Standard logistic variates: "l < x" is a Bernoulli(expit(x)) draw, so
    # building patients needs comparisons, not an expit per draw.
    lg = logistic16(rng, (_N_NOISE_L, n))
    l_organ = logistic16(rng, (n, len(_ORGANS)))
    l_descriptor = logistic16(rng, (n, _GENERIC_IDX.size))
    k = raw16(rng, n * _NOISE_B_THRESHOLD.size).reshape(n, _NOISE_B_THRESHOLD.size)
    bern = k < _NOISE_B_THRESHOLD

    u_region, u_race, u_age, u_duration, u_ana_titre, u_sdi, u_pred_maint, u_is_agent = u
    (
        z_act,
        z_sero,
        e_dsdna,
        e_c3,
        e_c4,
        e_proteinuria,
        e_pga_rater,
        e_pga_visit,
        e_pred_dose,
        e_weight,
        e_egfr,
    ) = z
    l_sex, l_ana, l_renal, l_pred, l_pred_high, l_antimalarial, l_is = lg
    sediment, is_new, bilag_mild, past = (
        np.ascontiguousarray(bern[:, cols]) for cols in _NOISE_B_COLUMNS
    )
    return Noise(
        l_sex=l_sex,
        u_region=u_region,
        u_race=u_race,
        u_age=u_age,
        u_duration=u_duration,
        z_act=z_act,
        z_sero=z_sero,
        e_dsdna=e_dsdna,
        e_c3=e_c3,
        e_c4=e_c4,
        l_ana=l_ana,
        u_ana_titre=u_ana_titre,
        l_renal=l_renal,
        e_proteinuria=e_proteinuria,
        sediment=sediment,
        l_organ=l_organ,
        e_organ=e_organ,
        l_descriptor=l_descriptor,
        is_new=is_new,
        e_bilag=e_bilag,
        bilag_mild=bilag_mild,
        e_pga_rater=e_pga_rater,
        e_pga_visit=e_pga_visit,
        u_sdi=u_sdi,
        l_pred=l_pred,
        l_pred_high=l_pred_high,
        e_pred_dose=e_pred_dose,
        u_pred_maint=u_pred_maint,
        l_antimalarial=l_antimalarial,
        l_is=l_is,
        u_is_agent=u_is_agent,
        e_weight=e_weight,
        e_egfr=e_egfr,
        past=past,
    )


@dataclass
class PatientArrays:
    """Patients as a struct of arrays (one entry per patient).

    This is the state the trial engine advances; :class:`~lupsim.cohort.Cohort`
    shows it as a DataFrame. Categorical fields are small integer codes:
    ``race`` indexes :data:`~lupsim.cohort.vocabulary.RACE_GROUPS`, ``region``
    indexes :data:`~lupsim.cohort.vocabulary.REGIONS`, ``bilag`` holds grade
    codes A=0 ... E=4, ``immunosuppressant`` is 0 for none or 1 + the index in
    :data:`IS_AGENTS`, ``induction`` is 0 for none or 1 + the index in
    :data:`~lupsim.cohort.vocabulary.INDUCTION_REGIMENS`.
    """

    female: B
    age: F
    race: I8
    region: I8
    disease_duration: F
    weight_kg: F
    z_act: F
    z_sero: F
    organ_effect: F  # (n, 8): persistent organ propensities (log-odds), renal last
    anti_dsdna_iu: F
    c3: F
    c4: F
    ana_titre: NDArray[np.int32]
    proteinuria_g: F
    egfr: F
    present: B  # (n, 24)
    new: B  # (n, 24)
    bilag_latent: F  # (n, 9)
    bilag: I8  # (n, 9)
    pga_rater: F
    pga: F
    sdi: NDArray[np.int16]
    prednisone_mg: F
    antimalarial: B
    immunosuppressant: I8
    manifestations: B  # (n, n_manifestations), cumulative, ever present
    # Background induction regimen of lupus nephritis: 0 none, else 1 + the index
    # in INDUCTION_REGIMENS. Assigned at randomisation by the trial design
    # (investigator's choice), never by the cohort generator.
    induction: I8

    @property
    def n(self) -> int:
        return int(self.age.shape[0])

    def take(self, index: NDArray[np.intp] | B) -> PatientArrays:
        """The patients selected by an index or mask, as a new struct."""
        mask_or_rows = np.asarray(index)
        rows: NDArray[np.intp] = (
            np.flatnonzero(mask_or_rows)
            if mask_or_rows.dtype == np.bool_
            else mask_or_rows.astype(np.intp, copy=False)
        )
        # np.take along the first axis: the same rows as fancy indexing, faster.
        return PatientArrays(
            **{name: np.take(getattr(self, name), rows, axis=0) for name in _PATIENT_FIELDS}
        )

    @staticmethod
    def concat(parts: list[PatientArrays]) -> PatientArrays:
        """Patients of several structs, in order."""
        return PatientArrays(
            **{name: np.concatenate([getattr(p, name) for p in parts]) for name in _PATIENT_FIELDS}
        )


_PATIENT_FIELDS: Final = tuple(f.name for f in fields(PatientArrays))


def _cdf(probs: F) -> F:
    """Cumulative probabilities along the last axis, ending at exactly 1."""
    cdf = np.cumsum(probs, axis=-1)
    cdf /= cdf[..., -1:]
    return cdf


def _draw_category(u: F, cdf: F) -> NDArray[np.int8]:
    """Inverse-CDF draw of a category per row; ``cdf`` is (k,) or (n, k).

    The category is the number of cumulative probabilities at or below ``u``
    (``searchsorted(cdf, u, side="right")``), counted one category at a time:
    for a handful of categories, cheaper than a binary search per patient.
    """
    out = np.zeros(u.shape, dtype=np.int8)
    for j in range(cdf.shape[-1]):  # a loop over categories, not patients
        out += u >= cdf[..., j]
    return out


def _categorical(u: F, probs: F) -> NDArray[np.int8]:
    """Inverse-CDF draw of a category per row; probs is (k,) or (n, k)."""
    return _draw_category(u, _cdf(probs))


def _truncated_normal(u: F, mu: float, sigma: float, lo: float, hi: float) -> F:
    a = special.ndtr((lo - mu) / sigma)
    b = special.ndtr((hi - mu) / sigma)
    p = np.clip(a + u * (b - a), 1e-12, 1 - 1e-12)
    return np.clip(mu + sigma * special.ndtri(p), lo, hi)


@lru_cache(maxsize=64)
def _region_race_probs(params: Parameters, region_codes: tuple[int, ...]) -> tuple[F, F]:
    """Region probabilities (over ``region_codes``) and race given region (cached,
    read-only: a trial builds every block of candidates with the same parameters)."""
    rw = np.array([params[f"region_{REGIONS[r]}"] for r in region_codes])
    region_p = np.exp(rw - rw.max())
    region_p /= region_p.sum()
    race_mult = np.exp([params[f"race_{g}"] for g in RACE_GROUPS])
    base = np.array([RACE_BY_REGION[REGIONS[r]] for r in region_codes])
    race_given_region = base * race_mult
    race_given_region /= race_given_region.sum(axis=1, keepdims=True)
    region_p.setflags(write=False)
    race_given_region.setflags(write=False)
    return region_p, race_given_region


_RENAL_IDX = np.array(ORGAN_DOMAINS["renal"])
_IMMUNO_IDX = np.array(ORGAN_DOMAINS["immunological"])
# Descriptors drawn by the two-step organ model (all but renal and serology).
_GENERIC = np.ones(N_DESCRIPTORS, dtype=bool)
_GENERIC[_RENAL_IDX] = False
_GENERIC[_IMMUNO_IDX] = False
_GENERIC_IDX = np.flatnonzero(_GENERIC)
_ORGANS: Final = tuple(d for d in _LEAD_DOMAINS if d != "renal")
_GENERIC_DOMAIN = np.array([_ORGANS.index(_DOMAIN_OF[i]) for i in _GENERIC_IDX])
_ITEM_P = np.array([ITEM_PROB_GIVEN_ACTIVE[DESCRIPTOR_CODES[i]] for i in _GENERIC_IDX])
_ITEM_LOGIT = np.log(_ITEM_P / np.maximum(1.0 - _ITEM_P, 1e-9))
_ITEM_MULT = np.array([DESCRIPTOR_CODES[i] in MULTIPLICITY_ITEMS for i in _GENERIC_IDX])
# (n_generic, n_organs) membership, to find each organ's most likely item.
_MEMBER = np.zeros((_GENERIC_IDX.size, len(_ORGANS)), dtype=bool)
_MEMBER[np.arange(_GENERIC_IDX.size), _GENERIC_DOMAIN] = True
_MEMBER_F32 = _MEMBER.astype(np.float32)
# (n_organs, n_generic): 0 for an organ's own items, -inf for the others.
# Adding it masks the other organs' items exactly (x + 0 = x), and far faster
# than np.where with an irregular mask.
_NOT_MEMBER = np.where(_MEMBER.T, 0.0, -np.inf)
_RENAL_RACE = np.array([RENAL_RACE_LOGODDS[g] for g in RACE_GROUPS])
_SEDIMENT_IDX = np.array([_D["haematuria"], _D["urinary_casts"], _D["pyuria"]])
_SEDIMENT_P = np.array(
    [SEDIMENT_PROB["haematuria"], SEDIMENT_PROB["urinary_casts"], SEDIMENT_PROB["pyuria"]]
)
_MANIF_INDEX = {m: i for i, m in enumerate(_cls.MANIFESTATIONS)}
_HIST_P = np.array([EURO_LUPUS_FREQUENCY[m] for m in _cls.MANIFESTATIONS])

# The blocks of noise of a batch of candidates (rows of one draw each, in
# the order :func:`draw_noise` unpacks them): continuous uniforms, normals and
# logistic variates; and the Bernoulli draws of fixed probabilities (sediment,
# new items, mild BILAG, past manifestations), one column per probability.
_N_NOISE_U = 8
_N_NOISE_Z = 11
_N_NOISE_L = 7
_NOISE_B_P = (
    _SEDIMENT_P,
    np.full(N_DESCRIPTORS, BASELINE_NEW_PROB),
    BILAG_MILD_ONLY,
    _HIST_P,
)
_NOISE_B_THRESHOLD = bernoulli_thresholds16(np.concatenate(_NOISE_B_P))
_NOISE_B_COLUMNS = tuple(
    slice(a, b)
    for a, b in itertools.pairwise(np.cumsum([0, *(len(p) for p in _NOISE_B_P)]).tolist())
)
_IMPLY_FROM = np.array([_D[d] for d in _CURRENT_IMPLIES])
_IMPLY_TO = np.array([_MANIF_INDEX[m] for m in _CURRENT_IMPLIES.values()])
_BILAG_SRC = [
    np.array([_D[c] for c in BILAG_SOURCES[d]], dtype=np.intp) for d in _bilag.BILAG_DOMAINS
]
_BILAG_HIST = [
    np.array([_MANIF_INDEX[m] for m in _BILAG_HISTORY[d]], dtype=np.intp)
    for d in _bilag.BILAG_DOMAINS
]
_BILAG_HIST_MATRIX = np.zeros((len(_cls.MANIFESTATIONS), _bilag.N_BILAG_DOMAINS), dtype=np.float32)
for _domain_k, _hist_idx in enumerate(_BILAG_HIST):
    _BILAG_HIST_MATRIX[_hist_idx, _domain_k] = 1.0
_ONES_BILAG = np.ones(_bilag.N_BILAG_DOMAINS, dtype=np.float32)
_CLINICAL_WEIGHTS = WEIGHTS.astype(np.float32)
_CLINICAL_WEIGHTS[_IMMUNO_IDX] = 0.0
_BILAG_SOURCE_MATRIX = np.zeros((N_DESCRIPTORS, _bilag.N_BILAG_DOMAINS), dtype=np.float32)
for _k, _src in enumerate(_BILAG_SRC):
    _BILAG_SOURCE_MATRIX[_src, _k] = 1.0
_RENAL_BILAG = _bilag.BILAG_DOMAINS.index("renal")
_MUCO_BILAG = _bilag.BILAG_DOMAINS.index("mucocutaneous")
_VASCULITIS = _D["vasculitis"]
_PROTEINURIA = _D["proteinuria"]


def organ_logits(params: Parameters, z_act: F) -> F:
    """Log-odds that each non-renal, non-serological organ domain is active, (n, 7)."""
    lead = np.array([params[f"domain_{d}"] for d in _ORGANS])
    loading = float(np.exp(params["activity_log_loading"]))
    return (lead + params["activity_shift"])[None, :] + loading * z_act[:, None]


def organ_items(params: Parameters, z_act: F, l_organ: FL, l_item: FL, effect: F) -> B:
    """Items present in each organ, (n, 17).

    The organ is active or not (``effect`` is the patient's persistent organ
    propensity); the items of an active organ are drawn; an active organ shows
    at least the item closest to presence.
    """
    active = l_organ < organ_logits(params, z_act) + effect
    margin = (
        (_ITEM_LOGIT + params["multiplicity"] * _ITEM_MULT)[None, :]
        + ITEM_ACT_LOADING * z_act[:, None]
        - l_item
    )
    items = (margin > 0) & active[:, _GENERIC_DOMAIN]
    shown = items.astype(np.float32) @ _MEMBER_F32
    # (patient, organ) pairs with an active organ and no item, row-major.
    empty = np.flatnonzero(active & (shown == 0))
    if empty.size:
        rows, organs = np.divmod(empty, active.shape[1])
        masked = margin[rows] + _NOT_MEMBER.take(organs, axis=0)
        items[rows, np.argmax(masked, axis=1)] = True
    return items


def renal_logit(params: Parameters, z_act: F, z_sero: F, race: I8, female: B, age: F) -> F:
    """Log-odds of renal activity given the factors, ancestry, sex and age."""
    loading = float(np.exp(params["activity_log_loading"]))
    return (
        params["domain_renal"]
        + params["activity_shift"]
        + loading * z_act
        + RENAL_SERO_LOGODDS * z_sero
        + _RENAL_RACE[race]
        + RENAL_MALE_LOGODDS * ~female
        + RENAL_AGE_LOGODDS_PER_DECADE * (age - 35.0) / 10.0
    )


def serology(params: Parameters, z_sero: F, e_dsdna: F, e_c3: F, e_c4: F) -> tuple[F, F, F]:
    """Anti-dsDNA (IU/mL), C3 (mg/dL), C4 (mg/dL) from the serological factor."""
    lam_ds = float(np.tanh(params["dsdna_loading"]))
    lam_c = float(np.tanh(params["complement_loading"]))
    log_ds = params["dsdna_mu"] + DSDNA_LOG10_SD * (
        lam_ds * z_sero + np.sqrt(1 - lam_ds**2) * e_dsdna
    )
    anti_dsdna = np.clip(10.0**log_ds, 1.0, 5000.0)
    e4 = RHO_C3_C4 * e_c3 + np.sqrt(1 - RHO_C3_C4**2) * e_c4
    c3 = np.maximum(params["c3_mu"] - C3_SD * (lam_c * z_sero + np.sqrt(1 - lam_c**2) * e_c3), 15.0)
    c4 = np.clip(
        np.exp(params["c4_log_mu"] - C4_LOG_SD * (lam_c * z_sero + np.sqrt(1 - lam_c**2) * e4)),
        1.0,
        80.0,
    )
    return anti_dsdna, c3, c4


def serology_descriptors(anti_dsdna: F, c3: F, c4: F) -> tuple[B, B]:
    """SLEDAI low complement and increased DNA binding from the values."""
    return (c3 < C3_LOW) | (c4 < C4_LOW), anti_dsdna >= DSDNA_POSITIVE_IU


def bilag_grades(
    present: B,
    new: B,
    latent: F,
    proteinuria_g: F,
    params: Parameters,
    mild: B,
    ever: B | None = None,
    counts: NDArray[np.float32] | None = None,
) -> I8:
    """BILAG-2004 grades (codes A=0 ... E=4) from organ states.

    ``latent`` is the per-domain severity latent; ``mild`` marks domains with
    mild activity that SLEDAI does not see; ``ever`` marks domains involved in
    the past (D rather than E when inactive now).
    """
    # Items active per BILAG domain, as one small matrix product (the trial
    # engine passes them in, computed with its other scores).
    if counts is None:
        counts = present.astype(np.float32) @ _BILAG_SOURCE_MATRIX
    grades, active = bilag_active_grades(present, new, latent, proteinuria_g, params, counts)
    # Inactive domains from C to their grade by arithmetic: selecting with
    # np.where costs several times more on an irregular mask.
    grades += (bilag_inactive_grades(mild, ever) - 2) * (~active).view(np.int8)
    return grades


def bilag_active_grades(
    present: B,
    new: B,
    latent: F,
    proteinuria_g: F,
    params: Parameters,
    counts: NDArray[np.float32],
) -> tuple[I8, B]:
    """The grades of :func:`bilag_grades` in the active domains, C (2) in the
    others, and which domains are active (``counts > 0``).

    A, B and C of the active domains are all that the PGA and the flare rules
    look at; the trial engine tells the inactive domains apart
    (:func:`bilag_inactive_grades`) for every visit at once.
    """
    active = counts > 0
    # Items beyond the first: counts - 1 where active, 0 where not.
    sev = latent + BILAG_EXTRA_ITEM * (counts - active)
    sev[:, _MUCO_BILAG] += BILAG_VASCULITIS * present[:, _VASCULITIS]
    thr_a = params["bilag_tau_a"] + BILAG_A_OFFSET
    thr_b = np.minimum(params["bilag_tau_b"] + BILAG_B_OFFSET, thr_a)
    # 2 (C), minus one above the B threshold, minus one more above A, in active
    # domains (a boolean array read as int8 is 0/1, without a copy).
    above_b = sev > thr_b
    above_b &= active
    above_a = sev > thr_a
    above_a &= active
    grades: I8 = 2 - above_b.view(np.int8) - above_a.view(np.int8)
    # Renal: grades follow proteinuria and sediment, not the latent.
    sediment = present[:, _SEDIMENT_IDX[0]] | present[:, _SEDIMENT_IDX[1]]
    sediment |= present[:, _SEDIMENT_IDX[2]]
    prot_new = present[:, _PROTEINURIA] & new[:, _PROTEINURIA]
    renal_a = (proteinuria_g >= RENAL_A_PROTEINURIA) | (
        (proteinuria_g >= RENAL_A_PROTEINURIA_WITH_SEDIMENT) & sediment
    )
    renal_a &= active[:, _RENAL_BILAG]
    renal_b = sediment | prot_new
    renal_b &= active[:, _RENAL_BILAG]
    # A (0) if renal_a, else B (1) if renal_b, else C (2).
    grades[:, _RENAL_BILAG] = 2 - (renal_a | renal_b).view(np.int8) - renal_a.view(np.int8)
    return grades, active


def bilag_inactive_grades(mild: B, ever: B | None) -> I8:
    """Grades of inactive domains: C (2) with mild activity, else D (3) if ever
    involved, else E (4)."""
    if ever is None:
        return 4 - 2 * mild.view(np.int8)
    return 4 - (mild | ever).view(np.int8) - mild.view(np.int8)


def pga_from_state(
    present: B,
    bilag: I8,
    rater: F,
    e_visit: F,
    params: Parameters,
    visit_sd: float = PGA_VISIT_SD,
    clinical: NDArray[np.float32] | None = None,
) -> F:
    """PGA (0-3, two decimals) from clinical activity, BILAG and rater noise.

    ``clinical`` (SLEDAI-2K without serology) may be passed in when known.
    """
    if clinical is None:
        clinical = present.astype(np.float32) @ _CLINICAL_WEIGHTS
    # Counting by a small matrix product (BLAS) is several times faster than
    # a boolean sum along the rows.
    n_a = (bilag == 0).astype(np.float32) @ _ONES_BILAG
    n_b = (bilag == 1).astype(np.float32) @ _ONES_BILAG
    raw = (
        params["pga_intercept"]
        + PGA_PER_CLINICAL_POINT * clinical
        + PGA_PER_BILAG_A * n_a
        + PGA_PER_BILAG_B * n_b
        + rater
        + visit_sd * e_visit
    )
    # Clipped to 0-3 (np.clip's checks cost more than the two ufuncs).
    return np.round(np.minimum(np.maximum(raw, 0.0), 3.0), 2)


def manifest_severity(present: B, bilag: I8) -> F:
    """How severe the disease looks to the treating physician, in SD-like units.

    Standardised clinical SLEDAI (serology excluded; 6 points = 0, 4 points per
    unit) plus half a unit per BILAG A domain. Background therapy follows it, so
    the prednisone dose rises with manifest activity whatever the latent
    structure (lupsim assumption).
    """
    clinical = present.astype(np.float32) @ _CLINICAL_WEIGHTS
    n_a = ((bilag == 0).astype(np.float32) @ _ONES_BILAG).astype(np.float64)
    return (clinical - 6.0) / 4.0 + 0.5 * n_a


def _prednisone(noise: Noise, params: Parameters, severity: F, renal: B) -> F:
    on = noise.l_pred < params["prednisone_logit"] + PRED_ACT_LOGODDS * severity
    high = noise.l_pred_high < (
        params["prednisone_high_logit"] + PRED_HIGH_ACT_LOGODDS * severity + 0.5 * renal
    )
    sigma = float(np.exp(params["prednisone_high_log_sigma"]))
    s = np.clip(severity, -3.0, 3.0)
    latent = PRED_DOSE_ACT_CORR * s + np.sqrt(1 - PRED_DOSE_ACT_CORR**2) * noise.e_pred_dose
    high_dose = np.clip(
        2.5 * np.round(np.exp(params["prednisone_high_log_mu"] + sigma * latent) / 2.5),
        10.0,
        PRED_MAX,
    )
    maint = PRED_MAINTENANCE_DOSES[_categorical(noise.u_pred_maint, PRED_MAINTENANCE_PROB)]
    return np.where(on, np.where(high, high_dose, maint), 0.0)


def history(
    present: B, ana_titre: NDArray[np.int32], anti_dsdna: F, c3: F, c4: F, past: B, proteinuria_g: F
) -> B:
    """Cumulative manifestations: what is active now, plus past manifestations
    drawn with Euro-Lupus frequencies (:data:`EURO_LUPUS_FREQUENCY`)."""
    ever = past.copy()
    ever[:, _IMPLY_TO] |= present[:, _IMPLY_FROM]
    ever[:, _MANIF_INDEX["ana"]] |= ana_titre >= 80
    ever[:, _MANIF_INDEX["anti_dsdna"]] |= anti_dsdna >= DSDNA_POSITIVE_IU
    ever[:, _MANIF_INDEX["low_c3"]] |= c3 < C3_LOW
    ever[:, _MANIF_INDEX["low_c4"]] |= c4 < C4_LOW
    ever[:, _MANIF_INDEX["proteinuria"]] |= proteinuria_g > 0.5
    return ever


def build_patients(
    noise: Noise,
    params: Parameters,
    *,
    region_codes: tuple[int, ...],
    age_range: tuple[float, float],
    with_history: bool = True,
) -> PatientArrays:
    """Turn noise and parameters into patients (deterministic).

    Parameters
    ----------
    noise
        From :func:`draw_noise`.
    params
        Model parameters (defaults or calibrated).
    region_codes
        Indices into :data:`~lupsim.cohort.vocabulary.REGIONS` of the regions
        this population enrols in.
    age_range
        Youngest and oldest age generated.
    with_history
        Also derive cumulative manifestations (the calibration skips them
        when no eligibility rule needs them).
    """
    n = noise.n
    female = noise.l_sex < params["female_logit"]
    region_p, race_given_region = _region_race_probs(params, region_codes)
    region_local = _categorical(noise.u_region, region_p)
    region = np.asarray(region_codes, dtype=np.int8)[region_local]
    # Each patient draws from their region's distribution.
    race = _draw_category(noise.u_race, _cdf(race_given_region)[region_local])
    age = _truncated_normal(
        noise.u_age, params["age_mu"], float(np.exp(params["age_log_sigma"])), *age_range
    )
    # Disease duration: log-normal, truncated so that onset is after age 5.
    dmax = np.maximum(age - 5.0, 0.1)
    dsig = float(np.exp(params["duration_log_sd"]))
    hi = special.ndtr((np.log(dmax) - params["duration_log_mu"]) / dsig)
    duration = np.exp(
        params["duration_log_mu"]
        + dsig * special.ndtri(np.clip(noise.u_duration * hi, 1e-12, 1 - 1e-12))
    )
    weight = np.where(female, WEIGHT_MEDIAN["female"], WEIGHT_MEDIAN["male"]) * np.exp(
        WEIGHT_LOG_SD * noise.e_weight
    )
    weight = np.where(race == RACE_GROUPS.index("asian"), weight * WEIGHT_ASIAN_FACTOR, weight)

    z_act = noise.z_act
    z_sero = RHO_SERO_ACT * z_act + np.sqrt(1 - RHO_SERO_ACT**2) * noise.z_sero
    anti_dsdna, c3, c4 = serology(params, z_sero, noise.e_dsdna, noise.e_c3, noise.e_c4)
    ana_pos = noise.l_ana < params["ana_logit"] + z_sero
    titre = ANA_TITRES[_categorical(noise.u_ana_titre, ANA_TITRE_PROB)]
    ana_titre = np.where(ana_pos, titre, 0).astype(np.int32)

    present = np.zeros((n, N_DESCRIPTORS), dtype=bool)
    organ_effect = ORGAN_PERSISTENCE_SD * noise.e_organ
    present[:, _GENERIC_IDX] = organ_items(
        params, z_act, noise.l_organ, noise.l_descriptor, organ_effect[:, :-1]
    )
    renal = noise.l_renal < (
        renal_logit(params, z_act, z_sero, race, female, age) + organ_effect[:, -1]
    )
    proteinuria = np.where(
        renal,
        np.exp(params["proteinuria_log_median"] + PROTEINURIA_LOG_SD * noise.e_proteinuria),
        PROTEINURIA_QUIET_MEDIAN * np.exp(0.4 * noise.e_proteinuria),
    )
    proteinuria = np.round(np.where(renal, proteinuria, np.minimum(proteinuria, 0.45)), 2).astype(
        np.float64
    )
    sediment = noise.sediment & renal[:, None]
    # Renal activity always shows in at least one renal item: haematuria if
    # proteinuria is low and no sediment was drawn.
    lone = renal & (proteinuria <= 0.5) & ~sediment.any(axis=1)
    sediment[:, 0] |= lone
    present[:, _SEDIMENT_IDX] = sediment
    present[:, _PROTEINURIA] = proteinuria > 0.5
    low_comp, dna = serology_descriptors(anti_dsdna, c3, c4)
    present[:, _IMMUNO_IDX[0]] = low_comp
    present[:, _IMMUNO_IDX[1]] = dna
    new = present & noise.is_new

    # With the default shift (0) every term is the same floating-point number
    # as without it.
    egfr = np.clip(
        (EGFR_MEAN + params["egfr_shift"])
        - EGFR_PER_YEAR_OF_AGE * (age - 35.0)
        + EGFR_SD * noise.e_egfr
        - EGFR_NEPHRITIS_LOSS * (renal & (proteinuria >= EGFR_NEPHRITIS_PROTEINURIA_G)),
        EGFR_MIN,
        EGFR_MAX,
    )
    ever = (
        history(present, ana_titre, anti_dsdna, c3, c4, noise.past, proteinuria)
        if with_history
        else np.zeros((n, len(_cls.MANIFESTATIONS)), dtype=bool)
    )
    ever_domain = None
    if with_history:
        # Any past manifestation of each domain (a float32 product: counts <= 30).
        ever_domain = (ever.astype(np.float32) @ _BILAG_HIST_MATRIX) > 0
    latent = BILAG_ACT_LOADING * z_act[:, None] + noise.e_bilag
    grades = bilag_grades(present, new, latent, proteinuria, params, noise.bilag_mild, ever_domain)
    rater = PGA_RATER_SD * noise.e_pga_rater
    pga = pga_from_state(present, grades, rater, noise.e_pga_visit, params)

    rate = np.exp(
        params["sdi_log_rate"] + SDI_PER_YEAR * duration + SDI_PER_YEAR_OF_AGE * (age - 35.0)
    )
    sdi = _poisson_ppf(noise.u_sdi, rate)
    severity = manifest_severity(present, grades)
    prednisone = _prednisone(noise, params, severity, renal)
    antimalarial = noise.l_antimalarial < params["antimalarial_logit"]
    on_is = noise.l_is < (
        params["immunosuppressant_logit"] + IS_RENAL_LOGODDS * renal + IS_ACT_LOGODDS * severity
    )
    agent = np.where(
        renal,
        _categorical(noise.u_is_agent, IS_PROB_RENAL),
        _categorical(noise.u_is_agent, IS_PROB_NONRENAL),
    )
    immunosuppressant = np.where(on_is, agent + 1, 0).astype(np.int8)
    return PatientArrays(
        female=female,
        age=np.round(age, 1),
        race=race,
        region=region,
        disease_duration=np.round(duration, 2),
        weight_kg=np.round(weight, 1),
        z_act=z_act,
        z_sero=z_sero,
        organ_effect=organ_effect,
        anti_dsdna_iu=np.round(anti_dsdna, 1),
        c3=np.round(c3, 1),
        c4=np.round(c4, 1),
        ana_titre=ana_titre,
        proteinuria_g=proteinuria,
        egfr=np.round(egfr, 1),
        present=present,
        new=new,
        bilag_latent=latent,
        bilag=grades,
        pga_rater=rater,
        pga=pga,
        sdi=sdi,
        prednisone_mg=prednisone,
        antimalarial=antimalarial,
        immunosuppressant=immunosuppressant,
        manifestations=ever,
        induction=np.zeros(n, dtype=np.int8),
    )


def _poisson_ppf(u: F, rate: F) -> NDArray[np.int16]:
    """Inverse-CDF Poisson draw, vectorised (rates here are small, < 10).

    ``u`` and ``rate`` are (n,). Each round adds the next probability to the
    cumulative distribution of the draws still above it, and only of those:
    with small rates, few are left after a round or two.
    """
    k = np.zeros(u.shape, dtype=np.int16)
    p = np.exp(-rate)
    live = np.flatnonzero(u > p)  # draws above the cumulative distribution so far
    u_live, rate_live, p_live, cdf_live = u[live], rate[live], p[live], p[live]
    for j in range(1, 40):
        if live.size == 0:
            break
        k[live] += 1
        p_live = p_live * rate_live / j
        cdf_live = cdf_live + p_live
        above = u_live > cdf_live
        live, u_live, rate_live = live[above], u_live[above], rate_live[above]
        p_live, cdf_live = p_live[above], cdf_live[above]
    return k
