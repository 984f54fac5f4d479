"""Same seed, same cohort; the seed, not the batch size, decides the patients."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from lupsim.cohort import Population, generate_cohort

POP = Population(female_pct=90.0, sledai_mean=8.0)


def test_same_seed_same_cohort() -> None:
    a = generate_cohort(POP, 700, seed=3).to_frame()
    b = generate_cohort(POP, 700, seed=3).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_different_seeds_differ() -> None:
    a = generate_cohort(POP, 300, seed=3).to_frame()
    b = generate_cohort(POP, 300, seed=4).to_frame()
    assert not a["age"].equals(b["age"])


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 2500), m=st.integers(1, 2500))
def test_a_smaller_cohort_is_a_prefix_of_a_larger_one(n: int, m: int) -> None:
    small, large = sorted((n, m))
    a = generate_cohort(POP, small, seed=9).to_frame()
    b = generate_cohort(POP, large, seed=9).to_frame().iloc[:small]
    pd.testing.assert_frame_equal(a, b)


def test_screened_cohort_is_reproducible(bliss52) -> None:  # type: ignore[no-untyped-def]
    a = generate_cohort(bliss52.population, 400, seed=1, eligibility=bliss52.eligibility)
    b = generate_cohort(bliss52.population, 400, seed=1, eligibility=bliss52.eligibility)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    assert a.n_screened == b.n_screened
    assert a.screen_failures == b.screen_failures
