"""Invariants every simulated trial must satisfy, over seeds and small designs.

Visits happen after randomisation and stop at discontinuation; scores stay in
their ranges and agree with the descriptors; SRI responders meet every
component; strata are balanced as permuted blocks allow; the event log and
data cuts are consistent with the subjects.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lupsim.activity.sledai import SLEDAI_MAX, score_sledai
from lupsim.analysis.endpoints import sri
from lupsim.trial import simulate_trial
from lupsim.trial.dataset import TrialDataset
from lupsim.trial.design import TrialDesign

BLISS_RULES = (
    "selena_sledai >= 10",
    "proteinuria_g >= 2",
    "race_black or race_indigenous_american",
)


@st.composite
def small_designs(draw: st.DrawFn, bliss_design: TrialDesign) -> TrialDesign:
    n_arms = draw(st.integers(2, 3))
    allocation = draw(st.lists(st.integers(1, 2), min_size=n_arms, max_size=n_arms))
    total = sum(allocation)
    multiples = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2, unique=True))
    primary = draw(st.sampled_from([12.0, 16.0, 24.0]))
    n = draw(st.integers(30, 120))
    rules = draw(st.lists(st.sampled_from(BLISS_RULES), max_size=3, unique=True))
    last_dose = 7.0 * primary - 28.0
    arms: list[dict[str, Any]] = [{"name": "placebo", "last_dose_day": last_dose}]
    for k in range(1, n_arms):
        arms.append(
            {
                "name": f"drug{k}",
                "drug": "anti_baff",
                "dose_mg_per_kg": draw(st.sampled_from([1.0, 10.0])),
                "last_dose_day": last_dose,
            }
        )
    raw = {
        **bliss_design.model_dump(),
        "arms": arms,
        "allocation": allocation,
        "n_randomised": n,
        "primary_week": primary,
        "randomisation": {
            "stratify_by": rules,
            "block_sizes": [m * total for m in multiples],
        },
        "milestones": [
            # Halfway, rounded to a visit week (milestones must be visits).
            {"name": "IA", "week": 4.0 * max(1, round(primary / 8)), "n_patients": n // 2},
            {"name": "late", "week": primary, "n_patients": n},
        ],
        # More dropout than BLISS so that small trials exercise it.
        "discontinuation": {"withdrawal_per_4w": 0.03, "after_severe_flare": 0.3},
    }
    return TrialDesign.model_validate(raw)


SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def scenario(bliss52):  # type: ignore[no-untyped-def]
    return bliss52


@pytest.fixture(scope="module")
def bliss_trial(scenario) -> TrialDataset:  # type: ignore[no-untyped-def]
    return simulate_trial(scenario, 2)


def _simulate(scenario, design: TrialDesign, seed: int) -> TrialDataset:  # type: ignore[no-untyped-def]
    return simulate_trial(scenario.model_copy(update={"design": design}), seed)


# -- the checks, shared by the hypothesis tests and the BLISS-sized trial ------------------


def check_visit_timing(ds: TrialDataset) -> None:
    a = ds.arrays
    s = ds.subject_arrays
    assert (a.day[:, 0] == 0).all()
    assert (np.diff(a.day, axis=1) > 0).all()  # study days increase
    assert (a.day[a.observed] >= 0).all()  # nothing before randomisation
    # Observed is a prefix of the visits: baseline always, once False stays False.
    assert a.observed[:, 0].all()
    assert (np.diff(a.observed.astype(np.int8), axis=1) <= 0).all()
    disc = s["disc_visit"] >= 0
    n_seen = a.observed.sum(axis=1)
    # Completers are seen at every visit; those who left, up to the visit they left after.
    assert (n_seen[~disc] == a.observed.shape[1]).all()
    assert (n_seen[disc] - 1 == s["disc_visit"][disc]).all()
    assert (s["disc_visit"][disc] < a.observed.shape[1] - 1).all()
    last_day = a.day[np.arange(ds.n), n_seen - 1]
    assert (last_day[disc] < s["disc_day"][disc]).all()
    assert np.isnan(s["disc_day"][~disc]).all()
    assert (s["disc_reason"][disc] >= 0).all()
    assert (s["disc_reason"][~disc] == -1).all()


def check_scores(ds: TrialDataset) -> None:
    a = ds.arrays
    obs = a.observed
    selena = a.selena[obs].astype(int)
    two_k = a.sledai_2k[obs].astype(int)
    original = a.sledai_original[obs].astype(int)
    for x in (selena, two_k, original):
        assert x.min() >= 0
        assert x.max() <= SLEDAI_MAX
    assert (two_k >= selena).all()
    assert (two_k >= original).all()
    # Scored from the descriptors, never drawn as numbers.
    present, new = a.present[obs], a.new[obs]
    assert (~new | present).all()  # a new descriptor is present
    np.testing.assert_array_equal(a.selena[obs], score_sledai(present, new, "selena"))
    np.testing.assert_array_equal(a.sledai_2k[obs], score_sledai(present, new, "2k"))
    np.testing.assert_array_equal(a.sledai_original[obs], score_sledai(present, new, "original"))
    bilag = a.bilag[obs]
    assert bilag.min() >= 0
    assert bilag.max() <= 4
    pga = a.pga[obs]
    assert pga.min() >= 0
    assert pga.max() <= 3
    assert a.prednisone_mg[obs].min() >= 0
    assert (a.proteinuria_g[obs] >= 0).all()
    # Treatment failure is cumulative; severe flares of the modified SFI are severe flares.
    assert (np.diff(a.treatment_failure.astype(np.int8), axis=1) >= 0).all()
    assert (~a.flare_severe_modified | a.flare_severe).all()


def check_sri(ds: TrialDataset) -> None:
    a = ds.arrays
    for j, week in enumerate(ds.visit_weeks[1:], start=1):
        by_x = {x: sri(ds, week, x) for x in range(4, 9)}
        r = by_x[4]
        drop = a.selena[:, 0].astype(int) - a.selena[:, j].astype(int)
        evaluable = a.observed[:, j] & ~a.treatment_failure[:, j]
        np.testing.assert_array_equal(r.evaluable, evaluable)
        np.testing.assert_array_equal(r.sledai_reduction, (drop >= 4) & evaluable)
        for component in (r.sledai_reduction, r.no_bilag_worsening, r.no_pga_worsening):
            assert (r.responder <= component).all()
        assert (r.responder <= evaluable).all()
        np.testing.assert_array_equal(
            r.responder, r.sledai_reduction & r.no_bilag_worsening & r.no_pga_worsening
        )
        for x in range(5, 9):
            assert (by_x[x].responder <= by_x[x - 1].responder).all()
            assert (by_x[x].responder <= (drop >= x)).all()
        assert (by_x[8].responder <= r.responder).all()


def check_randomisation(ds: TrialDataset, design: TrialDesign) -> None:
    s = ds.subject_arrays
    assert ds.n == design.n_randomised
    assert len(ds.subjects) == design.n_randomised
    assert set(np.unique(ds.arm_index).tolist()) <= set(range(len(design.arms)))
    # Subjects are in randomisation order.
    assert (np.diff(s["rand_calendar_day"]) >= 0).all()
    assert (s["rand_calendar_day"] >= s["screened_calendar_day"]).all()
    # Stratum code from the factors.
    codes = np.zeros(ds.n, dtype=np.int64)
    for j in range(len(design.randomisation.stratify_by)):
        codes += s[f"stratum_factor_{j + 1}"].astype(np.int64) << j
    np.testing.assert_array_equal(s["stratum"], codes)
    # Balance of a permuted-block list in each stratum: arm a with share p is
    # within b p (1 - p) of its expected count (b the largest block), and the
    # counts per unit of ratio differ by at most b / total (1:1 in blocks of 4:
    # never more than 2 apart).
    alloc = np.asarray(design.allocation, dtype=float)
    p = alloc / alloc.sum()
    b = max(design.block_sizes())
    for code in np.unique(s["stratum"]):
        arms = ds.arm_index[s["stratum"] == code]
        counts = np.bincount(arms, minlength=len(alloc))
        assert (np.abs(counts - arms.size * p) <= b * p * (1 - p) + 1e-9).all(), (code, counts)
        per_unit = counts / alloc
        assert per_unit.max() - per_unit.min() <= b / alloc.sum() + 1e-9, (code, counts)


def check_event_log(ds: TrialDataset) -> None:
    s = ds.subject_arrays
    ev = ds.events
    rand = ev[ev["event"] == "randomised"]
    assert len(rand) == ds.n
    assert sorted(rand["USUBJID"]) == sorted(ds.subjects["USUBJID"])
    np.testing.assert_allclose(
        rand.set_index("USUBJID").loc[ds.subjects["USUBJID"], "day"].to_numpy(),
        s["rand_calendar_day"],
    )
    disc = ev[ev["event"] == "discontinued"]
    gone = s["disc_visit"] >= 0
    assert len(disc) == gone.sum()
    assert disc["USUBJID"].is_unique
    assert set(disc["USUBJID"]) == set(ds.subjects["USUBJID"][gone])
    by_id = disc.set_index("USUBJID")["day"]
    expected = s["rand_calendar_day"][gone] + s["disc_day"][gone]
    np.testing.assert_allclose(by_id.loc[ds.subjects["USUBJID"][gone]].to_numpy(), expected)
    assert (ev["day"].diff().dropna() >= 0).all()  # time order
    assert (ev["event"] == "data_cut").sum() == 1
    assert (ev["event"] == "site_activation").sum() == ds.event_log.site_activation.size
    n_screened = ev["event"].isin(["screened_eligible", "screen_failure"]).sum()
    assert n_screened == ds.screening["screened"]
    assert (ev["event"] == "screened_eligible").sum() == ds.n
    assert sum(ds.screening["failures"].values()) == ds.screening["screened"] - ds.n
    # The final data cut is when the last subject's follow-up ends.
    cal = s["rand_calendar_day"][:, None] + ds.arrays.day
    last_seen = np.where(ds.arrays.observed, cal, -np.inf).max()
    cut_day = float(ev.loc[ev["event"] == "data_cut", "day"].iloc[0])
    assert cut_day >= last_seen - 1e-9


def check_cut(ds: TrialDataset, day: float) -> None:
    s = ds.subject_arrays
    c = ds.cut(day)
    keep = s["rand_calendar_day"] <= day
    assert c.n == keep.sum()
    assert c.data_cut_day == day
    np.testing.assert_array_equal(
        c.subject_arrays["rand_calendar_day"], s["rand_calendar_day"][keep]
    )
    cal = c.subject_arrays["rand_calendar_day"][:, None] + c.arrays.day
    assert (cal[c.arrays.observed] <= day).all()  # nothing seen after the cut
    # ... and everything seen by then is kept.
    full_cal = s["rand_calendar_day"][keep][:, None] + ds.arrays.day[keep]
    np.testing.assert_array_equal(c.arrays.observed, ds.arrays.observed[keep] & (full_cal <= day))
    for name in ("selena", "pga", "bilag"):
        np.testing.assert_array_equal(getattr(c.arrays, name), getattr(ds.arrays, name)[keep])
    ev = c.events
    assert (ev["day"] <= day).all()
    assert (ev["event"] == "randomised").sum() == c.n
    disc_cal = s["rand_calendar_day"] + s["disc_day"]
    assert (ev["event"] == "discontinued").sum() == (disc_cal <= day).sum()
    assert (ev["event"] == "milestone").sum() == sum(
        d <= day for d, e, _ in ds.event_log.milestones if e == "milestone"
    )


# -- over seeds and small designs ------------------------------------------------------------


@SETTINGS
@given(data=st.data(), seed=st.integers(0, 2**31 - 1))
def test_invariants_of_small_trials(scenario, data, seed: int) -> None:  # type: ignore[no-untyped-def]
    design = data.draw(small_designs(scenario.design))
    ds = _simulate(scenario, design, seed)
    check_randomisation(ds, design)
    check_visit_timing(ds)
    check_scores(ds)
    check_sri(ds)
    check_event_log(ds)
    rand = ds.subject_arrays["rand_calendar_day"]
    for q in (0.0, 0.3, 0.9):
        cut_day = float(np.quantile(rand, q)) + data.draw(st.floats(0.0, 200.0))
        check_cut(ds, cut_day)


@pytest.mark.parametrize("check", [check_visit_timing, check_scores, check_sri, check_event_log])
def test_invariants_of_a_bliss_sized_trial(bliss_trial, check) -> None:  # type: ignore[no-untyped-def]
    check(bliss_trial)


def test_randomisation_of_a_bliss_sized_trial(bliss_trial, scenario) -> None:  # type: ignore[no-untyped-def]
    check_randomisation(bliss_trial, scenario.design)
    # 1:1:1 in blocks of 6 over 8 strata: the arms are within 16 of each other.
    counts = np.bincount(bliss_trial.arm_index, minlength=3)
    assert counts.max() - counts.min() <= 8 * 2


def test_data_cuts_of_a_bliss_sized_trial(bliss_trial) -> None:  # type: ignore[no-untyped-def]
    rand = bliss_trial.subject_arrays["rand_calendar_day"]
    for day in (float(rand[0]), float(np.median(rand)) + 100.0, float(rand[-1]) + 400.0):
        check_cut(bliss_trial, day)
    before = bliss_trial.cut(float(rand[0]) - 1.0)
    assert before.n == 0


def test_milestones_fire_when_enough_patients_reach_the_week(scenario) -> None:  # type: ignore[no-untyped-def]
    design = TrialDesign.model_validate(
        {
            **scenario.design.model_dump(),
            "n_randomised": 60,
            "milestones": [{"name": "IA1", "week": 24, "n_patients": 30}],
        }
    )
    ds = _simulate(scenario, design, 5)
    (day, event, detail), *_ = ds.event_log.milestones
    assert event == "milestone"
    assert detail == "IA1: 30 patients reached week 24"
    j = ds.visit_column(24)
    cal = ds.subject_arrays["rand_calendar_day"] + ds.arrays.day[:, j]
    reached = np.sort(cal[ds.arrays.observed[:, j]])
    assert day == pytest.approx(reached[29])


def test_no_visit_is_missed_before_discontinuation(bliss_trial) -> None:  # type: ignore[no-untyped-def]
    a = bliss_trial.arrays
    disc_day = bliss_trial.subject_arrays["disc_day"]
    missed = ~a.observed & (a.day < disc_day[:, None])
    assert not missed.any(), f"{missed.any(axis=1).sum()} subjects"


def test_treatment_failure_is_only_recorded_at_observed_visits(bliss_trial) -> None:  # type: ignore[no-untyped-def]
    a = bliss_trial.arrays
    seen = (a.treatment_failure & a.observed).any(axis=1)
    np.testing.assert_array_equal(bliss_trial.subjects["TRTFAIL"].to_numpy(), seen)


def test_a_data_cut_shows_nothing_from_after_it(bliss_trial) -> None:  # type: ignore[no-untyped-def]
    rand = bliss_trial.subject_arrays["rand_calendar_day"]
    c = bliss_trial.cut(float(np.median(rand)) + 100.0)
    sub = c.subjects
    in_log = set(c.events.loc[c.events["event"] == "discontinued", "USUBJID"])
    assert set(sub.loc[sub["DCSREAS"] != "", "USUBJID"]) == in_log


def test_a_flare_is_either_mild_moderate_or_severe(bliss_trial) -> None:  # type: ignore[no-untyped-def]
    a = bliss_trial.arrays
    assert not (a.flare_mild & a.flare_severe & a.observed).any()
