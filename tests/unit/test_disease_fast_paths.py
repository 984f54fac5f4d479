"""The disease model's fast paths give exactly what the plain numpy forms give."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from lupsim.activity.sledai import N_DESCRIPTORS
from lupsim.cohort import model as cm
from lupsim.trial.disease import (
    PGA_PER_NEW_ORGAN,
    _expit32,
    _grade_and_rate,
    _grade_thresholds,
    cumulative_or,
)


def _reference_grades(
    present: np.ndarray,
    new: np.ndarray,
    latent: np.ndarray,
    proteinuria: np.ndarray,
    params: cm.Parameters,
    mild: np.ndarray,
    ever: np.ndarray,
) -> np.ndarray:
    """BILAG grades as first written: every domain graded, then np.where."""
    counts = present.astype(np.float32) @ cm._BILAG_SOURCE_MATRIX
    active = counts > 0
    sev = latent + cm.BILAG_EXTRA_ITEM * (counts - active)
    sev[:, cm._MUCO_BILAG] += cm.BILAG_VASCULITIS * present[:, cm._VASCULITIS]
    thr_a = params["bilag_tau_a"] + cm.BILAG_A_OFFSET
    thr_b = np.minimum(params["bilag_tau_b"] + cm.BILAG_B_OFFSET, thr_a)
    grade = 2 - (sev > thr_b).astype(np.int8) - (sev > thr_a).astype(np.int8)
    s = cm._SEDIMENT_IDX
    sediment = present[:, s[0]] | present[:, s[1]] | present[:, s[2]]
    prot_new = present[:, cm._PROTEINURIA] & new[:, cm._PROTEINURIA]
    renal_a = (proteinuria >= cm.RENAL_A_PROTEINURIA) | (
        (proteinuria >= cm.RENAL_A_PROTEINURIA_WITH_SEDIMENT) & sediment
    )
    renal_b = sediment | prot_new
    grade[:, cm._RENAL_BILAG] = 2 - (renal_a | renal_b).astype(np.int8) - renal_a.astype(np.int8)
    inactive = 4 - (mild | ever).astype(np.int8) - mild.astype(np.int8)
    return np.where(active, grade, inactive).astype(np.int8)


@pytest.mark.parametrize("seed", range(5))
def test_bilag_grades_match_the_plain_form(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 2000
    present = rng.random((n, N_DESCRIPTORS)) < 0.2
    # Proteinuria consistent with its descriptor, as the cohort and the trial make it.
    proteinuria = np.where(present[:, cm._PROTEINURIA], rng.uniform(0.51, 8.0, n), 0.2)
    new = present & (rng.random((n, N_DESCRIPTORS)) < 0.4)
    latent = rng.normal(0.0, 1.5, (n, 9))
    mild = rng.random((n, 9)) < 0.2
    ever = rng.random((n, 9)) < 0.5
    params = cm.default_parameters()
    expected = _reference_grades(present, new, latent, proteinuria, params, mild, ever)
    got = cm.bilag_grades(present, new, latent, proteinuria, params, mild, ever)
    np.testing.assert_array_equal(got, expected)
    # The trial's split: A/B/C of the active domains, then the inactive ones.
    counts = present.astype(np.float32) @ cm._BILAG_SOURCE_MATRIX
    active_grades, active = cm.bilag_active_grades(
        present, new, latent, proteinuria, params, counts
    )
    np.testing.assert_array_equal(active_grades[active], expected[active])
    assert (active_grades[~active] == 2).all()
    inactive = cm.bilag_inactive_grades(mild, ever)
    np.testing.assert_array_equal(inactive[~active], expected[~active])


@pytest.mark.parametrize("shape", [(0, 5), (1, 7), (13, 865), (13, 9, 40)])
def test_cumulative_or_is_logical_or_accumulate(shape: tuple[int, ...]) -> None:
    a = np.random.default_rng(1).random(shape) < 0.1
    np.testing.assert_array_equal(cumulative_or(a), np.logical_or.accumulate(a, axis=0))
    out = np.zeros(shape, dtype=bool)
    assert cumulative_or(a, out=out) is out
    np.testing.assert_array_equal(out, np.logical_or.accumulate(a, axis=0))


@pytest.mark.parametrize("seed", range(3))
def test_trial_grading_and_pga_match_the_cohort_model(seed: int) -> None:
    """The visit loop's feature-major BILAG grades and PGA are the cohort model's."""
    rng = np.random.default_rng(seed)
    n = 3000
    present = rng.random((N_DESCRIPTORS, n)) < 0.25
    proteinuria = np.where(present[cm._PROTEINURIA], rng.uniform(0.51, 8.0, n), 0.2)
    new = present & (rng.random((N_DESCRIPTORS, n)) < 0.4)
    latent = rng.normal(0.0, 1.5, (9, n)).astype(np.float32)
    rater = rng.normal(0.0, 0.3, n)
    e_visit = rng.normal(0.0, 1.0, n)
    newly_any = rng.random(n) < 0.2
    params = cm.default_parameters()
    visit_sd = 0.2
    counts = (present.T.astype(np.float32) @ cm._BILAG_SOURCE_MATRIX).T.copy()
    clinical = present.T.astype(np.float32) @ cm._CLINICAL_WEIGHTS

    want_grades, _ = cm.bilag_active_grades(
        present.T, new.T, latent.T, proteinuria, params, counts.T
    )
    want_pga = cm.pga_from_state(present.T, want_grades, rater, e_visit, params, visit_sd, clinical)
    want_pga = np.minimum(want_pga + PGA_PER_NEW_ORGAN * newly_any, 3.0).round(2)

    base = (params["pga_intercept"] + rater) + visit_sd * e_visit
    above, pga = _grade_and_rate(
        present,
        new,
        latent,
        proteinuria,
        counts,
        _grade_thresholds(params),
        base,
        clinical,
        newly_any,
    )
    assert above.shape == (2, 9, n)
    grades = 2 - above[1].view(np.int8) - above[0].view(np.int8)
    # A is above both thresholds: never above A alone.
    assert not (above[0] & ~above[1]).any()
    assert grades.shape == (9, n)
    # The first item's severity moves into the thresholds: a latent within
    # float32 rounding of a threshold may grade differently, nothing else.
    thr_a = params["bilag_tau_a"] + cm.BILAG_A_OFFSET
    thr_b = np.minimum(params["bilag_tau_b"] + cm.BILAG_B_OFFSET, thr_a)
    sev = latent + cm.BILAG_EXTRA_ITEM * (counts - 1)
    tie = (np.abs(sev - thr_a[:, None]) < 1e-5) | (np.abs(sev - thr_b[:, None]) < 1e-5)
    assert tie.sum() < 5
    np.testing.assert_array_equal(grades[~tie], want_grades.T[~tie])
    # Every grade A to C appears, renal included.
    assert set(np.unique(grades)) == {0, 1, 2}
    assert set(np.unique(grades[cm._RENAL_BILAG])) == {0, 1, 2}
    # One rounding instead of two: at most one hundredth apart, almost always equal.
    assert np.abs(pga - want_pga).max() <= 0.01 + 1e-9
    assert (pga == want_pga).mean() > 0.99
    assert pga.dtype == np.float64
    assert pga.min() >= 0.0
    assert pga.max() <= 3.0


def test_float32_expit_matches_scipy() -> None:
    x = np.linspace(-120.0, 120.0, 200_001)
    got = _expit32(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, special.expit(x), atol=2e-7, rtol=0)
    assert got[0] < 1e-30  # clipped at -80: no overflow
    assert got[-1] == 1.0
