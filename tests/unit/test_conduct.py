"""Trial conduct on the SimPy calendar: infusion chairs and milestones."""

from __future__ import annotations

import numpy as np

from lupsim.scenario import load_scenario
from lupsim.trial import simulate_trial


def _with_enrolment(**changes):  # type: ignore[no-untyped-def]
    s = load_scenario("bliss52")
    d = s.design
    assert d is not None
    design = d.model_copy(
        update={"n_randomised": 120, "enrolment": d.enrolment.model_copy(update=changes)}
    )
    return s.model_copy(update={"design": design})


def test_unlimited_chairs_record_no_queue() -> None:
    ds = simulate_trial(_with_enrolment(sites=3), 1)
    assert ds.conduct == {}


def test_scarce_chairs_make_patients_wait_and_move_infusions() -> None:
    busy = simulate_trial(
        _with_enrolment(
            sites=1,
            screening_rate_per_site_week=10.0,
            infusion_chairs_per_site=1,
            infusion_hours=3.0,
            clinic_hours=6.0,
        ),
        1,
    )
    roomy = simulate_trial(
        _with_enrolment(
            sites=1,
            screening_rate_per_site_week=10.0,
            infusion_chairs_per_site=200,
            infusion_hours=3.0,
            clinic_hours=6.0,
        ),
        1,
    )
    assert busy.conduct["infusions"] == roomy.conduct["infusions"] > 0
    assert busy.conduct["infusion_wait_hours"].mean() > roomy.conduct["infusion_wait_hours"].mean()
    assert busy.conduct["infusions_moved"] > 0
    assert roomy.conduct["infusions_moved"] == 0
    assert np.all(roomy.conduct["infusion_wait_hours"] == 0)


def test_chairs_leave_patients_and_outcomes_unchanged() -> None:
    base = simulate_trial(_with_enrolment(sites=3), 4)
    queued = simulate_trial(_with_enrolment(sites=3, infusion_chairs_per_site=1), 4)
    np.testing.assert_array_equal(base.arrays.selena, queued.arrays.selena)


def test_a_milestone_during_enrolment_fires_at_its_own_day() -> None:
    s = load_scenario("bliss52")
    d = s.design
    assert d is not None
    design = d.model_copy(
        update={
            "n_randomised": 400,
            "milestones": (d.milestones or ())
            + (
                type(d)
                .model_fields["milestones"]
                .annotation.__args__[0](  # type: ignore[union-attr]
                    name="early", week=4.0, n_patients=20
                ),
            ),
        }
    )
    ds = simulate_trial(s.model_copy(update={"design": design}), 2)
    (day, event, detail), *_ = ds.event_log.milestones
    assert event == "milestone"
    assert detail.startswith("early")
    rand = ds.subject_arrays["rand_calendar_day"]
    j = ds.visit_column(4)
    reached = np.sort((rand + ds.arrays.day[:, j])[ds.arrays.observed[:, j]])
    assert day == reached[19]
    assert day < rand.max()  # it fired while enrolment was still going on
