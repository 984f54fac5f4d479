"""Catchment mode against its oracles: the counts are Poisson with the stated
rates, the demographics follow the spec, cumulative organ involvement matches the
Euro-Lupus cohort after conditioning on classification, and nephropathy follows
the published gradients.

Most checks use one catchment of 50 million inhabitants (fixed seed, about
23,500 patients). A proportion p is compared with its target with a tolerance
of max(2 percentage points, 4 Monte Carlo SE), SE = sqrt(p (1 - p) / n); a group
difference must exceed 3 SE of the difference. A correct generator fails a
4-SE check with probability about 6e-5 per check.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lupsim.activity import classification as cls
from lupsim.cohort import Catchment, CatchmentSpec, generate_catchment
from lupsim.cohort.catchment import AGE_MAX, EURO_LUPUS_GROUPS
from lupsim.cohort.columns import PatientView
from lupsim.cohort.vocabulary import RACE_GROUPS

pytestmark = pytest.mark.statistical

_M = {m: i for i, m in enumerate(cls.MANIFESTATIONS)}
_NEPHROPATHY = [_M[m] for m in EURO_LUPUS_GROUPS["nephropathy"][1]]


@pytest.fixture(scope="module")
def big() -> Catchment:
    return generate_catchment(CatchmentSpec(inhabitants=50_000_000), seed=2024)


def _se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


def _diff_in_se(a: np.ndarray, b: np.ndarray) -> float:
    pa, pb = a.mean(), b.mean()
    return float((pa - pb) / np.sqrt(pa * (1 - pa) / a.size + pb * (1 - pb) / b.size))


def test_the_big_catchment_is_big(big: Catchment) -> None:
    """Expected 23,500 patients, Poisson SD 153: within 5 SD."""
    assert abs(big.n_prevalent - 23_500) < 5 * np.sqrt(23_500)


def test_every_patient_meets_acr1997_or_slicc2012(big: Catchment) -> None:
    m = big.cohort.patients.manifestations
    assert (cls.meets_acr1997(m) | cls.meets_slicc2012(m)).all()


def test_female_share(big: Catchment) -> None:
    """86-92% women (reference: about 9 women for 1 man; France 2010 88%), and
    within 4 SE (about 0.9 point) of the share the sex ratios by age at onset imply
    (86.8%)."""
    female = big.cohort.patients.female.mean()
    assert 0.86 <= female <= 0.92
    expected = big.spec.expected_female_pct() / 100
    assert abs(female - expected) < 4 * _se(expected, big.n_prevalent)


@pytest.mark.parametrize("manifestation", ["arthritis", "acute_cutaneous", "nephropathy"])
def test_key_cumulative_frequencies_match_euro_lupus(big: Catchment, manifestation: str) -> None:
    """84% arthritis, 58% malar rash, 39% nephropathy (Cervera 1993), within
    max(2 points, 4 SE); SE is about 0.3 point here, so the tolerance is 2 points."""
    f = big.cumulative_frequencies()
    k = f["manifestation"].tolist().index(manifestation)
    target = f["euro_lupus_pct"].to_numpy(dtype=float)[k] / 100
    got = f["generated_pct"].to_numpy(dtype=float)[k] / 100
    assert abs(got - target) <= max(0.02, 4 * _se(target, big.n_prevalent))


def test_every_cumulative_frequency_matches_euro_lupus(big: Catchment) -> None:
    """All 30 manifestations and the two groups, within max(2 points, 4 SE)."""
    f = big.cumulative_frequencies()
    n = big.n_prevalent
    for _, row in f.iterrows():
        target = row["euro_lupus_pct"] / 100
        got = row["generated_pct"] / 100
        assert abs(got - target) <= max(0.02, 4 * _se(target, n)), row["manifestation"]


def test_prevalent_count_is_poisson() -> None:
    """200 catchments of 100,000: the mean count is 47 within 4 SE (SE = sqrt(47/200)
    = 0.48), the variance equals the mean (200 - 1) s^2 / 47 inside the central
    99.99% of chi-square(199); the same for the incident count (mean 3.32)."""
    spec = CatchmentSpec(inhabitants=100_000)
    runs = [generate_catchment(spec, seed=s) for s in range(200)]
    for counts, lam in (
        (np.array([c.n_prevalent for c in runs]), 47.0),
        (np.array([c.n_incident_per_year for c in runs]), 3.32),
    ):
        assert abs(counts.mean() - lam) < 4 * np.sqrt(lam / counts.size)
        dispersion = (counts.size - 1) * counts.var(ddof=1) / lam
        lo, hi = stats.chi2.ppf([5e-5, 1 - 5e-5], counts.size - 1)
        assert lo < dispersion < hi
    assert all(c.cohort.n == c.n_prevalent for c in runs)


def test_nephropathy_gradients(big: Catchment) -> None:
    """Nephropathy is more frequent with onset before 30 than from 50, in Black
    than White patients, and in men than women: each difference > 3 SE."""
    p = big.cohort.patients
    neph = np.asarray(p.manifestations[:, _NEPHROPATHY].any(axis=1))
    onset = big.onset_age()
    assert _diff_in_se(neph[onset < 30], neph[onset >= 50]) > 3
    black, white = RACE_GROUPS.index("black"), RACE_GROUPS.index("white")
    assert _diff_in_se(neph[p.race == black], neph[p.race == white]) > 3
    assert _diff_in_se(neph[~p.female], neph[p.female]) > 3
    asian = RACE_GROUPS.index("asian")
    assert _diff_in_se(neph[p.race == asian], neph[p.race == white]) > 3


def test_age_at_onset_and_current_age(big: Catchment) -> None:
    """Onset mean 36 and SD 15 within 4 SE (SE of the mean 15/sqrt(n) = 0.1 year,
    of the SD about 15/sqrt(2n) = 0.07; rounding of age and duration adds < 0.06);
    10-20% diagnosed before 18 (reference section 1); current age above onset age
    by the mean duration."""
    onset = big.onset_age()
    n = onset.size
    assert abs(onset.mean() - 36.0) < 4 * 15.0 / np.sqrt(n) + 0.06
    assert abs(onset.std(ddof=1) - 15.0) < 4 * 15.0 / np.sqrt(2 * n) + 0.06
    assert 0.10 <= np.mean(onset < 18) <= 0.20
    age = big.cohort.patients.age
    assert age.mean() > onset.mean() + 5
    assert age.max() <= AGE_MAX


def test_disease_duration_is_truncated_exponential(big: Catchment) -> None:
    """Duration given onset is exponential with mean 47/3.32 = 14.2 years truncated
    at 95 - onset; its mean matches the average of the truncated conditional means
    within 4 SE (SE from the sample SD)."""
    p = big.cohort.patients
    onset = big.onset_age()
    m = big.spec.mean_duration_years
    top = AGE_MAX - onset
    conditional_mean = m - top * np.exp(-top / m) / -np.expm1(-top / m)
    d = p.disease_duration
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert abs(d.mean() - conditional_mean.mean()) < 4 * se
    # Memoryless: half the patients have had lupus for less than m log 2 years.
    assert abs(np.median(d) - m * np.log(2)) < 1.0


def test_race_mix_follows_the_spec(big: Catchment) -> None:
    """Each race share within 4 SE of the inhabitants' mix x relative prevalence."""
    race = big.cohort.patients.race
    for k, g in enumerate(RACE_GROUPS):
        expected = big.spec.patient_race_pct()[g] / 100
        assert abs(np.mean(race == k) - expected) < 4 * _se(expected, race.size) + 1e-9, g


def test_current_activity_is_low(big: Catchment) -> None:
    """The lupsim-assumption aims of CATCHMENT_PARAMETER_SHIFTS: mean SLEDAI-2K
    3.5-4.5 with 38-48% at 0-2; anti-dsDNA positive 35-45%; low C3 and low C4
    14-24%; hydroxychloroquine 82-88%; prednisone 40-56%. The bands are the aims'
    own width, far wider than the Monte Carlo error (< 0.7 point)."""
    v = PatientView(big.cohort.patients)
    sledai = v["sledai_2k"]
    assert 3.5 <= sledai.mean() <= 4.5
    assert 0.38 <= np.mean(sledai <= 2) <= 0.48
    assert 0.35 <= v["anti_dsdna_positive"].mean() <= 0.45
    assert 0.14 <= v["low_c3"].mean() <= 0.24
    assert 0.14 <= v["low_c4"].mean() <= 0.24
    assert 0.82 <= v["antimalarial"].mean() <= 0.88
    assert 0.40 <= v["on_prednisone"].mean() <= 0.56
    # Far less active than trial candidates: few severe (BILAG A) patients.
    assert v["bilag_any_a"].mean() < 0.08


def test_more_black_inhabitants_more_nephropathy() -> None:
    """The fit is made on the default mix; a catchment where half the inhabitants
    are Black has more nephropathy than the default (difference > 3 SE)."""
    mixed = CatchmentSpec(inhabitants=20_000_000, inhabitant_race_pct={"white": 50, "black": 50})
    default = CatchmentSpec(inhabitants=20_000_000)
    a = generate_catchment(mixed, seed=8).cohort.patients.manifestations[:, _NEPHROPATHY]
    b = generate_catchment(default, seed=9).cohort.patients.manifestations[:, _NEPHROPATHY]
    assert _diff_in_se(np.asarray(a.any(axis=1)), np.asarray(b.any(axis=1))) > 3
