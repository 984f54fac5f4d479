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
