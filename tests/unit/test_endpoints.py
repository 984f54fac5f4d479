"""Endpoints on hand-built trials of a few subjects, with hand-computed answers.

Each toy trial has three visits (weeks 0, 4, 8 unless said otherwise); every
subject is given as per-visit values, and the expected responses follow from
the definitions in sle-reference.md section 4.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lupsim.activity.bilag import grades_from_mapping
from lupsim.activity.sledai import DESCRIPTOR_CODES
from lupsim.analysis.endpoints import (
    arm_summary,
    bicla,
    crr,
    endpoint_table,
    flares,
    lldas,
    perr,
    sri,
    steroid_reduction,
    weekly_sri,
)
from lupsim.errors import LupsimError
from lupsim.trial.dataset import EventLog, TrialDataset, VisitArrays

WEEKS = (0.0, 4.0, 8.0)
_D = {c: i for i, c in enumerate(DESCRIPTOR_CODES)}


def subject(**values: Any) -> dict[str, Any]:
    """One subject's per-visit values (three visits); unspecified values are quiet."""
    v = len(values.get("day", WEEKS))
    out: dict[str, Any] = {
        "arm": 0,
        "day": [7.0 * w for w in WEEKS],
        "observed": [True] * v,
        "selena": [10] * v,
        "sledai_2k": None,  # default: same as selena
        "sledai_original": None,
        "pga": [1.0] * v,
        "bilag": [{}] * v,  # domains not given are E
        "prednisone": [10.0] * v,
        "present": [set()] * v,
        "new": [set()] * v,
        "failure": [False] * v,
        "flare_mild": [False] * v,
        "flare_severe": [False] * v,
        "flare_severe_modified": [False] * v,
        "proteinuria": [0.2] * v,
        "egfr": [100.0] * v,
        "induction": 0,
    }
    out.update(values)
    if out["sledai_2k"] is None:
        out["sledai_2k"] = out["selena"]
    if out["sledai_original"] is None:
        out["sledai_original"] = out["selena"]
    return out


def build(
    subjects: list[dict[str, Any]],
    weeks: tuple[float, ...] = WEEKS,
    arms: tuple[str, ...] = ("placebo", "drug"),
    primary_week: float | None = None,
) -> TrialDataset:
    """A TrialDataset from per-subject, per-visit values."""
    n = len(subjects)

    def col(key: str, dtype: Any) -> np.ndarray:
        return np.array([s[key] for s in subjects], dtype=dtype)

    def descriptors(key: str) -> np.ndarray:
        out = np.zeros((n, len(weeks), len(DESCRIPTOR_CODES)), dtype=bool)
        for i, s in enumerate(subjects):
            for j, codes in enumerate(s[key]):
                for c in codes:
                    out[i, j, _D[c]] = True
        return out

    observed = col("observed", bool)
    day = col("day", float)
    failure = np.maximum.accumulate(col("failure", bool), axis=1)
    flare_severe_modified = col("flare_severe_modified", bool)
    pred = col("prednisone", float)
    arrays = VisitArrays(
        observed=observed,
        day=day,
        selena=col("selena", np.int16),
        sledai_2k=col("sledai_2k", np.int16),
        sledai_original=col("sledai_original", np.int16),
        present=descriptors("present"),
        new=descriptors("new"),
        bilag=np.array([[grades_from_mapping(g) for g in s["bilag"]] for s in subjects]),
        pga=col("pga", float),
        prednisone_mg=pred,
        anti_dsdna_iu=np.full((n, len(weeks)), 50.0),
        c3=np.full((n, len(weeks)), 80.0),
        c4=np.full((n, len(weeks)), 12.0),
        proteinuria_g=col("proteinuria", float),
        egfr=col("egfr", float),
        flare_mild=col("flare_mild", bool),
        flare_severe=col("flare_severe", bool) | flare_severe_modified,
        flare_severe_modified=flare_severe_modified,
        rescue=flare_severe_modified,
        treatment_failure=failure,
    )
    left = ~observed.all(axis=1)
    last_seen = observed.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)
    disc_visit = np.where(left, last_seen, -1).astype(np.int16)
    disc_day = np.where(left, day[np.arange(n), last_seen] + 10.0, np.nan)
    rand = 7.0 * np.arange(n, dtype=float)
    failed_any = failure.any(axis=1)
    sa: dict[str, np.ndarray] = {
        "subject": np.arange(n),
        "arm_index": col("arm", np.int8),
        "site": np.zeros(n, dtype=np.int32),
        "stratum": np.zeros(n, dtype=np.int32),
        "rand_calendar_day": rand,
        "screened_calendar_day": rand - 10.0,
        "age": np.full(n, 35.0),
        "female": np.ones(n, dtype=bool),
        "race": np.zeros(n, dtype=np.int8),
        "region": np.zeros(n, dtype=np.int8),
        "weight_kg": np.full(n, 60.0),
        "selena_bl": arrays.selena[:, 0],
        "sledai_2k_bl": arrays.sledai_2k[:, 0],
        "pga_bl": arrays.pga[:, 0],
        "prednisone_bl": pred[:, 0],
        "anti_dsdna_bl": arrays.anti_dsdna_iu[:, 0],
        "c3_bl": arrays.c3[:, 0],
        "c4_bl": arrays.c4[:, 0],
        "proteinuria_bl": arrays.proteinuria_g[:, 0],
        "egfr_bl": arrays.egfr[:, 0],
        "induction": col("induction", np.int8),
        "serologically_active": np.ones(n, dtype=bool),
        "antimalarial": np.ones(n, dtype=bool),
        "immunosuppressant_bl": np.zeros(n, dtype=np.int8),
        "disc_visit": disc_visit,
        "disc_reason": np.where(left, 0, -1).astype(np.int8),
        "disc_day": disc_day,
        "treatment_failure": failed_any,
        "failure_visit": np.where(failed_any, failure.argmax(axis=1), -1),
    }
    log = EventLog(
        site_activation=np.zeros(1),
        screen_day=rand - 10.0,
        screen_first_failure=np.full(n, -1, dtype=np.int16),
        rand_day=rand,
        disc_day=rand + disc_day,
        milestones=(),
    )
    return TrialDataset(
        subject_arrays=sa,
        arrays=arrays,
        visit_weeks=tuple(weeks),
        arms=arms,
        control=arms[0],
        primary_week=weeks[-1] if primary_week is None else primary_week,
        event_log=log,
        seed=0,
        replicate=None,
        scenario="toy",
    )


def _list(x: np.ndarray) -> list[Any]:
    return np.asarray(x).tolist()


# -- the toy builder itself ---------------------------------------------------------------


def test_toy_dataset_is_a_usable_trial_dataset() -> None:
    ds = build([subject(), subject(arm=1, observed=[True, True, False])])
    sub = ds.subjects
    assert sub["arm"].tolist() == ["placebo", "drug"]
    assert sub["DCSREAS"].tolist() == ["", "withdrawal"]
    assert sub["LASTVISW"].tolist() == [8.0, 4.0]
    assert sub["COMPLFL"].tolist() == [True, False]


# -- SRI ---------------------------------------------------------------------------------


def test_sri4_bilag_component() -> None:
    ds = build(
        [
            subject(selena=[10, 8, 6]),  # 4-point drop: responder
            subject(selena=[10, 8, 6], bilag=[{}, {}, {"mucocutaneous": "A"}]),  # new A
            subject(
                selena=[10, 8, 6],
                bilag=[{}, {}, {"mucocutaneous": "B", "musculoskeletal": "B"}],  # 2 new B
            ),
            subject(selena=[10, 8, 6], bilag=[{}, {}, {"mucocutaneous": "B"}]),  # 1 new B
            subject(
                selena=[10, 8, 6],  # A stays A, B -> A is a new A
                bilag=[{"renal": "A", "haematological": "B"}] * 2
                + [{"renal": "A", "haematological": "A"}],
            ),
            subject(
                selena=[10, 8, 6],  # A stays A and C -> B: one new B, no new A
                bilag=[{"renal": "A", "mucocutaneous": "C"}] * 2
                + [{"renal": "A", "mucocutaneous": "B"}],
            ),
        ]
    )
    r = sri(ds, week=8)
    assert _list(r.sledai_reduction) == [True] * 6
    assert _list(r.no_bilag_worsening) == [True, False, False, True, False, True]
    assert _list(r.no_pga_worsening) == [True] * 6
    assert _list(r.responder) == [True, False, False, True, False, True]
    assert _list(r.evaluable) == [True] * 6


def test_sri4_pga_component() -> None:
    ds = build(
        [
            subject(selena=[10, 8, 6], pga=[1.0, 1.0, 1.3]),  # rise of exactly 0.3
            subject(selena=[10, 8, 6], pga=[1.0, 1.0, 1.29]),
            subject(selena=[10, 8, 6], pga=[1.1, 1.1, 1.4]),  # 0.3 in floating point
            subject(selena=[10, 8, 6], pga=[1.4, 1.4, 0.5]),  # improvement
            subject(selena=[10, 8, 6], pga=[1.0, 2.0, 1.0]),  # worse at week 4 only
        ]
    )
    r = sri(ds, week=8)
    assert _list(r.no_pga_worsening) == [False, True, False, True, True]
    assert _list(r.responder) == [False, True, False, True, True]
    assert _list(sri(ds, week=4).no_pga_worsening) == [True, True, True, True, False]


def test_sri4_dropout_and_treatment_failure_are_non_responders_in_every_component() -> None:
    ds = build(
        [
            subject(selena=[10, 4, 2], observed=[True, True, False]),  # left after week 4
            subject(selena=[10, 4, 2], failure=[False, True, True]),  # failed at week 4
            subject(selena=[10, 4, 2], failure=[False, False, True]),  # failed at week 8
            subject(selena=[10, 7, 7]),  # 3-point drop
            subject(selena=[10, 4, 2]),
        ]
    )
    r8 = sri(ds, week=8)
    for component in ("sledai_reduction", "no_bilag_worsening", "no_pga_worsening", "responder"):
        assert _list(getattr(r8, component))[:3] == [False, False, False], component
    assert _list(r8.evaluable) == [False, False, False, True, True]
    assert _list(r8.sledai_reduction) == [False, False, False, False, True]
    assert _list(r8.responder) == [False, False, False, False, True]
    r4 = sri(ds, week=4)
    assert _list(r4.responder) == [True, False, True, False, True]
    assert _list(r4.evaluable) == [True, False, True, True, True]


def test_sri_default_week_is_the_primary_week() -> None:
    ds = build([subject(selena=[10, 6, 10]), subject(selena=[10, 10, 6])], primary_week=4)
    assert _list(sri(ds).responder) == [True, False]
    assert _list(sri(ds, week=8).responder) == [False, True]


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (9, {4: False, 5: False, 6: False}),  # 3-point drop
        (8, {4: True, 5: False, 6: False}),
        (7, {4: True, 5: True, 6: False}),
        (6, {4: True, 5: True, 6: True}),
        (0, {4: True, 5: True, 6: True}),
    ],
)
def test_sri_x_thresholds(after: int, expected: dict[int, bool]) -> None:
    ds = build([subject(selena=[12, 12, after])])
    for x, responder in expected.items():
        assert bool(sri(ds, week=8, reduction=x).responder[0]) is responder, x


@pytest.mark.parametrize("bad", [0, -4, 106])
def test_sri_reduction_out_of_range(bad: int) -> None:
    with pytest.raises(LupsimError, match="1-105"):
        sri(build([subject()]), week=8, reduction=bad)


# -- BICLA ------------------------------------------------------------------------------


def test_bicla() -> None:
    quiet = {"sledai_2k": [10, 8, 6]}
    ds = build(
        [
            subject(bilag=[{"musculoskeletal": "A"}] * 2 + [{"musculoskeletal": "B"}], **quiet),
            subject(bilag=[{"musculoskeletal": "A"}] * 3, **quiet),  # A -> A
            subject(bilag=[{"musculoskeletal": "B"}] * 2 + [{"musculoskeletal": "B"}], **quiet),
            subject(
                bilag=[{"musculoskeletal": "B"}] * 2 + [{"musculoskeletal": "C"}],
                sledai_2k=[6, 6, 8],  # SLEDAI-2K rise
            ),
            subject(
                bilag=[{"musculoskeletal": "A"}] * 2 + [{"musculoskeletal": "D"}],
                pga=[1.0, 1.0, 1.3],  # PGA worse by 0.3 (10% of the scale)
                **quiet,
            ),
            subject(
                bilag=[{"musculoskeletal": "A"}] * 2
                + [{"musculoskeletal": "C", "mucocutaneous": "B"}],  # one new B allowed
                pga=[1.0, 1.0, 1.2],
                **quiet,
            ),
        ]
    )
    assert _list(bicla(ds, week=8)) == [True, False, False, False, False, True]


def test_bicla_new_activity_failure_and_dropout() -> None:
    improved = [{"renal": "A"}, {"renal": "A"}, {"renal": "C"}]
    ds = build(
        [
            subject(bilag=[*improved[:2], {"renal": "C", "mucocutaneous": "A"}]),  # new A
            subject(
                bilag=[*improved[:2], {"renal": "C", "mucocutaneous": "B", "ophthalmic": "B"}]
            ),  # two new B
            subject(bilag=improved, failure=[False, True, True]),
            subject(bilag=improved, observed=[True, True, False]),
            subject(bilag=improved, sledai_2k=[10, 10, 10]),  # no rise is fine
        ]
    )
    assert _list(bicla(ds, week=8)) == [False, False, False, False, True]


# -- LLDAS ------------------------------------------------------------------------------


def _lldas_subject(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "selena": [10, 4, 4],
        "present": [{"arthritis", "rash"}, {"arthritis"}, {"arthritis"}],
        "pga": [1.5, 1.0, 1.0],
        "prednisone": [10.0, 7.5, 7.5],
    }
    base.update(values)
    return subject(**base)


def test_lldas() -> None:
    ds = build(
        [
            _lldas_subject(),  # SLEDAI-2K 4 from arthritis: LLDAS
            _lldas_subject(
                present=[{"proteinuria"}] * 3, selena=[10, 0, 0], sledai_2k=[10, 4, 4]
            ),  # 4 from proteinuria: renal
            _lldas_subject(prednisone=[10.0, 10.0, 10.0]),
            _lldas_subject(new=[set(), set(), {"arthritis"}]),  # new since week 4
            _lldas_subject(pga=[1.5, 1.0, 1.01]),
            _lldas_subject(
                selena=[10, 6, 6], present=[{"arthritis", "low_complement"}] * 3
            ),  # SLEDAI-2K 6
        ]
    )
    assert _list(lldas(ds, week=8)) == [True, False, False, False, False, False]


def test_lldas_organs_gi_and_follow_up() -> None:
    ds = build(
        [
            _lldas_subject(
                present=[{"low_complement", "increased_dna_binding"}] * 3
            ),  # serology only: LLDAS
            _lldas_subject(selena=[10, 1, 1], present=[{"fever"}] * 3),  # constitutional
            _lldas_subject(selena=[10, 2, 2], present=[{"pleurisy"}] * 3),  # cardiopulmonary
            _lldas_subject(bilag=[{}, {}, {"gastrointestinal": "C"}]),  # GI activity
            _lldas_subject(bilag=[{}, {}, {"gastrointestinal": "D"}]),  # GI resolved
            _lldas_subject(observed=[True, True, False]),
            _lldas_subject(failure=[False, True, True]),
        ]
    )
    assert _list(lldas(ds, week=8)) == [True, False, False, False, True, False, False]


def test_lldas_baseline_ignores_new_flags_and_uses_that_visit() -> None:
    ds = build(
        [
            _lldas_subject(
                selena=[4, 4, 4],
                pga=[1.0, 1.0, 1.0],
                prednisone=[5.0, 5.0, 5.0],
                present=[{"arthritis"}] * 3,
                new=[{"arthritis"}, set(), set()],
            ),
            _lldas_subject(),  # SLEDAI 10, PGA 1.5, prednisone 10 at baseline
        ]
    )
    assert _list(lldas(ds, week=0)) == [True, False]
    assert _list(lldas(ds, week=4)) == [True, True]


# -- flares -------------------------------------------------------------------------------


def test_flares_and_time_to_first_severe_flare() -> None:
    days = [0.0, 29.0, 55.0]
    ds = build(
        [
            subject(day=days),  # no flare: censored at day 55
            subject(day=days, flare_severe_modified=[False, True, True]),  # first at day 29
            subject(day=days, flare_severe_modified=[False, False, True]),  # day 55
            subject(day=days, flare_mild=[False, True, False]),  # mild only
            subject(
                day=days, observed=[True, True, False], flare_severe_modified=[False, False, True]
            ),  # after leaving: not seen; censored at day 29
            subject(day=days, flare_severe=[False, True, False]),  # SS > 12 only
        ]
    )
    f = flares(ds, week=8)
    assert _list(f.any_mild_moderate) == [False, False, False, True, False, False]
    assert _list(f.any_severe) == [False, True, True, False, False, False]
    assert _list(f.severe_event) == _list(f.any_severe)
    assert _list(f.time_to_severe) == [55.0, 29.0, 55.0, 55.0, 29.0, 55.0]
    # The original SFI counts the score-only severe flare.
    g = flares(ds, week=8, modified=False)
    assert _list(g.any_severe) == [False, True, True, False, False, True]
    assert _list(g.time_to_severe) == [55.0, 29.0, 55.0, 55.0, 29.0, 29.0]
    # Up to week 4 only: the week-8 flare is not counted yet.
    h = flares(ds, week=4)
    assert _list(h.any_severe) == [False, True, False, False, False, False]
    assert _list(h.time_to_severe) == [29.0, 29.0, 29.0, 29.0, 29.0, 29.0]
    assert _list(h.any_mild_moderate) == [False, False, False, True, False, False]


def test_time_to_severe_flare_censored_at_the_last_visit_seen() -> None:
    ds = build(
        [
            subject(day=[0.0, 27.0, 60.0], observed=[True, False, False]),  # baseline only
            subject(day=[0.0, 27.0, 60.0], observed=[True, True, False]),
            subject(day=[0.0, 27.0, 60.0]),
        ]
    )
    f = flares(ds, week=8)
    assert _list(f.time_to_severe) == [0.0, 27.0, 60.0]
    assert not f.severe_event.any()


# -- steroid reduction --------------------------------------------------------------------


def test_steroid_reduction() -> None:
    ds = build(
        [
            subject(prednisone=[10.0, 7.5, 7.5]),  # -25% to 7.5 at every visit
            subject(prednisone=[10.0, 7.5, 10.0]),  # back up at week 8
            subject(prednisone=[7.5, 5.0, 5.0]),  # not > 7.5 at baseline: not assessed
            subject(prednisone=[20.0, 7.5, 7.5]),
            subject(prednisone=[20.0, 10.0, 10.0]),  # -50% but still > 7.5
            subject(prednisone=[9.0, 7.5, 7.5]),  # <= 7.5 but only -17%
            subject(prednisone=[9.5, 7.5, 7.5]),  # -21%
            subject(prednisone=[8.0, 6.0, 6.0]),  # -25% exactly
        ]
    )
    r = steroid_reduction(ds, weeks=(4, 8))
    assert r[[0, 1, 3, 4, 5, 6, 7]].tolist() == [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert np.isnan(r[2])
    # Only the week-8 visit in the window.
    assert steroid_reduction(ds, weeks=(8, 8))[[0, 1, 3]].tolist() == [1.0, 0.0, 1.0]


def test_steroid_reduction_dropout_and_failure() -> None:
    ds = build(
        [
            subject(prednisone=[10.0, 5.0, 5.0], observed=[True, True, False]),
            subject(prednisone=[10.0, 5.0, 5.0], failure=[False, False, True]),
            subject(prednisone=[10.0, 5.0, 5.0]),
            subject(prednisone=[0.0, 0.0, 0.0]),
        ]
    )
    r = steroid_reduction(ds, weeks=(4, 8))
    assert r[:3].tolist() == [0.0, 0.0, 1.0]
    assert np.isnan(r[3])


def test_steroid_reduction_window_without_visits() -> None:
    ds = build([subject()])
    # An explicit window without visits is an error naming the visits ...
    with pytest.raises(LupsimError, match="no visit in weeks 40-52; visits are at weeks 0, 4, 8"):
        steroid_reduction(ds, weeks=(40.0, 52.0))
    # ... while the default window is the 12 weeks up to the primary visit.
    assert steroid_reduction(ds).shape == (1,)


# -- weekly SRI, tables -----------------------------------------------------------------


def _two_arm_toy(weeks: tuple[float, ...] = WEEKS) -> TrialDataset:
    days = [7.0 * w for w in weeks]
    return build(
        [
            subject(arm=0, day=days, selena=[10, 6, 6], prednisone=[10.0, 7.5, 7.5]),
            subject(arm=0, day=days, selena=[10, 10, 10], prednisone=[5.0, 5.0, 5.0]),
            subject(arm=1, day=days, selena=[10, 6, 4], flare_severe_modified=[False, True, False]),
            subject(arm=1, day=days, selena=[10, 9, 5], bilag=[{}, {}, {"renal": "A"}]),
            subject(arm=1, day=days, selena=[10, 4, 2], observed=[True, True, False]),
        ],
        weeks=weeks,
    )


def test_weekly_sri() -> None:
    table = weekly_sri(_two_arm_toy())
    expected = pd.DataFrame(
        {
            "arm": ["placebo", "drug", "placebo", "drug"],
            "week": [4.0, 4.0, 8.0, 8.0],
            "sri4_pct": [50.0, 200 / 3, 50.0, 100 / 3],
        }
    )
    pd.testing.assert_frame_equal(table, expected)
    sri6 = weekly_sri(_two_arm_toy(), reduction=6)["sri6_pct"].tolist()
    assert sri6 == pytest.approx([0.0, 100 / 3, 0.0, 100 / 3])


ARM_SUMMARY_COLUMNS = [
    "n_randomised",
    "completed_pct",
    "sri4",
    "sledai_reduction4",
    "no_bilag_worsening",
    "no_pga_worsening",
    "sri5",
    "sri6",
    "bicla",
    "lldas",
    "severe_flare",
    "steroid_reduction",
]


def test_arm_summary_on_a_trial_with_visits_in_weeks_40_to_52() -> None:
    ds = _two_arm_toy(weeks=(0.0, 44.0, 52.0))
    s = arm_summary(ds)
    assert list(s.columns) == ARM_SUMMARY_COLUMNS
    assert list(s.index) == ["placebo", "drug"]
    assert s["n_randomised"].tolist() == [2, 3]
    expected = {
        "completed_pct": [100.0, 200 / 3],
        "sri4": [50.0, 100 / 3],
        "sledai_reduction4": [50.0, 200 / 3],
        "no_bilag_worsening": [100.0, 100 / 3],
        "no_pga_worsening": [100.0, 200 / 3],
        "sri5": [0.0, 100 / 3],
        "bicla": [100.0, 100 / 3],
        "lldas": [0.0, 0.0],
        "sri6": [0.0, 100 / 3],
        "severe_flare": [0.0, 100 / 3],
        "steroid_reduction": [100.0, 0.0],  # placebo: 1 of 1 eligible; drug: 0 of 3
    }
    for column, values in expected.items():
        assert s[column].tolist() == pytest.approx(values), column
    t = endpoint_table(ds)
    assert len(t) == 5
    assert t["sri4"].tolist() == [True, False, True, False, False]


def test_arm_summary_columns_on_a_short_trial() -> None:
    s = arm_summary(_two_arm_toy())
    assert list(s.columns) == ARM_SUMMARY_COLUMNS


# -- visit columns ---------------------------------------------------------------------


def test_visit_column() -> None:
    ds = build([subject()])
    assert [ds.visit_column(w) for w in (0, 4, 8)] == [0, 1, 2]
    assert ds.visit_column(4.0 + 1e-12) == 1


@pytest.mark.parametrize("week", [6, 12, -4])
def test_visit_column_names_the_valid_weeks(week: float) -> None:
    ds = build([subject()])
    message = f"week {week:g} is not a visit of this trial; visits are at weeks 0, 4, 8"
    with pytest.raises(LupsimError) as info:
        ds.visit_column(week)
    assert str(info.value) == message
    for endpoint in (sri, bicla, lldas, flares):
        with pytest.raises(LupsimError, match="visits are at weeks 0, 4, 8"):
            endpoint(ds, week)


# -- renal responses (PERR, CRR; BLISS-LN, Furie 2020) -------------------------------


def _renal(prot: float, egfr: float, baseline_egfr: float = 100.0, **kw: Any) -> dict[str, Any]:
    """A subject whose week-8 uPCR (g/g) and eGFR are given (baseline eGFR as given)."""
    return subject(proteinuria=[3.0, 1.0, prot], egfr=[baseline_egfr, baseline_egfr, egfr], **kw)


@pytest.mark.parametrize(
    ("prot", "perr_ok", "crr_ok"),
    [
        (0.69, True, False),
        (0.7, True, False),  # PERR: <= 0.7 inclusive
        (0.71, False, False),
        (0.5, True, False),  # CRR: < 0.5 strict
        (0.49, True, True),
    ],
)
def test_renal_proteinuria_thresholds(prot: float, perr_ok: bool, crr_ok: bool) -> None:
    ds = build([_renal(prot, 100.0)])
    assert _list(perr(ds).proteinuria) == [perr_ok]
    assert _list(crr(ds).proteinuria) == [crr_ok]
    assert _list(perr(ds).responder) == [perr_ok]
    assert _list(crr(ds).responder) == [crr_ok]


@pytest.mark.parametrize(
    ("baseline", "egfr", "perr_ok"),
    [
        (70.0, 56.0, True),  # exactly 20% below (0.8 x 70 is 56.000000000000007 in floats)
        (70.0, 55.9, False),  # more than 20% below, and below 60
        (100.0, 60.0, True),  # 40% below, but >= 60
        (100.0, 59.9, False),
        (50.0, 45.0, True),  # 10% below
        (50.0, 39.9, False),
    ],
)
def test_perr_egfr_rule(baseline: float, egfr: float, perr_ok: bool) -> None:
    ds = build([_renal(0.3, egfr, baseline_egfr=baseline)])
    assert _list(perr(ds).egfr) == [perr_ok]
    assert _list(perr(ds).responder) == [perr_ok]


@pytest.mark.parametrize(
    ("baseline", "egfr", "crr_ok"),
    [
        (95.0, 85.5, True),  # exactly 10% below
        (95.0, 85.4, False),  # more than 10% below, and below 90
        (120.0, 90.0, True),  # 25% below, but >= 90
        (120.0, 89.9, False),
        (70.0, 63.0, True),  # exactly 10% below (0.9 x 70 in floats)
        (70.0, 62.9, False),
    ],
)
def test_crr_egfr_rule(baseline: float, egfr: float, crr_ok: bool) -> None:
    ds = build([_renal(0.3, egfr, baseline_egfr=baseline)])
    assert _list(crr(ds).egfr) == [crr_ok]
    assert _list(crr(ds).responder) == [crr_ok]


def test_renal_responses_impute_dropouts_and_treatment_failures_as_non_responders() -> None:
    ds = build(
        [
            _renal(0.3, 100.0),  # responds to both
            _renal(0.3, 100.0, observed=[True, True, False]),  # left before week 8
            _renal(0.3, 100.0, failure=[False, True, False]),  # failed at week 4
        ]
    )
    for result in (perr(ds), crr(ds)):
        assert _list(result.responder) == [True, False, False]
        assert _list(result.evaluable) == [True, False, False]
        # The criteria are as measured: not met where the visit was missed.
        assert _list(result.proteinuria) == [True, False, True]
    # At week 4 (before the failure is judged at a later visit) subject 3 had
    # uPCR 1.0: no response either way.
    assert _list(perr(ds, week=4).responder) == [False, False, False]


def test_every_complete_response_is_a_primary_efficacy_response() -> None:
    cases = [
        (p, e, b)
        for p in (0.3, 0.49, 0.5, 0.6, 0.7, 0.8)
        for e in (50.0, 59.9, 60.0, 79.0, 85.0, 89.9, 90.0, 110.0)
        for b in (60.0, 90.0, 100.0)
    ]
    ds = build([_renal(p, e, baseline_egfr=b) for p, e, b in cases])
    p, c = perr(ds).responder, crr(ds).responder
    assert not (c & ~p).any()
    assert c.sum() < p.sum()


def test_renal_endpoints_in_the_analysis_machinery() -> None:
    from lupsim.analysis.binary import BINARY_ENDPOINTS, responders
    from lupsim.analysis.plan import AnalysisSpec

    ds = build([_renal(0.6, 100.0), _renal(0.3, 100.0, arm=1)])
    assert {"perr", "crr"} <= set(BINARY_ENDPOINTS)
    assert _list(responders(ds, "perr")) == [1.0, 1.0]
    assert _list(responders(ds, "crr")) == [0.0, 1.0]
    assert AnalysisSpec(endpoint="perr", method="logistic").endpoint == "perr"
    with pytest.raises(ValueError, match="unknown endpoint 'per'"):
        AnalysisSpec(endpoint="per")


def test_renal_endpoints_lead_the_summary_of_a_nephritis_trial_only() -> None:
    plain = build([_renal(0.3, 100.0), _renal(0.3, 100.0, arm=1)])
    assert "perr" not in arm_summary(plain).columns
    assert "perr" not in endpoint_table(plain).columns
    renal = build([_renal(0.3, 100.0, induction=1), _renal(0.9, 100.0, arm=1, induction=2)])
    summary = arm_summary(renal)
    assert summary.columns[:4].tolist() == ["n_randomised", "completed_pct", "perr", "crr"]
    assert summary["perr"].tolist() == [100.0, 0.0]


def test_renal_response_without_egfr_is_a_clear_error() -> None:
    ds = build([_renal(0.3, np.nan)])
    with pytest.raises(LupsimError, match="PERR needs eGFR"):
        perr(ds)


_values = st.floats(0.0, 20.0, allow_nan=False)
_egfrs = st.floats(5.0, 150.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_values, _egfrs, _egfrs), min_size=1, max_size=12))
def test_renal_response_invariants(cases: list[tuple[float, float, float]]) -> None:
    """CRR implies PERR; PERR implies uPCR <= 0.7; less proteinuria or more eGFR
    never takes a response away."""
    ds = build([_renal(p, e, baseline_egfr=b) for p, e, b in cases])
    prot = np.array([p for p, _, _ in cases])
    p, c = perr(ds).responder, crr(ds).responder
    assert not (c & ~p).any()
    assert (prot[p] <= 0.7 + 1e-9).all()
    assert (prot[c] < 0.5).all()
    better = build([_renal(0.5 * p, e + 5.0, baseline_egfr=b) for p, e, b in cases])
    assert not (p & ~perr(better).responder).any()
    assert not (c & ~crr(better).responder).any()


# -- the steroid criterion of PERR and CRR (BLISS-LN: <= 10 mg/day from week 24) ------

LN_WEEKS = (0.0, 12.0, 24.0, 28.0, 52.0)


def _tapered(prednisone: list[float], **kw: Any) -> dict[str, Any]:
    """A subject of a trial with visits at LN_WEEKS whose kidney responds
    completely from week 24 (uPCR 0.4, then 0.3; eGFR unchanged), on the
    given prednisone doses."""
    values: dict[str, Any] = {
        "day": [7.0 * w for w in LN_WEEKS],
        "observed": [True] * 5,
        "selena": [10] * 5,
        "pga": [1.0] * 5,
        "bilag": [{}] * 5,
        "present": [set()] * 5,
        "new": [set()] * 5,
        "failure": [False] * 5,
        "flare_mild": [False] * 5,
        "flare_severe": [False] * 5,
        "flare_severe_modified": [False] * 5,
        "proteinuria": [3.0, 1.0, 0.4, 0.4, 0.3],
        "egfr": [100.0] * 5,
        "prednisone": prednisone,
    }
    values.update(kw)
    return subject(**values)


@pytest.mark.parametrize(
    ("prednisone", "observed", "ok"),
    [
        # Exactly 10 mg/day from week 24 meets it; 40 and 20 before week 24 do not matter.
        ([40.0, 20.0, 10.0, 10.0, 10.0], [True] * 5, True),
        ([40.0, 12.5, 7.5, 5.0, 5.0], [True] * 5, True),
        # 10.5 mg/day at week 28 fails it, though the dose is low again at week 52.
        ([40.0, 20.0, 10.0, 10.5, 5.0], [True] * 5, False),
        # Week 24 itself counts.
        ([40.0, 20.0, 12.5, 5.0, 5.0], [True] * 5, False),
        # Only attended visits count: 20 mg/day recorded at a missed week-28 visit does not.
        ([40.0, 20.0, 10.0, 20.0, 10.0], [True, True, True, False, True], True),
    ],
)
def test_renal_steroid_criterion(prednisone: list[float], observed: list[bool], ok: bool) -> None:
    ds = build([_tapered(prednisone, observed=observed)], weeks=LN_WEEKS)
    for result in (perr(ds, week=52), crr(ds, week=52)):
        assert _list(result.steroids) == [ok]
        assert _list(result.proteinuria) == [True]
        assert _list(result.egfr) == [True]
        assert _list(result.responder) == [ok]


def test_renal_steroid_criterion_looks_only_up_to_the_assessment_visit() -> None:
    # 15 mg/day at weeks 28 and 52: a responder at week 24, not at week 28 or 52;
    # at week 12 there is no visit from week 24 yet, and uPCR 1.0 fails anyway.
    ds = build([_tapered([40.0, 20.0, 10.0, 15.0, 15.0])], weeks=LN_WEEKS)
    assert [bool(perr(ds, week=w).responder[0]) for w in (12, 24, 28, 52)] == [
        False,
        True,
        False,
        False,
    ]
    assert [bool(perr(ds, week=w).steroids[0]) for w in (12, 24, 28, 52)] == [
        True,
        True,
        False,
        False,
    ]


def test_renal_steroid_criterion_of_dropouts_and_custom_criteria() -> None:
    from lupsim.analysis.endpoints import RenalCriteria, renal_response

    ds = build(
        [
            _tapered([40.0, 20.0, 10.0, 10.0, 10.0], observed=[True] * 4 + [False]),
            _tapered([40.0, 20.0, 20.0, 20.0, 20.0]),
        ],
        weeks=LN_WEEKS,
    )
    r = perr(ds, week=52)
    # Left before week 52: not met (as the other criteria), and a non-responder.
    assert _list(r.steroids) == [False, False]
    assert _list(r.responder) == [False, False]
    # Without the steroid criterion the second subject responds.
    lenient = RenalCriteria("PERR without steroids", 0.7, True, 0.2, 60.0, None)
    assert _list(renal_response(ds, lenient, week=52).responder) == [False, True]
    assert _list(renal_response(ds, lenient, week=52).steroids) == [False, True]
