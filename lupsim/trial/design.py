"""TrialDesign: arms, allocation, stratified randomisation, visits, enrolment,
steroid protocol, rescue, discontinuation and milestones, validated in full.

Every field has a unit and a range. A design is checked as a whole before
anything runs, and every problem is reported at once with its path:
``design.arms[1].dose_mg_per_kg: must be > 0, got -1``.

Examples
--------
>>> d = TrialDesign(arms=(Arm(name="placebo"), Arm(name="bel10", drug="anti_baff",
...                                                  dose_mg_per_kg=10)))
>>> d.allocation
(1, 1)
>>> [round(t) for t in d.visit_days()[:4]]
[0, 28, 56, 84]
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from lupsim.cohort.columns import RANDOMISATION_VARIABLES
from lupsim.cohort.eligibility import RuleText, parse_rule
from lupsim.cohort.vocabulary import INDUCTION_REGIMENS

__all__ = [
    "BINOMIAL_NO_LOOKS",
    "Arm",
    "Background",
    "Discontinuation",
    "Enrolment",
    "Milestone",
    "Randomisation",
    "Rescue",
    "SteroidProtocol",
    "TrialDesign",
    "design_problems",
]

from lupsim.cohort.population import _JOIN, meta  # _JOIN: several problems in one message

# Items of lists of days and weeks: strict (a quoted number or a boolean is a
# mistake), bounded above here and checked for order by each table.
Day = Annotated[float, Field(strict=True, le=2000)]
Week = Annotated[float, Field(strict=True, le=520)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Arm(_Frozen):
    """One arm: placebo or an anti-BAFF antibody, always on standard care.

    An intravenous dose is in mg/kg (``dose_mg_per_kg``); a subcutaneous dose
    is a fixed ``dose_mg``. Doses are given on ``loading_days`` then every
    ``interval_days`` until ``last_dose_day`` (BLISS: days 0, 14, 28, then
    every 28 days to week 48).
    """

    name: str = Field(
        min_length=1, description="arm label, e.g. 'placebo'", json_schema_extra=meta("—")
    )
    drug: Literal["placebo", "anti_baff"] = Field(
        "placebo", description="study drug", json_schema_extra=meta("—")
    )
    route: Literal["iv", "sc"] = Field(
        "iv", description="route of the study drug", json_schema_extra=meta("—")
    )
    dose_mg_per_kg: float | None = Field(
        None,
        strict=True,
        gt=0,
        le=100,
        description="IV dose, mg/kg (anti_baff, route iv)",
        json_schema_extra=meta("mg/kg"),
    )
    dose_mg: float | None = Field(
        None,
        strict=True,
        gt=0,
        le=5000,
        description="fixed dose, mg (anti_baff, route sc)",
        json_schema_extra=meta("mg"),
    )
    loading_days: tuple[Day, ...] = Field(
        (0.0, 14.0, 28.0),
        description="days of the first doses after randomisation",
        json_schema_extra=meta("days", "increasing"),
    )
    interval_days: float = Field(
        28.0,
        strict=True,
        gt=0,
        le=365,
        description="days between later doses",
        json_schema_extra=meta("days"),
    )
    response_rate: float | None = Field(
        None,
        strict=True,
        ge=0,
        le=1,
        description="probability of response in a binomial design (outcome = 'binomial')",
        json_schema_extra=meta("probability"),
    )
    last_dose_day: float = Field(
        336.0,
        strict=True,
        ge=0,
        le=2000,
        description="day of the last dose",
        json_schema_extra=meta("days", "not after the last visit"),
    )

    @model_validator(mode="after")
    def _dose_given(self) -> Arm:
        problems = []
        if self.drug == "anti_baff":
            if self.route == "iv" and self.dose_mg_per_kg is None:
                problems.append("dose_mg_per_kg: an IV anti_baff arm needs a dose in mg/kg")
            if self.route == "sc" and self.dose_mg is None:
                problems.append("dose_mg: a subcutaneous anti_baff arm needs a fixed dose in mg")
        else:
            if self.dose_mg_per_kg is not None or self.dose_mg is not None:
                problems.append("drug: a placebo arm takes no dose; remove dose_mg_per_kg/dose_mg")
        days = self.loading_days
        if any(d < 0 for d in days) or list(days) != sorted(days):
            problems.append(f"loading_days: must be >= 0 and increasing, got {list(days)}")
        if problems:
            raise ValueError(_JOIN.join(problems))
        return self

    def dose_days(self) -> list[float]:
        """Days (after randomisation) on which a dose is given.

        Examples
        --------
        >>> Arm(name="a", drug="anti_baff", dose_mg_per_kg=10).dose_days()[:5]
        [0.0, 14.0, 28.0, 56.0, 84.0]
        """
        days = [d for d in self.loading_days if d <= self.last_dose_day]
        t = (days[-1] if days else 0.0) + self.interval_days
        while t <= self.last_dose_day + 1e-9:
            days.append(t)
            t += self.interval_days
        return days


class Randomisation(_Frozen):
    """Stratified permuted-block randomisation.

    Each stratification factor is a yes/no rule over baseline variables (the
    rule language of eligibility); strata are their combinations. Block sizes
    must be multiples of the allocation total; with several sizes, each block's
    size is drawn at random (which hides the block size from sites).
    """

    stratify_by: tuple[RuleText, ...] = Field(
        (),
        description="yes/no rules, e.g. 'selena_sledai >= 10'",
        json_schema_extra=meta("—", "yes/no rules over the variables of variables.md"),
    )
    block_sizes: tuple[StrictInt, ...] = Field(
        (),
        description="permuted block sizes (default: two allocation totals)",
        json_schema_extra=meta(
            "patients", "each a multiple of the allocation total", example="[6]"
        ),
    )


class Enrolment(_Frozen):
    """Sites, their activation, and arrival of candidates for screening."""

    sites: int = Field(
        90,
        strict=True,
        ge=1,
        le=5000,
        description="number of sites",
        json_schema_extra=meta("sites"),
    )
    activation_weeks: tuple[Week, Week] = Field(
        (0.0, 26.0),
        description="sites open uniformly between these weeks",
        json_schema_extra=meta("weeks", "0 <= first <= last"),
    )
    screening_rate_per_site_week: float = Field(
        0.12,
        strict=True,
        gt=0,
        le=50,
        description="candidates screened per open site per week",
        json_schema_extra=meta("patients/site/week"),
    )
    screening_days: tuple[Day, Day] = Field(
        (7.0, 35.0),
        description="screening period before randomisation, days (min, max)",
        json_schema_extra=meta("days", "0 <= min <= max"),
    )
    infusion_chairs_per_site: int | None = Field(
        None,
        strict=True,
        ge=1,
        le=100,
        description="chairs per site; None means unlimited",
        json_schema_extra=meta("chairs"),
    )
    infusion_hours: float = Field(
        1.0,
        strict=True,
        gt=0,
        le=12,
        description="duration of one infusion, h",
        json_schema_extra=meta("hours"),
    )
    clinic_hours: float = Field(
        8.0,
        strict=True,
        gt=0,
        le=24,
        description="hours a site infuses per day",
        json_schema_extra=meta("hours/day"),
    )

    @model_validator(mode="after")
    def _ordered(self) -> Enrolment:
        problems = []
        a, b = self.activation_weeks
        if not 0 <= a <= b:
            problems.append(f"activation_weeks: need 0 <= first <= last, got [{a:g}, {b:g}]")
        lo, hi = self.screening_days
        if not 0 <= lo <= hi:
            problems.append(f"screening_days: need 0 <= min <= max, got [{lo:g}, {hi:g}]")
        if problems:
            raise ValueError(_JOIN.join(problems))
        return self


class SteroidProtocol(_Frozen):
    """What the protocol lets investigators do with prednisone.

    Defaults follow the BLISS protocols in outline (Navarra 2011): tapering
    allowed, increases for flares, increases above baseline late in the trial
    make the patient a treatment failure.
    """

    taper_probability: float = Field(
        0.15,
        strict=True,
        ge=0,
        le=1,
        description="chance per visit that a responding patient tapers",
        json_schema_extra=meta("probability per visit"),
    )
    taper_step_mg: float = Field(
        2.5,
        strict=True,
        gt=0,
        le=20,
        description="mg/day removed per taper step",
        json_schema_extra=meta("mg/day"),
    )
    taper_floor_mg: float = Field(
        5.0,
        strict=True,
        ge=0,
        le=40,
        description="taper stops at this dose",
        json_schema_extra=meta("mg/day"),
    )
    forced_taper_weeks: tuple[Week, Week] | None = Field(
        None,
        description="window (weeks) in which doses above the target must be tapered",
        json_schema_extra=meta("weeks", "0 <= start <= end", example="[24, 44]"),
    )
    forced_taper_target_mg: float = Field(
        7.5,
        strict=True,
        ge=0,
        le=40,
        description="target dose of the forced taper, mg/day",
        json_schema_extra=meta("mg/day"),
    )
    flare_increase_probability: float = Field(
        0.2,
        strict=True,
        ge=0,
        le=1,
        description="chance a mild/moderate flare is treated with more prednisone",
        json_schema_extra=meta("probability"),
    )
    flare_increase_mg: float = Field(
        5.0,
        strict=True,
        ge=0,
        le=60,
        description="mg/day added for a mild/moderate flare",
        json_schema_extra=meta("mg/day"),
    )
    severe_flare_mg_per_kg: float = Field(
        0.5,
        strict=True,
        ge=0,
        le=2,
        description="prednisone dose (mg/kg/day) given for a severe flare",
        json_schema_extra=meta("mg/kg/day"),
    )
    failure_window_weeks: tuple[Week, Week] = Field(
        (44.0, 52.0),
        description="weeks in which a dose above baseline is treatment failure",
        json_schema_extra=meta("weeks", "0 <= start <= end"),
    )


class Rescue(_Frozen):
    """Rescue therapy for severe flares.

    A severe flare is treated with a prednisone burst (see
    :class:`SteroidProtocol`), which tapers back over the following visits; it
    makes a treatment failure only when the burst is still above baseline in
    the failure window, when it starts an immunosuppressant (prohibited), or
    when ``severe_flare_is_failure`` is set.
    """

    severe_flare_is_failure: bool = Field(
        False,
        strict=True,
        description="every severe flare is a treatment failure",
        json_schema_extra=meta("—"),
    )
    new_immunosuppressant_probability: float = Field(
        0.15,
        strict=True,
        ge=0,
        le=1,
        description="chance a severe flare also starts an immunosuppressant",
        json_schema_extra=meta("probability"),
    )


class Discontinuation(_Frozen):
    """Hazards of leaving the study, per 4 weeks (competing reasons).

    Adverse events (about 6% a year, as in both arms of BLISS-52; Navarra
    2011) are a lupsim assumption; the withdrawal and lack-of-efficacy hazards
    are calibrated so that BLISS-52 completion is reproduced
    (:mod:`lupsim.trial.calibration`): the drug arms complete more often
    through their efficacy alone.
    """

    withdrawal_per_4w: float = Field(
        0.00126,
        strict=True,
        ge=0,
        le=1,
        description="consent withdrawal, lost to follow-up, other",
        json_schema_extra=meta("probability per 4 weeks"),
    )
    adverse_event_per_4w: float = Field(
        0.005,
        strict=True,
        ge=0,
        le=1,
        description="adverse events (same in every arm)",
        json_schema_extra=meta("probability per 4 weeks"),
    )
    lack_of_efficacy_per_4w: float = Field(
        0.0187,
        strict=True,
        ge=0,
        le=1,
        description="added while SELENA-SLEDAI has not fallen by >= 4 points",
        json_schema_extra=meta("probability per 4 weeks"),
    )
    after_severe_flare: float = Field(
        0.10,
        strict=True,
        ge=0,
        le=1,
        description="chance of leaving at the visit of a severe flare",
        json_schema_extra=meta("probability"),
    )


InductionRegimen = Literal["mycophenolate", "euro_lupus_cyclophosphamide"]
# strict: a quoted number or a boolean in a scenario file is a mistake, not a share.
Share = Annotated[float, Field(strict=True)]
assert get_args(InductionRegimen) == INDUCTION_REGIMENS
#: Shares of a background regimen may be rounded (0.735 + 0.265): they must sum
#: to 1 within this, and are then rescaled to sum to 1 exactly.
SHARE_TOLERANCE = 0.01


class Background(_Frozen):
    """Background therapy every patient of the trial starts with, in every arm.

    ``induction`` gives the lupus nephritis induction regimen as the share of
    patients on each (investigator's choice, drawn per patient at
    randomisation): ``mycophenolate`` (mycophenolate mofetil for induction and
    maintenance) or ``euro_lupus_cyclophosphamide`` (500 mg IV every 2 weeks
    x 6, then azathioprine; Houssiau FA et al., Arthritis Rheum
    2002;46:2121-31). BLISS-LN: 74% and 26% (Furie R et al., N Engl J Med
    2020;383:1117-28). The regimen raises the rate at which active nephritis
    resolves (:class:`~lupsim.trial.disease.DiseaseParameters`), and the
    variables ``induction_mycophenolate`` and
    ``induction_euro_lupus_cyclophosphamide`` can stratify the randomisation.

    Examples
    --------
    >>> b = Background(induction={"mycophenolate": 0.74, "euro_lupus_cyclophosphamide": 0.26})
    >>> b.shares()
    (0.74, 0.26)
    """

    induction: dict[InductionRegimen, Share] | None = Field(
        None,
        description="share (0-1) of patients on each lupus nephritis induction regimen "
        "(mycophenolate, euro_lupus_cyclophosphamide); shares sum to 1",
        json_schema_extra=meta("share (0-1)", "each 0 to 1; shares sum to 1 (+/- 0.01)"),
    )

    @model_validator(mode="after")
    def _shares(self) -> Background:
        problems = _check_background({"induction": self.induction})
        if problems:
            raise ValueError(_JOIN.join(problems))
        return self

    def shares(self) -> tuple[float, ...]:
        """Share of each regimen of :data:`~lupsim.cohort.vocabulary.INDUCTION_REGIMENS`,
        rescaled to sum to 1 (all zero without ``induction``)."""
        given = self.induction or {}
        raw = [float(given.get(r, 0.0)) for r in INDUCTION_REGIMENS]  # type: ignore[call-overload]
        total = sum(raw)
        return tuple(x / total for x in raw) if total > 0 else tuple(raw)


def _check_background(d: dict[str, Any]) -> list[str]:
    shares = d.get("induction")
    if shares is None:
        return []
    out = []
    values = {str(k): v for k, v in shares.items()}
    if not values:
        return [
            "induction: give the share of patients on each regimen, e.g. "
            "{ mycophenolate = 0.74, euro_lupus_cyclophosphamide = 0.26 }, or remove it"
        ]
    bad = {k: v for k, v in values.items() if isinstance(v, bool) or not isinstance(v, int | float)}
    for k, v in bad.items():
        out.append(f"induction.{k}: must be a number (a share 0-1), got {v!r}")
    for k, v in values.items():
        if k not in bad and not 0.0 <= float(v) <= 1.0:
            out.append(
                f"induction.{k}: must be a share between 0 and 1, got {v:g}"
                f"{_share_hint(float(v), values) if v > 1 else ''}"
            )
    if not out:
        total = sum(float(v) for v in values.values())
        if abs(total - 1.0) > SHARE_TOLERANCE:
            out.append(
                f"induction: shares must sum to 1 (+/- {SHARE_TOLERANCE:g} for rounding), "
                f"got {total:g}; fix the shares"
            )
    return out


def _share_hint(value: float, values: dict[str, Any]) -> str:
    """How to write a share given above 1: as a fraction of 1, not a percentage."""
    numbers = [
        float(v) for v in values.values() if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    if abs(sum(numbers) - 100.0) <= 100 * SHARE_TOLERANCE:
        # Percentages that sum to 100: each divided by 100 is its share.
        return f"; a share, not a percentage: write {value:g} as {value / 100:g}"
    return (
        "; shares are fractions from 0 to 1 that sum to 1, e.g. "
        "{ mycophenolate = 0.74, euro_lupus_cyclophosphamide = 0.26 }"
    )


class Milestone(_Frozen):
    """An interim look, triggered when ``n_patients`` have reached ``week``."""

    name: str = Field(min_length=1, description="label, e.g. 'IA1'", json_schema_extra=meta("—"))
    week: float = Field(
        strict=True,
        gt=0,
        le=520,
        description="visit week that counts, weeks",
        json_schema_extra=meta("weeks", "a visit week, not after the last visit"),
    )
    n_patients: int = Field(
        strict=True,
        ge=1,
        le=100_000,
        description="patients who must have reached it",
        json_schema_extra=meta("patients", "at most n_randomised"),
    )


class TrialDesign(_Frozen):
    """A trial: arms, allocation, strata, visits, enrolment and conduct rules."""

    arms: tuple[Arm, ...] = Field(
        min_length=2, description="at least two arms", json_schema_extra=meta("—")
    )
    control: str | None = Field(
        None,
        description="name of the control arm (default: first)",
        json_schema_extra=meta("—", "the name of an arm"),
    )
    allocation: tuple[StrictInt, ...] | None = Field(
        None,
        description="allocation ratio per arm, e.g. [1, 1, 1] or [2, 1]",
        json_schema_extra=meta("ratio", "one whole number >= 1 per arm", example="[1, 1]"),
    )
    n_randomised: int = Field(
        865,
        strict=True,
        ge=2,
        le=100_000,
        description="patients to randomise",
        json_schema_extra=meta("patients"),
    )
    primary_week: float = Field(
        52.0,
        strict=True,
        gt=0,
        le=520,
        description="week of the primary endpoint",
        json_schema_extra=meta("weeks", "a visit week (a multiple of visit_interval_weeks)"),
    )
    end_week: float | None = Field(
        None,
        strict=True,
        gt=0,
        le=520,
        description="last visit (default primary)",
        json_schema_extra=meta("weeks", "not before primary_week"),
    )
    visit_interval_weeks: float = Field(
        4.0,
        strict=True,
        gt=0,
        le=52,
        description="weeks between visits",
        json_schema_extra=meta("weeks"),
    )
    visit_window_days: float = Field(
        7.0,
        strict=True,
        ge=0,
        le=28,
        description="+/- days a visit may move",
        json_schema_extra=meta("days", "less than half the visit interval"),
    )
    randomisation: Randomisation = Field(
        default_factory=Randomisation,
        description="stratification factors and block sizes",
        json_schema_extra=meta("—"),
    )
    enrolment: Enrolment = Field(
        default_factory=Enrolment,
        description="sites, their activation and screening",
        json_schema_extra=meta("—"),
    )
    steroids: SteroidProtocol = Field(
        default_factory=SteroidProtocol,
        description="the prednisone protocol",
        json_schema_extra=meta("—"),
    )
    rescue: Rescue = Field(
        default_factory=Rescue,
        description="rescue therapy for severe flares",
        json_schema_extra=meta("—"),
    )
    discontinuation: Discontinuation = Field(
        default_factory=Discontinuation,
        description="hazards of leaving the study",
        json_schema_extra=meta("—"),
    )
    milestones: tuple[Milestone, ...] = Field(
        (),
        description="interim looks",
        json_schema_extra=meta("—", "see table; none in a binomial design"),
    )
    background: Background = Field(
        default_factory=Background,
        description="background therapy of every arm (lupus nephritis induction regimen)",
        json_schema_extra=meta("—"),
    )
    outcome: Literal["disease_model", "binomial"] = Field(
        "disease_model",
        description="'binomial': each arm's response is drawn with its response_rate, "
        "without the disease model (the textbook case for teaching power)",
        json_schema_extra=meta("—"),
    )

    @model_validator(mode="before")
    @classmethod
    def _default_allocation(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("allocation") is None and "arms" in data:
            arms = data["arms"]
            if isinstance(arms, list | tuple):
                data = {**data, "allocation": tuple(1 for _ in arms)}
        return data

    @model_validator(mode="after")
    def _coherent(self) -> TrialDesign:
        problems = design_problems(self.model_dump())
        if problems:
            raise ValueError(_JOIN.join(problems))
        return self

    @property
    def control_arm(self) -> str:
        """Name of the control arm."""
        return self.control if self.control is not None else self.arms[0].name

    @property
    def last_week(self) -> float:
        """Week of the last scheduled visit."""
        return self.end_week if self.end_week is not None else self.primary_week

    def visit_days(self) -> list[float]:
        """Nominal visit days after randomisation, baseline (day 0) included."""
        n = round(self.last_week / self.visit_interval_weeks)
        return [7.0 * self.visit_interval_weeks * k for k in range(n + 1)]

    def visit_weeks(self) -> list[float]:
        """Nominal visit weeks, baseline (week 0) included."""
        return [d / 7.0 for d in self.visit_days()]

    def block_sizes(self) -> tuple[int, ...]:
        """Block sizes in use (default: twice the allocation total)."""
        total = sum(self.allocation or ())
        return self.randomisation.block_sizes or (2 * total,)


def _num(x: object) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise TypeError
    return float(x)


def _arm_names(d: dict[str, Any]) -> list[str]:
    return [str(a["name"]) for a in d["arms"]]


def _check_arms(d: dict[str, Any]) -> list[str]:
    names = _arm_names(d)
    dup = sorted({n for n in names if names.count(n) > 1})
    return [f"arms: arm names must be unique, {dup} repeated"] if dup else []


def _check_allocation(d: dict[str, Any]) -> list[str]:
    alloc = list(d.get("allocation") or [1] * len(d["arms"]))
    out = []
    if len(alloc) != len(d["arms"]):
        out.append(f"allocation: one ratio per arm ({len(d['arms'])} arms), got {alloc}")
    if any(_num(a) <= 0 or _num(a) != int(_num(a)) for a in alloc):
        out.append(
            f"allocation: every ratio must be a whole number >= 1, got {alloc}; "
            "remove an arm instead of giving it 0"
        )
    return out


def _check_control(d: dict[str, Any]) -> list[str]:
    control = d.get("control")
    names = _arm_names(d)
    if isinstance(control, str) and control not in names:
        return [f"control: {control!r} is not an arm; arms are {names}"]
    return []


def _check_blocks(d: dict[str, Any]) -> list[str]:
    alloc = [_num(a) for a in (d.get("allocation") or [1] * len(d["arms"]))]
    if not alloc or min(alloc) <= 0:
        return []
    total = int(sum(alloc))
    blocks = (d.get("randomisation") or {}).get("block_sizes") or ()
    bad = [b for b in blocks if _num(b) <= 0 or int(_num(b)) % total]
    if bad:
        return [
            f"randomisation.block_sizes: each must be a positive multiple of the allocation "
            f"total {total}, got {bad}"
        ]
    return []


def _end_week(d: dict[str, Any]) -> float:
    primary = _num(d.get("primary_week", 52.0))
    end = d.get("end_week")
    return primary if end is None else _num(end)


def _check_visits(d: dict[str, Any]) -> list[str]:
    out = []
    primary = _num(d.get("primary_week", 52.0))
    interval = _num(d.get("visit_interval_weeks", 4.0))
    window = _num(d.get("visit_window_days", 7.0))
    if d.get("end_week") is not None and _num(d["end_week"]) < primary:
        out.append(
            f"end_week ({_num(d['end_week']):g}) must not be before primary_week ({primary:g})"
        )
    if interval > 0 and abs(primary / interval - round(primary / interval)) > 1e-9:
        out.append(
            f"primary_week ({primary:g}) must be a visit: a multiple of visit_interval_weeks "
            f"({interval:g})"
        )
    if interval > 0 and window * 2 >= interval * 7:
        out.append(
            f"visit_window_days ({window:g}) must be less than half the visit interval "
            f"({interval * 7:g} days) so visits keep their order"
        )
    return out


def _check_milestones(d: dict[str, Any]) -> list[str]:
    out = []
    end = _end_week(d)
    n = _num(d.get("n_randomised", 865))
    interval = _num(d.get("visit_interval_weeks", 4.0))
    for k, m in enumerate(d.get("milestones") or ()):
        try:
            week = _num(m["week"])
            if interval > 0 and abs(week / interval - round(week / interval)) > 1e-9:
                out.append(
                    f"milestones[{k}].week: {week:g} is not a visit week; visits are every "
                    f"{interval:g} weeks"
                )
            if week > end:
                out.append(
                    f"milestones[{k}].week: {_num(m['week']):g} is after the last visit "
                    f"(week {end:g})"
                )
            if _num(m["n_patients"]) > n:
                out.append(
                    f"milestones[{k}].n_patients: {int(_num(m['n_patients']))} is more than "
                    f"n_randomised ({int(n)})"
                )
        except (KeyError, TypeError):
            continue
    return out


def _check_steroids(d: dict[str, Any]) -> list[str]:
    out = []
    st = d.get("steroids") or {}
    window = st.get("failure_window_weeks")
    if window is not None:
        lo, hi = map(_num, window)
        if not 0 <= lo <= hi:
            out.append(
                f"steroids.failure_window_weeks: need 0 <= start <= end, got [{lo:g}, {hi:g}]"
            )
    forced = st.get("forced_taper_weeks")
    if forced is not None:
        a, b = map(_num, forced)
        if not 0 <= a <= b:
            out.append(f"steroids.forced_taper_weeks: need 0 <= start <= end, got [{a:g}, {b:g}]")
    return out


def _check_dosing(d: dict[str, Any]) -> list[str]:
    out = []
    end = _end_week(d)
    for k, arm in enumerate(d["arms"]):
        try:
            last = _num(arm.get("last_dose_day", 336.0))
        except TypeError:
            continue
        if last > end * 7:
            out.append(
                f"arms[{k}].last_dose_day: day {last:g} is after the last visit (day {end * 7:g})"
            )
    return out


#: Why a binomial design refuses interim looks (milestones, [analysis.interim]).
BINOMIAL_NO_LOOKS = (
    "binomial designs have no interim looks (each response is drawn at the primary "
    "week, with no disease model and no calendar of patients reaching visits)"
)


def _check_outcome(d: dict[str, Any]) -> list[str]:
    out = []
    binomial = d.get("outcome", "disease_model") == "binomial"
    milestones = d.get("milestones") or ()
    if binomial and isinstance(milestones, list | tuple) and milestones:
        names = [str(m.get("name", "?")) if isinstance(m, dict) else "?" for m in milestones]
        out.append(f"milestones: {BINOMIAL_NO_LOOKS}, got {names}; remove [[design.milestones]]")
    for k, arm in enumerate(d["arms"]):
        rate = arm.get("response_rate")
        if binomial and rate is None:
            out.append(f"arms[{k}].response_rate: a binomial design needs a response rate per arm")
        if not binomial and rate is not None:
            out.append(
                f"arms[{k}].response_rate: only binomial designs take a response rate; "
                "set outcome = 'binomial' or remove it"
            )
    return out


def _check_background_use(d: dict[str, Any]) -> list[str]:
    background = d.get("background") or {}
    out: list[str] = []
    if background.get("induction"):
        return out
    for k, rule in enumerate((d.get("randomisation") or {}).get("stratify_by") or ()):
        try:
            used = sorted(parse_rule(str(rule)).variables & RANDOMISATION_VARIABLES)
        except ValueError:
            continue  # reported by the rule's own validation
        if used:
            out.append(
                f"randomisation.stratify_by[{k}]: {used[0]!r} is the background induction "
                "regimen, which this design does not give; add [design.background] "
                "induction = { mycophenolate = ..., euro_lupus_cyclophosphamide = ... } "
                "or remove the factor"
            )
    return out


_CHECKS = (
    _check_arms,
    _check_allocation,
    _check_control,
    _check_blocks,
    _check_visits,
    _check_milestones,
    _check_steroids,
    _check_dosing,
    _check_outcome,
    _check_background_use,
)


def design_problems(d: dict[str, Any]) -> list[str]:
    """Cross-field problems of a design given as a mapping.

    Works on a validated design (``model_dump()``) and, best effort, on raw
    input whose fields did not all validate, so that one message can list the
    field errors *and* the cross-field ones. A check that cannot read the
    fields it needs is skipped (their own errors are reported already).

    Examples
    --------
    >>> design_problems({"arms": [{"name": "a"}, {"name": "b"}], "allocation": [1, 0]})
    ['allocation: every ratio must be a whole number >= 1, got [1, 0]; ...']
    """
    out: list[str] = []
    for check in _CHECKS:
        try:
            out.extend(check(d))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return out
