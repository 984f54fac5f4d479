"""Scenarios: a population, its eligibility rules (and later a trial design),
read from a TOML file and validated in full before anything runs.

A scenario is accepted by bundled name (``"bliss52"``; see
:func:`bundled_scenarios`) or by path. A bad file raises one
:class:`~lupsim.errors.ScenarioError` listing every problem with its path in
the file, e.g. ``population.female_pct: must be <= 100, got 120``.

Examples
--------
>>> s = load_scenario("bliss52")
>>> s.population.female_pct
94.9
"""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from lupsim.analysis.endpoints import RENAL_ENDPOINTS
from lupsim.analysis.plan import INTERIM_MULTIPLICITY, AnalysisPlan, Multiplicity
from lupsim.cohort.eligibility import Eligibility
from lupsim.cohort.population import (
    _JOIN,
    Population,
    format_validation_error,
    join_problem,
    meta,
    population_problems,
)
from lupsim.errors import ScenarioError, did_you_mean
from lupsim.trial.design import BINOMIAL_NO_LOOKS, TrialDesign, design_problems
from lupsim.trial.settings import DiseaseSettings, PKPDSettings

__all__ = [
    "Scenario",
    "bundled_scenarios",
    "load_scenario",
    "parse_scenario",
    "scenario_problems",
]

_BUNDLE = "lupsim._bundled"


class Scenario(BaseModel):
    """A validated scenario (frozen)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(
        min_length=1, description="short name, e.g. 'bliss52'", json_schema_extra=meta("—")
    )
    title: str = Field("", description="one-line title", json_schema_extra=meta("—", "any text"))
    description: str = Field(
        "", description="what the scenario is for", json_schema_extra=meta("—", "any text")
    )
    source: str | None = Field(
        None,
        description="publication the figures come from",
        json_schema_extra=meta("—", "any text"),
    )
    population: Population = Field(
        default_factory=Population,
        description="the published baseline figures (Table 1) the cohort reproduces",
        json_schema_extra=meta("—"),
    )
    eligibility: Eligibility | None = Field(
        None,
        description="inclusion, exclusion and enrichment rules (include, exclude, enrich)",
        json_schema_extra=meta("—"),
    )
    design: TrialDesign | None = Field(
        None, description="the trial design", json_schema_extra=meta("—")
    )
    disease: DiseaseSettings | None = Field(
        None, description="overrides of the disease-model parameters", json_schema_extra=meta("—")
    )
    pkpd: PKPDSettings | None = Field(
        None, description="overrides of the drug's PK/PD", json_schema_extra=meta("—")
    )
    analysis: AnalysisPlan | None = Field(
        None, description="the statistical analysis plan", json_schema_extra=meta("—")
    )

    @model_validator(mode="after")
    def _coherent(self) -> Scenario:
        problems = scenario_problems(self.model_dump())
        if problems:
            raise ValueError(_JOIN.join(problems))
        return self

    # Where the scenario was read from: not a field, so it is in no dump, hash
    # of the content or cache key, and two copies of one file compare equal.
    _origin: str | None = PrivateAttr(default=None)

    @property
    def origin(self) -> str | None:
        """The file the scenario was read from (``"bliss52.toml"`` for a bundled
        one), or None for a scenario built in Python.

        Examples
        --------
        >>> load_scenario("bliss52").origin
        'bliss52.toml'
        >>> Scenario(name="x").origin is None
        True
        """
        return self._origin

    def with_origin(self, origin: str | None) -> Scenario:
        """A copy of the scenario that says it was read from ``origin``.

        Examples
        --------
        >>> Scenario(name="x").with_origin("my/x.toml").where()
        "'x' (my/x.toml)"
        """
        out = self.model_copy()
        out._origin = origin
        return out

    def where(self) -> str:
        """The scenario's name and file, for messages: ``"'x' (path/to/x.toml)"``.

        Examples
        --------
        >>> load_scenario("bliss52").where()
        "'bliss52' (bliss52.toml)"
        >>> Scenario(name="x").where()
        "'x'"
        """
        return f"{self.name!r} ({self._origin})" if self._origin else repr(self.name)

    def __eq__(self, other: object) -> bool:
        # The content decides, not the file it came from.
        if not isinstance(other, Scenario):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in type(self).model_fields)

    def __hash__(self) -> int:
        return hash(self.model_dump_json())


def _table(d: object, key: str) -> dict[str, Any] | None:
    value = d.get(key) if isinstance(d, dict) else None
    return value if isinstance(value, dict) else None


def _specs(analysis: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The analyses of a plan with their paths: primary, then each secondary."""
    out = []
    if isinstance(analysis.get("primary"), dict):
        out.append(("analysis.primary", analysis["primary"]))
    secondary = analysis.get("secondary")
    if isinstance(secondary, list | tuple):
        out.extend(
            (f"analysis.secondary[{k}]", spec)
            for k, spec in enumerate(secondary)
            if isinstance(spec, dict)
        )
    return out


def _week(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _check_binomial_looks(d: dict[str, Any]) -> list[str]:
    design, analysis = _table(d, "design"), _table(d, "analysis")
    if design is None or analysis is None or design.get("outcome") != "binomial":
        return []
    if analysis.get("interim") is None:
        return []
    return [
        f"analysis.interim: {BINOMIAL_NO_LOOKS}; remove [analysis.interim] (interim looks "
        "need the disease model, design.outcome = 'disease_model')"
    ]


def _check_binomial_endpoints(d: dict[str, Any]) -> list[str]:
    """A binomial design draws one response per subject, kept as ``sri4``; the
    disease-model endpoints (BICLA, flares, SLEDAI change...) would read a
    constructed record and report nonsense."""
    design, analysis = _table(d, "design"), _table(d, "analysis")
    if design is None or analysis is None or design.get("outcome") != "binomial":
        return []
    return [
        f"{path}.endpoint: {spec['endpoint']!r} needs the disease model; a binomial design "
        "draws one response per subject, analysed as endpoint = 'sri4' (logistic, "
        "logistic_unadjusted, cmh or risk_difference)"
        for path, spec in _specs(analysis)
        if spec.get("endpoint", "sri4") != "sri4"
    ]


def _check_renal_endpoints(d: dict[str, Any]) -> list[str]:
    design, analysis = _table(d, "design"), _table(d, "analysis")
    if design is None or analysis is None:
        return []
    if (_table(design, "background") or {}).get("induction"):
        return []
    if design.get("outcome") == "binomial":
        return []  # any endpoint but the drawn response: _check_binomial_endpoints
    return [
        f"{path}.endpoint: {spec['endpoint']!r} is a renal response, which needs a lupus "
        "nephritis induction regimen and this design gives none; add [design.background] "
        "induction = { mycophenolate = 0.74, euro_lupus_cyclophosphamide = 0.26 } (as in "
        "scenarios/nephritis-addon.toml) or use an SLE endpoint such as 'sri4'"
        for path, spec in _specs(analysis)
        if spec.get("endpoint") in RENAL_ENDPOINTS
    ]


def _check_interim_multiplicity(d: dict[str, Any]) -> list[str]:
    analysis = _table(d, "analysis")
    if analysis is None or analysis.get("interim") is None:
        return []
    multiplicity = analysis.get("multiplicity", "none")
    if multiplicity in INTERIM_MULTIPLICITY or multiplicity not in get_args(Multiplicity):
        return []  # a value outside the choices is reported by the field itself
    return [
        "analysis.multiplicity: group-sequential looks are tested per comparison with alpha "
        f"split by Bonferroni; multiplicity = {multiplicity!r} is not supported with interim "
        f"looks ([analysis.interim]); use {' or '.join(repr(m) for m in INTERIM_MULTIPLICITY)}"
    ]


def _check_interim_has_looks(d: dict[str, Any]) -> list[str]:
    design, analysis = _table(d, "design"), _table(d, "analysis")
    if design is None or analysis is None or analysis.get("interim") is None:
        return []
    if design.get("outcome") == "binomial" or design.get("milestones"):
        return []  # binomial: reported by _check_binomial_looks
    return [
        "analysis.interim: the design has no [[design.milestones]], so there is no interim "
        'look for its boundaries; add one (e.g. [[design.milestones]] with name = "IA1", '
        "week = 52 and n_patients = half of n_randomised) or remove [analysis.interim]"
    ]


def _check_analysis_weeks(d: dict[str, Any]) -> list[str]:
    design, analysis = _table(d, "design"), _table(d, "analysis")
    if design is None or analysis is None:
        return []
    primary = _week(design.get("primary_week", 52.0))
    interval = _week(design.get("visit_interval_weeks", 4.0))
    end = design.get("end_week")
    last = primary if end is None else _week(end)
    if primary is None or interval is None or last is None or interval <= 0 or primary <= 0:
        return []  # reported by the fields themselves
    binomial = design.get("outcome") == "binomial"
    out = []
    for path, spec in _specs(analysis):
        week = _week(spec.get("week"))
        if week is None or week <= 0:
            continue
        if binomial:
            if abs(week - primary) > 1e-6:
                out.append(
                    f"{path}.week: {week:g} is not a visit of the design: a binomial design "
                    f"has one visit after baseline, the primary week ({primary:g}); write "
                    f"week = {primary:g} or remove week"
                )
            continue
        k = round(week / interval)
        if abs(week - k * interval) <= 1e-6 and week <= last + 1e-6:
            continue
        visits = (
            f"visits are every {interval:g} weeks to week {last:g} ({_visit_list(interval, last)})"
        )
        if week > last:
            out.append(
                f"{path}.week: {week:g} is after the last visit of the design (week {last:g}); "
                f"{visits}: use one of them, or remove week to read the primary week "
                f"({primary:g})"
            )
            continue
        below = interval * math.floor(week / interval)
        near = f"{below:g} or {below + interval:g}" if below > 0 else f"{interval:g}"
        out.append(
            f"{path}.week: {week:g} is not a visit of the design; {visits}: use {near}, or "
            f"remove week to read the primary week ({primary:g})"
        )
    return out


def _visit_list(interval: float, last: float) -> str:
    """Post-baseline visit weeks, shortened: ``"4, 8, 12, ..., 48, 52"``."""
    n = round(last / interval)
    if n <= 6:
        return ", ".join(f"{interval * k:g}" for k in range(1, n + 1))
    head = ", ".join(f"{interval * k:g}" for k in (1, 2, 3))
    return f"{head}, ..., {interval * (n - 1):g}, {interval * n:g}"


_CHECKS = (
    _check_binomial_looks,
    _check_binomial_endpoints,
    _check_renal_endpoints,
    _check_interim_multiplicity,
    _check_interim_has_looks,
    _check_analysis_weeks,
)


def scenario_problems(d: dict[str, Any]) -> list[str]:
    """Problems across the tables of a scenario given as a mapping: an analysis
    plan the design cannot carry out.

    Works on a validated scenario (``model_dump()``) and, best effort, on raw
    input whose fields did not all validate, so that one message lists field
    errors and these together. Each problem starts with its full path.

    Examples
    --------
    >>> scenario_problems({"analysis": {"interim": {}, "multiplicity": "holm"}})
    ["analysis.multiplicity: group-sequential looks are tested per comparison ...; use ..."]
    """
    out: list[str] = []
    for check in _CHECKS:
        try:
            out.extend(check(d))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
            continue
    return out


def bundled_scenarios() -> list[str]:
    """Names of the scenarios shipped with lupsim.

    Examples
    --------
    >>> "bliss52" in bundled_scenarios()
    True
    """
    root = resources.files(_BUNDLE)
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def parse_scenario(data: dict[str, Any], *, source: str = "<scenario>") -> Scenario:
    """Validate a parsed TOML mapping into a Scenario.

    Examples
    --------
    >>> parse_scenario({"name": "x", "population": {"female_pct": 120}})
    Traceback (most recent call last):
    ...
    lupsim.errors.ScenarioError: <scenario>: population.female_pct: must be <= 100, got 120
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = format_validation_error(exc, model=Scenario)
        # Cross-field checks run on the raw tables too, so that one message
        # lists them beside the field errors that stopped validation.
        for table, check in (("population", population_problems), ("design", design_problems)):
            raw = data.get(table) if isinstance(data, dict) else None
            if isinstance(raw, dict):
                for p in check(raw):
                    line = join_problem(table, p)
                    if line not in problems:
                        problems.append(line)
        if isinstance(data, dict):
            problems.extend(p for p in scenario_problems(data) if p not in problems)
        raise ScenarioError(problems, source=source) from None
    return scenario if source == "<scenario>" else scenario.with_origin(source)


def _read(path: Path, shown: str) -> dict[str, Any]:
    try:
        # Bytes, decoded without newline translation: TOML's own rules decide
        # what a bare carriage return means.
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror or exc}", source=shown) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", source=shown
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(
            f"not valid TOML: {exc}; check the quoting and '=' signs on that line",
            source=shown,
        ) from None
    except RecursionError:
        raise ScenarioError(
            "not a usable TOML file: nested too deeply; a scenario is a few flat tables",
            source=shown,
        ) from None


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a scenario by bundled name or from a TOML file.

    Parameters
    ----------
    name_or_path
        A bundled scenario name (``lupsim scenarios`` lists them) or a path to
        a ``.toml`` file.

    Examples
    --------
    >>> load_scenario("bliss52").name
    'bliss52'
    >>> load_scenario("blis52")
    Traceback (most recent call last):
    ...
    lupsim.errors.ScenarioError: unknown scenario 'blis52' (did you mean 'bliss52'?); ...
    """
    text = str(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" or path.exists() or "/" in text:
        if path.is_dir():
            raise ScenarioError(
                f"scenario {text!r} is a directory; give the path of a .toml file in it "
                f"or a bundled name ({', '.join(bundled_scenarios())})"
            )
        if not path.is_file():
            raise ScenarioError(
                f"scenario file {text!r} does not exist; give a bundled name "
                f"({', '.join(bundled_scenarios())}) or the path of a .toml file"
            )
        return parse_scenario(_read(path, text), source=text)
    bundled = bundled_scenarios()
    if text not in bundled:
        raise ScenarioError(
            f"unknown scenario {text!r}{did_you_mean(text, bundled)}; bundled scenarios are "
            f"{', '.join(bundled)}; or give the path of a .toml file"
        )
    resource = resources.files(_BUNDLE).joinpath(f"{text}.toml")
    with resources.as_file(resource) as file:
        return parse_scenario(_read(file, f"{text}.toml"), source=f"{text}.toml")
