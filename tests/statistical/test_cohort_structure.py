"""The generated patients show the correlations of real SLE cohorts.

Each check compares two groups of a large unscreened cohort and asks for a
difference of at least 4 Monte Carlo standard errors in the direction the
literature reports (sources in lupsim/cohort/model.py).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lupsim.cohort import Population, generate_cohort

pytestmark = pytest.mark.statistical


@pytest.fixture(scope="module")
def df():  # type: ignore[no-untyped-def]
    return generate_cohort(Population(), 40_000, seed=5).to_frame()


def _diff_in_se(a: np.ndarray, b: np.ndarray) -> float:
    pa, pb = a.mean(), b.mean()
    se = np.sqrt(pa * (1 - pa) / a.size + pb * (1 - pb) / b.size)
    return float((pa - pb) / se)


def test_anti_dsdna_goes_with_low_complement(df) -> None:  # type: ignore[no-untyped-def]
    low = (df["low_c3"] | df["low_c4"]).to_numpy()
    pos = df["anti_dsdna_positive"].to_numpy()
    assert _diff_in_se(low[pos], low[~pos]) > 4
    assert stats.spearmanr(df["anti_dsdna_iu"], df["c3"]).statistic < -0.2


def test_anti_dsdna_goes_with_renal_activity(df) -> None:  # type: ignore[no-untyped-def]
    renal = df[["urinary_casts", "haematuria", "proteinuria", "pyuria"]].any(axis=1).to_numpy()
    pos = df["anti_dsdna_positive"].to_numpy()
    assert _diff_in_se(renal[pos], renal[~pos]) > 4


def test_prednisone_dose_rises_with_activity(df) -> None:  # type: ignore[no-untyped-def]
    assert stats.spearmanr(df["prednisone_mg"], df["sledai_2k"]).statistic > 0.15


def test_nephritis_more_frequent_in_young_black_and_asian_patients(df) -> None:  # type: ignore[no-untyped-def]
    renal = df[["urinary_casts", "haematuria", "proteinuria", "pyuria"]].any(axis=1).to_numpy()
    race = df["race"].to_numpy()
    white = renal[race == "white"]
    assert _diff_in_se(renal[race == "black"], white) > 4
    assert _diff_in_se(renal[race == "asian"], white) > 4
    age = df["age"].to_numpy()
    assert _diff_in_se(renal[age < 30], renal[age >= 50]) > 4
    male = ~df["female"].to_numpy()
    assert _diff_in_se(renal[male], renal[~male]) > 2.5


def test_default_population_is_mostly_women_of_childbearing_age(df) -> None:  # type: ignore[no-untyped-def]
    female = df["female"].mean()
    assert 0.86 <= female <= 0.93
    assert 30 <= df["age"].mean() <= 45


def test_every_patient_meets_a_classification(df) -> None:  # type: ignore[no-untyped-def]
    assert (df["acr1997"] | df["slicc2012"]).all()
