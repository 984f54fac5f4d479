"""Lupus nephritis trials: background induction, eGFR, remission proteinuria.

What the nephritis-addon scenario rests on, checked piece by piece: the
design's background regimen is validated and drawn per patient, can stratify
the randomisation and cannot screen; eGFR follows the renal organ with
hand-computed trajectories; none of it touches a design without a background
regimen (BLISS-52 keeps its numbers); the trial, its exports, its story and
its report carry the renal endpoints.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from typing import Any

import numpy as np
import pytest

from lupsim.analysis.endpoints import crr, perr
from lupsim.cohort.model import EGFR_NEPHRITIS_LOSS, EGFR_PER_YEAR_OF_AGE, IS_AGENTS
from lupsim.errors import ScenarioError
from lupsim.scenario import Scenario, load_scenario, parse_scenario
from lupsim.trial import TrialDataset, simulate_trial
from lupsim.trial.dataset import VisitArrays
from lupsim.trial.design import Background
from lupsim.trial.disease import Course, DiseaseModel, DiseaseParameters


@pytest.fixture(scope="module")
def nephritis() -> Scenario:
    return load_scenario("nephritis-addon")


@pytest.fixture(scope="module")
def ds(nephritis: Scenario) -> TrialDataset:
    return simulate_trial(nephritis, seed=1)


def _scenario(background: str, stratify: str = "[]") -> Scenario:
    text = (
        'name = "x"\n[design]\narms = [{name = "a"}, {name = "b"}]\n'
        f"background = {background}\n[design.randomisation]\nstratify_by = {stratify}\n"
    )
    return parse_scenario(tomllib.loads(text))


# -- the design's background regimen ------------------------------------------------


def test_background_shares_are_rescaled_when_rounded() -> None:
    s = _scenario("{ induction = { mycophenolate = 0.735, euro_lupus_cyclophosphamide = 0.26 } }")
    assert s.design is not None
    shares = s.design.background.shares()
    assert shares == pytest.approx((0.735 / 0.995, 0.26 / 0.995))
    assert Background().shares() == (0.0, 0.0)


@pytest.mark.parametrize(
    ("background", "message"),
    [
        (
            "{ induction = { mycophenolate = 0.74, cyclophosphamide = 0.26 } }",
            "design.background.induction: unknown key 'cyclophosphamide' (did you mean "
            "'euro_lupus_cyclophosphamide'?)",
        ),
        (
            "{ induction = { mycophenolate = 0.5 } }",
            "design.background.induction: shares must sum to 1 (+/- 0.01 for rounding), got 0.5",
        ),
        (
            "{ induction = { mycophenolate = 74, euro_lupus_cyclophosphamide = 26 } }",
            "design.background.induction.mycophenolate: must be a share between 0 and 1, "
            "got 74; a share, not a percentage: write 74 as 0.74",
        ),
        ("{ induction = {} }", "design.background.induction: give the share"),
        (
            '{ induction = { mycophenolate = "0.74", euro_lupus_cyclophosphamide = 0.26 } }',
            "design.background.induction.mycophenolate: must be a number, got '0.74'",
        ),
        ("{ inductions = 1 }", "design.background.inductions: unknown key 'inductions'"),
    ],
)
def test_a_bad_background_names_field_value_and_fix(background: str, message: str) -> None:
    with pytest.raises(ScenarioError) as err:
        _scenario(background)
    assert message in str(err.value)


def test_stratifying_by_a_regimen_the_design_does_not_give_is_an_error() -> None:
    with pytest.raises(ScenarioError, match=r"stratify_by\[0\]: 'induction_mycophenolate' is"):
        _scenario("{}", '["induction_mycophenolate"]')


def test_the_regimen_cannot_screen_candidates() -> None:
    text = 'name = "x"\n[eligibility]\ninclude = ["induction_mycophenolate"]\n'
    with pytest.raises(ScenarioError, match=r"eligibility\.include\[0\]: .* assigned at rand"):
        parse_scenario(tomllib.loads(text))


def test_regimens_are_drawn_with_the_design_shares_and_stratify(ds: TrialDataset) -> None:
    code = ds.subject_arrays["induction"]
    assert set(np.unique(code)) == {1, 2}
    # 448 draws at 26%: 3 SE is 6 points.
    assert abs(np.mean(code == 2) - 0.26) < 0.065
    # The first stratification factor is the cyclophosphamide regimen.
    assert ds.strata_rules[0] == "induction_euro_lupus_cyclophosphamide"
    assert np.array_equal(ds.subject_arrays["stratum_factor_1"], code == 2)
    # Maintenance: mycophenolate itself, azathioprine after Euro-Lupus.
    agent = np.asarray(IS_AGENTS)[ds.subject_arrays["immunosuppressant_bl"] - 1]
    assert set(agent[code == 1]) == {"mycophenolate"}
    assert set(agent[code == 2]) == {"azathioprine"}
    assert set(ds.subjects["INDUCT"]) == {"mycophenolate", "euro_lupus_cyclophosphamide"}
    assert ds.nephritis


# -- eGFR ---------------------------------------------------------------------------


def _model(n: int, params: DiseaseParameters) -> DiseaseModel:
    from lupsim.cohort.calibration import calibrate
    from lupsim.cohort.cohort import draw_candidates

    s = load_scenario("bliss52")
    fit = calibrate(s.population, s.eligibility)
    patients, _, _ = draw_candidates(s.population, fit.parameters, 1, 0, None, size=n)
    return DiseaseModel(patients, fit.parameters, params)


def test_egfr_follows_the_renal_organ_by_hand() -> None:
    """Without measurement error: a nephritis that stays active loses eGFR
    towards its active level and permanently; one that resolves at once gets
    the reversible part back; a quiet kidney only ages."""
    par = DiseaseParameters().replace(egfr_visit_cv=0.0)
    model = _model(3, par)
    p = model.patients
    p.proteinuria_g[:] = [3.0, 3.0, 0.1]
    p.egfr[:] = [80.0, 80.0, 100.0]
    visits, dt = 4, 4.0
    c = Course.empty(visits, 3)
    c.renal_active[0] = [True, True, False]
    c.renal_active[1:] = np.array([True, False, False])[None, :]
    c.egfr[0] = p.egfr
    weeks = np.full((visits - 1, 3), dt, dtype=np.float32)
    model._egfr(c, weeks, np.random.default_rng(0))
    rho = par.egfr_recoverable_fraction
    t = dt * np.arange(1, visits)
    ageing = EGFR_PER_YEAR_OF_AGE * t / (365.25 / 7)
    level = rho * EGFR_NEPHRITIS_LOSS  # the reversible loss, at entry and while active
    chronic = par.egfr_chronic_loss_per_year * t / (365.25 / 7)
    active = 80.0 - chronic - ageing
    resolved = 80.0 + level * (1 - np.exp(-par.egfr_recovery_per_week * t)) - ageing
    quiet = 100.0 - ageing
    np.testing.assert_allclose(c.egfr[1:, 0], np.round(active, 1), atol=0.051)
    np.testing.assert_allclose(c.egfr[1:, 1], np.round(resolved, 1), atol=0.051)
    np.testing.assert_allclose(c.egfr[1:, 2], np.round(quiet, 1), atol=0.051)


def test_egfr_is_measured_every_visit_in_a_plausible_range(ds: TrialDataset) -> None:
    a = ds.arrays
    seen = a.egfr[a.observed]
    assert np.isfinite(seen).all()
    assert seen.min() >= 5.0
    assert seen.max() <= 150.0
    np.testing.assert_array_equal(np.round(seen, 1), seen)
    np.testing.assert_array_equal(ds.subject_arrays["egfr_bl"], a.egfr[:, 0])
    # Visit-to-visit variation is a few percent, not tens.
    change = np.abs(np.diff(a.egfr, axis=1)) / a.egfr[:, :-1]
    assert np.median(change[a.observed[:, 1:]]) < 0.1
    assert "EGFR" in set(ds.visits["PARAMCD"])


# -- what a design without a background regimen keeps ---------------------------------


def _arrays_but_egfr(ds: TrialDataset) -> dict[str, Any]:
    return {f.name: getattr(ds.arrays, f.name) for f in fields(VisitArrays) if f.name != "egfr"}


def test_nephritis_and_egfr_parameters_leave_bliss52_untouched(bliss52: Scenario) -> None:
    base = simulate_trial(bliss52, 3, replicate=2)
    changed = DiseaseParameters().replace(
        induction_renal_logodds=5.0,
        remission_proteinuria_g=2.0,
        proteinuria_remission_per_week=0.5,
        egfr_visit_cv=0.2,
        egfr_chronic_loss_per_year=40.0,
    )
    other = simulate_trial(bliss52, 3, replicate=2, disease=changed)
    for name, value in _arrays_but_egfr(base).items():
        np.testing.assert_array_equal(value, _arrays_but_egfr(other)[name], err_msg=name)
    assert not np.array_equal(base.arrays.egfr, other.arrays.egfr)
    assert not base.nephritis
    assert (base.subject_arrays["induction"] == 0).all()


def test_same_seed_same_nephritis_trial(nephritis: Scenario, ds: TrialDataset) -> None:
    again = simulate_trial(nephritis, seed=1)
    for f in fields(VisitArrays):
        np.testing.assert_array_equal(getattr(ds.arrays, f.name), getattr(again.arrays, f.name))
    for key, value in ds.subject_arrays.items():
        np.testing.assert_array_equal(value, again.subject_arrays[key], err_msg=key)
    other = simulate_trial(nephritis, seed=2)
    assert not np.array_equal(ds.arrays.egfr, other.arrays.egfr)


def test_induction_lowers_the_odds_of_renal_activity_only(nephritis: Scenario) -> None:
    par = DiseaseParameters().replace(cyclophosphamide_vs_mycophenolate_logodds=0.4)
    model = _model(6, par)
    plain = _model(6, par)
    model.patients.induction[:] = [0, 1, 2, 0, 1, 2]
    on = model._initial_state()  # as at the start of a trial with these regimens
    off = plain.state
    shift = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 1.0]) * par.induction_renal_logodds
    shift += np.array([0, 0, 1, 0, 0, 1]) * 0.4
    np.testing.assert_allclose(on.onset0[-1], off.onset0[-1] * np.exp(-shift / 2), rtol=1e-6)
    np.testing.assert_allclose(
        on.resolution0[-1], off.resolution0[-1] * np.exp(shift / 2), rtol=1e-6
    )
    np.testing.assert_array_equal(on.onset0[:-1], off.onset0[:-1])


# -- renal responses in a simulated trial --------------------------------------------


def test_simulated_renal_responses_obey_their_definitions(ds: TrialDataset) -> None:
    a = ds.arrays
    for week in (24.0, 52.0, 104.0):
        j = ds.visit_column(week)
        p, c = perr(ds, week).responder, crr(ds, week).responder
        assert (a.proteinuria_g[p, j] <= 0.7).all()
        assert (a.proteinuria_g[c, j] < 0.5).all()
        assert not (c & ~p).any()
        assert not (p & ~a.observed[:, j]).any()
        assert not (p & a.treatment_failure[:, j]).any()
        base, egfr = a.egfr[p, 0], a.egfr[p, j]
        assert ((egfr >= 0.8 * base - 1e-9) | (egfr >= 60.0)).all()
        # Prednisone <= 10 mg/day at every visit attended from week 24 on.
        window = a.observed[:, 6 : j + 1]
        assert ds.visit_weeks[6] == 24.0
        assert (a.prednisone_mg[p, 6 : j + 1][window[p]] <= 10.0).all()


def test_proteinuria_of_a_kidney_in_remission_is_not_capped(ds: TrialDataset) -> None:
    # Remission proteinuria has its own level: some patients off nephritis
    # keep 0.5-0.7 g/24 h, which makes them PERR but not CRR responders.
    p, c = perr(ds).responder, crr(ds).responder
    assert (p & ~c).sum() > 0.05 * ds.n


# -- the trial's outputs ----------------------------------------------------------------


def test_cdisc_exports_renal_parameters(ds: TrialDataset) -> None:
    from lupsim.trial.cdisc import adeff, adsl

    eff = adeff(ds)
    for code, fn in (("PERR", perr), ("CRR", crr)):
        rows = eff[(eff["PARAMCD"] == code) & (eff["AVISITN"] == 104)]
        assert rows["AVAL"].tolist() == fn(ds).responder.astype(float).tolist()
    egfr = eff[(eff["PARAMCD"] == "EGFR") & (eff["AVISITN"] == 0)]
    assert egfr["AVAL"].tolist() == ds.arrays.egfr[:, 0].tolist()
    sl = adsl(ds)
    assert set(sl["INDUCT"]) == {"MYCOPHENOLATE MOFETIL", "EURO-LUPUS CYCLOPHOSPHAMIDE"}


def test_explain_tells_the_renal_story(ds: TrialDataset) -> None:
    from lupsim.trial.explain import explain_subject

    text = explain_subject(ds, "1")
    assert "uPCR  eGFR" in text
    assert "PERR at week 104:" in text
    assert "CRR at week 104:" in text
    assert "eGFR" not in explain_subject(simulate_trial(load_scenario("bliss52"), 1), "1")
    # A patient seen at week 104 and not a treatment failure: three criteria per
    # response, the steroid one ticked exactly when perr() says it is met.
    j = ds.visit_column(104)
    a = ds.arrays
    i = int(np.flatnonzero(a.observed[:, j] & ~a.treatment_failure[:, j])[0])
    lines = explain_subject(ds, str(i + 1)).splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("PERR at week 104"))
    steroid = lines[start + 3]
    assert "mg/day at every visit from week 24" in steroid
    assert steroid.startswith("  [x]" if perr(ds).steroids[i] else "  [ ]")


def test_report_follows_the_primary_renal_endpoint(nephritis: Scenario) -> None:
    import re

    from lupsim.report.html import build_report

    page = build_report(nephritis, seed=1).to_html()
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert "PERR response by visit" in headings
    assert "Renal response components" in headings
    assert "Subgroup analysis of PERR" in headings
    assert "Induction: mycophenolate, %" in page


def test_the_protocol_taper_reaches_10_mg_by_week_24(ds: TrialDataset) -> None:
    """nephritis-addon tapers 10 mg/day a visit from week 4 down to 10 mg/day:
    at week 24 everyone seen and never rescued is at or below it."""
    a = ds.arrays
    j = ds.visit_column(24)
    never_rescued = ~a.rescue[:, : j + 1].any(axis=1)
    seen = a.observed[:, j] & never_rescued
    assert seen.sum() > 300
    assert (a.prednisone_mg[seen, j] <= 10.0 + 1e-9).all()
    # The protocol's taper stops at its target: patients who entered above it
    # mostly sit at 10 mg/day, not below (a responder may taper further).
    entered_high = seen & (a.prednisone_mg[:, 0] > 10.0)
    at_target = np.isclose(a.prednisone_mg[entered_high, j], 10.0)
    assert at_target.mean() > 0.5


def test_the_steroid_criterion_decides_when_doses_stay_high(nephritis: Scenario) -> None:
    """Without the forced taper many patients stay above 10 mg/day after week
    24 without a rescue: the criterion then takes them out of PERR and CRR."""
    from dataclasses import replace

    from lupsim.analysis.endpoints import PERR, renal_response

    design = nephritis.design
    assert design is not None
    slow = nephritis.model_copy(
        update={
            "design": design.model_copy(
                update={"steroids": design.steroids.model_copy(update={"forced_taper_weeks": None})}
            )
        }
    )
    d = simulate_trial(slow, seed=3)
    r = perr(d)
    decided = r.proteinuria & r.egfr & r.evaluable & ~r.steroids
    assert decided.sum() > 20
    np.testing.assert_array_equal(r.responder, r.proteinuria & r.egfr & r.steroids & r.evaluable)
    without = renal_response(d, replace(PERR, steroid_max_mg=None))
    assert without.responder.sum() == r.responder.sum() + decided.sum()
    # The criterion, by hand for one decided patient: a dose above 10 mg/day at
    # a visit attended from week 24.
    i = int(np.flatnonzero(decided)[0])
    weeks = np.asarray(d.visit_weeks)
    cols = (weeks >= 24) & (weeks <= d.primary_week) & d.arrays.observed[i]
    assert (d.arrays.prednisone_mg[i, cols] > 10.0).any()
    # And the story says so.
    from lupsim.trial.explain import explain_subject

    story = explain_subject(d, d.subjects["USUBJID"].iloc[i])
    assert "[ ] highest prednisone from week 24" in story
