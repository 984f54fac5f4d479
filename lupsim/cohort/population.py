"""Population: a patient population described the way trial designers know it.

A :class:`Population` holds the figures of a published baseline table
(Table 1): % female, age, race and region shares, disease duration,
SELENA-SLEDAI mean and SD, BILAG, serology, background therapy, and the share
of patients with each SELENA-SLEDAI organ domain active. Every figure is
optional; a figure that is not given is not a target and the generator keeps
its documented default behaviour (:mod:`lupsim.cohort.model`).

Percentages are on 0-100. A figure published as a bound (BLISS-52 reports
"renal < 16%") is written as the string ``"<16"``.

Examples
--------
>>> pop = Population(female_pct=94.9, age_mean=35.5, age_sd=11.1)
>>> pop.female_pct
94.9
>>> Population(domain_pct={"renal": "<16"}).domain_pct["renal"]
Bound(relation='<', value=16.0)
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from lupsim.cohort.vocabulary import ORGAN_DOMAIN_NAMES, RACE_GROUPS, REGIONS
from lupsim.errors import ScenarioError, did_you_mean

__all__ = [
    "Bound",
    "Population",
    "format_validation_error",
    "parse_bound",
    "population_problems",
]

# strict: a boolean or a quoted number in a scenario file is a mistake, not 1.0 or 90.
Pct = Annotated[float, Field(strict=True, ge=0, le=100, description="percentage, 0-100")]
# Published shares are rounded; BLISS-52 race shares sum to 100.7.
SHARE_SUM_TOLERANCE = 1.0

# Separates several model-level problems inside one pydantic error message.
_JOIN = " || "
# A problem line that starts with the field it is about, e.g. "race_pct: ...".
_FIELD_FIRST = re.compile(r"^[a-z_][a-z0-9_]*(\[\d+\])?(\.[a-z_][a-z0-9_]*(\[\d+\])?)*: ")

_BOUND_RE = re.compile(r"^\s*(<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)?)\s*$")


class Bound(BaseModel):
    """A figure published as a bound, such as ``"<16"`` (percent)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    relation: Literal["<", "<=", ">", ">="]
    value: float = Field(strict=True, ge=0, le=100)

    def holds(self, x: float) -> bool:
        """Whether ``x`` satisfies the bound.

        Examples
        --------
        >>> Bound(relation="<", value=16).holds(12.0)
        True
        """
        return {
            "<": x < self.value,
            "<=": x <= self.value,
            ">": x > self.value,
            ">=": x >= self.value,
        }[self.relation]

    def __str__(self) -> str:
        return f"{self.relation}{self.value:g}"


def parse_bound(value: Any) -> Any:
    """Turn ``"<16"`` into a :class:`Bound`; leave anything else alone.

    Examples
    --------
    >>> parse_bound("<=5")
    Bound(relation='<=', value=5.0)
    """
    if isinstance(value, str):
        m = _BOUND_RE.match(value)
        if m is None:
            raise ValueError(f"a bound must look like '<16' or '>=5' (a percentage), got {value!r}")
        return Bound.model_validate({"relation": m.group(1), "value": float(m.group(2))})
    return value


PctOrBound = Annotated[float | Bound, BeforeValidator(parse_bound), Field()]


RaceGroup = Literal["white", "black", "asian", "indigenous_american", "other"]
Region = Literal[
    "latin_america",
    "asia_pacific",
    "eastern_europe",
    "western_europe",
    "north_america",
    "africa",
    "rest_of_world",
]
OrganDomain = Literal[
    "cns",
    "vascular",
    "musculoskeletal",
    "renal",
    "mucocutaneous",
    "cardiorespiratory",
    "immunological",
    "constitutional",
    "haematological",
]
assert get_args(RaceGroup) == RACE_GROUPS
assert get_args(Region) == REGIONS
assert get_args(OrganDomain) == ORGAN_DOMAIN_NAMES


class Population(BaseModel):
    """The baseline figures a synthetic cohort must reproduce.

    All fields are optional. Units: percentages on 0-100, ages and durations
    in years, doses in mg/day prednisone equivalent, proteinuria in g/24 h
    (a urine protein:creatinine ratio in g/g is read as g/24 h), eGFR in
    mL/min/1.73 m2.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    name: str = Field("custom", description="short name of the population")
    source: str | None = Field(None, description="publication the figures come from")

    female_pct: Pct | None = Field(None, description="% female (0-100)")
    age_mean: float | None = Field(None, strict=True, gt=0, lt=100, description="mean age, years")
    age_sd: float | None = Field(None, strict=True, gt=0, lt=40, description="SD of age, years")
    age_min: float = Field(
        18, strict=True, ge=0, lt=100, description="youngest age generated, years"
    )
    age_max: float = Field(75, strict=True, gt=0, le=100, description="oldest age generated, years")
    race_pct: dict[RaceGroup, Pct] | None = Field(
        None, description="% of each race group; shares sum to 100 (+/- 1 for rounding)"
    )
    region_pct: dict[Region, Pct] | None = Field(
        None, description="% enrolled in each region; shares sum to 100 (+/- 1)"
    )
    disease_duration_mean: float | None = Field(
        None, strict=True, gt=0, lt=60, description="mean disease duration, years"
    )
    disease_duration_sd: float | None = Field(
        None, strict=True, gt=0, lt=60, description="SD of disease duration, years"
    )
    sledai_mean: float | None = Field(
        None, strict=True, ge=0, le=105, description="mean SELENA-SLEDAI"
    )
    sledai_sd: float | None = Field(
        None, strict=True, gt=0, le=50, description="SD of SELENA-SLEDAI"
    )
    pga_mean: float | None = Field(None, strict=True, ge=0, le=3, description="mean PGA, 0-3")
    bilag_any_a_pct: Pct | None = Field(None, description="% with >= 1 BILAG A domain")
    bilag_a_or_2b_pct: Pct | None = Field(None, description="% with >= 1 BILAG A or >= 2 B")
    sdi_mean: float | None = Field(
        None, strict=True, ge=0, le=20, description="mean SLICC damage index"
    )
    ana_pct: Pct | None = Field(None, description="% ANA >= 1:80")
    anti_dsdna_pct: Pct | None = Field(None, description="% anti-dsDNA >= 30 IU/mL")
    low_c3_pct: Pct | None = Field(None, description="% C3 < 90 mg/dL")
    low_c4_pct: Pct | None = Field(None, description="% C4 < 16 mg/dL")
    serologically_active_pct: Pct | None = Field(
        None, description="% anti-dsDNA positive and low C3 or C4"
    )
    proteinuria_ge_2g_pct: Pct | None = Field(None, description="% proteinuria >= 2 g/24 h")
    proteinuria_ge_3g_pct: Pct | None = Field(
        None, description="% proteinuria >= 3 g/24 h (uPCR >= 3 g/g; lupus nephritis trials)"
    )
    egfr_ge_90_pct: Pct | None = Field(None, description="% eGFR >= 90 mL/min/1.73 m2")
    prednisone_pct: Pct | None = Field(None, description="% on prednisone")
    prednisone_mean_mg: float | None = Field(
        None, strict=True, gt=0, le=100, description="mean prednisone dose among users, mg/day"
    )
    prednisone_sd_mg: float | None = Field(
        None, strict=True, gt=0, le=100, description="SD of prednisone dose among users, mg/day"
    )
    prednisone_gt_7_5_pct: Pct | None = Field(
        None, description="% of all patients on > 7.5 mg/day prednisone"
    )
    antimalarial_pct: Pct | None = Field(None, description="% on antimalarials")
    immunosuppressant_pct: Pct | None = Field(None, description="% on immunosuppressants")
    domain_pct: dict[OrganDomain, PctOrBound] | None = Field(
        None,
        description="% with each SELENA-SLEDAI organ domain active; a number or a bound '<16'",
    )

    @model_validator(mode="after")
    def _coherent(self) -> Population:
        problems = population_problems(self.model_dump())
        if problems:
            raise ValueError(_JOIN.join(problems))
        return self

    def race_shares(self) -> dict[str, float]:
        """Stated race shares (percent) by group; empty if none stated."""
        return {str(k): float(v) for k, v in (self.race_pct or {}).items()}

    def region_shares(self) -> dict[str, float]:
        """Stated region shares (percent) by region; empty if none stated."""
        return {str(k): float(v) for k, v in (self.region_pct or {}).items()}

    def domain_targets(self) -> dict[str, float | Bound]:
        """Stated organ-domain shares (percent or bound) by domain."""
        return {str(k): v for k, v in (self.domain_pct or {}).items()}

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, path: str = "population") -> Population:
        """Validate a mapping (e.g. a TOML table), raising one ScenarioError listing
        every problem by field.

        Examples
        --------
        >>> Population.from_mapping({"female_pct": 120, "age_sd": -1})
        Traceback (most recent call last):
        ...
        lupsim.errors.ScenarioError: 2 problems:
          - population.female_pct: must be <= 100, got 120
          - population.age_sd: must be > 0, got -1
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = format_validation_error(exc, prefix=path, model=cls)
            extra = population_problems(data) if isinstance(data, dict) else []
            problems += [f"{path}.{p}" for p in extra if f"{path}.{p}" not in problems]
            raise ScenarioError(problems) from None


def _model_at(root: type[BaseModel] | None, path: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class reached from ``root`` along a validation-error path."""
    model = root
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = _find_model(info.annotation)
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _real(x: object) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise TypeError
    return float(x)


def _check_shares(d: dict[str, Any]) -> list[str]:
    out = []
    for field in ("race_pct", "region_pct"):
        shares = d.get(field)
        if shares:
            total = sum(_real(v) for v in shares.values())
            if abs(total - 100.0) > SHARE_SUM_TOLERANCE:
                out.append(
                    f"{field}: shares must sum to 100 (+/- {SHARE_SUM_TOLERANCE:g} for "
                    f"rounding), got {total:g}; fix the shares or add an 'other' group"
                )
    return out


def _check_ages(d: dict[str, Any]) -> list[str]:
    out = []
    lo, hi = _real(d.get("age_min", 18)), _real(d.get("age_max", 75))
    if lo >= hi:
        out.append(f"age_min ({lo:g}) must be below age_max ({hi:g})")
    mean = d.get("age_mean")
    if mean is not None and not lo < _real(mean) < hi:
        out.append(
            f"age_mean ({_real(mean):g}) must lie between age_min ({lo:g}) and age_max ({hi:g})"
        )
    return out


def _check_nested_shares(d: dict[str, Any]) -> list[str]:
    out = []
    a, ab = d.get("bilag_any_a_pct"), d.get("bilag_a_or_2b_pct")
    if a is not None and ab is not None and _real(a) > _real(ab):
        out.append(
            f"bilag_any_a_pct ({_real(a):g}) cannot exceed bilag_a_or_2b_pct ({_real(ab):g}): "
            "every patient with an A counts in both"
        )
    on, high = d.get("prednisone_pct"), d.get("prednisone_gt_7_5_pct")
    if on is not None and high is not None and _real(high) > _real(on):
        out.append(
            f"prednisone_gt_7_5_pct ({_real(high):g}) cannot exceed prednisone_pct ({_real(on):g})"
        )
    p2, p3 = d.get("proteinuria_ge_2g_pct"), d.get("proteinuria_ge_3g_pct")
    if p2 is not None and p3 is not None and _real(p3) > _real(p2):
        out.append(
            f"proteinuria_ge_3g_pct ({_real(p3):g}) cannot exceed proteinuria_ge_2g_pct "
            f"({_real(p2):g}): every patient with >= 3 g/24 h has >= 2"
        )
    sero, ds = d.get("serologically_active_pct"), d.get("anti_dsdna_pct")
    if sero is not None and ds is not None and _real(sero) > _real(ds):
        out.append(
            f"serologically_active_pct ({_real(sero):g}) cannot exceed anti_dsdna_pct "
            f"({_real(ds):g}): serologically active patients are anti-dsDNA positive"
        )
    return out


def population_problems(d: dict[str, Any]) -> list[str]:
    """Cross-field problems of a population given as a mapping.

    Runs on validated data and, best effort, on raw input whose fields did not
    all validate, so one message lists field and cross-field problems together.

    Examples
    --------
    >>> population_problems({"bilag_any_a_pct": 60, "bilag_a_or_2b_pct": 50})
    ['bilag_any_a_pct (60) cannot exceed bilag_a_or_2b_pct (50): ...']
    """
    out: list[str] = []
    for check in (_check_shares, _check_ages, _check_nested_shares):
        try:
            out.extend(check(d))
        except (TypeError, ValueError, AttributeError):
            continue
    return out


def _loc(prefix: str, loc: tuple[int | str, ...]) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_TYPE_HINTS = {
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "string_type": "must be text",
    "dict_type": "must be a table of name = value",
    "list_type": "must be a list",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
}


def format_validation_error(
    exc: ValidationError, prefix: str = "", model: type[BaseModel] | None = None
) -> list[str]:
    """Turn a pydantic ValidationError into ``"path: message, got value"`` lines.

    The messages say what the rule is and show the value given, so a user can
    fix every problem in one pass.
    """
    errors = exc.errors(include_url=False)
    lines: list[tuple[str, bool]] = []  # (line, came from one member of a union)
    for err in errors:
        union = any(
            isinstance(p, str) and ("function-" in p or p in _UNION_TAGS) for p in err["loc"]
        )
        loc = tuple(
            p
            for p in err["loc"]
            if not (isinstance(p, str) and ("function-" in p or p in _UNION_TAGS))
        )
        for line in _describe(err, loc, prefix, errors, model):
            lines.append((line, union))
    seen: dict[str, str] = {}
    for line, union in lines:
        # Each member of a union reports the same bad value: keep one per path.
        seen.setdefault(line.split(": ", 1)[0] if union else line, line)
    return list(seen.values())


_UNION_TAGS = ("float", "Bound", "int", "str")


def _describe(
    err: Any,
    loc: tuple[int | str, ...],
    prefix: str,
    errors: list[Any],
    model: type[BaseModel] | None,
) -> list[str]:
    where = _loc(prefix, loc)
    etype = err["type"]
    given = err.get("input")
    ctx = err.get("ctx") or {}
    if etype == "extra_forbidden":
        field = str(loc[-1]) if loc else "?"
        parent = _model_at(model, loc[:-1])
        choices = tuple(parent.model_fields) if parent is not None else ()
        return [
            f"{where}: unknown key {field!r}{did_you_mean(field, choices)}; remove it or "
            "check its spelling (see docs/scenario-schema.md)"
        ]
    if etype == "missing":
        return [f"{where}: is required"]
    if etype in _COMPARISONS:
        limit = next(iter(ctx.values())) if ctx else "?"
        shown = f"{limit:g}" if isinstance(limit, int | float) else str(limit)
        return [f"{where}: must be {_COMPARISONS[etype]} {shown}, got {given!r}"]
    if etype == "literal_error" and loc and loc[-1] == "[key]":
        key_loc = loc[:-1]
        bad = str(key_loc[-1])
        expected = str(ctx.get("expected", "")).replace(" or ", ",")
        allowed = tuple(a.strip(" '") for a in expected.split(",") if a.strip(" '"))
        return [
            f"{_loc(prefix, key_loc[:-1])}: unknown key {bad!r}"
            f"{did_you_mean(bad, allowed)}; use one of: {', '.join(allowed)}"
        ]
    if etype == "literal_error":
        return [f"{where}: must be one of {ctx.get('expected', '?')}, got {given!r}"]
    if etype in _TYPE_HINTS:
        return [f"{where}: {_TYPE_HINTS[etype]}, got {given!r}"]
    if etype == "too_short" and any(
        o is not err and tuple(o["loc"][: len(err["loc"])]) == tuple(err["loc"]) for o in errors
    ):
        return []  # "too few items after validation" only echoes an item's own error
    msg = str(err["msg"])
    for head in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(head)
    if etype != "value_error":
        return [f"{where}: {msg}"]
    # A model-level validator may join several "field: problem" lines.
    out = []
    for part in msg.split(_JOIN):
        if not loc:
            out.append(f"{prefix}.{part}" if prefix else part)
        elif _FIELD_FIRST.match(part) and where:
            out.append(f"{where}.{part}")
        elif where:
            out.append(f"{where}: {part}")
        else:
            out.append(part)
    return out


_COMPARISONS = {
    "greater_than_equal": ">=",
    "greater_than": ">",
    "less_than_equal": "<=",
    "less_than": "<",
}
