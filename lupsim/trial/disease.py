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

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from lupsim.activity.bilag import N_BILAG_DOMAINS
from lupsim.activity.sledai import DESCRIPTOR_CODES, WEIGHTS, score_sledai
from lupsim.cohort import model as cm
from lupsim.cohort.model import Parameters, PatientArrays
from lupsim.trial.design import Discontinuation, Rescue, SteroidProtocol

__all__ = ["DROPOUT_REASONS", "DiseaseModel", "DiseaseParameters", "VisitRecord"]

F = NDArray[np.float64]
B = NDArray[np.bool_]

# Layout shared with the cohort model (which items belong to which organ).
_GENERIC_IDX = cm._GENERIC_IDX
_GENERIC_ORGAN = cm._GENERIC_DOMAIN
_ITEM_LOGIT = cm._ITEM_LOGIT
_ITEM_MULT = cm._ITEM_MULT
_MEMBER = cm._MEMBER
_MEMBER_F32 = _MEMBER.astype(np.float32)
_SEDIMENT_IDX = cm._SEDIMENT_IDX
_SEDIMENT_LOGIT = special.logit(cm._SEDIMENT_P)
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

# Columns of the uniform draws of one step: organs, items, sediment, mild BILAG.
_U_ORGAN = slice(0, _N_ORGANS)
_U_ITEM = slice(_N_ORGANS, _N_ORGANS + _GENERIC_IDX.size)
_U_SEDIMENT = slice(_U_ITEM.stop, _U_ITEM.stop + 3)
_U_MILD = slice(_U_SEDIMENT.stop, _U_SEDIMENT.stop + N_BILAG_DOMAINS)
_U_BILAG = slice(_U_MILD.stop, _U_MILD.stop + N_BILAG_DOMAINS)
_N_UNIFORMS = _U_BILAG.stop
_SQRT12 = np.float32(np.sqrt(12.0))
_U16 = np.float32(1.0 / 65536.0)


def _uniforms(rng: np.random.Generator, n: int, k: int) -> NDArray[np.float32]:
    """(n, k) uniforms on [0, 1) with 16-bit resolution, from raw generator output.

    Four uniforms per 64-bit draw: five times cheaper than ``rng.random``, and
    1/65536 is far finer than any probability the model compares them with.
    """
    raw = rng.bit_generator.random_raw((n * k + 3) // 4).view(np.uint16)[: n * k]
    return raw.reshape(n, k).astype(np.float32) * _U16


def _expit32(x: NDArray[Any]) -> NDArray[Any]:
    """Logistic function via tanh (exact, and faster than scipy's expit)."""
    return 0.5 + 0.5 * np.tanh(0.5 * x)


_SEDIMENT_Q = cm._SEDIMENT_P[None, :]
_QUIET_LOG_PROT = float(np.log(cm.PROTEINURIA_QUIET_MEDIAN))
_QUIET_MAX_LOG_PROT = float(np.log(0.45))
# Mild (C-only) BILAG activity persists about half the time from visit to visit.
_MILD_STAY = 0.5 + 0.5 * cm.BILAG_MILD_ONLY
_MILD_START = 0.5 * cm.BILAG_MILD_ONLY
_W2K = WEIGHTS.astype(np.float32)
_ORIGINAL_NEW_ONLY = np.array(
    [_D[c] for c in ("rash", "alopecia", "mucosal_ulcers", "proteinuria")]
)
_ORIGINAL_W = WEIGHTS[_ORIGINAL_NEW_ONLY].astype(np.float32)
# Columns: SLEDAI-2K weights, clinical weights (no serology), BILAG sources.
_FUSED = np.column_stack([_W2K, cm._CLINICAL_WEIGHTS, cm._BILAG_SOURCE_MATRIX]).astype(np.float32)


def _scores(
    present: B, new: B, two_k: NDArray[np.float32] | None = None
) -> tuple[NDArray[np.int16], NDArray[np.int16], NDArray[np.int16]]:
    """SLEDAI-2K, SELENA-SLEDAI and original SLEDAI from one product.

    Same rules as :func:`lupsim.activity.sledai.score_sledai` (tested equal):
    SELENA drops persistent proteinuria; the original drops persistent rash,
    alopecia, ulcers and proteinuria. ``two_k`` may be passed in when known.
    """
    if two_k is None:
        two_k = present.astype(np.float32) @ _W2K
    persistent = present[:, _ORIGINAL_NEW_ONLY] & ~new[:, _ORIGINAL_NEW_ONLY]
    selena = two_k - 4.0 * persistent[:, -1]
    original = two_k - persistent.astype(np.float32) @ _ORIGINAL_W
    return two_k.astype(np.int16), selena.astype(np.int16), original.astype(np.int16)


# SELENA flare index items (Petri et al., NEJM 2005;353:2550-8).
_SFI_MILD_NEW = np.array(
    [_D[c] for c in ("rash", "mucosal_ulcers", "pleurisy", "pericarditis", "arthritis", "fever")]
)
_SFI_SEVERE_NEW = np.array(
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
            "vasculitis",
            "myositis",
        )
    ]
)
_BILAG_RENAL = 7
_BILAG_HAEM = 8


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

    def replace(self, **changes: float) -> DiseaseParameters:
        """A copy with some parameters changed."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return DiseaseParameters(**values)


@dataclass
class VisitRecord:
    """What is measured at one visit, for every patient (arrays of length n)."""

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


@dataclass
class _State:
    organ_base: F  # (n, 8) stationary log-odds at baseline therapy
    organ_active: B  # (n, 8)
    item_base: F  # (n, 17) log-odds of each item given its organ is active
    present: B  # (n, 24)
    new: B
    baseline_active: B  # (n, 8) active at baseline
    log_prot: F
    prot_mean: F  # patient's log proteinuria when renal disease is active
    ds_mean: F
    ds_dev: F
    c3_mean: F
    c3_dev: F
    c4_mean: F
    c4_dev: F
    bilag_dev: F  # (n, 9)
    bilag_mild: B  # (n, 9)
    ever_domain: B  # (n, 9)
    pga_rater: F
    z_act: F
    prednisone: F
    prednisone_baseline: F
    prednisone_floor: F  # dose a flare increase decays back to
    weight: F
    sero_active: B
    selena_baseline: NDArray[np.int16]
    selena_prev: NDArray[np.int16]
    pga_prev: F
    bilag_prev: NDArray[np.int8]
    immunosuppressant: NDArray[np.int8]
    onset0: NDArray[Any]  # (n, 8) float32 onset rate per week at baseline therapy
    resolution0: NDArray[Any]  # (n, 8) float32 resolution rate per week
    item_q: F  # (n, 17) probability of each item given its organ is active
    bilag_base: F  # (n, 9) persistent part of the BILAG severity latent
    drug_weight: F  # 1 if serologically active, else the seronegative fraction
    log1p_pred0: F
    serology_dev_sd: float
    bilag_dev_sd: float


_MAX_INTERVAL_DAYS = 400


@dataclass
class _StepFactors:
    weeks: NDArray[Any]  # (n, 1) float32: interval length in weeks
    keep_item: NDArray[Any]  # (n, 1) float32
    rho_p: F
    sd_p: F
    rho_s: F
    sd_s: F
    rho_b: NDArray[Any]  # (n, 1) float32
    sd_b: NDArray[Any]  # (n, 1) float32


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
        pi0 = special.expit(organ_base)
        # Serologically active disease is unstable: its organs switch on and off
        # more often (rising anti-dsDNA and falling complement herald flares).
        rate = (
            self.params.organ_rate_per_week
            * _ORGAN_RATE[None, :]
            * np.where(sero, self.params.sero_active_turnover, 1.0)[:, None]
        )
        ever_domain = p.bilag <= 3  # anything but E has been involved
        selena = score_sledai(p.present, p.new, "selena")
        return _State(
            organ_base=organ_base.astype(np.float32),
            organ_active=active,
            item_base=item_base,
            present=p.present.copy(),
            new=p.new.copy(),
            baseline_active=active.copy(),
            log_prot=log_prot,
            prot_mean=prot_mean,
            ds_mean=ds_mean,
            ds_dev=ds - ds_mean,
            c3_mean=c3_mean,
            c3_dev=p.c3 - c3_mean,
            c4_mean=c4_mean,
            c4_dev=c4l - c4_mean,
            bilag_dev=(1.0 - self.params.bilag_persistence)
            * (p.bilag_latent - cm.BILAG_ACT_LOADING * p.z_act[:, None]),
            bilag_mild=(p.bilag == 2) & ~_bilag_active(p.present),
            ever_domain=ever_domain,
            pga_rater=p.pga_rater.copy(),
            z_act=p.z_act,
            prednisone=p.prednisone_mg.astype(np.float64).copy(),
            prednisone_baseline=p.prednisone_mg.astype(np.float64).copy(),
            prednisone_floor=p.prednisone_mg.astype(np.float64).copy(),
            weight=p.weight_kg,
            sero_active=sero,
            selena_baseline=selena,
            selena_prev=selena.copy(),
            pga_prev=p.pga.copy(),
            bilag_prev=p.bilag.copy(),
            immunosuppressant=p.immunosuppressant.copy(),
            onset0=(rate * pi0).astype(np.float32),
            resolution0=(rate * (1.0 - pi0)).astype(np.float32),
            item_q=special.expit(item_base).astype(np.float32),
            bilag_base=cm.BILAG_ACT_LOADING * p.z_act[:, None]
            + self.params.bilag_persistence
            * (p.bilag_latent - cm.BILAG_ACT_LOADING * p.z_act[:, None]),
            bilag_dev_sd=float(np.sqrt(1.0 - self.params.bilag_persistence**2)),
            drug_weight=np.where(sero, 1.0, self.params.seronegative_fraction),
            log1p_pred0=np.log1p(p.prednisone_mg),
            serology_dev_sd=float(np.sqrt(1.0 - w**2)),
        )

    def baseline_record(self) -> VisitRecord:
        """The baseline visit, as a record."""
        p = self.patients
        s = self.state
        n = p.n
        no = np.zeros(n, dtype=bool)
        return VisitRecord(
            present=p.present.copy(),
            new=p.new.copy(),
            selena=s.selena_baseline.copy(),
            sledai_2k=score_sledai(p.present, p.new, "2k"),
            sledai_original=score_sledai(p.present, p.new, "original"),
            bilag=p.bilag.copy(),
            pga=p.pga.copy(),
            prednisone_mg=s.prednisone.copy(),
            anti_dsdna_iu=p.anti_dsdna_iu.copy(),
            c3=p.c3.copy(),
            c4=p.c4.copy(),
            proteinuria_g=p.proteinuria_g.copy(),
            flare_mild=no,
            flare_severe=no.copy(),
            flare_severe_modified=no.copy(),
            rescue=no.copy(),
        )

    # -- one interval -----------------------------------------------------------
    def prepare(self, intervals: F) -> None:
        """Look up the decay factors of every interval of the trial at once.

        ``intervals`` is (patients, visits - 1), in whole days. Visits fall on
        whole study days, so each factor is computed once per distinct length
        and gathered, not computed per patient and visit.
        """
        par = self.params
        days = np.arange(0, _MAX_INTERVAL_DAYS + 1, dtype=np.float64)
        w = days / 7.0
        rho_p = par.proteinuria_ar ** (w / 4.0)
        rho_s = par.serology_ar ** (w / 4.0)
        rho_b = par.bilag_ar ** (w / 4.0)
        # Visit-major layout, so that each step reads contiguous rows.
        d = np.ascontiguousarray(np.clip(intervals.astype(np.intp), 0, _MAX_INTERVAL_DAYS).T)
        self._factors = _StepFactors(
            weeks=w.astype(np.float32)[d][..., None],
            keep_item=np.exp(-par.item_rate_per_week * w).astype(np.float32)[d][..., None],
            rho_p=rho_p[d],
            sd_p=(cm.PROTEINURIA_WITHIN_LOG_SD * np.sqrt(1.0 - rho_p**2))[d],
            rho_s=rho_s[d],
            sd_s=(self.state.serology_dev_sd * np.sqrt(1.0 - rho_s**2))[d],
            rho_b=rho_b.astype(np.float32)[d][..., None],
            sd_b=(self.state.bilag_dev_sd * np.sqrt(1.0 - rho_b**2)).astype(np.float32)[d][
                ..., None
            ],
        )

    def _at(self, k: int) -> _StepFactors:
        f = self._factors
        return _StepFactors(
            weeks=f.weeks[k],
            keep_item=f.keep_item[k],
            rho_p=f.rho_p[k],
            sd_p=f.sd_p[k],
            rho_s=f.rho_s[k],
            sd_s=f.sd_s[k],
            rho_b=f.rho_b[k],
            sd_b=f.sd_b[k],
        )

    def step(
        self,
        k: int,
        effect: F,
        week: float,
        rng: np.random.Generator,
        steroid_rng: np.random.Generator,
    ) -> VisitRecord:
        """Advance every patient over interval ``k`` (see :meth:`prepare`) and
        score the visit at its end.

        ``effect`` is each patient's anti-BAFF effect fraction at this visit.
        The random draws have fixed shapes whatever the state, so that the same
        seed gives the same numbers to each purpose (common random numbers).
        """
        s = self.state
        par = self.params
        n = s.z_act.size
        t = self._at(k)
        u = _uniforms(rng, n, _N_UNIFORMS)
        z = rng.standard_normal((n, 6), dtype=np.float32)

        # Organs: two-state chains towards each patient's current long-run activity.
        drug = effect * s.drug_weight
        shift = (
            par.steroid_logodds * (s.log1p_pred0 - np.log1p(s.prednisone))
            - par.drug_logodds * drug
            - par.standard_care_logodds
        )
        # The log-odds shift splits evenly between onset and resolution; the
        # drug also lowers the onset rate alone (it prevents flares).
        half = (0.5 * shift).astype(np.float32)[:, None]
        onset = s.onset0 * np.exp(
            half - (par.drug_onset_logodds * drug).astype(np.float32)[:, None]
        )
        resolution = s.resolution0 * np.exp(-half)
        total = onset + resolution
        pi = onset / total
        keep = np.exp(-total * t.weeks)
        # pi + (1 - pi) keep if active now, pi (1 - keep) if not.
        active = u[:, _U_ORGAN] < pi * (1.0 - keep) + keep * s.organ_active
        newly = active & ~s.organ_active

        # Items inside the seven two-step organs (a fresh organ draws them anew).
        keep_i = t.keep_item
        was = s.present[:, _GENERIC_IDX]
        fresh = newly[:, _GENERIC_ORGAN]
        q = s.item_q
        p_item = q * (1.0 - keep_i * ~fresh) + keep_i * was
        margin = p_item - u[:, _U_ITEM]
        items = (margin > 0) & active[:, _GENERIC_ORGAN]
        empty = active[:, :_RENAL] & ((items.astype(np.float32) @ _MEMBER_F32) == 0)
        if empty.any():
            rows, organs = np.nonzero(empty)
            masked = np.where(_MEMBER[:, organs].T, margin[rows], -np.inf)
            items[rows, np.argmax(masked, axis=1)] = True

        # Renal: proteinuria follows activity; the sediment lives inside it.
        renal = active[:, _RENAL]
        flare_level = self.cohort_parameters["proteinuria_log_median"] + (
            cm.PROTEINURIA_LOG_SD * z[:, 0]
        )
        s.prot_mean = np.where(
            newly[:, _RENAL] & ~s.baseline_active[:, _RENAL], flare_level, s.prot_mean
        )
        centre = np.where(renal, s.prot_mean, _QUIET_LOG_PROT)
        prev_centre = np.where(s.organ_active[:, _RENAL], s.prot_mean, _QUIET_LOG_PROT)
        log_prot_raw: F = centre + t.rho_p * (s.log_prot - prev_centre) + t.sd_p * z[:, 1]
        log_prot: F = np.where(renal, log_prot_raw, np.minimum(log_prot_raw, _QUIET_MAX_LOG_PROT))
        prot: F = np.exp(log_prot).round(2)
        p_sed = (
            _SEDIMENT_Q * (1.0 - keep_i * ~newly[:, _RENAL, None])
            + keep_i * (s.present[:, _SEDIMENT_IDX])
        )
        sediment = (u[:, _U_SEDIMENT] < p_sed) & renal[:, None]
        sediment[:, 0] |= renal & (prot <= 0.5) & ~sediment.any(axis=1)

        # Serology: deviations around each patient's mean; the drug moves the means.
        rho_s = t.rho_s
        sd_dev = t.sd_s
        s.ds_dev = rho_s * s.ds_dev + cm.DSDNA_LOG10_SD * sd_dev * z[:, 2]
        s.c3_dev = rho_s * s.c3_dev + cm.C3_SD * sd_dev * z[:, 3]
        s.c4_dev = rho_s * s.c4_dev + cm.C4_LOG_SD * sd_dev * z[:, 4]
        dsdna = np.clip(10.0 ** (s.ds_mean - par.dsdna_drop_log10 * effect + s.ds_dev), 1, 5000)
        c3: F = np.maximum(s.c3_mean + par.c3_rise * effect + s.c3_dev, 15.0)
        c4 = np.clip(np.exp(s.c4_mean + par.c4_rise_log * effect + s.c4_dev), 1.0, 80.0)

        present = np.empty_like(s.present)
        present[:, _GENERIC_IDX] = items
        present[:, _SEDIMENT_IDX] = sediment
        present[:, _PROTEINURIA] = prot > 0.5
        present[:, _IMMUNO_IDX[0]] = (c3 < cm.C3_LOW) | (c4 < cm.C4_LOW)
        present[:, _IMMUNO_IDX[1]] = dsdna >= cm.DSDNA_POSITIVE_IU
        new = present & ~s.present
        prev_prot = np.exp(s.log_prot)
        new[:, _PROTEINURIA] |= present[:, _PROTEINURIA] & (prot - prev_prot > 0.5)

        # BILAG: autocorrelated severity latent, more severe for organs flaring from quiet.
        # Uniform innovations with unit variance: the AR(1) latent is close to
        # normal, and uniforms cost a fifth of normals to draw.
        s.bilag_dev = t.rho_b * s.bilag_dev + t.sd_b * ((u[:, _U_BILAG] - 0.5) * _SQRT12)
        latent = s.bilag_base + s.bilag_dev
        flaring = (active & ~s.baseline_active).astype(np.float32)
        latent = latent + par.flare_severity * (flaring @ _ORGAN_TO_BILAG)
        mild = u[:, _U_MILD] < np.where(s.bilag_mild, _MILD_STAY, _MILD_START)
        # SLEDAI-2K, clinical SLEDAI and items per BILAG domain in one product.
        fused = present.astype(np.float32) @ _FUSED
        counts = fused[:, 2:]
        s.ever_domain |= counts > 0
        grades = cm.bilag_grades(
            present, new, latent, prot, self.cohort_parameters, mild, s.ever_domain, counts
        )
        s.bilag_mild = mild

        sledai_2k, selena, original = _scores(present, new, fused[:, 0])
        pga = cm.pga_from_state(
            present,
            grades,
            s.pga_rater,
            z[:, 5].astype(np.float64),
            self.cohort_parameters,
            par.pga_visit_sd,
            clinical=fused[:, 1],
        )
        # A physician rates a visit with newly active organ disease higher.
        pga = np.minimum(pga + PGA_PER_NEW_ORGAN * newly.any(axis=1), 3.0).round(2)

        # SELENA flare index, against the previous visit.
        mild_f, severe_f, severe_mod = _sfi(
            selena,
            s.selena_prev,
            new,
            pga,
            s.pga_prev,
            grades,
            s.bilag_prev,
            newly,
            prot,
            prev_prot,
        )
        # Standard care reacts: rescue, flare increases, tapers.
        rescue_flag = severe_mod.copy()
        prev_pred = s.prednisone
        pred = self._steroids(week, selena, mild_f, rescue_flag, steroid_rng)
        if self.rescue.new_immunosuppressant_probability > 0:
            start_is = (
                rescue_flag
                & (s.immunosuppressant == 0)
                & (self._steroid_u[:, 2] < self.rescue.new_immunosuppressant_probability)
            )
            s.immunosuppressant = np.where(start_is, 3, s.immunosuppressant).astype(np.int8)
        # The SFI also counts an increase of prednisone to > 0.5 mg/kg/day as
        # severe (only an increase: some patients enter above that dose).
        severe_mod = severe_mod | ((pred > 0.5 * s.weight + 1e-9) & (pred > prev_pred + 1e-9))
        severe_f = severe_f | severe_mod
        mild_f = mild_f & ~severe_f  # a flare is one or the other

        s.organ_active = active
        s.present = present
        s.new = new
        s.log_prot = np.log(np.maximum(prot, 0.01))
        s.selena_prev = selena
        s.pga_prev = pga
        s.bilag_prev = grades
        return VisitRecord(
            present=present,
            new=new,
            selena=selena,
            sledai_2k=sledai_2k,
            sledai_original=original,
            bilag=grades,
            pga=pga,
            prednisone_mg=pred.copy(),
            anti_dsdna_iu=np.round(dsdna, 1),
            c3=np.round(c3, 1),
            c4=np.round(c4, 1),
            proteinuria_g=prot,
            flare_mild=mild_f,
            flare_severe=severe_f,
            flare_severe_modified=severe_mod,
            rescue=rescue_flag,
        )

    def _steroids(
        self,
        week: float,
        selena: NDArray[np.int16],
        mild_flare: B,
        severe_flare: B,
        rng: np.random.Generator,
    ) -> F:
        """Prednisone after this visit's decisions (mg/day)."""
        s = self.state
        st = self.steroids
        n = selena.size
        u = rng.random((n, 3))
        self._steroid_u = u
        # A flare increase or rescue burst decays back halfway each visit, on
        # the 2.5 mg grid, rounding towards the pre-flare dose.
        excess = np.maximum(s.prednisone - s.prednisone_floor, 0.0)
        pred = s.prednisone_floor + 2.5 * np.floor(0.5 * excess / 2.5)
        responding = (selena <= s.selena_baseline - 4) & ~mild_flare & ~severe_flare
        taper = responding & (pred > st.taper_floor_mg) & (u[:, 0] < st.taper_probability)
        if st.forced_taper_weeks is not None:
            lo, hi = st.forced_taper_weeks
            if lo <= week <= hi:
                taper |= pred > st.forced_taper_target_mg
        pred = np.where(taper, np.maximum(pred - st.taper_step_mg, st.taper_floor_mg), pred)
        s.prednisone_floor = np.where(taper, pred, s.prednisone_floor)
        # Investigators avoid raising steroids for mild flares inside the
        # failure window, where it would make the patient a non-responder.
        in_window = st.failure_window_weeks[0] <= week <= st.failure_window_weeks[1]
        p_raise = 0.0 if in_window else st.flare_increase_probability
        raise_dose = mild_flare & ~severe_flare & (u[:, 1] < p_raise)
        pred = np.where(raise_dose, pred + st.flare_increase_mg, pred)
        burst = np.maximum(pred, 2.5 * np.ceil(st.severe_flare_mg_per_kg * s.weight / 2.5))
        pred = np.where(severe_flare, burst, pred)
        s.prednisone = pred
        return pred

    def dropout(
        self, record: VisitRecord, dt_days: F, rng: np.random.Generator
    ) -> tuple[B, NDArray[np.int8]]:
        """Who leaves the study after this visit, and why (index in DROPOUT_REASONS)."""
        d = self.discontinuation
        n = record.selena.size
        scale = dt_days / 28.0
        # Lack of efficacy as patients and physicians see it: no clinically
        # meaningful (>= 4-point) improvement from baseline.
        no_gain = record.selena > self.state.selena_baseline - 4
        # Competing hazards: withdrawal, adverse event, lack of efficacy.
        h_w = d.withdrawal_per_4w * scale
        h_ae = d.adverse_event_per_4w * scale
        h_loe = d.lack_of_efficacy_per_4w * scale * no_gain
        total = h_w + h_ae + h_loe
        u = rng.random((n, 3))
        leave = u[:, 0] < -np.expm1(-total)
        v = u[:, 1] * total
        reason = ((v >= h_w).astype(np.int8) + (v >= h_w + h_ae)).astype(np.int8)
        flare_exit = record.flare_severe_modified & (u[:, 2] < d.after_severe_flare)
        reason = np.where(flare_exit & ~leave, 3, reason).astype(np.int8)
        return leave | flare_exit, reason


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


def _sfi(
    selena: NDArray[np.int16],
    selena_prev: NDArray[np.int16],
    new: B,
    pga: F,
    pga_prev: F,
    bilag: NDArray[np.int8],
    bilag_prev: NDArray[np.int8],
    organ_newly: B,
    proteinuria: F,
    proteinuria_prev: F,
) -> tuple[B, B, B]:
    """SELENA flare index from clinical change since the previous visit.

    Returns (mild/moderate, severe, severe as in the modified SFI of the
    belimumab programme, which ignores severe flares triggered only by the
    SELENA-SLEDAI rising above 12). Treatment-defined items (prednisone
    increases) are added by the caller after standard care reacts.
    """
    delta = selena.astype(np.int16) - selena_prev
    # "New or worse" organ disease: the organ was quiet at the previous visit
    # (not an item flickering inside an active organ), or nephritis worsened
    # (proteinuria up by >= 1 g/24 h to >= 2 g/24 h).
    new_cns = organ_newly[:, 0] & new[:, _SFI_SEVERE_NEW[:7]].any(axis=1)
    new_vasculitis = organ_newly[:, 1]
    new_myositis = new[:, _D["myositis"]]
    new_nephritis = (bilag[:, _BILAG_RENAL] == 0) & (
        organ_newly[:, 7] | ((proteinuria - proteinuria_prev >= 1.0) & (proteinuria >= 2.0))
    )
    new_haem_a = (bilag[:, _BILAG_HAEM] == 0) & organ_newly[:, 6]
    clinical_severe = (
        new_cns
        | new_vasculitis
        | new_myositis
        | new_nephritis
        | new_haem_a
        | ((pga > 2.5) & (pga_prev <= 2.5))
    )
    score_severe = (selena > 12) & (selena_prev <= 12) & (delta >= 3)
    severe = clinical_severe | score_severe
    mild = ~severe & (
        ((delta >= 3) & (selena <= 12))
        | new[:, _SFI_MILD_NEW].any(axis=1)
        | ((pga - pga_prev >= 1.0 - 1e-9) & (pga <= 2.5))
    )
    return mild, severe, clinical_severe
