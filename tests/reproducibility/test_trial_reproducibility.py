"""Same seed, same trial; replicates re-run alone; one random stream per purpose.

Changing how one purpose draws (the dropout model, the disease course) must
leave the others (enrolment, screening, randomisation) untouched, so that
scenarios compared on one seed share common random numbers.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lupsim.trial import simulate_trial
from lupsim.trial.dataset import TrialDataset
from lupsim.trial.disease import DiseaseParameters

SEED = 20240611


@pytest.fixture(scope="module")
def scenario(bliss52):  # type: ignore[no-untyped-def]
    return bliss52


@pytest.fixture(scope="module")
def reference(scenario) -> TrialDataset:  # type: ignore[no-untyped-def]
    return simulate_trial(scenario, SEED)


def _assert_same_trial(a: TrialDataset, b: TrialDataset) -> None:
    for f in fields(a.arrays):
        x, y = getattr(a.arrays, f.name), getattr(b.arrays, f.name)
        assert x.dtype == y.dtype, f.name
        np.testing.assert_array_equal(x, y, err_msg=f.name)
    assert a.subject_arrays.keys() == b.subject_arrays.keys()
    for key in a.subject_arrays:
        np.testing.assert_array_equal(a.subject_arrays[key], b.subject_arrays[key], err_msg=key)
    pd.testing.assert_frame_equal(a.subjects, b.subjects)
    pd.testing.assert_frame_equal(a.events, b.events)
    assert a.screening == b.screening
    assert a.visit_weeks == b.visit_weeks


def _enrolment(ds: TrialDataset) -> dict[str, Any]:
    s = ds.subject_arrays
    return {
        "rand_calendar_day": s["rand_calendar_day"],
        "screened_calendar_day": s["screened_calendar_day"],
        "site": s["site"],
        "stratum": s["stratum"],
        "site_activation": ds.event_log.site_activation,
        "screen_day": ds.event_log.screen_day,
        "screen_first_failure": ds.event_log.screen_first_failure,
    }


def _assert_same_enrolment_and_randomisation(a: TrialDataset, b: TrialDataset) -> None:
    assert a.n == b.n
    for key, x in _enrolment(a).items():
        np.testing.assert_array_equal(x, _enrolment(b)[key], err_msg=key)
    assert a.screening == b.screening
    np.testing.assert_array_equal(a.arm_index, b.arm_index)
    # The same patients: baseline values unchanged.
    for key in ("selena_bl", "pga_bl", "prednisone_bl", "age", "weight_kg"):
        np.testing.assert_array_equal(a.subject_arrays[key], b.subject_arrays[key], err_msg=key)
    np.testing.assert_array_equal(a.arrays.present[:, 0], b.arrays.present[:, 0])


def _with_discontinuation(scenario, **changes: float):  # type: ignore[no-untyped-def]
    design = scenario.design
    disc = design.discontinuation.model_copy(update=changes)
    return scenario.model_copy(
        update={"design": design.model_copy(update={"discontinuation": disc})}
    )


# -- same seed, same trial -----------------------------------------------------------------


def test_same_seed_same_trial(scenario, reference) -> None:  # type: ignore[no-untyped-def]
    _assert_same_trial(reference, simulate_trial(scenario, SEED))


def test_same_seed_same_visit_table(scenario, reference) -> None:  # type: ignore[no-untyped-def]
    again = simulate_trial(scenario, SEED)
    cut = float(np.median(reference.subject_arrays["rand_calendar_day"])) + 90.0
    pd.testing.assert_frame_equal(reference.cut(cut).visits, again.cut(cut).visits)


def test_different_seeds_differ(scenario, reference) -> None:  # type: ignore[no-untyped-def]
    other = simulate_trial(scenario, SEED + 1)
    assert not np.array_equal(
        reference.subject_arrays["rand_calendar_day"], other.subject_arrays["rand_calendar_day"]
    )
    assert not np.array_equal(reference.arrays.selena, other.arrays.selena)


def test_replicate_k_is_the_same_run_alone_or_after_others(scenario) -> None:  # type: ignore[no-untyped-def]
    alone = simulate_trial(scenario, 7, replicate=2)
    for k in (0, 1):
        simulate_trial(scenario, 7, replicate=k)
    after = simulate_trial(scenario, 7, replicate=2)
    _assert_same_trial(alone, after)
    assert alone.replicate == 2
    assert alone.seed == 7


def test_replicates_differ_from_each_other_and_from_the_root(scenario) -> None:  # type: ignore[no-untyped-def]
    runs = {k: simulate_trial(scenario, 7, replicate=k) for k in (None, 0, 1)}
    days = {k: ds.subject_arrays["rand_calendar_day"] for k, ds in runs.items()}
    arms = {k: ds.arm_index for k, ds in runs.items()}
    for a, b in ((None, 0), (None, 1), (0, 1)):
        assert not np.array_equal(days[a], days[b]), (a, b)
        assert not np.array_equal(arms[a], arms[b]), (a, b)


# -- one stream per purpose ---------------------------------------------------------------


def test_dropout_model_leaves_enrolment_and_randomisation_alone(scenario, reference) -> None:  # type: ignore[no-untyped-def]
    changed = simulate_trial(
        _with_discontinuation(
            scenario, withdrawal_per_4w=0.05, adverse_event_per_4w=0.02, after_severe_flare=0.5
        ),
        SEED,
    )
    _assert_same_enrolment_and_randomisation(reference, changed)
    # Visit days (their own stream) do not move either.
    np.testing.assert_array_equal(reference.arrays.day, changed.arrays.day)
    # ... while dropout does change, and a lot more patients leave.
    before = reference.subject_arrays["disc_visit"] >= 0
    after = changed.subject_arrays["disc_visit"] >= 0
    assert not np.array_equal(before, after)
    assert after.sum() > before.sum() + 50
    assert not np.array_equal(reference.arrays.observed, changed.arrays.observed)


def test_dropout_model_leaves_the_disease_course_alone(scenario, reference) -> None:  # type: ignore[no-untyped-def]
    """Common random numbers: the dropout stream is separate from the disease
    stream, so at every visit both runs observed, the measurements agree."""
    changed = simulate_trial(_with_discontinuation(scenario, withdrawal_per_4w=0.05), SEED)
    both = reference.arrays.observed & changed.arrays.observed
    assert both.sum() > 0.5 * both.size
    for name in ("selena", "sledai_2k", "pga", "prednisone_mg", "bilag", "c3"):
        x = getattr(reference.arrays, name)[both]
        y = getattr(changed.arrays, name)[both]
        np.testing.assert_array_equal(x, y, err_msg=name)


def test_no_dropout_at_all(scenario, reference) -> None:  # type: ignore[no-untyped-def]
    none = simulate_trial(
        _with_discontinuation(
            scenario,
            withdrawal_per_4w=0.0,
            adverse_event_per_4w=0.0,
            lack_of_efficacy_per_4w=0.0,
            after_severe_flare=0.0,
        ),
        SEED,
    )
    _assert_same_enrolment_and_randomisation(reference, none)
    assert none.arrays.observed.all()
    assert (none.subject_arrays["disc_visit"] == -1).all()
    assert np.isnan(none.subject_arrays["disc_day"]).all()


def test_disease_parameters_leave_enrolment_and_randomisation_alone(scenario, reference) -> None:  # type: ignore[no-untyped-def]
    # Both runs with explicit parameters, so that only drug_logodds differs.
    base = simulate_trial(scenario, SEED, disease=DiseaseParameters())
    no_drug = simulate_trial(scenario, SEED, disease=DiseaseParameters().replace(drug_logodds=0.0))
    _assert_same_enrolment_and_randomisation(reference, no_drug)
    _assert_same_enrolment_and_randomisation(base, no_drug)
    np.testing.assert_array_equal(base.arrays.day, no_drug.arrays.day)
    drug_arms = base.arm_index != 0
    # The drug arms' disease course changes ...
    assert not np.array_equal(base.arrays.selena[drug_arms], no_drug.arrays.selena[drug_arms])
    # ... the placebo arm, with no drug effect either way, is exactly the same trial.
    placebo = ~drug_arms
    for f in fields(base.arrays):
        np.testing.assert_array_equal(
            getattr(base.arrays, f.name)[placebo],
            getattr(no_drug.arrays, f.name)[placebo],
            err_msg=f.name,
        )
