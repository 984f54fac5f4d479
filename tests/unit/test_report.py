"""The report: every figure draws what it claims, Table 1 is right by hand,
and the HTML page is complete, self-contained, escaped and written atomically.

Figures are checked by their artists (lines, bands, bars, boxes, arrows)
counted from the trial, and where cheap by their data against the
lupsim.analysis function that supplies it. The page is checked as text: every
section heading, images that decode as PNG, no external reference, no script,
escaped scenario text, and a footer that identifies the run.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.text import Annotation

import lupsim
from lupsim.analysis.endpoints import arm_summary, weekly_sri
from lupsim.analysis.power import PowerResult, run_power
from lupsim.analysis.subgroups import subgroup_odds_ratios
from lupsim.analysis.summaries import sri_rates
from lupsim.errors import LupsimError, ScenarioError
from lupsim.report import figures
from lupsim.report.html import (
    SECTIONS,
    Report,
    build_report,
    default_power_sizes,
    scenario_hash,
)
from lupsim.runner import simulate_replicates
from lupsim.scenario import Scenario, load_scenario
from lupsim.trial import TrialDataset, simulate_trial

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMAGE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
#: The headings a reader looks for, spelled out (not read from SECTIONS), so
#: that renaming one is a deliberate change of this test too.
HEADINGS = (
    "Scenario",
    "Participant flow (CONSORT)",
    "Baseline characteristics by arm",
    "SRI-4 response by visit",
    "SELENA-SLEDAI change from baseline",
    "SRI-4 components",
    "Subgroup analysis of SRI-4",
    "Time to first severe flare",
    "Primary analysis",
    "Reproducibility",
)
REPLICATED_HEADINGS = ("Replicated trials", "Power")


@pytest.fixture(scope="module")
def ds(bliss52: Scenario) -> TrialDataset:
    return simulate_trial(bliss52, seed=1)


@pytest.fixture(scope="module")
def report(bliss52: Scenario) -> Report:
    return build_report(bliss52, seed=1)


@pytest.fixture(scope="module")
def page(report: Report) -> str:
    return report.to_html()


@pytest.fixture(scope="module")
def small_power() -> PowerResult:
    return run_power(load_scenario("two-arm-binomial"), [200, 400], replicates=10, seed=2)


@pytest.fixture
def ax() -> Iterator[Axes]:
    fig, axes = plt.subplots()
    yield axes
    plt.close(fig)


def _boxes(ax: Axes) -> list[Any]:
    return [t for t in ax.texts if t.get_bbox_patch() is not None]


def _arrows(ax: Axes) -> list[Annotation]:
    return [t for t in ax.texts if isinstance(t, Annotation) and t.arrow_patch is not None]


# -- figures: each returns the Axes it was given, or a new one -------------------

DRAWINGS: dict[str, Callable[[TrialDataset, Axes | None], Axes]] = {
    "consort_diagram": figures.consort_diagram,
    "sri_by_visit": figures.sri_by_visit,
    "sledai_change_over_time": figures.sledai_change_over_time,
    "sri_components": figures.sri_components,
    "forest": figures.forest,
    "kaplan_meier": figures.kaplan_meier,
}


@pytest.mark.parametrize("name", list(DRAWINGS))
def test_figure_draws_on_the_axes_it_is_given(name: str, ds: TrialDataset, ax: Axes) -> None:
    assert DRAWINGS[name](ds, ax) is ax


@pytest.mark.parametrize("name", list(DRAWINGS))
def test_figure_makes_its_own_axes_without_one(name: str, ds: TrialDataset) -> None:
    before = set(plt.get_fignums())
    out = DRAWINGS[name](ds, None)
    try:
        assert isinstance(out, Axes)
        assert set(plt.get_fignums()) - before == {out.figure.number}  # type: ignore[union-attr]
    finally:
        plt.close(out.figure)  # type: ignore[arg-type]


def test_power_curve_draws_on_the_axes_it_is_given(small_power: PowerResult, ax: Axes) -> None:
    assert figures.power_curve(small_power, ax) is ax


def test_consort_has_a_box_and_an_arrow_per_step(ds: TrialDataset, ax: Axes) -> None:
    figures.consort_diagram(ds, ax)
    k = len(ds.arms)
    # screened, excluded, randomised; per arm allocated, discontinued, completed
    assert len(_boxes(ax)) == 3 + 3 * k == 12
    # screened -> randomised, -> excluded; per arm three steps down
    assert len(_arrows(ax)) == 2 + 3 * k


def test_consort_counts_come_from_screening_and_subjects(ds: TrialDataset, ax: Axes) -> None:
    figures.consort_diagram(ds, ax)
    text = "\n".join(t.get_text() for t in _boxes(ax))
    sub = ds.subjects
    assert f"n = {ds.screening['screened']}" in text
    assert f"n = {ds.screening['screened'] - ds.n}" in text
    assert f"Randomised\nn = {ds.n}" in text
    for rule, count in ds.screening["failures"].items():
        assert f"{rule.partition(': ')[2]}: {count}" in text
    for name in ds.arms:
        in_arm = sub["arm"] == name
        assert f"Allocated to {name}\nn = {int(in_arm.sum())}" in text
        assert f"n = {int(sub.loc[in_arm, 'COMPLFL'].sum())}" in text
    left = sub.loc[sub["DCSREAS"] != "", "DCSREAS"].value_counts()
    shown = sum(
        int(m.group(2))
        for m in re.finditer(r"^([a-z ]+): (\d+)$", text, re.M)
        if m.group(1).replace(" ", "_") in left.index
    )
    assert shown == int(left.sum())


def test_sri_by_visit_has_a_line_and_a_band_per_arm(ds: TrialDataset, ax: Axes) -> None:
    figures.sri_by_visit(ds, ax)
    assert len(ax.lines) == len(ds.arms)
    assert len(ax.collections) == len(ds.arms)
    weekly = weekly_sri(ds)
    for line, arm in zip(ax.lines, ds.arms, strict=True):
        expect = weekly.loc[weekly["arm"] == arm]
        np.testing.assert_allclose(np.asarray(line.get_xdata(), float), expect["week"])
        np.testing.assert_allclose(np.asarray(line.get_ydata(), float), expect["sri4_pct"])


def test_response_at_one_visit_is_a_point_per_arm(ax: Axes) -> None:
    ds = simulate_trial(load_scenario("two-arm-binomial"), seed=1)
    figures.response_by_visit(ds, ax, label="Response")
    assert len(ax.containers) == len(ds.arms)  # one error bar per arm
    assert [t.get_text() for t in ax.get_xticklabels()] == list(ds.arms)
    assert ax.get_title() == "two-arm-binomial: Response at week 52 (95% Wilson CI)"
    response = ds.arrays.selena[:, 1] == 0  # a responder's SLEDAI falls from 4 to 0
    for k, container in enumerate(ax.containers):
        (x,), (y,) = container[0].get_data()
        assert x == k
        assert y == pytest.approx(100 * response[ds.arm_index == k].mean())
        assert f"{y:.1f}%" in [t.get_text() for t in ax.texts]


def test_sri_rates_wilson_interval_by_hand(ds: TrialDataset) -> None:
    rates = sri_rates(ds)
    r = rates.iloc[-1]
    n, p, z = r["n"], r["responders"] / r["n"], 1.959963984540054
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert r["ci_low"] == pytest.approx(100 * (centre - half))
    assert r["ci_high"] == pytest.approx(100 * (centre + half))


def test_sri_by_visit_accepts_the_replicated_weekly_frame(bliss52: Scenario, ax: Axes) -> None:
    weekly = simulate_replicates(bliss52, seed=1, replicates=2).weekly
    figures.sri_by_visit(weekly, ax)
    assert len(ax.lines) == len(ax.collections) == 3
    with pytest.raises(LupsimError, match=r"SimulationResult\.weekly"):
        figures.sri_by_visit(weekly.drop(columns="sri4_pct"), ax)


def test_sledai_change_starts_at_zero_with_a_reference_line(ds: TrialDataset, ax: Axes) -> None:
    figures.sledai_change_over_time(ds, ax)
    assert len(ax.lines) == len(ds.arms) + 1  # the arms and the line at no change
    assert len(ax.collections) == len(ds.arms)
    a = ds.arrays
    j = ds.visit_column(ds.primary_week)
    for k, line in enumerate(ax.lines[: len(ds.arms)]):
        y = np.asarray(line.get_ydata(), dtype=float)
        assert y[0] == 0.0
        seen = (ds.arm_index == k) & a.observed[:, j]
        change = a.selena[seen, j].astype(float) - a.selena[seen, 0]
        assert y[-1] == pytest.approx(change.mean())


def test_sri_components_bars_are_the_arm_summary(ds: TrialDataset, ax: Axes) -> None:
    figures.sri_components(ds, ax)
    cols = list(figures.SRI_COMPONENTS)
    assert len(ax.patches) == len(cols) * len(ds.arms)
    assert len(ax.containers) == len(ds.arms)
    summary = arm_summary(ds)
    for container, arm in zip(ax.containers, ds.arms, strict=True):
        heights = [bar.get_height() for bar in container]
        np.testing.assert_allclose(heights, summary.loc[arm, cols].to_numpy(dtype=float))


def test_forest_draws_each_estimable_row(ds: TrialDataset, ax: Axes) -> None:
    figures.forest(ds, ax)
    frame = subgroup_odds_ratios(ds)
    comparisons = frame["comparison"].nunique()
    drawn = int(np.isfinite(frame["odds_ratio"]).sum())
    # a CI segment and a marker per estimate, a legend handle per comparison,
    # and the line at an odds ratio of 1
    assert len(ax.lines) == 2 * drawn + comparisons + 1
    assert ax.get_xscale() == "log"


def test_kaplan_meier_has_a_curve_and_band_per_arm(ds: TrialDataset, ax: Axes) -> None:
    figures.kaplan_meier(ds, ax)
    assert len(ax.lines) == len(ax.collections) == len(ds.arms)


def test_power_curve_simulated_beside_analytic(small_power: PowerResult, ax: Axes) -> None:
    figures.power_curve(small_power, ax)
    comparisons = small_power.table["comparison"].nunique()
    assert len(ax.lines) == 2 * comparisons  # simulated and analytic
    assert len(ax.collections) == comparisons  # the Monte Carlo band
    np.testing.assert_allclose(np.asarray(ax.lines[0].get_xdata(), float), [200, 400])


# -- Table 1 ------------------------------------------------------------------


def test_table1_n_per_arm_equals_the_counts(ds: TrialDataset) -> None:
    t = figures.table1_by_arm(ds)
    counts = ds.subjects["arm"].value_counts()
    for arm in ds.arms:
        assert t.loc["n", arm] == counts[arm]
    assert t.loc["n", "all"] == ds.n
    assert t.columns.tolist() == ["label", *ds.arms, "all"]


def test_table1_figures_by_hand(ds: TrialDataset) -> None:
    t = figures.table1_by_arm(ds)
    s = ds.subjects
    for arm in (*ds.arms, "all"):
        g = s if arm == "all" else s[s["arm"] == arm]
        assert t.loc["female_pct", arm] == pytest.approx(100 * (g["SEX"] == "F").mean())
        assert t.loc["age_mean", arm] == pytest.approx(g["AGE"].mean())
        assert t.loc["age_sd", arm] == pytest.approx(g["AGE"].std(ddof=1))
        assert t.loc["sledai_mean", arm] == pytest.approx(g["SELENABL"].mean())
        assert t.loc["anti_dsdna_pct", arm] == pytest.approx(100 * (g["DSDNABL"] >= 30).mean())
        assert t.loc["low_c3_pct", arm] == pytest.approx(100 * (g["C3BL"] < 90).mean())
        assert t.loc["low_c4_pct", arm] == pytest.approx(100 * (g["C4BL"] < 16).mean())
        assert t.loc["serologically_active_pct", arm] == pytest.approx(100 * g["SEROACT"].mean())
        assert t.loc["prednisone_pct", arm] == pytest.approx(100 * (g["PREDBL"] > 0).mean())
        users = g.loc[g["PREDBL"] > 0, "PREDBL"]
        assert t.loc["prednisone_mean_mg", arm] == pytest.approx(users.mean())
        race = [v for v in t.index if v.startswith("race_")]
        assert t.loc[race, arm].sum() == pytest.approx(100.0)
    bilag_a = (ds.arrays.bilag[:, 0] == 0).any(axis=1)
    assert t.loc["bilag_any_a_pct", "all"] == pytest.approx(100 * bilag_a.mean())


def test_table1_leaves_out_groups_nobody_is_in(ds: TrialDataset) -> None:
    t = figures.table1_by_arm(ds)
    present = set(ds.subjects["REGION"])
    regions = {v[len("region_") : -len("_pct")] for v in t.index if v.startswith("region_")}
    assert regions == present


def test_table1_formatted_shows_mean_with_sd(ds: TrialDataset) -> None:
    t = figures.table1_by_arm(ds, formatted=True)
    raw = figures.table1_by_arm(ds)
    assert t.columns.tolist() == [*ds.arms, "all"]
    mean, sd = raw.loc[["age_mean", "age_sd"], "placebo"].to_numpy(dtype=float)
    assert t.loc["Age, mean (SD, years)", "placebo"] == f"{mean:.1f} ({sd:.1f})"
    assert t.loc["Randomised, n", "all"] == str(ds.n)
    assert not any(", SD" in label for label in t.index)


# -- the HTML page ----------------------------------------------------------------


def test_page_has_every_section_heading(page: str) -> None:
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == list(HEADINGS)
    assert set(HEADINGS) <= set(SECTIONS.values())
    for key in SECTIONS:
        if SECTIONS[key] not in REPLICATED_HEADINGS:
            assert f'id="{key}"' in page


def test_page_images_decode_as_png(page: str, report: Report) -> None:
    images = IMAGE.findall(page)
    assert len(images) == len(report.figures) == 6
    for data in images:
        png = base64.b64decode(data, validate=True)
        assert png.startswith(PNG_SIGNATURE)
        assert png[12:16] == b"IHDR"


def test_page_is_self_contained(page: str) -> None:
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "http://" not in page
    assert "https://" not in page
    for tag in ("<script", "<link", "<iframe", "@import", "url("):
        assert tag not in page.lower()
    assert page.startswith("<!DOCTYPE html>")
    assert page.rstrip().endswith("</html>")


def test_page_footer_identifies_the_run(page: str, report: Report, bliss52: Scenario) -> None:
    footer = page[page.index("<footer") :]
    digest = hashlib.sha256(bliss52.model_dump_json().encode()).hexdigest()
    assert report.scenario_hash == scenario_hash(bliss52) == digest
    assert digest in footer
    assert "<dt>seed</dt><dd>1</dd>" in footer
    assert "<dt>replicates</dt><dd>0</dd>" in footer
    assert lupsim.__version__ in footer
    assert report.created.strftime("%Y-%m-%d %H:%M:%S UTC") in footer
    assert "build_report(load_scenario(&#x27;bliss52&#x27;), seed=1)" in footer


def test_page_shows_the_scenario_and_the_primary_analysis(page: str, report: Report) -> None:
    for text in ("Navarra SV et al. Lancet 2011", "selena_sledai &gt;= 6", "belimumab_10mg"):
        assert text in page
    primary = report.analysis.primary.summary()
    assert f"{primary['estimate'].iloc[0]:.4g}" in page
    assert "Replicated trials" not in page


def test_scenario_text_is_escaped(bliss52: Scenario) -> None:
    evil = "<script>alert('x')</script> & <b>bold</b>"
    scenario = bliss52.model_copy(update={"title": evil, "description": evil, "source": evil})
    page = build_report(scenario, seed=1).to_html()
    assert "<script" not in page
    assert "<b>bold" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold" in page
    assert scenario_hash(scenario) != scenario_hash(bliss52)
    # An edited scenario cannot be rebuilt from its bundled name.
    assert "build_report(scenario, seed=1)" in page


def test_build_report_leaves_no_pyplot_figure_open(bliss52: Scenario) -> None:
    before = plt.get_fignums()
    build_report(bliss52, seed=2)
    assert plt.get_fignums() == before


def test_power_sizes_without_replicates_is_refused(bliss52: Scenario) -> None:
    with pytest.raises(LupsimError, match="give replicates > 0"):
        build_report(bliss52, seed=1, power_sizes=[400, 800])


def test_build_report_needs_a_design() -> None:
    with pytest.raises(ScenarioError, match=r"no \[design\] table"):
        build_report(Scenario(name="no-trial"), seed=1)


#: The headings of a binomial design's report: no disease-model section.
BINOMIAL_HEADINGS = (
    "Scenario",
    "Participant flow (CONSORT)",
    "Response by visit",
    "Primary analysis",
)


@pytest.fixture(scope="module")
def binomial_report() -> Report:
    return build_report(
        load_scenario("two-arm-binomial"),
        seed=1,
        replicates=3,
        power_sizes=[100, 200],
        power_replicates=20,
    )


def test_replicated_report_has_monte_carlo_table_and_power_curve(
    binomial_report: Report,
) -> None:
    report = binomial_report
    page = report.to_html()
    assert re.findall(r"<h2>(.*?)</h2>", page) == [
        *BINOMIAL_HEADINGS,
        *REPLICATED_HEADINGS,
        HEADINGS[-1],
    ]
    # CONSORT, response by visit, replicated response by visit, power
    assert len(IMAGE.findall(page)) == len(report.figures) == 4
    assert report.simulation is not None
    assert report.power is not None
    assert report.simulation.replicates == 3
    assert sorted(set(report.power.table["n_total"])) == [100, 200]
    assert (report.power.table["replicates"] == 20).all()
    active = report.simulation.arms.set_index("arm").loc["active"]
    assert f"{active['sri4']:.1f} ({active['sri4_mc_se']:.2f})" in page
    assert "Monte Carlo" in page
    assert "power_sizes=[100, 200], power_replicates=20" in page


def test_binomial_report_leaves_out_the_disease_sections(binomial_report: Report) -> None:
    page = binomial_report.to_html()
    for key in ("table1", "sledai-change", "sri-components", "subgroups", "flares"):
        assert f'id="{key}"' not in page
        assert f'href="#{key}"' not in page
        assert key not in binomial_report.figures
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    for heading in SECTIONS.values():
        if heading in HEADINGS[2:-2]:  # from baseline characteristics to flares
            assert heading not in headings
    assert "Kaplan-Meier" not in page
    # One sentence says why.
    assert page.count("has no disease model") == 1
    # The response is named as what it is, not as SRI-4.
    named = re.findall(r"<h2>(.*?)</h2>", page) + re.findall(r'<img alt="([^"]*)"', page)
    assert "Response by visit" in named
    assert not [n for n in named if "SRI" in n]
    assert "<th>Response</th>" in page
    assert "<h3>Primary: response (sri4) at week 52, " in page
    # No generated patients: no population or eligibility to describe.
    scenario_part = page[page.index('id="scenario"') : page.index('id="consort"')]
    assert "<h3>Population</h3>" not in scenario_part
    assert "<h3>Eligibility</h3>" not in scenario_part
    assert "<dt>Visits</dt><dd>baseline and week 52</dd>" in scenario_part
    # The table of contents lists exactly the sections on the page.
    toc = re.findall(r'<li><a href="#([a-z0-9-]+)">', page)
    ids = re.findall(r'<(?:section|footer) id="([a-z0-9-]+)"', page)
    assert toc == ids == list(binomial_report.sections)


def test_disease_report_keeps_every_section(report: Report, page: str) -> None:
    assert report.sections == tuple(k for k in SECTIONS if k not in ("replicates", "power"))
    toc = re.findall(r'<li><a href="#([a-z0-9-]+)">', page)
    ids = re.findall(r'<(?:section|footer) id="([a-z0-9-]+)"', page)
    assert toc == ids == list(report.sections)
    assert "has no disease model" not in page
    assert "<h3>Population</h3>" in page
    assert "<h3>Eligibility</h3>" in page


def test_enrichment_rules_are_shown_after_the_screen() -> None:
    scenario = load_scenario("bliss52-sero-enriched")
    assert scenario.eligibility is not None
    assert scenario.eligibility.enrich
    page = build_report(scenario, seed=1).to_html()
    scenario_part = page[page.index('id="scenario"') : page.index('id="consort"')]
    assert "Enrichment, applied after the inclusion and exclusion rules" in scenario_part
    last_exclude = scenario_part.index(scenario.eligibility.exclude[-1])
    for rule in scenario.eligibility.enrich:
        assert f"<li><code>{rule}</code></li>" in scenario_part
        assert scenario_part.index(f"<code>{rule}</code>") > last_exclude


# -- interim looks ----------------------------------------------------------------


@pytest.fixture(scope="module")
def interim_scenario() -> Scenario:
    return load_scenario("interim-gsd")


@pytest.fixture(scope="module")
def interim_report(interim_scenario: Scenario) -> Report:
    return build_report(
        interim_scenario, seed=1, replicates=1, power_sizes=[240], power_replicates=4
    )


def _primary_section(page: str) -> str:
    return page[page.index('<section id="primary">') :].split("</section>", 1)[0]


def test_interim_report_shows_the_look_its_boundaries_and_the_decision(
    interim_report: Report, interim_scenario: Scenario
) -> None:
    from scipy import stats

    from lupsim.analysis.binary import logistic_regression, responders
    from lupsim.analysis.gsd import group_sequential_design

    ds = interim_report.dataset
    design = interim_scenario.design
    assert design is not None
    section = _primary_section(interim_report.to_html())
    assert "<h3>Interim looks</h3>" in section
    assert "IA1 when 433 patients have reached week 52" in section
    # The look: its day in the event log, who had been seen at week 52 by then.
    (day,) = [d for d, event, _ in ds.event_log.milestones if event == "milestone"]
    cut = ds.cut(day)
    seen_at = cut.arrays.observed[:, ds.visit_column(52)]
    seen = int(seen_at.sum())
    # Due by the look: seen at week 52, or randomised at least 52 weeks before.
    due = seen_at | (cut.subject_arrays["rand_calendar_day"] + 7 * 52 <= day)
    t = int(due.sum()) / design.n_randomised
    assert f"<td>1: IA1</td>\n      <td>{day / 7:.1f}</td>\n      <td>{cut.n}</td>" in section
    assert f"<td>{seen}</td>\n      <td>{int(due.sum())}</td>\n      <td>{t:.4g}</td>" in section
    # First efficacy boundary by hand: the O'Brien-Fleming-type alpha spent by
    # t, 2 - 2 Phi(z_(1 - alpha/2) / sqrt(t)), is all crossing probability at look 1.
    alpha = 0.025
    spent = 2 * stats.norm.sf(stats.norm.isf(alpha / 2) / np.sqrt(round(t, 3)))
    b1 = stats.norm.isf(spent)
    assert f"<td>{b1:.4g}</td>\n      <td>{spent:.4g}</td>" in section
    full = group_sequential_design([round(t, 3), 1.0], alpha, "obf", beta=0.1)
    assert full.efficacy_z[0] == pytest.approx(b1, abs=1e-6)
    assert f"<td>{full.efficacy_z[1]:.4g}</td>" in section
    assert f"<td>{full.futility_z[0]:.4g}</td>" in section
    # z at the look: log odds ratio over its Wald SE on the data of that day.
    decisions = section[section.index("What this simulated trial would have done") :]
    y_due = np.where(due, responders(cut, "sri4", 52), np.nan)
    for est in logistic_regression(cut, y_due).estimates:
        log_or = np.log(est.estimate)
        se = (np.log(est.ci_high) - np.log(est.ci_low)) / (2 * stats.norm.isf(0.025))
        z_look = log_or / se
        final = logistic_regression(ds).estimate_for(est.comparison)
        z_final = np.log(final.estimate) / (
            (np.log(final.ci_high) - np.log(final.ci_low)) / (2 * stats.norm.isf(0.025))
        )
        row = decisions[decisions.index(f"<td>{est.comparison}</td>") :].split("</tr>", 1)[0]
        cells = re.findall(r"<td>(.*?)</td>", row)
        assert float(cells[1]) == pytest.approx(z_look, rel=1e-3)
        assert float(cells[2]) == pytest.approx(z_final, rel=1e-3)
        if z_look >= b1:
            assert cells[3] == "stopped for efficacy at look 1"
        else:
            expected = (
                "rejected at the final analysis"
                if z_final >= full.efficacy_z[1]
                else ("not rejected")
            )
            assert cells[3].startswith(expected)


def test_interim_power_table_shows_stops_at_each_look(interim_report: Report) -> None:
    power = interim_report.power
    assert power is not None
    page = interim_report.to_html()
    section = page[page.index('<section id="power">') :].split("</section>", 1)[0]
    headers = re.findall(r"<th>(.*?)</th>", section)
    assert "Stopped at look 1" in headers
    assert "Expected duration (days)" in headers
    rec = power.records
    for comparison, g in rec.groupby("comparison", sort=False):
        row = section[section.index(f"<td>{comparison}</td>") :].split("</tr>", 1)[0]
        cells = re.findall(r"<td>(.*?)</td>", row)
        stopped = float((g["stop_look"] == 1).mean())
        days = float(g["duration_days"].mean())
        assert cells[-3:-1] == [f"{stopped:.4g}", f"{days:.4g}"]


def test_report_without_milestones_has_no_interim_part(page: str) -> None:
    assert "Interim looks" not in _primary_section(page)


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ([40, 400], r"power_sizes: 40 is too small: .*at least 48 patients"),
        ([1], r"power_sizes: 1 is too small: .*at least 48 patients"),
        ([200_000], r"power_sizes: 200000 is too large: .* at most 100000 patients"),
        ([], "power_sizes: no size given"),
        ([400.5], "power_sizes: 400.5 is not a whole number"),
    ],
)
def test_power_sizes_are_refused_before_anything_is_simulated(
    interim_scenario: Scenario, monkeypatch: pytest.MonkeyPatch, sizes: list[Any], message: str
) -> None:
    import lupsim.report.html as report_html

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated before the power sizes were checked")

    monkeypatch.setattr(report_html, "simulate_trial", never)
    monkeypatch.setattr(report_html, "simulate_replicates", never)
    with pytest.raises(ScenarioError, match=message):
        build_report(interim_scenario, seed=1, replicates=2, power_sizes=sizes)


def test_check_power_sizes_sorts_and_keeps_each_once(interim_scenario: Scenario) -> None:
    from lupsim.report.html import check_power_sizes

    assert check_power_sizes(interim_scenario, [865, 48, 433, 865]) == [48, 433, 865]


# -- text with "$" ------------------------------------------------------------------


def _with_dollars(name: str, arms: dict[int, str]) -> Scenario:
    from lupsim.scenario import parse_scenario

    raw = load_scenario(name).model_dump(mode="json", exclude_unset=True)
    for k, arm in arms.items():
        raw["design"]["arms"][k]["name"] = arm
    # Two "$" around text matplotlib cannot parse as mathtext ("x^" lacks its
    # superscript): drawn unescaped, it raises.
    raw["name"] = "trial $x^$"
    raw["title"] = "a $5 trial"
    return parse_scenario(raw)


def test_plain_text_escapes_each_dollar_once() -> None:
    assert figures.plain_text("drug $5 vs $10") == r"drug \$5 vs \$10"
    assert figures.plain_text(r"already \$5") == r"already \$5"
    assert figures.plain_text("no dollar") == "no dollar"


def test_unescaped_dollars_would_not_draw(ax: Axes) -> None:
    # The oracle of the tests below: this name breaks a figure unless escaped.
    ax.set_title("trial $x^$")
    with pytest.raises(ValueError, match="x\\^"):
        ax.figure.canvas.draw()  # type: ignore[union-attr]
    ax.set_title(figures.plain_text("trial $x^$"))
    ax.figure.canvas.draw()  # type: ignore[union-attr]


def test_names_with_dollars_draw_every_figure() -> None:
    scenario = _with_dollars("bliss52", {0: "placebo $^$", 2: "drug $5"})
    report = build_report(scenario, seed=1)
    assert set(report.figures) == {
        "consort",
        "sri-by-visit",
        "sledai-change",
        "sri-components",
        "subgroups",
        "flares",
    }
    page = report.to_html()
    assert "placebo $^$" in page  # the page shows the name as written
    assert "\\$" not in page


def test_names_with_dollars_draw_replicates_and_power() -> None:
    scenario = _with_dollars("two-arm-binomial", {0: "control $^$", 1: "drug $5"})
    report = build_report(
        scenario, seed=1, replicates=2, power_sizes=[100, 200], power_replicates=4
    )
    assert {"replicates", "power"} <= set(report.figures)


@pytest.mark.parametrize("name", [*DRAWINGS, "power_curve"])
def test_every_text_of_a_figure_is_escaped(name: str, small_power: PowerResult) -> None:
    scenario = _with_dollars("bliss52", {0: "placebo $^$", 2: "drug $5"})
    trial = simulate_trial(scenario, seed=1)
    fig = plt.figure()
    try:
        ax = fig.add_subplot()
        if name == "power_curve":
            power = PowerResult(
                scenario="trial $x^$",
                seed=small_power.seed,
                replicates=small_power.replicates,
                alpha_one_sided=small_power.alpha_one_sided,
                table=small_power.table.assign(comparison="drug $5 vs control $^$"),
                records=small_power.records,
            )
            figures.power_curve(power, ax)
        else:
            DRAWINGS[name](trial, ax)
        fig.canvas.draw()
        texts = [ax.get_title(), *(t.get_text() for t in ax.texts)]
        legend = ax.get_legend()
        texts += [t.get_text() for t in legend.get_texts()] if legend is not None else []
        shown = [t for t in texts if "$" in t]
        assert shown, "the names with $ should appear somewhere"
        for t in shown:
            assert re.search(r"(?<!\\)\$", t) is None, t
    finally:
        plt.close(fig)


# -- readable figures and tables ----------------------------------------------------


def test_titles_name_endpoints_in_words(ds: TrialDataset, ax: Axes) -> None:
    figures.kaplan_meier(ds, ax)
    assert "time to first severe flare (log-rank p = " in ax.get_title()
    assert "time_to" not in ax.get_title()
    ax.clear()
    figures.forest(ds, ax)
    assert ax.get_title() == "bliss52: odds ratio of SRI-4 response by subgroup at week 52"
    ticks = ax.get_yticklabels()
    labels = [t.get_text() for t in ticks]
    assert "baseline SELENA-SLEDAI (interaction p " in " ".join(labels)
    assert not [label for label in labels if "_" in label]
    # Subgroup headings stay bold, levels do not.
    bold = [t.get_text() for t in ticks if t.get_fontweight() == "bold"]
    assert bold
    assert all("interaction p" in label for label in bold)
    assert "overall" in labels[0]


def test_consort_leaves_out_boxes_that_count_nobody(ax: Axes) -> None:
    ds = simulate_trial(load_scenario("two-arm-binomial"), seed=1)
    assert ds.screening["failures"] == {}
    assert not (ds.subjects["DCSREAS"] != "").any()
    figures.consort_diagram(ds, ax)
    text = "\n".join(t.get_text() for t in _boxes(ax))
    assert "Excluded" not in text
    assert "Discontinued" not in text
    # screened, randomised, and per arm allocated and completed; one arrow into
    # each box but the first
    assert len(_boxes(ax)) == 2 + 2 * len(ds.arms)
    assert len(_arrows(ax)) == 1 + 2 * len(ds.arms)


def test_consort_lists_only_rules_that_screened_someone_out(ax: Axes) -> None:
    ds = simulate_trial(load_scenario("bliss52"), seed=1)
    failures = dict(ds.screening["failures"])
    ds = dataclasses.replace(
        ds, screening={**ds.screening, "failures": {**failures, "exclude: never_true": 0}}
    )
    figures.consort_diagram(ds, ax)
    text = "\n".join(t.get_text() for t in _boxes(ax))
    assert "never_true" not in text
    assert len(_boxes(ax)) == 3 + 3 * len(ds.arms)


def test_pooled_rates_are_weighted_by_replicates(small_power: PowerResult) -> None:
    t = small_power.table.copy()
    t.loc[t.index[0], "replicates"] = 30  # pretend the first size ran 30 trials
    weird = dataclasses.replace(small_power, table=t)
    rates = figures.pooled_rates(weird).loc["active vs control"]
    r0, r1 = t["rate_arm"].iloc[0], t["rate_arm"].iloc[1]
    assert rates["rate_arm"] == pytest.approx((30 * r0 + 10 * r1) / 40)
    assert rates["replicates"] == 40


def test_analytic_power_curve_by_hand(small_power: PowerResult, ax: Axes) -> None:
    from scipy import stats

    figures.power_curve(small_power, ax)
    t = small_power.table
    pc = (t["rate_control"] * t["replicates"]).sum() / t["replicates"].sum()
    pa = (t["rate_arm"] * t["replicates"]).sum() / t["replicates"].sum()
    h = 2 * np.arcsin(np.sqrt(pa)) - 2 * np.arcsin(np.sqrt(pc))
    analytic = ax.lines[1]
    x = np.asarray(analytic.get_xdata(), dtype=float)
    y = np.asarray(analytic.get_ydata(), dtype=float)
    assert len(x) > 100  # one smooth curve, not a point per size
    assert x.min() == 200
    assert x.max() == 400
    for n in (200, 400):
        # 1:1 allocation: n/2 per arm, SE of h sqrt(2 / (n / 2)).
        by_hand = stats.norm.sf(stats.norm.isf(0.025) - h / np.sqrt(4 / n))
        assert y[x == n][0] == pytest.approx(by_hand, rel=1e-6)
    assert np.all(np.diff(y) > 0)  # monotone in n: no per-size noise


def test_default_power_sizes_bracket_50_to_95_percent_analytic_power() -> None:
    from scipy import stats

    scenario = load_scenario("bliss52-sero-enriched")
    design = scenario.design
    assert design is not None
    rates = {"placebo": 0.45, "belimumab_10mg": 0.65}
    sizes = default_power_sizes(design, rates)
    assert design.n_randomised in sizes
    h = 2 * np.arcsin(np.sqrt(0.65)) - 2 * np.arcsin(np.sqrt(0.45))

    def power(n: int) -> float:  # 1:1, n/2 per arm
        return float(stats.norm.sf(stats.norm.isf(0.025) - h / np.sqrt(4 / n)))

    others = [n for n in sizes if n != design.n_randomised]
    assert len(others) == 4
    assert power(min(others)) == pytest.approx(0.50, abs=0.02)
    assert power(max(others)) == pytest.approx(0.95, abs=0.01)
    # The planned 600 is past 95% power, where 0.5-1.25 x n would be flat.
    assert power(design.n_randomised) > 0.95
    assert all(n % min(design.block_sizes()) == 0 for n in others)


def test_default_power_sizes_without_an_effect_fall_back_to_multiples() -> None:
    design = load_scenario("two-arm-binomial").design
    assert design is not None
    multiples = [266, 399, 532, 665]  # 0.5, 0.75, 1 and 1.25 x 532
    assert default_power_sizes(design, {"control": 0.5, "active": 0.4}) == multiples
    # 44% vs 45% needs about 38,000 patients for 50% power: more than 4 x 532.
    assert default_power_sizes(design, {"control": 0.44, "active": 0.45}) == multiples


def test_default_power_sizes_are_sizes_a_trial_can_have() -> None:
    from lupsim.report.html import check_power_sizes

    scenario = load_scenario("interim-gsd")
    design = scenario.design
    assert design is not None
    big = design.model_copy(update={"n_randomised": 90_000})
    assert max(default_power_sizes(big)) == 100_000  # not 1.25 x 90,000
    for d in (design, design.model_copy(update={"n_randomised": 50})):
        sizes = default_power_sizes(d, {"placebo": 0.40, "belimumab_10mg": 0.70})
        sized = scenario.model_copy(update={"design": d})
        assert check_power_sizes(sized, sizes) == sizes


def test_default_power_sizes_stay_below_four_times_the_design() -> None:
    design = load_scenario("two-arm-binomial").design
    assert design is not None
    # 44% vs 50%: h = 0.1202, total n = 4 ((z_0.975 + z_power) / h)^2: 50% power
    # at 1,062 (to a block of 4: 1,060), 70% at 1,708; 85% (2,458) and 95%
    # (3,592) beyond 4 x 532 = 2,128, where they stop.
    sizes = default_power_sizes(design, {"control": 0.44, "active": 0.50})
    assert sizes == [532, 1060, 1708, 4 * 532]


def test_tables_have_readable_headers(small_power: PowerResult) -> None:
    from lupsim.report.html import _table

    cols = ["n_total", "comparison", "replicates", "power", "mc_se", "ci_low", "ci_high"]
    out = _table(small_power.table[cols])
    headers = re.findall(r"<th>(.*?)</th>", out)
    assert headers == ["Total n", "Comparison", "Replicates", "Power", "MC SE", "95% CI"]
    lo, hi = small_power.table[["ci_low", "ci_high"]].iloc[0]
    assert f"<td>{lo:.4g} to {hi:.4g}</td>" in out


def test_page_tables_show_no_raw_codes(page: str) -> None:
    headers = set(re.findall(r"<th>(.*?)</th>", page))
    assert not headers & {"n_total", "mc_se", "ci_low", "ci_high", "p_value", "adjusted_p"}
    assert "95% CI" in headers


def test_same_seed_same_figures() -> None:
    scenario = load_scenario("two-arm-binomial")
    a = build_report(scenario, seed=4)
    b = build_report(scenario, seed=4)
    assert dict(a.figures) == dict(b.figures)


def test_default_power_sizes_surround_the_design() -> None:
    design = load_scenario("bliss52").design
    assert design is not None
    sizes = default_power_sizes(design)
    assert design.n_randomised in sizes
    assert min(sizes) < design.n_randomised < max(sizes)
    tiny = design.model_copy(update={"n_randomised": 60})
    assert min(default_power_sizes(tiny)) == 8 * 6  # one block of 6 in each of 8 strata


# -- writing ------------------------------------------------------------------------


def test_write_leaves_only_the_report(report: Report, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    assert report.write(target) == target
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert target.read_text(encoding="utf-8") == report.to_html()
    report.write(target)  # overwrites in place
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_failed_write_leaves_nothing(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: Path, target: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", fail)
    with pytest.raises(LupsimError, match="No space left on device"):
        report.write(tmp_path / "report.html")
    assert list(tmp_path.iterdir()) == []


def test_write_under_a_file_says_so(report: Report, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(LupsimError, match=r"could not write the report.*Not a directory"):
        report.write(blocker / "report.html")
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]


def test_write_to_a_missing_directory_says_so(report: Report, tmp_path: Path) -> None:
    with pytest.raises(LupsimError, match="could not write the report"):
        report.write(tmp_path / "missing" / "report.html")
    assert list(tmp_path.iterdir()) == []


def test_table_cells_are_escaped_by_pandas() -> None:
    from lupsim.report.html import _table

    cell = _table(pd.DataFrame({"arm": ["<i>x</i>"], "p_value": [1e-6]}))
    assert "&lt;i&gt;x&lt;/i&gt;" in cell
    assert "< 0.0001" not in cell
    assert "&lt; 0.0001" in cell
