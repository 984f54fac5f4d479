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
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo

from lupsim.cohort.vocabulary import ORGAN_DOMAIN_NAMES, RACE_GROUPS, REGIONS
from lupsim.errors import ScenarioError, did_you_mean

__all__ = [
    "LIBRARY_PHRASES",
    "Bound",
    "Population",
    "expected",
    "format_validation_error",
    "join_problem",
    "meta",
    "parse_bound",
    "population_problems",
    "shown",
]


def meta(unit: str, allowed: str | None = None, example: str | None = None) -> dict[str, JsonValue]:
    """Documentation of a scenario-file field kept beside its constraints.

    ``unit`` is shown in docs/scenario-schema.md (``"—"`` for text, flags,
    names and tables); ``allowed`` states a range the constraints cannot
    express (a rule, a name, a cross-field check); ``example`` is how a list
    is written, for messages.

    Examples
    --------
    >>> meta("weeks", example="[24, 44]")
    {'unit': 'weeks', 'example': '[24, 44]'}
    """
    out: dict[str, JsonValue] = {"unit": unit}
    if allowed is not None:
        out["allowed"] = allowed
    if example is not None:
        out["example"] = example
    return out


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

    relation: Literal["<", "<=", ">", ">="] = Field(
        description="how the figure relates to the value", json_schema_extra=meta("—")
    )
    value: float = Field(
        strict=True, ge=0, le=100, description="the published bound", json_schema_extra=meta("%")
    )

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


PctOrBound = Annotated[Pct | Bound, BeforeValidator(parse_bound)]


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

    name: str = Field(
        "custom",
        description="short name of the population",
        json_schema_extra=meta("—", "any text"),
    )
    source: str | None = Field(
        None,
        description="publication the figures come from",
        json_schema_extra=meta("—", "any text"),
    )

    female_pct: Pct | None = Field(
        None, description="% female (0-100)", json_schema_extra=meta("%")
    )
    age_mean: float | None = Field(
        None,
        strict=True,
        gt=0,
        lt=100,
        description="mean age, years",
        json_schema_extra=meta("years", "between age_min and age_max"),
    )
    age_sd: float | None = Field(
        None,
        strict=True,
        gt=0,
        lt=40,
        description="SD of age, years",
        json_schema_extra=meta("years"),
    )
    age_min: float = Field(
        18,
        strict=True,
        ge=0,
        lt=100,
        description="youngest age generated, years",
        json_schema_extra=meta("years", "below age_max"),
    )
    age_max: float = Field(
        75,
        strict=True,
        gt=0,
        le=100,
        description="oldest age generated, years",
        json_schema_extra=meta("years"),
    )
    race_pct: dict[RaceGroup, Pct] | None = Field(
        None,
        description="% of each race group; shares sum to 100 (+/- 1 for rounding)",
        json_schema_extra=meta("%", "shares sum to 100 (+/- 1)"),
    )
    region_pct: dict[Region, Pct] | None = Field(
        None,
        description="% enrolled in each region; shares sum to 100 (+/- 1)",
        json_schema_extra=meta("%", "shares sum to 100 (+/- 1)"),
    )
    disease_duration_mean: float | None = Field(
        None,
        strict=True,
        gt=0,
        lt=60,
        description="mean disease duration, years",
        json_schema_extra=meta("years"),
    )
    disease_duration_sd: float | None = Field(
        None,
        strict=True,
        gt=0,
        lt=60,
        description="SD of disease duration, years",
        json_schema_extra=meta("years"),
    )
    sledai_mean: float | None = Field(
        None,
        strict=True,
        ge=0,
        le=105,
        description="mean SELENA-SLEDAI",
        json_schema_extra=meta("SELENA-SLEDAI points"),
    )
    sledai_sd: float | None = Field(
        None,
        strict=True,
        gt=0,
        le=50,
        description="SD of SELENA-SLEDAI",
        json_schema_extra=meta("SELENA-SLEDAI points"),
    )
    pga_mean: float | None = Field(
        None,
        strict=True,
        ge=0,
        le=3,
        description="mean PGA, 0-3",
        json_schema_extra=meta("PGA points"),
    )
    bilag_any_a_pct: Pct | None = Field(
        None,
        description="% with >= 1 BILAG A domain",
        json_schema_extra=meta("%", "at most bilag_a_or_2b_pct"),
    )
    bilag_a_or_2b_pct: Pct | None = Field(
        None, description="% with >= 1 BILAG A or >= 2 B", json_schema_extra=meta("%")
    )
    sdi_mean: float | None = Field(
        None,
        strict=True,
        ge=0,
        le=20,
        description="mean SLICC damage index",
        json_schema_extra=meta("SDI points"),
    )
    ana_pct: Pct | None = Field(None, description="% ANA >= 1:80", json_schema_extra=meta("%"))
    anti_dsdna_pct: Pct | None = Field(
        None, description="% anti-dsDNA >= 30 IU/mL", json_schema_extra=meta("%")
    )
    low_c3_pct: Pct | None = Field(None, description="% C3 < 90 mg/dL", json_schema_extra=meta("%"))
    low_c4_pct: Pct | None = Field(None, description="% C4 < 16 mg/dL", json_schema_extra=meta("%"))
    serologically_active_pct: Pct | None = Field(
        None,
        description="% anti-dsDNA positive and low C3 or C4",
        json_schema_extra=meta("%", "at most anti_dsdna_pct"),
    )
    proteinuria_ge_2g_pct: Pct | None = Field(
        None, description="% proteinuria >= 2 g/24 h", json_schema_extra=meta("%")
    )
    proteinuria_ge_3g_pct: Pct | None = Field(
        None,
        description="% proteinuria >= 3 g/24 h (uPCR >= 3 g/g; lupus nephritis trials)",
        json_schema_extra=meta("%", "at most proteinuria_ge_2g_pct"),
    )
    egfr_ge_90_pct: Pct | None = Field(
        None, description="% eGFR >= 90 mL/min/1.73 m2", json_schema_extra=meta("%")
    )
    prednisone_pct: Pct | None = Field(
        None, description="% on prednisone", json_schema_extra=meta("%")
    )
    prednisone_mean_mg: float | None = Field(
        None,
        strict=True,
        gt=0,
        le=100,
        description="mean prednisone dose among users, mg/day",
        json_schema_extra=meta("mg/day"),
    )
    prednisone_sd_mg: float | None = Field(
        None,
        strict=True,
        gt=0,
        le=100,
        description="SD of prednisone dose among users, mg/day",
        json_schema_extra=meta("mg/day"),
    )
    prednisone_gt_7_5_pct: Pct | None = Field(
        None,
        description="% of all patients on > 7.5 mg/day prednisone",
        json_schema_extra=meta("%", "at most prednisone_pct"),
    )
    antimalarial_pct: Pct | None = Field(
        None, description="% on antimalarials", json_schema_extra=meta("%")
    )
    immunosuppressant_pct: Pct | None = Field(
        None, description="% on immunosuppressants", json_schema_extra=meta("%")
    )
    domain_pct: dict[OrganDomain, PctOrBound] | None = Field(
        None,
        description="% with each SELENA-SLEDAI organ domain active; a number or a bound '<16'",
        json_schema_extra=meta("%", 'or a bound in quotes such as "<16"'),
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
            for line in (join_problem(path, p) for p in extra):
                if line not in problems:
                    problems.append(line)
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


def join_problem(where: str, part: str) -> str:
    """Attach a model-level problem (``"field: ..."`` or ``"field (3) ..."``) to
    the path of the table it was found in.

    The same problem found on validated data and on the raw table reads the
    same, so it is listed once.

    Examples
    --------
    >>> join_problem("population", "age_min (80) must be below age_max (70)")
    'population.age_min (80) must be below age_max (70)'
    >>> join_problem("design", "the arms are too few")
    'design: the arms are too few'
    """
    if not where:
        return part
    if _FIELD_FIRST.match(part) or _FIELD_FIGURE.match(part):
        return f"{where}.{part}"
    return f"{where}: {part}"


# A problem that starts with a field and its figure, e.g. "age_min (80) must ...".
_FIELD_FIGURE = re.compile(r"^[a-z_][a-z0-9_]*(\[\d+\])? \(")


def _toml(value: Any, depth: int = 0) -> str:
    """A value as it would appear in the TOML file (roughly), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        if depth > 1:
            return "{...}"
        inner = ", ".join(f"{k} = {_toml(v, depth + 1)}" for k, v in list(value.items())[:4])
        return "{" + inner + (", ..." if len(value) > 4 else "") + "}"
    if isinstance(value, list | tuple):
        if depth > 1:
            return "[...]"
        inner = ", ".join(_toml(v, depth + 1) for v in list(value)[:6])
        return "[" + inner + (", ..." if len(value) > 6 else "") + "]"
    if hasattr(value, "isoformat"):  # TOML dates and times
        return f"{value.isoformat()} (a date or time)"
    return repr(value)


def shown(value: Any) -> str:
    """A value given in a scenario file, written for a message (at most 80 characters).

    Examples
    --------
    >>> shown(True), shown([1, "a"]), shown({"white": 50})
    ('true', "[1, 'a']", '{white = 50}')
    """
    text = _toml(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _field_at(
    root: type[BaseModel] | None, loc: tuple[int | str, ...]
) -> tuple[str, FieldInfo] | None:
    """The field a validation-error path ends on (list positions skipped), if any."""
    model = root
    found: tuple[str, FieldInfo] | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        found = (part, model.model_fields[part])
        model = _find_model(found[1].annotation)
    return found


def _strip(annotation: Any) -> Any:
    """``X`` of ``X | None`` and of ``Annotated[X, ...]``."""
    while True:
        origin = get_origin(annotation)
        args = get_args(annotation)
        if origin is Annotated:
            annotation = args[0]
        elif origin in (Union, UnionType) and type(None) in args:
            rest = [a for a in args if a is not type(None)]
            if len(rest) != 1:
                return annotation
            annotation = rest[0]
        else:
            return annotation


def _number_kind(annotation: Any) -> str:
    return "whole numbers" if _strip(annotation) is int else "numbers"


def _example_items(info: FieldInfo, annotation: Any, name: str) -> str:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    if "example" in extra:
        return str(extra["example"])
    default = info.default
    if isinstance(default, tuple) and default:
        items = ", ".join(f"{v:g}" if isinstance(v, float) else repr(v) for v in default)
        return f"[{items}]"
    args = get_args(_strip(annotation))
    if args and _strip(args[0]) is str:
        return '["selena_sledai >= 6"]'
    return "[0, 26]" if len(args) == 2 and args[1] is not Ellipsis else "[1, 2]"


def _expectation(name: str, info: FieldInfo, path: str, item: bool) -> tuple[str, str]:
    """(what the field takes, how to write it) in scenario-file terms."""
    annotation = _strip(info.annotation)
    origin = get_origin(annotation)
    args = get_args(annotation)
    model = _find_model(annotation)
    if model is not None:
        see = f"(see docs/scenario-schema.md#{model.__name__.lower()})"
        if origin is tuple:
            how = f"write each entry as [[{path}]] with its keys on the lines below it {see}"
            return ("a table" if item else "a list of tables"), how
        return "a table", f"write [{path}] with its keys on the lines below it {see}"
    if origin is dict:
        key = get_args(_strip(args[0]))
        first = key[0] if key else "name"
        return "a table of name = value", f"e.g. [{path}] then {first} = ..."
    if origin is tuple:
        if item:
            return (f"a {_number_kind(args[0])[:-1]}" if args else "a value"), ""
        example = f"e.g. {name} = {_example_items(info, annotation, name)}"
        if len(args) == 2 and args[1] is not Ellipsis:
            return f"two {_number_kind(args[0])}", example
        if args and _strip(args[0]) is str:
            return "a list of rules in quotes", example
        return f"a list of {_number_kind(args[0]) if args else 'values'}", example
    if origin is Literal:
        choices = ", ".join(repr(a) for a in args)
        return f"one of {choices}", f"e.g. {name} = {args[0]!r}"
    if annotation is str:
        # The scenario's own name (top level) gets a real example.
        return "text in quotes", f'e.g. {name} = "{"my-trial" if path == "name" else "..."}"'
    if annotation is bool:
        return "true or false", f"e.g. {name} = true"
    if annotation is int:
        whole = info.default if isinstance(info.default, int) and info.default else None
        return "a whole number", f"e.g. {name} = {'...' if whole is None else whole}"
    if annotation is float:
        return "a number", f"e.g. {name} = ..."
    return "a value", "see docs/scenario-schema.md for what it takes"


def expected(name: str, info: FieldInfo, path: str, *, item: bool = False) -> str:
    """What a field takes, in scenario-file terms, with an example.

    ``path`` is the field's dotted path in the file (``design.arms``); with
    ``item`` the text is about one element of a list field.

    Examples
    --------
    >>> from lupsim.trial.design import Enrolment
    >>> info = Enrolment.model_fields["activation_weeks"]
    >>> expected("activation_weeks", info, "design.enrolment.activation_weeks")
    'give two numbers, e.g. activation_weeks = [0, 26]'
    """
    what, how = _expectation(name, info, path, item)
    return f"give {what}" + (f", {how}" if how.startswith("e.g.") else f"; {how}" if how else "")


_TYPE_HINTS = {
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": "must be text",
    "dict_type": "must be a table of name = value",
    "list_type": "must be a list",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "finite_number": "must be a finite number",
}
# Shown before "got ..." when an error type has no field to describe.
_GENERIC = {
    "tuple_type": "must be a list, written [...]",
    "list_type": "must be a list, written [...]",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dict_type": "must be a table of name = value",
    "too_short": "has too few items",
    "too_long": "has too many items",
}

#: Phrases of the validation library that must never reach a user.
LIBRARY_PHRASES = (
    "Input should",
    "should have at",
    "after validation",
    "instance of",
    "pydantic",
    "Field required",
    "String should",
    "Value error,",
    "validation error",
    "[type=",
)


def format_validation_error(
    exc: ValidationError, prefix: str = "", model: type[BaseModel] | None = None
) -> list[str]:
    """Turn a pydantic ValidationError into ``"path: message, got value"`` lines.

    The messages say what the rule is, show the value given and how to write
    it in the scenario file, so a user can fix every problem in one pass.

    Examples
    --------
    >>> try:
    ...     Population.model_validate({"age_min": 80, "age_max": 70})
    ... except ValidationError as exc:
    ...     format_validation_error(exc, "population", Population)
    ['population.age_min (80) must be below age_max (70)']
    """
    errors = exc.errors(include_url=False)
    lines: list[tuple[str, bool]] = []  # (line, came from one member of a union)
    for err in errors:
        union = any(_is_tag(p) for p in err["loc"])
        loc = tuple(p for p in err["loc"] if not _is_tag(p))
        raw = list(err["loc"])
        bound_at = next((k for k, p in enumerate(raw) if isinstance(p, str) and "Bound" in p), None)
        if bound_at is not None and err["type"] not in ("model_type", "value_error"):
            # Inside the table form of a bound ({relation = "<"}): one message
            # about the figure, not one per key of the bound.
            loc = tuple(p for p in raw[:bound_at] if not _is_tag(p))
            err = {**err, "type": "model_type"}
        if (
            union
            and err["type"] in ("model_type", "float_type")
            and (bound_at is not None or any(isinstance(p, str) and "float" in p for p in raw))
        ):
            # A percentage or a bound (domain_pct): neither member fits.
            described = [
                f"{_loc(prefix, loc)}: must be a percentage (0-100) or a bound in quotes such "
                f'as "<16", got {shown(err.get("input"))}'
            ]
        else:
            described = _describe(err, loc, prefix, errors, model)
        for line in described:
            lines.append((line, union))
    seen: dict[str, str] = {}
    for line, union in lines:
        # Each member of a union reports the same bad value: keep one per path.
        seen.setdefault(line.split(": ", 1)[0] if union else line, line)
    return list(seen.values())


def _is_tag(part: int | str) -> bool:
    """Whether a part of an error path names a member of a union, not a field."""
    return isinstance(part, str) and (
        "function-" in part or part in _UNION_TAGS or part.startswith("constrained-")
    )


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
    if etype == "missing" and loc and isinstance(loc[-1], int):
        # A fixed-length list (e.g. two weeks) given too few items.
        return _wrong_shape(loc[:-1], prefix, given, model)
    if etype == "missing":
        found = _field_at(model, loc)
        if found is None:
            return [f"{where}: is required"]
        return [f"{where}: is required; {expected(found[0], found[1], _loc(prefix, loc))}"]
    if etype in _COMPARISONS:
        if isinstance(given, float) and given != given:
            return [f"{where}: must be a number, got nan"]
        limit = next(iter(ctx.values())) if ctx else "?"
        limit_text = f"{limit:g}" if isinstance(limit, int | float) else str(limit)
        return [f"{where}: must be {_COMPARISONS[etype]} {limit_text}, got {shown(given)}"]
    if etype == "literal_error" and loc and loc[-1] == "[key]":
        key_loc = loc[:-1]
        bad = str(key_loc[-1])
        allowed = _choices(str(ctx.get("expected", "")))
        return [
            f"{_loc(prefix, key_loc[:-1])}: unknown key {bad!r}"
            f"{did_you_mean(bad, allowed)}; use one of: {', '.join(allowed)}"
        ]
    if etype == "literal_error":
        allowed = _choices(str(ctx.get("expected", "")))
        hint = did_you_mean(str(given), allowed) if isinstance(given, str) else ""
        return [
            f"{where}: must be one of {', '.join(repr(a) for a in allowed)}, "
            f"got {shown(given)}{hint}"
        ]
    if etype in ("tuple_type", "list_type", "too_short", "too_long") and not (
        etype == "too_short"
        and any(
            o is not err and tuple(o["loc"][: len(err["loc"])]) == tuple(err["loc"]) for o in errors
        )
    ):
        return _wrong_shape(loc, prefix, given, model, ctx)
    if etype == "too_short":
        return []  # "too few items after validation" only echoes an item's own error
    if etype in ("model_type", "model_attributes_type", "dict_type"):
        found = _field_at(model, loc)
        if found is not None:
            item = bool(loc) and isinstance(loc[-1], int)
            path = _loc(prefix, tuple(p for p in loc if isinstance(p, str)))
            what, how = _expectation(found[0], found[1], path, item)
            return [f"{where}: must be {what}, got {shown(given)}{_then(how)}"]
        return [f"{where}: {_GENERIC[etype]}, got {shown(given)}"]
    if etype == "string_too_short":
        return [f"{where}: must not be empty, got {shown(given)}; give a name in quotes"]
    if etype == "string_too_long":
        limit = ctx.get("max_length", "?")
        return [f"{where}: must be at most {limit} characters, got {len(str(given))}"]
    if etype in _TYPE_HINTS:
        return [f"{where}: {_TYPE_HINTS[etype]}, got {shown(given)}"]
    if etype == "invalid_key":
        table = _loc(prefix, loc[:-1]) if loc else prefix
        return [f"{table}: key {shown(loc[-1] if loc else given)} is not a name; keys are text"]
    if etype not in ("value_error", "assertion_error"):
        # A rule of the validation library without a lupsim wording: say what
        # was given and what the field takes, never the library's text.
        found = _field_at(model, loc)
        if found is not None:
            return [f"{where}: not a valid value, got {shown(given)}; {expected(*found, where)}"]
        return [f"{where}: not a valid value, got {shown(given)} (see docs/scenario-schema.md)"]
    msg = str(err["msg"])
    for head in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(head)
    # A model-level validator may join several "field: problem" lines.
    at_model = not loc or _model_at(model, loc) is not None
    out = []
    for part in msg.split(_JOIN):
        if at_model:
            out.append(join_problem(where, part))
        elif where:
            out.append(f"{where}: {part}")
        else:
            out.append(part)
    return out


def _then(how: str) -> str:
    """``"; write e.g. x = [0, 26]"`` after a message, or nothing."""
    if not how:
        return ""
    return f"; write {how}" if how.startswith("e.g.") else f"; {how}"


def _choices(expected_text: str) -> tuple[str, ...]:
    """``"'a', 'b' or 'c'"`` (pydantic's list of literals) as ``('a', 'b', 'c')``."""
    text = expected_text.replace(" or ", ",")
    return tuple(a.strip(" '") for a in text.split(",") if a.strip(" '"))


def _wrong_shape(
    loc: tuple[int | str, ...],
    prefix: str,
    given: Any,
    model: type[BaseModel] | None,
    ctx: dict[str, Any] | None = None,
) -> list[str]:
    """A list of the wrong kind or length: what was given and how to write it."""
    where = _loc(prefix, loc)
    ctx = ctx or {}
    count = ""
    if isinstance(given, list | tuple):
        count = f" ({len(given)} item{'s' if len(given) != 1 else ''})"
    found = _field_at(model, loc)
    if found is None:
        return [f"{where}: must be a list, written [...], got {shown(given)}{count}"]
    name, info = found
    path = _loc(prefix, tuple(p for p in loc if isinstance(p, str)))
    what, how = _expectation(name, info, path, False)
    how = _then(how)
    minimum = ctx.get("min_length")
    if minimum is not None and isinstance(given, list | tuple):
        return [f"{where}: needs at least {minimum} entries, got {len(given)}{how}"]
    return [f"{where}: must be {what}, got {shown(given)}{count}{how}"]


_COMPARISONS = {
    "greater_than_equal": ">=",
    "greater_than": ">",
    "less_than_equal": "<=",
    "less_than": "<",
}
