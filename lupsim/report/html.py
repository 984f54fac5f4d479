"""One self-contained HTML report of a simulated trial.

:func:`build_report` simulates the scenario's trial, runs its analysis plan
and draws the figures of :mod:`lupsim.report.figures`; with ``replicates``
it also repeats the trial (:func:`lupsim.runner.simulate_replicates`) and
runs a power curve (:func:`lupsim.analysis.power.run_power`).
:meth:`Report.to_html` lays the results out as a single HTML file: figures
embedded as base64 PNG, CSS inline, no script and no external resource, so
it opens offline, attaches to an e-mail and archives as one file.

Every text that comes from a scenario or a dataset (names, titles, rules,
arm labels) is HTML-escaped.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> report = build_report(load_scenario("bliss52"), seed=1)
>>> page = report.to_html()
>>> page.startswith("<!DOCTYPE html>"), "data:image/png;base64," in page
(True, True)
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import io
import platform
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

import lupsim
from lupsim.analysis import subgroups
from lupsim.analysis.binary import BINARY_ENDPOINTS
from lupsim.analysis.endpoints import RENAL_ENDPOINTS
from lupsim.analysis.interim import SequentialResult, comparison_alpha
from lupsim.analysis.plan import AnalysisPlan, AnalysisSpec
from lupsim.analysis.power import (
    GridPoint,
    PowerResult,
    apply_grid_point,
    check_feasible,
    run_power,
)
from lupsim.analysis.report import AnalysisReport, analyse
from lupsim.analysis.results import AnalysisResult
from lupsim.cohort.table import ROWS, target_of
from lupsim.errors import LupsimError, ScenarioError
from lupsim.report import figures
from lupsim.runner import SimulationResult, simulate_replicates
from lupsim.scenario import Scenario, bundled_scenarios, load_scenario
from lupsim.trial import simulate_trial
from lupsim.trial.dataset import TrialDataset
from lupsim.trial.design import TrialDesign

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "BINOMIAL_NOTE",
    "DISEASE_SECTIONS",
    "SECTIONS",
    "Report",
    "build_report",
    "check_power_sizes",
    "default_power_sizes",
    "report_endpoint",
    "scenario_hash",
    "section_titles",
]

#: Section headings of the report, by anchor, in order. ``replicates`` and
#: ``power`` appear only when the report was built with replicates.
SECTIONS: Mapping[str, str] = MappingProxyType(
    {
        "scenario": "Scenario",
        "consort": "Participant flow (CONSORT)",
        "table1": "Baseline characteristics by arm",
        "sri-by-visit": "SRI-4 response by visit",
        "sledai-change": "SELENA-SLEDAI change from baseline",
        "sri-components": "SRI-4 components",
        "subgroups": "Subgroup analysis of SRI-4",
        "flares": "Time to first severe flare",
        "primary": "Primary analysis",
        "replicates": "Replicated trials",
        "power": "Power",
        "reproducibility": "Reproducibility",
    }
)


def report_endpoint(plan: AnalysisPlan) -> str:
    """The binary endpoint the report follows by visit, by subgroup and over
    replicates: the primary one if it is binary, else SRI-4.

    Examples
    --------
    >>> report_endpoint(AnalysisPlan(primary=AnalysisSpec(endpoint="perr")))
    'perr'
    >>> report_endpoint(AnalysisPlan(primary=AnalysisSpec(endpoint="sledai_change",
    ...                                                   method="ancova")))
    'sri4'
    """
    endpoint = plan.primary.endpoint
    return endpoint if endpoint in BINARY_ENDPOINTS else "sri4"


#: Sections that show the disease model (baseline disease, SELENA-SLEDAI,
#: SRI components, subgroups, flares): a binomial design has none of them.
DISEASE_SECTIONS: tuple[str, ...] = (
    "table1",
    "sledai-change",
    "sri-components",
    "subgroups",
    "flares",
)

#: What a binomial design's report says in place of :data:`DISEASE_SECTIONS`.
BINOMIAL_NOTE = (
    "This design draws each patient's response with a fixed rate per arm and has no "
    "disease model, so the report leaves out baseline characteristics, SELENA-SLEDAI "
    "change, SRI components, subgroups and flares."
)


def section_titles(endpoint: str = "sri4", *, binomial: bool = False) -> Mapping[str, str]:
    """:data:`SECTIONS` with the headings of a report that follows ``endpoint``.

    A binomial design (``binomial=True``) follows its drawn response, which is
    named "Response", not after an instrument.

    Examples
    --------
    >>> section_titles("perr")["sri-by-visit"]
    'PERR response by visit'
    >>> section_titles("sri4") == SECTIONS
    True
    >>> section_titles("sri4", binomial=True)["sri-by-visit"]
    'Response by visit'
    """
    if binomial:
        titles = dict(SECTIONS)
        titles["sri-by-visit"] = "Response by visit"
        return MappingProxyType(titles)
    if endpoint == "sri4":
        return SECTIONS
    name = figures.endpoint_label(endpoint)
    titles = dict(SECTIONS)
    titles["sri-by-visit"] = f"{name} response by visit"
    titles["subgroups"] = f"Subgroup analysis of {name}"
    if endpoint in RENAL_ENDPOINTS:
        titles["sri-components"] = "Renal response components"
    return MappingProxyType(titles)


#: Power curve sizes around the design's n, as multiples of it (without rates).
_POWER_MULTIPLES = (0.5, 0.75, 1.0, 1.25)
#: Analytic powers the default power curve sizes aim at (with rates).
_POWER_TARGETS = (0.5, 0.7, 0.85, 0.95)
#: The largest trial a design may randomise (TrialDesign.n_randomised).
_MAX_POWER_SIZE = 100_000
#: Default power sizes stay below this multiple of the design's n.
_POWER_SPAN = 4
_DPI = 100

#: Labels of the replicated per-arm endpoints (:data:`lupsim.runner.ENDPOINTS`).
_ENDPOINT_LABELS = {
    "completed_pct": "Completed the primary visit",
    "perr": "PERR (primary efficacy renal response)",
    "crr": "CRR (complete renal response)",
    "sri4": "SRI-4",
    "sledai_reduction4": ">= 4-point SELENA-SLEDAI reduction",
    "no_bilag_worsening": "No BILAG worsening",
    "no_pga_worsening": "No PGA worsening",
    "sri5": "SRI-5",
    "sri6": "SRI-6",
    "bicla": "BICLA",
    "lldas": "LLDAS",
    "severe_flare": "Severe flare (modified SFI)",
    "steroid_reduction": "Steroid reduction (among > 7.5 mg/day)",
}

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2d3d;
       max-width: 1040px; margin: 2em auto; padding: 0 1.2em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 2px solid #34495e; padding-bottom: 0.15em; margin-top: 2em; }
h3 { font-size: 1.05em; margin-bottom: 0.3em; }
.subtitle { color: #4a5a6a; margin-top: 0; }
nav ol { columns: 2; font-size: 0.92em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.88em; }
th, td { border: 1px solid #c8d0da; padding: 0.25em 0.6em; text-align: left;
         font-variant-numeric: tabular-nums; }
th { background: #eef2f7; }
table.dataframe tbody th { text-align: left; font-weight: normal; background: #f7f9fb; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1.2em; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e3e8ee; }
figcaption, .note { color: #4a5a6a; font-size: 0.9em; }
code { background: #f3f5f8; padding: 0 0.25em; }
footer { margin-top: 3em; font-size: 0.9em; }
"""


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the scenario's canonical JSON: equal hashes, same scenario.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> len(scenario_hash(load_scenario("bliss52")))
    64
    """
    return hashlib.sha256(scenario.model_dump_json().encode("utf-8")).hexdigest()


def default_power_sizes(
    design: TrialDesign,
    rates: Mapping[str, float] | None = None,
    alpha_one_sided: float = 0.025,
) -> list[int]:
    """Total sizes for the power curve: where power climbs, and the design's n.

    With response rates per arm (``rates``, proportions; a binomial design's
    own ``response_rate`` by default), the comparison with the largest
    effect (Cohen's h) against the control is the one the curve is placed
    on: the sizes are the totals at which its normal-approximation power
    (:func:`lupsim.report.figures.analytic_power`) is 50%, 70%, 85% and 95%,
    beside the design's ``n_randomised``. So a trial powered far above 95%
    still shows where its power would fall. No size exceeds four times
    ``n_randomised``. Without usable rates (a disease model before
    simulation, no arm better than control, or an effect so small that even
    50% power needs more than four times the design's n) the sizes are half,
    three quarters, all and five quarters of ``n_randomised``.

    The sizes for a power are rounded to the smallest randomisation block;
    none is smaller than one block per stratum (what randomisation needs) or
    larger than 100,000.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> design = load_scenario("two-arm-binomial").design
    >>> default_power_sizes(design)
    [196, 312, 456, 532, 660]
    >>> default_power_sizes(design, {"control": 0.44, "active": 0.44})
    [266, 399, 532, 665]
    """
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    strata = 2 ** len(design.randomisation.stratify_by)
    block = min(design.block_sizes())
    floor = strata * block
    n = design.n_randomised

    def fit(size: float) -> int:
        return int(min(max(block * round(size / block), floor), _MAX_POWER_SIZE))

    if rates is None and design.outcome == "binomial":
        rates = {a.name: float(a.response_rate) for a in design.arms if a.response_rate}
    allocation = design.allocation or tuple(1 for _ in design.arms)
    share = {a.name: float(w) for a, w in zip(design.arms, allocation, strict=True)}
    control = design.control_arm
    best: tuple[float, str] | None = None
    if rates is not None and 0 < rates.get(control, -1.0) < 1:
        for arm, rate in rates.items():
            if arm != control and arm in share and 0 < rate < 1:
                h = float(proportion_effectsize(rate, rates[control]))
                if h > 0 and (best is None or h > best[0]):
                    best = (h, arm)
    if best is None:
        return sorted({min(max(round(n * m), floor), _MAX_POWER_SIZE) for m in _POWER_MULTIPLES})
    h, arm = best
    targets = []
    for target in _POWER_TARGETS:
        n_control = NormalIndPower().solve_power(
            effect_size=h,
            alpha=alpha_one_sided,
            power=target,
            ratio=share[arm] / share[control],
            alternative="larger",
        )
        targets.append(float(n_control) * sum(share.values()) / share[control])
    limit = _POWER_SPAN * n
    if targets[0] > limit:  # an effect too small for this design: stay near it
        return sorted({min(max(round(n * m), floor), _MAX_POWER_SIZE) for m in _POWER_MULTIPLES})
    return sorted({n} | {fit(min(t, limit)) for t in targets})


def check_power_sizes(scenario: Scenario, sizes: Iterable[int]) -> list[int]:
    """The power curve's total sizes, checked before anything is simulated.

    Each size is put into the scenario as :func:`lupsim.analysis.power.run_power`
    does (interim milestones keep their information fraction) and checked as
    it checks them: a valid design, and at least one randomisation block per
    stratum.

    Returns
    -------
    list of int
        The sizes, sorted, each once.

    Raises
    ------
    ScenarioError
        Naming the size, the rule it breaks and what to give instead.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> check_power_sizes(load_scenario("two-arm-binomial"), [400, 200, 400])
    [200, 400]
    >>> check_power_sizes(load_scenario("interim-gsd"), [40])
    Traceback (most recent call last):
    ...
    lupsim.errors.ScenarioError: power_sizes: 40 is too small: n_total 40 is smaller ...
    """
    design = scenario.design
    if design is None:
        raise ScenarioError(
            f"scenario {scenario.where()} has no [design] table; add a [design] table "
            "with at least two [[design.arms]]"
        )
    out = []
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise ScenarioError(
                f"power_sizes: {n!r} is not a whole number of patients; give integers, "
                "e.g. 400,600,865"
            )
        out.append(int(n))
    if not out:
        raise ScenarioError(
            "power_sizes: no size given; give at least one total n, e.g. 400,600,865"
        )
    out = sorted(set(out))
    for k, n in enumerate(out):
        if n > _MAX_POWER_SIZE:
            raise ScenarioError(
                f"power_sizes: {n} is too large: a trial randomises at most "
                f"{_MAX_POWER_SIZE} patients; give smaller sizes"
            )
        point = GridPoint(k, {"n_total": n})
        try:
            # The randomisation rule run_power applies: one block per stratum.
            check_feasible(scenario, point)
        except ScenarioError as exc:
            raise ScenarioError(f"power_sizes: {n} is too small: {exc}") from None
        try:
            apply_grid_point(scenario, point)
        except ScenarioError as exc:
            raise ScenarioError(
                f"power_sizes: {n} cannot be simulated: {' '.join(str(exc).split())}"
            ) from None
    return out


@dataclass(frozen=True, eq=False)
class Report:
    """A built report: the results, the figures as PNG, and how they were made.

    Build it with :func:`build_report`; :meth:`to_html` lays it out and
    :meth:`write` saves it.

    Attributes
    ----------
    scenario, seed
        What was simulated.
    dataset
        The simulated trial.
    analysis
        Its analysis plan's results (:func:`lupsim.analysis.report.analyse`).
    table1
        Baseline characteristics per arm, as text (:func:`figures.table1_by_arm`);
        empty for a binomial design, which generates no patient.
    figures
        PNG images by section anchor (:data:`SECTIONS`): those of
        :attr:`sections`, and ``replicates`` for the replicated response.
    replicates
        Trials in the replicated summary (0: none).
    simulation, power
        The replicated summary and the power curve, when ``replicates > 0``.
    created
        When the report was built (UTC).
    """

    scenario: Scenario
    seed: int
    dataset: TrialDataset
    analysis: AnalysisReport
    table1: pd.DataFrame
    figures: Mapping[str, bytes]
    replicates: int = 0
    simulation: SimulationResult | None = None
    power: PowerResult | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        object.__setattr__(self, "figures", MappingProxyType(dict(self.figures)))

    @property
    def scenario_hash(self) -> str:
        """SHA-256 of the scenario's JSON (:func:`scenario_hash`)."""
        return scenario_hash(self.scenario)

    @property
    def endpoint(self) -> str:
        """The binary endpoint followed by visit and subgroup (:func:`report_endpoint`)."""
        return report_endpoint(self.analysis.plan)

    @property
    def binomial(self) -> bool:
        """Whether the trial is a binomial design (no disease model)."""
        return self.dataset.binomial

    @property
    def response_label(self) -> str:
        """How the followed endpoint is named: "Response" in a binomial design."""
        return "Response" if self.binomial else figures.endpoint_label(self.endpoint)

    @property
    def titles(self) -> Mapping[str, str]:
        """The section headings of this report (:func:`section_titles`)."""
        return section_titles(self.endpoint, binomial=self.binomial)

    @property
    def sections(self) -> tuple[str, ...]:
        """Anchors of the sections this report has, in page order.

        A binomial design has none of :data:`DISEASE_SECTIONS`; ``replicates``
        and ``power`` come with replicates only.
        """
        absent = set(DISEASE_SECTIONS) if self.binomial else set()
        if self.simulation is None:
            absent.add("replicates")
        if self.power is None:
            absent.add("power")
        return tuple(k for k in SECTIONS if k not in absent)

    def to_html(self) -> str:
        """The report as one self-contained HTML document."""
        builders: dict[str, Callable[[], str]] = {
            "scenario": self._scenario_section,
            "consort": lambda: self._figure_section(
                "consort",
                "Randomisation and each arm's course to the primary visit (a binomial design "
                "screens nobody and loses nobody)."
                if self.binomial
                else "Screening, randomisation and each arm's course to the primary visit; "
                "screen failures are counted under the first eligibility rule they broke.",
            ),
            "table1": lambda: self._section(
                "table1",
                _table(self.table1, index=True)
                + _note("Percentages of randomised subjects; prednisone dose among users."),
            ),
            "sri-by-visit": lambda: self._figure_section(
                "sri-by-visit",
                "Responders among everyone randomised (a drawn response with a fixed rate "
                "per arm), with 95% Wilson intervals."
                if self.binomial
                else "Responders among everyone randomised (dropouts and treatment failures "
                "are non-responders), with 95% Wilson intervals.",
            ),
            "sledai-change": lambda: self._figure_section(
                "sledai-change",
                "Mean change from baseline among subjects seen at each visit, with 95% "
                "t intervals.",
            ),
            "sri-components": lambda: self._figure_section(
                "sri-components",
                f"Percent of randomised subjects meeting each criterion of PERR and CRR at "
                f"week {self.dataset.primary_week:g}: prednisone <= 10 mg/day at every visit "
                "from week 24 (shared), uPCR and eGFR (uPCR read as proteinuria in g/24 h; "
                "a criterion counts where the subject was seen, the response also needs "
                "no treatment failure)."
                if self.endpoint in RENAL_ENDPOINTS
                else f"Percent of randomised subjects meeting each component of SRI-4 at week "
                f"{self.dataset.primary_week:g}.",
            ),
            "subgroups": lambda: self._figure_section(
                "subgroups",
                f"Odds ratio of {figures.endpoint_label(self.endpoint)} response (95% Wald CI) "
                "by subgroup level; beside each subgroup, the likelihood-ratio p-value of the "
                "arm x subgroup interaction (one per comparison, in legend order), unadjusted "
                "for multiplicity.",
            ),
            "flares": lambda: self._figure_section(
                "flares",
                "Kaplan-Meier estimate of freedom from a severe flare (modified SELENA flare "
                "index), pointwise 95% bands, log-rank test.",
            ),
            "primary": self._primary_section,
            "replicates": self._replicates_section,
            "power": self._power_section,
        }
        shown = self.sections
        sections = [builders[k]() for k in shown if k in builders]
        titles = self.titles
        toc = "".join(f'<li><a href="#{k}">{_esc(titles[k])}</a></li>' for k in shown)
        s = self.scenario
        title = s.title or s.name
        head = (
            f"<h1>{_esc(title)}</h1>"
            f'<p class="subtitle">lupsim report of scenario <code>{_esc(s.name)}</code>, '
            f"seed {self.seed}</p>"
        )
        if self.binomial:
            head += _note(BINOMIAL_NOTE)
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>lupsim report: {_esc(s.name)}</title>\n"
            f"<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<header>{head}</header>\n"
            f"<nav><ol>{toc}</ol></nav>\n" + "\n".join(sections) + "\n"
            f"{self._footer()}\n</body>\n</html>\n"
        )

    def write(self, path: str | Path) -> Path:
        """Write :meth:`to_html` to ``path`` and return the path.

        The page goes to a temporary file beside the target, which is then
        renamed over it, so an interrupted write leaves nothing partial.
        """
        target = Path(path)
        text = self.to_html()
        tmp = target.with_name(target.name + ".part")
        try:
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
        except BaseException as exc:
            # The cleanup must not hide the error: where the temporary file
            # could not be made (e.g. the parent is a file), unlink fails too.
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise LupsimError(
                    f"could not write the report to {target}: {exc.strerror or exc}; "
                    "check that the directory exists and is writable"
                ) from None
            raise
        return target

    # -- sections ------------------------------------------------------------

    def _section(self, key: str, body: str) -> str:
        return _section(key, body, self.titles)

    def _figure_section(self, key: str, caption: str) -> str:
        return self._section(key, _figure(self.figures[key], self.titles[key], caption))

    def _scenario_section(self) -> str:
        s = self.scenario
        facts = {"Name": s.name, "Title": s.title or "–", "Source": s.source or "–"}
        parts = [_facts(facts)]
        if s.description.strip():
            parts.append(f"<p>{_esc(' '.join(s.description.split()))}</p>")
        if not self.binomial:  # a binomial design generates no patient to screen
            parts.append("<h3>Population</h3>" + _population(s))
            parts.append("<h3>Eligibility</h3>" + _eligibility(s))
        if s.design is not None:
            parts.append("<h3>Design</h3>" + _design(s.design))
        parts.append("<h3>Analysis plan</h3>" + _plan(self.analysis.plan, self.binomial))
        overrides = {
            name: model.model_dump(exclude_unset=True)
            for name, model in (("disease model", s.disease), ("PK/PD", s.pkpd))
            if model is not None
        }
        for name, values in overrides.items():
            shown = ", ".join(f"{k} = {v}" for k, v in values.items()) or "none"
            parts.append(f"<p>Overrides of the {_esc(name)}: {_esc(shown)}</p>")
        return self._section("scenario", "".join(parts))

    def _primary_section(self) -> str:
        a = self.analysis
        parts = [
            f"<h3>Primary: {_esc(_response_name(a.primary.name, self.binomial))}, "
            f"{_esc(a.primary.method)}</h3>",
            _result_table(a.primary),
            f"<h3>Primary family: {_esc(a.plan.multiplicity)} at {_esc(a.plan.sided)}-sided "
            f"alpha {a.plan.alpha:g}</h3>",
            _table(a.multiplicity),
        ]
        if self.scenario.design is not None and self.scenario.design.milestones:
            parts.append(_interim_section(self.dataset, self.scenario.design, a.plan, a.sequential))
        for res in a.secondary:
            parts.append(f"<h3>Secondary: {_esc(res.name)}, {_esc(res.method)}</h3>")
            parts.append(_result_table(res))
        return self._section("primary", "".join(parts))

    def _replicates_section(self) -> str:
        sim = self.simulation
        assert sim is not None  # listed in self.sections only with replicates
        weekly_label = (
            self.response_label
            if self.binomial
            else figures.endpoint_label(_weekly_endpoint(sim, self.endpoint))
        )
        rows = {}
        arms = sim.arms.set_index("arm")
        rows["Randomised, n (mean)"] = [f"{v:.1f}" for v in arms["n_randomised"]]
        for col in sim.endpoints:
            se = arms[f"{col}_mc_se"]
            label = "Response" if self.binomial and col == "sri4" else None
            rows[label or _ENDPOINT_LABELS.get(col, col)] = [
                f"{m:.1f} ({s:.2f})" for m, s in zip(arms[col], se, strict=True)
            ]
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(arms.index))
        frame.index.name = "endpoint, % (Monte Carlo SE)"
        body = (
            f"<p>{sim.replicates} trial(s) of the scenario, seed {sim.seed} (replicate k uses "
            "child k of the seed); each cell is the mean over replicates with its Monte Carlo "
            "standard error.</p>"
            + _table(frame, index=True)
            + _figure(
                self.figures["replicates"],
                f"{weekly_label} by visit over replicates",
                f"{weekly_label} by visit, mean over replicates with a 95% Monte Carlo band.",
            )
        )
        return self._section("replicates", body)

    def _power_section(self) -> str:
        power = self.power
        assert power is not None  # listed in self.sections only with replicates
        cols = ["n_total", "comparison", "replicates", "power", "mc_se", "ci_low", "ci_high"]
        # With interim looks: the share of trials stopped at each, and how long
        # the trials lasted.
        looks = [c for c in power.table.columns if str(c).startswith("stop_look_")]
        if looks:
            cols += [*looks, "expected_duration_days"]
        table = power.table[cols].copy()
        table[looks] = table[looks].fillna(0.0)
        rates = figures.pooled_rates(power)
        table["analytic_power"] = [
            float(
                figures.analytic_power(
                    rates.loc[c, "rate_control"],
                    rates.loc[c, "rate_arm"],
                    [n],
                    power.alpha_per_comparison,
                    (
                        float(rates.loc[c, "alloc_arm"]),
                        float(rates.loc[c, "alloc_control"]),
                        float(rates.loc[c, "alloc_total"]),
                    ),
                )[0]
            )
            for n, c in zip(table["n_total"], table["comparison"], strict=True)
        ]
        pooled = "; ".join(
            f"{c}: {100 * r['rate_control']:.1f}% vs {100 * r['rate_arm']:.1f}%"
            for c, r in rates.iterrows()
        )
        body = (
            f"<p>{power.replicates} simulated trials per size, seed {power.seed}, "
            f"one-sided alpha {power.alpha_one_sided:g}"
            + (
                f" ({power.alpha_per_comparison:g} per comparison, Bonferroni)"
                if power.alpha_per_comparison != power.alpha_one_sided
                else ""
            )
            + ". The band is the 95% Monte Carlo "
            "interval of the simulated power (95% CI: Clopper-Pearson). The analytic power "
            "and the dashed curve are the normal approximation (fixed design, no interim "
            "look) for the response rates pooled over all sizes, weighted by replicates "
            f"({_esc(pooled)}).</p>"
            + _table(
                table.rename(
                    columns={c: f"Stopped at look {c.removeprefix('stop_look_')}" for c in looks}
                )
            )
            + _figure(self.figures["power"], SECTIONS["power"], "Power against total n.")
        )
        return self._section("power", body)

    def _footer(self) -> str:
        import matplotlib
        import statsmodels

        facts = {
            "lupsim version": lupsim.__version__,
            "scenario": self.scenario.name,
            "scenario sha256": self.scenario_hash,
            "seed": str(self.seed),
            "replicates": str(self.replicates),
        }
        if self.power is not None:
            sizes = ", ".join(str(int(n)) for n in dict.fromkeys(self.power.table["n_total"]))
            facts["power replicates"] = f"{self.power.replicates} per size ({sizes})"
        facts["generated (UTC)"] = self.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        facts["software"] = (
            f"Python {platform.python_version()}, numpy {np.__version__}, "
            f"pandas {pd.__version__}, statsmodels {statsmodels.__version__}, "
            f"matplotlib {matplotlib.__version__}"
        )
        facts["re-create"] = self._call()
        return (
            f'<footer id="reproducibility"><h2>{_esc(SECTIONS["reproducibility"])}</h2>'
            f"{_facts(facts)}</footer>"
        )

    def _call(self) -> str:
        """The call that builds this report again."""
        name = self.scenario.name
        bundled = name in bundled_scenarios() and scenario_hash(load_scenario(name)) == (
            self.scenario_hash
        )
        # A scenario from a file or edited in code is named by its hash above.
        call = f"build_report({f'load_scenario({name!r})' if bundled else 'scenario'}"
        call += f", seed={self.seed}"
        if self.replicates:
            call += f", replicates={self.replicates}"
        if self.power is not None:
            sizes = [int(n) for n in dict.fromkeys(self.power.table["n_total"])]
            call += f", power_sizes={sizes}, power_replicates={self.power.replicates}"
        return call + ")"


def build_report(
    scenario: Scenario,
    seed: int,
    *,
    replicates: int = 0,
    power_sizes: Iterable[int] | None = None,
    power_replicates: int = 200,
) -> Report:
    """Simulate a scenario's trial, analyse it and draw the report's figures.

    Parameters
    ----------
    scenario
        A scenario with a ``[design]`` table.
    seed
        Root seed of the trial (and of the replicates and power runs).
    replicates
        Also simulate this many trials and report each per-arm figure with its
        Monte Carlo SE, and a power curve (0: the one trial only).
    power_sizes
        Total sizes of the power curve, checked before anything is simulated
        (:func:`check_power_sizes`); used when ``replicates > 0``. Default:
        :func:`default_power_sizes` for the replicates' mean rates of the
        primary endpoint (a binomial design's own rates).
    power_replicates
        Trials per size of the power curve.

    Returns
    -------
    Report
        The results and figures; :meth:`Report.to_html` and
        :meth:`Report.write` make the page.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> r = build_report(load_scenario("bliss52"), seed=3)
    >>> sorted(r.figures)[:3], r.replicates
    (['consort', 'flares', 'sledai-change'], 0)
    >>> sorted(build_report(load_scenario("two-arm-binomial"), seed=3).figures)
    ['consort', 'sri-by-visit']
    """
    design = scenario.design
    if design is None:
        raise ScenarioError(
            f"scenario {scenario.where()} has no [design] table; a report needs a trial to "
            "simulate: add [design] (see scenarios/bliss52.toml)"
        )
    if replicates < 0:
        raise LupsimError(f"replicates must be >= 0, got {replicates}")
    if power_sizes is not None and replicates == 0:
        raise LupsimError(
            "power_sizes draws a power curve, which the report makes only with replicates; "
            "give replicates > 0 too"
        )
    if replicates > 0 and power_replicates < 1:
        raise LupsimError(f"power_replicates must be >= 1, got {power_replicates}")
    checked_sizes = None if power_sizes is None else check_power_sizes(scenario, power_sizes)
    created = datetime.now(UTC)
    ds = simulate_trial(scenario, seed)
    plan = scenario.analysis or AnalysisPlan()
    endpoint = report_endpoint(plan)
    label = "Response" if ds.binomial else None
    pngs = {
        "consort": _png(
            lambda ax: figures.consort_diagram(ds, ax), (2.9 * len(ds.arms) + 1.5, 7.5)
        ),
        "sri-by-visit": _png(lambda ax: figures.response_by_visit(ds, ax, endpoint, label=label)),
    }
    if not ds.binomial:
        pngs.update(_disease_figures(ds, endpoint))
    simulation = power = None
    if replicates > 0:
        simulation = simulate_replicates(scenario, seed, replicates)
        weekly = simulation.weekly
        followed = _weekly_endpoint(simulation, endpoint)
        pngs["replicates"] = _png(
            lambda ax: figures.response_by_visit(weekly, ax, followed, label=label)
        )
        sizes = (
            default_power_sizes(
                design,
                _simulated_rates(simulation, design, plan),
                # The alpha each comparison is tested at (Bonferroni split).
                comparison_alpha(plan, len(design.arms) - 1),
            )
            if checked_sizes is None
            else checked_sizes
        )
        power = run_power(scenario, sizes, replicates=power_replicates, seed=seed, plan=plan)
        result = power
        pngs["power"] = _png(lambda ax: figures.power_curve(result, ax))
    table1 = pd.DataFrame() if ds.binomial else figures.table1_by_arm(ds, formatted=True)
    return Report(
        scenario=scenario,
        seed=seed,
        dataset=ds,
        analysis=analyse(ds, plan),
        table1=table1,
        figures=pngs,
        replicates=replicates,
        simulation=simulation,
        power=power,
        created=created,
    )


def _simulated_rates(
    sim: SimulationResult, design: TrialDesign, plan: AnalysisPlan
) -> dict[str, float] | None:
    """Each arm's mean rate of the primary endpoint over the replicates, when
    the primary endpoint is one the replicates summarise at the primary week
    (a binomial design's rates are its own: None)."""
    endpoint = plan.primary.endpoint
    week = plan.primary.week
    if design.outcome == "binomial" or endpoint not in sim.arms.columns:
        return None
    if week is not None and week != design.primary_week:
        return None
    arms = sim.arms.set_index("arm")[endpoint]
    return {str(arm): float(v) / 100.0 for arm, v in arms.items()}


def _disease_figures(ds: TrialDataset, endpoint: str) -> dict[str, bytes]:
    """The figures of :data:`DISEASE_SECTIONS`, by anchor."""
    forest_frame = subgroups.subgroup_odds_ratios(ds, endpoint)
    components = figures.renal_components if endpoint in RENAL_ENDPOINTS else figures.sri_components
    return {
        "sledai-change": _png(lambda ax: figures.sledai_change_over_time(ds, ax)),
        "sri-components": _png(lambda ax: components(ds, ax), (7.5, 4.2)),
        "subgroups": _png(
            lambda ax: figures.forest(ds, ax, endpoint, frame=forest_frame),
            (7.5, figures.forest_height(forest_frame)),
        ),
        "flares": _png(lambda ax: figures.kaplan_meier(ds, ax)),
    }


def _weekly_endpoint(sim: SimulationResult, endpoint: str) -> str:
    """The endpoint the replicated by-visit figure shows: the report's, if the
    replicates recorded it by visit, else SRI-4."""
    return endpoint if f"{endpoint}_pct" in sim.weekly.columns else "sri4"


# -- figures ---------------------------------------------------------------------


def _png(draw: Callable[[Axes], object], size: tuple[float, float] = (7.0, 4.2)) -> bytes:
    """Draw on a fresh Agg figure and return it as PNG bytes.

    The figure is made without pyplot, so it never joins pyplot's list of open
    figures (nothing to leak in a long session) and never touches the
    interactive backend; it is cleared once encoded.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=_DPI)
    FigureCanvasAgg(fig)
    try:
        draw(fig.add_subplot())
        buffer = io.BytesIO()
        # No timestamp or software version in the image: the same report
        # gives the same bytes.
        fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    finally:
        fig.clear()
    return buffer.getvalue()


def _figure(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


# -- text ------------------------------------------------------------------------


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _section(key: str, body: str, titles: Mapping[str, str] = SECTIONS) -> str:
    return f'<section id="{key}"><h2>{_esc(titles[key])}</h2>{body}</section>'


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


def _facts(facts: Mapping[str, str]) -> str:
    items = "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in facts.items())
    return f'<dl class="facts">{items}</dl>'


def _list(items: Sequence[str], empty: str) -> str:
    if not items:
        return f"<p>{_esc(empty)}</p>"
    return "<ul>" + "".join(f"<li><code>{_esc(i)}</code></li>" for i in items) + "</ul>"


def _format_cell(x: Any) -> str:
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, float | np.floating):
        return "–" if not np.isfinite(x) else f"{x:.4g}"
    return str(x)


def _format_p(x: Any) -> str:
    if not isinstance(x, float | np.floating) or not np.isfinite(x):
        return _format_cell(x)
    return "< 0.0001" if x < 1e-4 else f"{x:.4f}"


#: Column headings for the codes of lupsim's result frames; other columns
#: (arm names, headings already in words) are shown as they are.
_HEADERS = {
    "n_total": "Total n",
    "comparison": "Comparison",
    "replicates": "Replicates",
    "power": "Power",
    "mc_se": "MC SE",
    "analytic_power": "Analytic power",
    "expected_duration_days": "Expected duration (days)",
    "measure": "Measure",
    "estimate": "Estimate",
    "p_value": "p",
    "adjusted_p": "Adjusted p",
    "hypothesis": "Hypothesis",
    "reject": "Rejected",
    "procedure": "Procedure",
    "characteristic": "Characteristic",
    "target": "Target",
    "arm": "Arm",
    "allocation": "Allocation",
    "drug": "Drug",
    "dosing": "Dosing",
    "response rate": "Response rate",
}


def _table(frame: pd.DataFrame, *, index: bool = False) -> str:
    """A frame as an HTML table: cells as text, readable headings.

    ``ci_low`` and ``ci_high`` become one "95% CI" column (lupsim's
    intervals are 95%), and the codes of :data:`_HEADERS` their words.
    """
    # pandas escapes every cell and header (escape=True); cells are made text
    # first so that numbers read the same in every table.
    shown = frame.map(_format_cell)
    for col in frame.columns:
        if str(col).endswith(("p_value", "adjusted_p")):
            shown[col] = frame[col].map(_format_p)
    if {"ci_low", "ci_high"} <= set(map(str, frame.columns)):
        at = list(shown.columns).index("ci_low")
        ci = shown["ci_low"] + " to " + shown["ci_high"]
        shown = shown.drop(columns=["ci_low", "ci_high"])
        shown.insert(at, "95% CI", ci)
    shown = shown.rename(columns=lambda c: _HEADERS.get(str(c), c))
    if index and shown.index.name:
        # The index's name heads the label column, not a row of its own.
        name = _HEADERS.get(str(shown.index.name), shown.index.name)
        shown.columns.name, shown.index.name = name, None
    return shown.to_html(index=index, escape=True, border=0, na_rep="–")


def _result_table(res: AnalysisResult) -> str:
    notes = [f"{e.comparison}: {e.note}" for e in res.estimates if e.note]
    notes += list(res.notes)
    summary = res.summary().drop(columns="method")
    if "measure" in summary.columns:
        summary["measure"] = summary["measure"].map(lambda m: str(m).replace("_", " "))
    return _table(summary) + "".join(_note(n) for n in notes)


def _population(s: Scenario) -> str:
    p = s.population
    facts = {"Population": p.name or s.name}
    if p.source:
        facts["Source"] = p.source
    facts["Age range"] = f"{p.age_min:g} to {p.age_max:g} years"
    rows = []
    for row in ROWS:
        target = target_of(p, row.variable)
        if target is None:
            continue
        if (
            isinstance(target, float)
            and target == 0.0
            and row.variable.startswith(("race_", "region_", "domain_"))
        ):
            continue  # groups the population does not include
        value = f"{target:g}" if isinstance(target, float) else str(target)
        rows.append({"characteristic": row.label, "target": value})
    body = _facts(facts)
    if rows:
        body += _table(pd.DataFrame(rows))
    else:
        body += _note("No published figures given: lupsim's default population.")
    return body


def _eligibility(s: Scenario) -> str:
    e = s.eligibility
    if e is None:
        return _note("No eligibility rules: every generated candidate is randomised.")
    body = (
        "<p>Include patients meeting every rule:</p>"
        + _list(e.include, "No inclusion rule.")
        + "<p>Exclude patients meeting any rule:</p>"
        + _list(e.exclude, "No exclusion rule.")
    )
    if e.enrich:
        body += (
            "<p>Enrichment, applied after the inclusion and exclusion rules: randomise only "
            "patients meeting every rule (the population's figures describe patients "
            "screened without them):</p>" + _list(e.enrich, "")
        )
    return body


def _dosing(arm: Any) -> str:
    if arm.drug == "placebo":
        return "–"
    dose = (
        f"{arm.dose_mg_per_kg:g} mg/kg" if arm.route == "iv" else f"{arm.dose_mg:g} mg"
    ) + f" {arm.route.upper()}"
    loading = ", ".join(f"{d:g}" for d in arm.loading_days)
    return (
        f"{dose} on days {loading}, then every {arm.interval_days:g} days "
        f"to day {arm.last_dose_day:g}"
    )


def _design(d: TrialDesign) -> str:
    allocation = d.allocation or tuple(1 for _ in d.arms)
    arms = pd.DataFrame(
        {
            "arm": [a.name for a in d.arms],
            "allocation": list(allocation),
            "drug": [a.drug.replace("_", "-") for a in d.arms],
            "dosing": [_dosing(a) for a in d.arms],
        }
    )
    if d.outcome == "binomial":
        arms["response rate"] = [a.response_rate for a in d.arms]
        arms = arms.drop(columns=["drug", "dosing"])  # no drug is modelled
    weeks = (0.0, d.primary_week) if d.outcome == "binomial" else d.visit_weeks()
    facts = {
        "Patients randomised": str(d.n_randomised),
        "Control arm": d.control_arm,
        "Allocation": ":".join(str(a) for a in allocation),
        "Outcome model": "binomial response rates (no disease model)"
        if d.outcome == "binomial"
        else "descriptor-level disease model",
        "Primary endpoint visit": f"week {d.primary_week:g}",
        "Visits": f"every {d.visit_interval_weeks:g} weeks (weeks "
        + ", ".join(f"{w:g}" for w in weeks)
        + f"), window +/- {d.visit_window_days:g} days",
        "Stratified by": "; ".join(d.randomisation.stratify_by) or "none",
        "Block sizes": ", ".join(str(b) for b in d.block_sizes()),
        "Enrolment": f"{d.enrolment.sites} sites activated over weeks "
        f"{d.enrolment.activation_weeks[0]:g}-{d.enrolment.activation_weeks[1]:g}, "
        f"{d.enrolment.screening_rate_per_site_week:g} screenings per site-week",
    }
    if d.outcome == "binomial":
        # Randomised one a day at one site, seen at baseline and the primary week.
        facts["Visits"] = f"baseline and week {d.primary_week:g}"
        facts["Enrolment"] = "one patient randomised a day; no screening"
    if d.milestones:
        facts["Interim milestones"] = "; ".join(
            f"{m.name}: {m.n_patients} patients at week {m.week:g}" for m in d.milestones
        )
    return _table(arms) + _facts(facts)


def _interim_section(
    ds: TrialDataset,
    design: TrialDesign,
    plan: AnalysisPlan,
    analysed: SequentialResult | None = None,
) -> str:
    """The primary analysis read with the design's interim looks
    (:func:`lupsim.analysis.interim.sequential_analysis`, the code that decides
    every replicate of a power run); ``analysed`` is the analysis report's
    account of them, if it has one (the engine randomises exactly the planned
    n, so it is the same)."""
    from lupsim.analysis.interim import comparison_alpha, final_day, sequential_analysis

    planned = "; ".join(
        f"{m.name} when {m.n_patients} patients have reached week {m.week:g}"
        for m in design.milestones
    )
    head = f"<h3>Interim looks</h3><p>Planned: {_esc(planned)}.</p>"
    interim = plan.interim
    if interim is None:
        return head + _note(
            "The analysis plan has no [analysis.interim] table, so the milestones have no "
            "stopping boundaries and the primary analysis above is the only test."
        )
    seq = analysed or sequential_analysis(ds, plan, n_planned=design.n_randomised)
    if seq is None:
        return head + _note(
            "No interim look could be analysed in this simulated trial: no milestone was "
            "reached before the final data cut, or two looks fell at the same information."
        )
    j = ds.visit_column(ds.primary_week)
    end = final_day(ds)
    rows = [
        {
            "Look": f"{look.number}: {look.name}",
            "Calendar week": f"{look.day / 7:.1f}",
            "Randomised by then": ds.cut(look.day).n,
            f"Seen at week {ds.primary_week:g}": look.reached,
            "Due (analysed)": look.analysed,
            "Information fraction": look.information,
            "Efficacy boundary z": look.efficacy_z,
            "Nominal one-sided p": look.nominal_p,
            "Futility boundary z": np.nan if look.futility_z is None else look.futility_z,
        }
        for look in seq.looks
    ]
    rows.append(
        {
            "Look": "final",
            "Calendar week": f"{end / 7:.1f}",
            "Randomised by then": ds.n,
            f"Seen at week {ds.primary_week:g}": int(ds.arrays.observed[:, j].sum()),
            "Due (analysed)": ds.n,
            "Information fraction": 1.0,
            "Efficacy boundary z": seq.final_efficacy_z,
            "Nominal one-sided p": float(stats.norm.sf(seq.final_efficacy_z)),
            "Futility boundary z": np.nan,
        }
    )
    looks = pd.DataFrame(rows)
    if interim.futility_beta is None:
        looks = looks.drop(columns="Futility boundary z")
    decisions = pd.DataFrame(
        [
            {
                "Comparison": d.comparison,
                **{f"z at {look.name}": look.z[c] for look in seq.looks},
                "z at final": seq.final_z[c],
                "Decision": d.outcome,
            }
            for c, d in enumerate(seq.decisions)
        ]
    )
    spending = {"obf": "O'Brien-Fleming-type", "pocock": "Pocock-type"}[interim.spending]
    futility = ""
    if interim.futility_beta is not None:
        futility = (
            f"; non-binding futility boundaries spend beta {interim.futility_beta:g} and "
            + ("stop the trial" if interim.stop_for_futility else "do not stop it")
        )
    return "".join(
        [
            head,
            _table(looks),
            _note(
                f"Lan-DeMets {spending} spending of one-sided alpha "
                f"{comparison_alpha(plan, len(ds.arms) - 1):g} per comparison{futility}. "
                f"A look analyses the patients due at week {ds.primary_week:g} by then (seen "
                "there, or gone or failed before it, as non-responders); those not yet due "
                f"are left out. Information is their share of the {design.n_randomised} "
                "planned patients; z is the primary analysis's estimate over its SE on the "
                "data of that day (positive favours the arm)."
            ),
            "<p>What this simulated trial would have done, per comparison:</p>",
            _table(decisions),
            _note(
                "A comparison that does not stop at a look is tested at the final analysis "
                "against the last efficacy boundary; the primary analysis above uses the "
                "final data at the plan's nominal alpha, without the interim look."
            ),
        ]
    )


def _response_name(name: str, binomial: bool) -> str:
    """An analysis's name, with a binomial design's ``sri4`` called what it
    is: the drawn response."""
    if binomial and name.startswith("sri4"):
        return "response (sri4)" + name.removeprefix("sri4")
    return name


def _spec(spec: AnalysisSpec, binomial: bool = False) -> str:
    week = "the primary week" if spec.week is None else f"week {spec.week:g}"
    endpoint = _response_name(spec.endpoint, binomial)
    return f"{endpoint} by {spec.method.replace('_', ' ')} at {week}"


def _plan(plan: AnalysisPlan, binomial: bool = False) -> str:
    facts = {
        "Primary": _spec(plan.primary, binomial),
        "Secondary": "; ".join(_spec(s, binomial) for s in plan.secondary) or "none",
        "Significance": f"{plan.sided}-sided alpha {plan.alpha:g}",
        "Multiplicity": plan.multiplicity.replace("_", " "),
    }
    if plan.interim is not None:
        facts["Interim"] = f"{plan.interim.spending} alpha spending" + (
            f", futility beta {plan.interim.futility_beta:g}"
            if plan.interim.futility_beta is not None
            else ""
        )
    return _facts(facts)
