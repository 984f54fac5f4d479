"""The trial engine: SimPy owns the calendar, numpy owns the patients.

The split:

- **Calendar (SimPy).** One ``Environment`` per trial runs the conduct: sites
  open at their activation days; an enrolment process screens the arrivals at
  the open sites (a Poisson number per site) week by week, counts screen
  failures by the first rule broken, and randomises eligible candidates after
  their screening period, until the target is reached; milestone processes
  fire interim looks when "N patients reached week W", and the final data cut
  fires when the last patient reaches the primary visit. Where sites have a
  limited number of infusion chairs, every dosing visit queues for a chair
  (``simpy.Resource``) and waits, to the next clinic day if need be. The
  enrolment process waits a whole block of weeks at a time (it knows from the
  arrivals in which week the target is met), so a BLISS-52-sized trial costs
  a handful of SimPy events, plus one process per infusion with chairs.
- **Patients (numpy).** A patient's disease course depends on time since
  randomisation, not on the calendar, so :class:`~lupsim.trial.disease.DiseaseModel`
  advances all randomised patients visit by visit as arrays: no Python loop
  over patients. Leaving the study does not feed back into the course, so
  dropout and treatment failure are judged for every visit at once after it.
  The calendar then maps each study day to a calendar day (randomisation day
  + study day), which is what data cuts and milestones see.

Randomness comes from named streams of the replicate's SeedSequence
(:mod:`lupsim.random`): ``enrolment``, ``screening``, ``baseline`` (the
candidates), ``randomisation`` (one per stratum), ``visits`` (visit windows),
``disease``, ``steroids``, ``egfr``, ``dropout`` and ``chairs``, and, in
designs with a nephritis background regimen, ``induction`` (each patient's
regimen) and ``nephritis`` (each kidney's remission proteinuria). Changing the
dropout model therefore leaves enrolment and randomisation untouched, and a
stream one design does not use leaves every other design's numbers alone.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from numpy.typing import NDArray

from lupsim.cohort.calibration import CalibrationResult, calibrate
from lupsim.cohort.cohort import draw_candidates
from lupsim.cohort.columns import PatientView
from lupsim.cohort.eligibility import parse_rule
from lupsim.cohort.model import IS_AGENTS, Parameters, PatientArrays
from lupsim.cohort.vocabulary import INDUCTION_REGIMENS
from lupsim.errors import ScenarioError
from lupsim.random import raw16, replicate_seed, stream
from lupsim.trial.dataset import EventLog, TrialDataset, VisitArrays
from lupsim.trial.design import TrialDesign
from lupsim.trial.disease import Course, DiseaseModel, DiseaseParameters, cumulative_or
from lupsim.trial.pkpd import PKPD, REFERENCE_WEIGHT_KG, effect_curve
from lupsim.trial.randomisation import allocate, stratum_codes

if TYPE_CHECKING:  # the scenario module imports the trial design
    from lupsim.scenario import Scenario

__all__ = ["simulate_trial"]

# The calibrated disease parameters (frozen: one instance serves every trial).
_DEFAULT_DISEASE = DiseaseParameters()
# Enrolment that has not reached its target after this long is a design error.
_MAX_ENROLMENT_DAYS = 365.0 * 15
_WEIGHT_BIN_KG = 5.0
#: Arrivals of a block of enrolment calendar: this many times the candidates
#: expected to give the eligible patients still needed (plus 30), so that one
#: block almost always suffices (one block in every one of 30 seeds of bliss52
#: and nephritis-addon). Candidates past the week that completes enrolment are
#: generated for nothing: about 8% of them.
_BLOCK_MARGIN = 1.08
# Scale of the 16-bit integers of lupsim.random.raw16 to uniforms on [0, 1).
_U16 = np.float32(1.0 / 65536.0)


@dataclass
class _Enrolled:
    """Randomised candidates, in randomisation order."""

    patients: PatientArrays
    site: NDArray[np.int32]
    screened_day: NDArray[np.float64]
    rand_day: NDArray[np.float64]
    n_screened: int
    failures: NDArray[np.int64]
    screen_days: NDArray[np.float64]  # every screened candidate, for the event log
    screen_first_failure: NDArray[np.int16]


def _arrival_block(
    activation: NDArray[np.float64],
    start: float,
    stop: float,
    rate_per_day: float,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
    """Screening arrivals at every open site between two days, in time order."""
    opens = np.maximum(activation, start)
    span = np.maximum(stop - opens, 0.0)
    per_site = rng.poisson(rate_per_day * span)
    site = np.repeat(np.arange(activation.size, dtype=np.int32), per_site)
    day = opens[site] + rng.random(site.size) * span[site]
    order = np.argsort(day, kind="stable")
    return day[order], site[order]


def _horizon(
    activation: NDArray[np.float64], rate_per_day: float, wanted: float, start: float
) -> float:
    """First day by which ``wanted`` arrivals are expected after ``start``.

    The expected count ``rate * sum(max(t - open_i, 0))`` is piecewise linear
    in ``t``, with a knot at each site's opening: the answer is on the piece
    where it first reaches ``wanted``, found exactly (at most
    :data:`_MAX_ENROLMENT_DAYS` after ``start``).

    Examples
    --------
    >>> round(_horizon(np.array([0.0, 10.0]), 1.0, 20.0, 0.0), 6)  # t + (t - 10) = 20
    15.0
    """
    if wanted <= 0.0:
        return start
    opens = np.sort(np.maximum(activation, start))
    total = np.cumsum(opens)
    count = np.arange(1, opens.size + 1)
    # Expected arrivals by each opening day, and the piece the answer is on:
    # the first k sites open, t in [opens[k - 1], opens[k]].
    by_open = rate_per_day * (count * opens - total)
    k = int(np.searchsorted(by_open, wanted, side="left"))
    k = max(k, 1)
    day = (wanted / rate_per_day + float(total[k - 1])) / k
    return min(day, start + _MAX_ENROLMENT_DAYS)


@dataclass
class _Block:
    """Arrivals of one stretch of the calendar and the candidates they are."""

    day: NDArray[np.float64]
    site: NDArray[np.int32]
    patients: PatientArrays
    eligible: NDArray[np.bool_]
    first_failure: NDArray[np.int16]
    screening: NDArray[np.float64]
    stop: float
    screened: int = 0  # arrivals screened (a prefix of the block)


def _week_ending_after(t0: float, x: float, *, inclusive: bool = False) -> int:
    """Smallest ``j >= 0`` whose week, counted from ``t0``, ends after ``x``:
    ``x < t0 + 7 (j + 1)`` (``<=`` if ``inclusive``). Week ends are whole
    numbers of days, exact in floating point, as SimPy's clock reaches them."""

    def ends_after(j: int) -> bool:
        end = t0 + 7.0 * (j + 1)
        return x <= end if inclusive else x < end

    j = max(math.ceil((x - t0) / 7.0) - 1, 0)
    while not ends_after(j):
        j += 1
    while j > 0 and ends_after(j - 1):
        j -= 1
    return j


def _enrol(
    env: simpy.Environment,
    design: TrialDesign,
    scenario: Scenario,
    params: Parameters,
    ss: np.random.SeedSequence,
    activation: NDArray[np.float64],
    n_rules: int,
    pass_rate: float,
) -> _Enrolled:
    """Run enrolment on the SimPy calendar until the target is randomised.

    Arrivals are drawn a block of calendar at a time (block ``k`` from the
    streams ``("enrolment", k)`` and ``("baseline", k)``), each block long
    enough for :data:`_BLOCK_MARGIN` times the candidates expected to give the
    eligible patients still needed (plus 30). Screening goes week by week in
    arrival order and stops once the target is met; each eligible candidate is
    randomised after a screening period. A week screens the arrivals before its
    end that earlier weeks did not, so the enrolment process finds, for each
    block, the week in which the target is met or the block is used up (the
    next block is drawn then) and waits on the calendar until that week is
    over: one SimPy event per block rather than per week, the same screening.
    """
    en = design.enrolment
    target = design.n_randomised
    rate = en.screening_rate_per_site_week / 7.0
    blocks: list[_Block] = []

    def new_block(start: float, eligible_so_far: int) -> _Block:
        k = len(blocks)
        wanted = _BLOCK_MARGIN * (target - eligible_so_far) / max(pass_rate, 0.01) + 30.0
        stop = _horizon(activation, rate, wanted, start)
        day, site = _arrival_block(activation, start, stop, rate, stream(ss, "enrolment", k))
        size = max(int(day.size), 1)
        p, eligible, ff = draw_candidates(
            scenario.population, params, ss, k, scenario.eligibility, size=size
        )
        screening = stream(ss, "screening", k).uniform(*en.screening_days, size=size)
        block = _Block(day, site, p, eligible[: day.size], ff[: day.size], screening, stop)
        blocks.append(block)
        return block

    def process(env: simpy.Environment) -> Any:
        got = 0
        start = 0.0
        while True:
            t0 = float(env.now)  # a week boundary
            b = new_block(start, got)
            pos = np.flatnonzero(b.eligible)
            need = target - got
            if pos.size >= need:
                # The target is met by the need-th eligible arrival, in its week.
                b.screened = int(pos[need - 1]) + 1
                weeks = _week_ending_after(t0, float(b.day[b.screened - 1]))
            else:
                # Used up in the first week that ends at or after its stop: that
                # week screens what is left, and the next block is drawn at its end.
                weeks = _week_ending_after(t0, b.stop, inclusive=True)
                b.screened = int(np.searchsorted(b.day, t0 + 7.0 * (weeks + 1), side="left"))
                pos = pos[pos < b.screened]
            if t0 + 7.0 * weeks > _MAX_ENROLMENT_DAYS:
                raise ScenarioError(
                    f"scenario {scenario.where()}: design.enrolment: after "
                    f"{_MAX_ENROLMENT_DAYS / 365:.0f} years only {got} of {target} patients "
                    "were enrolled; raise screening_rate_per_site_week or sites, or relax "
                    "the eligibility rules"
                )
            yield env.timeout(7.0 * (weeks + 1))
            if pos.size >= need:
                return
            got += int(pos.size)
            start = b.stop

    env.process(process(env))
    env.run()
    takes = [np.flatnonzero(b.eligible[: b.screened]) for b in blocks]
    site = np.concatenate([b.site[t] for b, t in zip(blocks, takes, strict=True)])
    screened = np.concatenate([b.day[t] for b, t in zip(blocks, takes, strict=True)])
    rand = screened + np.concatenate([b.screening[t] for b, t in zip(blocks, takes, strict=True)])
    order = np.argsort(rand, kind="stable")
    if len(blocks) == 1:
        patients = blocks[0].patients.take(takes[0][order])
    else:
        patients = PatientArrays.concat(
            [b.patients.take(t) for b, t in zip(blocks, takes, strict=True)]
        ).take(order)
    ff = np.concatenate([b.first_failure[: b.screened] for b in blocks])
    return _Enrolled(
        patients=patients,
        site=site[order],
        screened_day=screened[order],
        rand_day=rand[order],
        n_screened=int(ff.size),
        failures=np.bincount(ff[ff >= 0], minlength=n_rules)[:n_rules].astype(np.int64),
        screen_days=np.concatenate([b.day[: b.screened] for b in blocks]),
        screen_first_failure=ff,
    )


# The last scenario's fit. Populations and rules are frozen, so the same objects
# have the same fit: replicates of one scenario skip even the JSON dump that
# calibrate() keys its cache with.
_LAST_FIT: list[tuple[Any, Any, CalibrationResult]] = []


def _calibration(scenario: Scenario) -> CalibrationResult:
    """``calibrate(scenario.population, scenario.eligibility)``, remembered."""
    population, eligibility = scenario.population, scenario.eligibility
    for pop, elig, fit in _LAST_FIT:
        if pop is population and elig is eligibility:
            return fit
    fit = calibrate(population, eligibility)
    _LAST_FIT[:] = [(population, eligibility, fit)]
    return fit


@lru_cache(maxsize=256)
def _effect(arm_json: str, pk: PKPD, last_day: int, weight_bin: float) -> NDArray[np.float64]:
    from lupsim.trial.design import Arm

    arm = Arm.model_validate_json(arm_json)
    curve = effect_curve(arm, pk, last_day, weight_bin)
    curve.setflags(write=False)
    return curve


def _effects_at(
    design: TrialDesign,
    pk: PKPD,
    arm: NDArray[np.int8],
    weight: NDArray[np.float64],
    day_idx: NDArray[np.int64],
    last_day: int,
) -> NDArray[np.float64]:
    """Drug effect of each patient at each visit, (n, visits)."""
    out = np.zeros(day_idx.shape)
    for a, spec in enumerate(design.arms):
        if spec.drug != "anti_baff":
            continue
        rows = np.flatnonzero(arm == a)
        if rows.size == 0:
            continue
        arm_json = _arm_json(spec)
        if spec.route == "iv":
            # mg/kg dosing: concentrations do not depend on weight.
            curve = _effect(arm_json, pk, last_day, REFERENCE_WEIGHT_KG)
            out[rows] = curve[day_idx[rows]]
        else:
            bins = _WEIGHT_BIN_KG * np.round(weight[rows] / _WEIGHT_BIN_KG)
            for b in np.unique(bins):
                sel = rows[bins == b]
                out[sel] = _effect(arm_json, pk, last_day, float(b))[day_idx[sel]]
    return out


# JSON of the arms seen last (arms are frozen: the same object, the same JSON).
_ARM_JSON: dict[int, tuple[Any, str]] = {}


def _arm_json(arm: Any) -> str:
    """``arm.model_dump_json()``, the key of the effect-curve cache, remembered."""
    hit = _ARM_JSON.get(id(arm))
    if hit is not None and hit[0] is arm:
        return hit[1]
    if len(_ARM_JSON) > 64:
        _ARM_JSON.clear()
    text = arm.model_dump_json()
    _ARM_JSON[id(arm)] = (arm, text)
    return text


def _background(
    design: TrialDesign, patients: PatientArrays, ss: np.random.SeedSequence
) -> PatientArrays:
    """Start every randomised patient on the design's background induction regimen.

    The regimen is the investigator's choice, drawn per patient with the
    design's shares from the ``induction`` stream, before randomisation (so it
    can stratify it). It replaces the patient's immunosuppressant at screening:
    mycophenolate stays the maintenance drug, Euro-Lupus cyclophosphamide is
    followed by azathioprine (Houssiau 2002), so rescue therapy never "starts"
    an immunosuppressant the regimen already gives. Without a regimen the
    patients are returned unchanged and no stream is drawn from.
    """
    shares = design.background.shares()
    if not any(shares):
        return patients
    u = stream(ss, "induction").random(patients.n)
    regimen = (np.searchsorted(np.cumsum(shares)[:-1], u, side="right") + 1).astype(np.int8)
    maintenance = np.array([0, *(_MAINTENANCE[r] for r in INDUCTION_REGIMENS)], dtype=np.int8)
    return dataclasses.replace(patients, induction=regimen, immunosuppressant=maintenance[regimen])


#: Immunosuppressant (code of lupsim.cohort.model.IS_AGENTS) each induction
#: regimen maintains with: mycophenolate itself; azathioprine after Euro-Lupus
#: cyclophosphamide (Houssiau FA et al., Arthritis Rheum 2002;46:2121-31).
_MAINTENANCE = {
    "mycophenolate": 1 + IS_AGENTS.index("mycophenolate"),
    "euro_lupus_cyclophosphamide": 1 + IS_AGENTS.index("azathioprine"),
}


def _strata(
    design: TrialDesign, patients: PatientArrays
) -> tuple[NDArray[np.bool_], NDArray[np.int32]]:
    rules = design.randomisation.stratify_by
    view = PatientView(patients)
    flags = np.zeros((patients.n, len(rules)), dtype=bool)
    for j, text in enumerate(rules):
        flags[:, j] = parse_rule(text).evaluate(view)
    return flags, stratum_codes(flags)


def simulate_trial(
    scenario: Scenario,
    seed: int,
    *,
    replicate: int | None = None,
    disease: DiseaseParameters | None = None,
    pkpd: PKPD | None = None,
    cohort_parameters: Parameters | None = None,
) -> TrialDataset:
    """Simulate one trial of a scenario.

    Parameters
    ----------
    scenario
        A scenario with a ``design`` (e.g. ``load_scenario("bliss52")``).
    seed
        Seed of the run; with ``replicate=k`` the trial uses child ``k`` of the
        root SeedSequence, so replicate ``k`` can be re-run alone.
    disease, pkpd
        Disease and drug parameters (default: the calibrated ones, with the
        scenario's ``[disease]`` and ``[pkpd]`` overrides).
    cohort_parameters
        Parameters of the cohort model (default: fitted to the population).

    Notes
    -----
    A design with ``outcome = "binomial"`` has no disease model: the trial is
    :func:`lupsim.trial.binomial.simulate_binomial_trial`'s, and ``disease``,
    ``pkpd`` and ``cohort_parameters`` are ignored.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> ds.n, ds.arms
    (865, ('placebo', 'belimumab_1mg', 'belimumab_10mg'))
    """
    design = scenario.design
    if design is None:
        raise ScenarioError(
            f"scenario {scenario.where()} has no [design] table; add one to simulate a trial"
        )
    if design.outcome == "binomial":
        # No disease model: each arm's response is drawn with its rate. The
        # disease, drug and cohort parameters do not apply.
        from lupsim.trial.binomial import simulate_binomial_trial

        return simulate_binomial_trial(scenario, seed, replicate=replicate)
    if disease is None:
        disease = _DEFAULT_DISEASE
        if scenario.disease is not None:
            disease = scenario.disease.apply(disease)
    if pkpd is None:
        pkpd = PKPD() if scenario.pkpd is None else scenario.pkpd.apply(PKPD())
    pk = pkpd
    ss = replicate_seed(seed, replicate)
    fit = _calibration(scenario)
    params = cohort_parameters if cohort_parameters is not None else fit.parameters
    pass_rate = fit.pass_rate
    env = simpy.Environment()
    en = design.enrolment
    rng_enrol = stream(ss, "enrolment")
    first_week, last_week = en.activation_weeks
    activation = np.sort(rng_enrol.uniform(7.0 * first_week, 7.0 * last_week, en.sites))
    rule_labels = scenario.eligibility.labels() if scenario.eligibility else ()
    enrolled = _enrol(env, design, scenario, params, ss, activation, len(rule_labels), pass_rate)
    patients = _background(design, enrolled.patients, ss)
    n = patients.n

    flags, strata = _strata(design, patients)
    arm = allocate(strata, design.allocation or (1,) * len(design.arms), design.block_sizes(), ss)

    # Visit calendar in study days (baseline = day 0), jittered inside the window.
    nominal = np.asarray(design.visit_days())
    n_visits = nominal.size
    rng_visits = stream(ss, "visits")
    jitter = rng_visits.uniform(-design.visit_window_days, design.visit_window_days, (n, n_visits))
    jitter[:, 0] = 0.0
    day = np.round(nominal[None, :] + jitter)
    last_day = int(nominal[-1] + design.visit_window_days) + 1
    day_idx = np.clip(day.astype(np.int64), 0, last_day)
    effects = _effects_at(design, pk, arm, patients.weight_kg, day_idx, last_day)
    intervals = np.diff(day, axis=1)

    model = DiseaseModel(
        patients, params, disease, design.steroids, design.rescue, design.discontinuation
    )
    weeks = design.visit_weeks()
    course = model.run(
        intervals,
        effects,
        weeks,
        stream(ss, "disease"),
        stream(ss, "steroids"),
        stream(ss, "egfr"),
        stream(ss, "nephritis") if design.background.induction else None,
    )
    observed, disc_visit, disc_reason, disc_day = _dropout(model, course, intervals, day, ss)
    failed = _treatment_failure(design, patients, course, observed, weeks)
    arrays = _visit_arrays(course, observed, day, failed)
    rand_cal = enrolled.rand_day
    events, conduct = _calendar_events(
        design, arrays, rand_cal, activation, enrolled, disc_day, arm, ss
    )
    subjects = _subject_arrays(
        patients,
        arm,
        enrolled,
        flags,
        strata,
        disc_visit,
        disc_reason,
        disc_day,
        arrays,
        design,
        weeks,
    )
    return TrialDataset(
        subject_arrays=subjects,
        arrays=arrays,
        visit_weeks=tuple(weeks),
        arms=tuple(a.name for a in design.arms),
        control=design.control_arm,
        primary_week=design.primary_week,
        event_log=events,
        seed=seed,
        replicate=replicate,
        scenario=scenario.name,
        screening={
            "screened": enrolled.n_screened,
            "randomised": n,
            "failures": dict(zip(rule_labels, map(int, enrolled.failures), strict=True)),
        },
        strata_rules=design.randomisation.stratify_by,
        conduct=conduct,
    )


def _dropout(
    model: DiseaseModel,
    course: Course,
    intervals: NDArray[np.float64],
    day: NDArray[np.float64],
    ss: np.random.SeedSequence,
) -> tuple[NDArray[np.bool_], NDArray[np.int16], NDArray[np.int8], NDArray[np.float64]]:
    """Who attends each visit, and when and why each leaver left.

    The ``dropout`` stream gives, visit by visit, three uniforms per patient
    for the competing hazards and one for the day of leaving (16-bit uniforms,
    :func:`lupsim.random.raw16`: a probability of leaving is not known to 1 in
    65,536). Leaving does not feed back into the disease course, so every visit
    is judged at once after it. Returns ``observed`` (visits, n), visit-major,
    and per patient the visit after which they left (-1: completed), the
    reason and the study day.
    """
    n_int, n = intervals.shape[1], intervals.shape[0]
    u = raw16(stream(ss, "dropout"), 4 * n_int * n).reshape(4, n_int, n) * _U16
    leave, reason = model.dropout(course, intervals, u[:3])
    # A patient who leaves does so before the next visit would have fallen.
    room = np.full((n_int, n), 28.0)
    room[:-1] = intervals.T[1:]
    gap = 1.0 + u[3] * np.maximum(room - 2.0, 0.0)
    # Leaving after the last visit is completing the study.
    leaves = leave[:-1]
    observed = np.ones((n_int + 1, n), dtype=bool)
    np.logical_not(cumulative_or(leaves), out=observed[2:])
    disc_visit = np.full(n, -1, dtype=np.int16)
    disc_reason = np.full(n, -1, dtype=np.int8)
    disc_day = np.full(n, np.nan)
    who = np.flatnonzero(~observed[-1])
    if who.size:
        first = np.argmax(leaves[:, who], axis=0)  # the visit left after, minus one
        disc_visit[who] = first + 1
        disc_reason[who] = reason[first, who]
        disc_day[who] = day[who, first + 1] + gap[first, who]
    return observed, disc_visit, disc_reason, disc_day


def _treatment_failure(
    design: TrialDesign,
    patients: PatientArrays,
    course: Course,
    observed: NDArray[np.bool_],
    weeks: list[float],
) -> NDArray[np.bool_]:
    """Cumulative treatment failure (visits, n): judged at visits the patient attends.

    A severe flare (when the design counts it), a new immunosuppressant, or a
    prednisone dose above baseline inside the failure window.
    """
    event = course.rescue[1:] & design.rescue.severe_flare_is_failure
    event |= course.immunosuppressant[1:] != patients.immunosuppressant
    w = np.asarray(weeks[1:])
    lo, hi = design.steroids.failure_window_weeks
    window = (lo <= w) & (w <= hi)
    event |= window[:, None] & (course.prednisone_mg[1:] > patients.prednisone_mg + 1e-9)
    event &= observed[1:]
    failed = np.zeros(observed.shape, dtype=bool)
    cumulative_or(event, out=failed[1:])
    return failed


def _visit_arrays(
    course: Course,
    observed: NDArray[np.bool_],
    day: NDArray[np.float64],
    failed: NDArray[np.bool_],
) -> VisitArrays:
    """The visit-major course as (subjects, visits[, features]) arrays: views, no copies."""

    def t(a: NDArray[Any]) -> NDArray[Any]:
        return a.T if a.ndim == 2 else a.transpose(2, 0, 1)

    return VisitArrays(
        observed=t(observed),
        day=day,
        selena=t(course.selena),
        sledai_2k=t(course.sledai_2k),
        sledai_original=t(course.sledai_original),
        present=t(course.present),
        new=t(course.new),
        bilag=t(course.bilag),
        pga=t(course.pga),
        prednisone_mg=t(course.prednisone_mg),
        anti_dsdna_iu=t(course.anti_dsdna_iu),
        c3=t(course.c3),
        c4=t(course.c4),
        proteinuria_g=t(course.proteinuria_g),
        egfr=t(course.egfr),
        flare_mild=t(course.flare_mild),
        flare_severe=t(course.flare_severe),
        flare_severe_modified=t(course.flare_severe_modified),
        rescue=t(course.rescue),
        treatment_failure=t(failed),
    )


def _calendar_events(
    design: TrialDesign,
    arrays: VisitArrays,
    rand_cal: NDArray[np.float64],
    activation: NDArray[np.float64],
    enrolled: _Enrolled,
    disc_day: NDArray[np.float64],
    arm: NDArray[np.int8],
    ss: np.random.SeedSequence,
) -> tuple[EventLog, dict[str, Any]]:
    """The follow-up calendar on its own SimPy environment (day 0 = trial start).

    Milestones fire when the N-th patient reaches their week; the final data cut
    when the last patient reaches the last visit or leaves. Where sites have a
    limited number of infusion chairs, every infusion queues for a chair.
    """
    env = simpy.Environment()
    fired: list[tuple[float, str, str]] = []

    def cal(j: int) -> NDArray[np.float64]:
        """Calendar day of visit ``j`` of every patient."""
        return rand_cal + arrays.day[:, j]

    def reached(week: float) -> NDArray[np.float64]:
        j = int(np.argmin(np.abs(np.asarray(design.visit_weeks()) - week)))
        return np.sort(cal(j)[arrays.observed[:, j]])

    def milestone(env: simpy.Environment, when: float, name: str, detail: str) -> Any:
        yield env.timeout(when)
        fired.append((float(env.now), name, detail))

    for m in design.milestones:
        times = reached(m.week)
        if times.size >= m.n_patients:
            env.process(
                milestone(
                    env,
                    float(times[m.n_patients - 1]),
                    "milestone",
                    f"{m.name}: {m.n_patients} patients reached week {m.week:g}",
                )
            )
    j = arrays.day.shape[1] - 1
    # Completers end at their last visit, leavers when they leave (disc_day
    # is NaN for completers only).
    left = np.where(np.isnan(disc_day), 0.0, disc_day)
    ends = np.where(arrays.observed[:, j], cal(j), rand_cal + left)
    final = float(ends.max()) if ends.size else 0.0
    env.process(milestone(env, final, "data_cut", "final: last patient reached the last visit"))
    conduct: dict[str, Any] = {}
    if design.enrolment.infusion_chairs_per_site is not None:
        conduct = _infusions(env, design, arm, enrolled.site, rand_cal, disc_day, ss)
    env.run()
    if conduct:
        conduct["infusions_moved"] = int(conduct["infusion_moved"].sum())
    log = EventLog(
        site_activation=activation,
        screen_day=enrolled.screen_days,
        screen_first_failure=enrolled.screen_first_failure,
        rand_day=rand_cal,
        disc_day=rand_cal + disc_day,
        milestones=tuple(fired),
    )
    return log, conduct


def _infusions(
    env: simpy.Environment,
    design: TrialDesign,
    arm: NDArray[np.int8],
    site: NDArray[np.int32],
    rand_cal: NDArray[np.float64],
    disc_day: NDArray[np.float64],
    ss: np.random.SeedSequence,
) -> dict[str, Any]:
    """Queue every intravenous dose for a chair at its site (``simpy.Resource``).

    Each infusion is booked at a random time of its clinic day, waits for a
    free chair, and if it could not end before the clinic closes it is moved to
    the next day. Returns the waits (hours) and the number of moved infusions.
    Moved doses are not fed back into exposure: a day's delay changes a
    monthly antibody's concentration by a few percent.
    """
    en = design.enrolment
    chairs = int(en.infusion_chairs_per_site or 1)
    hours = en.infusion_hours
    rng = stream(ss, "chairs")
    when: list[NDArray[np.float64]] = []
    where: list[NDArray[np.int32]] = []
    for a, spec in enumerate(design.arms):
        if spec.route != "iv":
            continue  # subcutaneous doses are given at home
        rows = np.flatnonzero(arm == a)
        days = np.asarray(spec.dose_days())
        start = rand_cal[rows, None] + days[None, :]
        given = ~(days[None, :] >= disc_day[rows, None])  # NaN (completers) compares False
        when.append(start[given])
        where.append(np.broadcast_to(site[rows, None], start.shape)[given])
    day = np.concatenate(when) if when else np.zeros(0)
    at_site = np.concatenate(where) if where else np.zeros(0, np.int32)
    booked = np.floor(day) + rng.uniform(0.0, max(en.clinic_hours - hours, 0.0), day.size) / 24.0
    waits = np.zeros(day.size)
    moved = np.zeros(day.size, dtype=bool)
    resources: dict[int, simpy.Resource] = {}

    def infusion(env: simpy.Environment, k: int) -> Any:
        yield env.timeout(float(booked[k]))
        res = resources.setdefault(int(at_site[k]), simpy.Resource(env, capacity=chairs))
        with res.request() as req:
            yield req
            waits[k] = (float(env.now) - booked[k]) * 24.0
            closes = np.floor(booked[k]) + en.clinic_hours / 24.0
            if float(env.now) + hours / 24.0 > closes + 1e-9:
                moved[k] = True  # no time left today: the patient comes back tomorrow
                return
            yield env.timeout(hours / 24.0)

    for k in np.argsort(booked, kind="stable"):
        env.process(infusion(env, int(k)))
    # Filled in as the environment runs (the caller runs it).
    return {"infusions": int(day.size), "infusion_wait_hours": waits, "infusion_moved": moved}


def _subject_arrays(
    patients: PatientArrays,
    arm: NDArray[np.int8],
    enrolled: _Enrolled,
    flags: NDArray[np.bool_],
    strata: NDArray[np.int32],
    disc_visit: NDArray[np.int16],
    disc_reason: NDArray[np.int8],
    disc_day: NDArray[np.float64],
    arrays: VisitArrays,
    design: TrialDesign,
    weeks: list[float],
) -> dict[str, NDArray[Any]]:
    n = patients.n
    view = PatientView(patients)
    failed_any = np.asarray(arrays.treatment_failure.any(axis=1))
    first_fail = np.where(failed_any, arrays.treatment_failure.argmax(axis=1), -1)
    out: dict[str, NDArray[Any]] = {
        "subject": np.arange(n),
        "arm_index": arm,
        "site": enrolled.site,
        "stratum": strata,
        "rand_calendar_day": enrolled.rand_day,
        "screened_calendar_day": enrolled.screened_day,
        "age": patients.age,
        "female": patients.female,
        "race": patients.race,
        "region": patients.region,
        "weight_kg": patients.weight_kg,
        "selena_bl": arrays.selena[:, 0],
        "sledai_2k_bl": arrays.sledai_2k[:, 0],
        "pga_bl": arrays.pga[:, 0],
        "prednisone_bl": arrays.prednisone_mg[:, 0],
        "anti_dsdna_bl": arrays.anti_dsdna_iu[:, 0],
        "c3_bl": arrays.c3[:, 0],
        "c4_bl": arrays.c4[:, 0],
        "proteinuria_bl": arrays.proteinuria_g[:, 0],
        "egfr_bl": arrays.egfr[:, 0],
        "induction": patients.induction,
        "serologically_active": np.asarray(view["serologically_active"]),
        "antimalarial": patients.antimalarial,
        "immunosuppressant_bl": patients.immunosuppressant,
        "disc_visit": disc_visit,
        "disc_reason": disc_reason,
        "disc_day": disc_day,
        "treatment_failure": failed_any,
        "failure_visit": first_fail,
    }
    for j in range(flags.shape[1]):
        out[f"stratum_factor_{j + 1}"] = flags[:, j]
    return out
