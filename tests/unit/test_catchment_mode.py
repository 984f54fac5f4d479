"""Catchment mode, unit level: the spec validates every field and reports every
problem at once; generation is reproducible, vectorised, keeps every patient
classified and keeps current activity inside each patient's history."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lupsim.activity import classification as cls
from lupsim.activity.sledai import DESCRIPTOR_CODES, ORGAN_DOMAINS
from lupsim.cohort import Catchment, CatchmentSpec, Cohort, generate_catchment, model
from lupsim.cohort import catchment as catchment_module
from lupsim.cohort.catchment import (
    AGE_MAX,
    EURO_LUPUS_GROUPS,
    ONSET_AGE_MIN,
    _item_probabilities,
    catchment_parameters,
    history_fit,
)
from lupsim.cohort.vocabulary import RACE_GROUPS
from lupsim.errors import ScenarioError

_M = {m: i for i, m in enumerate(cls.MANIFESTATIONS)}
_NEPHROPATHY = [_M[m] for m in EURO_LUPUS_GROUPS["nephropathy"][1]]


def problems_of(data: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ScenarioError) as info:
        CatchmentSpec.from_mapping(data)
    return info.value.problems


@pytest.fixture(scope="module")
def town() -> Catchment:
    """A catchment of 2 million inhabitants (about 940 patients)."""
    return generate_catchment(CatchmentSpec(inhabitants=2_000_000), seed=11)


# --- the spec -----------------------------------------------------------------


def test_defaults_are_the_published_figures() -> None:
    spec = CatchmentSpec(inhabitants=100_000)
    assert spec.prevalence_per_100k == 47.0
    assert spec.incidence_per_100k_year == 3.32
    assert (spec.onset_age_mean, spec.onset_age_sd) == (36.0, 15.0)
    assert (spec.sex_ratio_child, spec.sex_ratio_adult, spec.sex_ratio_older) == (1.0, 11.5, 3.5)
    assert spec.expected_prevalent == pytest.approx(47.0)
    assert spec.expected_incident_per_year == pytest.approx(3.32)
    assert spec.mean_duration_years == pytest.approx(47.0 / 3.32)
    assert spec.relative_prevalence()["black"] == 2.5


def test_patient_race_mix_weights_inhabitants_by_relative_prevalence() -> None:
    spec = CatchmentSpec(inhabitants=1)
    mix = spec.patient_race_pct()
    assert sum(mix.values()) == pytest.approx(100.0)
    # Black residents are 5% of inhabitants but 2.5 times as often ill.
    assert mix["black"] > spec.inhabitant_race_pct["black"] * 2
    inhabitants = CatchmentSpec(
        inhabitants=1,
        inhabitant_race_pct={"white": 50, "black": 50},
        relative_prevalence_by_race={"black": 3.0},
    )
    assert inhabitants.patient_race_pct()["black"] == pytest.approx(75.0)
    assert inhabitants.relative_prevalence()["asian"] == 1.5  # default kept


def test_stated_patient_race_mix_is_used_as_is() -> None:
    spec = CatchmentSpec(inhabitants=1, race_pct={"asian": 60, "white": 40})
    assert spec.patient_race_pct()["asian"] == pytest.approx(60.0)
    assert spec.patient_race_pct()["black"] == 0.0


def test_bad_spec_lists_every_problem() -> None:
    problems = problems_of({"inhabitants": 0, "prevalence_per_100k": -3, "colour": "blue"})
    assert len(problems) == 3, problems
    text = "\n".join(problems)
    assert "catchment.inhabitants: must be >= 1, got 0" in text
    assert "catchment.prevalence_per_100k: must be > 0, got -3" in text
    assert "unknown key 'colour'" in text


def test_generate_catchment_validates_a_mapping() -> None:
    with pytest.raises(ScenarioError) as info:
        generate_catchment({"inhabitants": 0, "incidence_per_100k_year": 0}, seed=1)
    assert len(info.value.problems) == 2
    with pytest.raises(ScenarioError, match="inhabitants: is required"):
        generate_catchment({}, seed=1)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"sex_ratio_adult": 0}, "catchment.sex_ratio_adult: must be > 0, got 0"),
        ({"onset_age_sd": 0.5}, "catchment.onset_age_sd: must be >= 1"),
        ({"race_pct": {"white": 50, "black": 20}}, "race_pct: shares must sum to 100"),
        ({"race_pct": {"purple": 100}}, "unknown key 'purple'"),
        ({"relative_prevalence_by_race": {"black": -1}}, "must be > 0, got -1"),
        ({"region": "mars"}, "catchment.region"),
        ({"inhabitants": 1.5}, "catchment.inhabitants"),
        ({"onset_age_mean": 6, "onset_age_sd": 30}, "cannot have mean 6 and SD 30"),
        ({"onset_age_mean": 50, "onset_age_sd": 30}, "cannot have mean 50 and SD 30"),
        (
            {"race_pct": {"white": 100}, "inhabitant_race_pct": {"white": 100}},
            "not both",
        ),
    ],
)
def test_each_rule_names_field_and_value(data: dict[str, Any], needle: str) -> None:
    problems = problems_of({"inhabitants": 1000, **data})
    assert any(needle in p for p in problems), problems


def test_spec_is_frozen() -> None:
    spec = CatchmentSpec(inhabitants=10)
    with pytest.raises(ValueError, match="frozen"):
        spec.inhabitants = 20  # type: ignore[misc]


@pytest.mark.parametrize("seed", [-1, 1.5, True, "1"])
def test_bad_seed_is_rejected(seed: Any) -> None:
    with pytest.raises(ScenarioError, match="seed"):
        generate_catchment(CatchmentSpec(inhabitants=10), seed=seed)


# --- the history model ----------------------------------------------------------


def test_item_probabilities_solve_the_forced_item_equation() -> None:
    q = np.array([0.9, 0.4, 0.2, 0.45])
    p = _item_probabilities(q)
    w = q / q.sum()
    np.testing.assert_allclose(p + np.prod(1 - p) * w, q, atol=1e-12)


def test_history_fit_matches_euro_lupus_after_conditioning() -> None:
    fit = history_fit()
    assert fit.max_error < 0.001
    assert history_fit() is fit  # cached
    # Conditioning on classification raises frequencies, so the fitted
    # pre-conditioning rates are below the targets.
    for unit in ("arthritis", "acute_cutaneous", "nephropathy", "anti_dsdna"):
        assert fit.logits[unit] < np.log(fit.targets[unit] / (1 - fit.targets[unit]))


# --- generation -------------------------------------------------------------------


def test_same_seed_gives_the_same_catchment() -> None:
    spec = CatchmentSpec(inhabitants=300_000)
    a = generate_catchment(spec, seed=3)
    b = generate_catchment(spec, seed=3)
    assert (a.n_prevalent, a.n_incident_per_year) == (b.n_prevalent, b.n_incident_per_year)
    pd.testing.assert_frame_equal(a.cohort.to_frame(), b.cohort.to_frame())
    c = generate_catchment(spec, seed=4)
    assert not a.cohort.to_frame().equals(c.cohort.to_frame())


def test_catchment_is_a_cohort(town: Catchment) -> None:
    cohort = town.cohort
    assert isinstance(cohort, Cohort)
    assert cohort.n == town.n_prevalent == cohort.n_screened
    assert cohort.eligibility is None
    assert cohort.population.name == "catchment"
    assert cohort.parameters == catchment_parameters()
    assert len(cohort.to_frame()) == town.n_prevalent
    table = cohort.table1().set_index("variable")
    assert table.loc["region_western_europe_pct", "value"] == 100.0


def test_every_patient_is_classified(town: Catchment) -> None:
    m = town.cohort.patients.manifestations
    assert (cls.meets_acr1997(m) | cls.meets_slicc2012(m)).all()


def test_ages_and_durations_are_coherent(town: Catchment) -> None:
    p = town.cohort.patients
    onset = town.onset_age()
    assert onset.min() >= ONSET_AGE_MIN - 0.06  # age and duration are rounded
    assert p.age.max() <= AGE_MAX
    assert (p.disease_duration >= 0).all()
    # Children weigh less than adults.
    assert p.weight_kg[p.age < 12].max() < np.median(p.weight_kg[p.age >= 18])


def test_current_activity_stays_inside_the_history(town: Catchment) -> None:
    """No current item, renal activity or positive test without its history."""
    p = town.cohort.patients
    ever = p.manifestations
    for descriptor, manifestation in model._CURRENT_IMPLIES.items():
        now = p.present[:, DESCRIPTOR_CODES.index(descriptor)]
        assert not (now & ~ever[:, _M[manifestation]]).any(), descriptor
    renal_now = p.present[:, list(ORGAN_DOMAINS["renal"])].any(axis=1)
    assert not (renal_now & ~ever[:, _M["proteinuria"]]).any()
    # A renal BILAG grade other than E (never involved) needs a nephropathy history.
    renal_grade = p.bilag[:, 7]
    assert not ((renal_grade != 4) & ~ever[:, _NEPHROPATHY].any(axis=1)).any()
    assert not ((p.anti_dsdna_iu >= 30) & ~ever[:, _M["anti_dsdna"]]).any()
    assert not ((p.c3 < 90) & ~ever[:, _M["low_c3"]]).any()
    assert not ((p.c4 < 16) & ~ever[:, _M["low_c4"]]).any()
    assert not ((p.ana_titre >= 80) & ~ever[:, _M["ana"]]).any()


def test_history_is_unioned_with_current_activity(town: Catchment) -> None:
    p = town.cohort.patients
    union = model.history(
        p.present, p.ana_titre, p.anti_dsdna_iu, p.c3, p.c4, p.manifestations, p.proteinuria_g
    )
    np.testing.assert_array_equal(union, p.manifestations)


def test_cumulative_frequencies_table(town: Catchment) -> None:
    f = town.cumulative_frequencies()
    assert list(f.columns) == ["manifestation", "generated_pct", "euro_lupus_pct"]
    rows = f["manifestation"].tolist()
    assert set(cls.MANIFESTATIONS) | {"nephropathy", "serositis"} == set(rows)
    assert rows.index("nephropathy") == rows.index("proteinuria") - 1
    neph = f.set_index("manifestation").loc["nephropathy"]
    assert neph["euro_lupus_pct"] == 39.0
    assert 0 < neph["generated_pct"] < 100


def test_summary_names_counts_and_manifestations(town: Catchment) -> None:
    text = town.summary()
    assert "2,000,000 inhabitants" in text
    assert f"{town.n_prevalent:,}" in text
    assert "nephropathy" in text
    assert "SLEDAI-2K" in text


def test_empty_catchment() -> None:
    # 100 inhabitants: 0.047 expected patients, so most seeds give none.
    seed = next(
        s
        for s in range(50)
        if generate_catchment(CatchmentSpec(inhabitants=100), s).n_prevalent == 0
    )
    c = generate_catchment(CatchmentSpec(inhabitants=100), seed)
    assert c.cohort.n == 0
    assert c.cohort.to_frame().shape[0] == 0
    assert c.cumulative_frequencies()["generated_pct"].isna().all()
    assert "no prevalent patient" in c.summary()


def test_sex_ratio_moves_the_female_share() -> None:
    all_women = CatchmentSpec(
        inhabitants=1_000_000, sex_ratio_child=100, sex_ratio_adult=100, sex_ratio_older=100
    )
    c = generate_catchment(all_women, seed=1)
    assert c.cohort.patients.female.mean() > 0.95
    even = CatchmentSpec(
        inhabitants=1_000_000, sex_ratio_child=1, sex_ratio_adult=1, sex_ratio_older=1
    )
    assert 0.35 < generate_catchment(even, seed=1).cohort.patients.female.mean() < 0.65


# --- properties over random small specs -------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    inhabitants=st.integers(1_000, 500_000),
    prevalence=st.floats(5.0, 500.0),
    incidence=st.floats(0.5, 30.0),
    onset_mean=st.floats(25.0, 50.0),
    onset_sd=st.floats(5.0, 16.0),
    ratio_adult=st.floats(0.5, 20.0),
    black=st.floats(0.0, 100.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_patient_is_classified_in_any_catchment(
    inhabitants: int,
    prevalence: float,
    incidence: float,
    onset_mean: float,
    onset_sd: float,
    ratio_adult: float,
    black: float,
    seed: int,
) -> None:
    spec = CatchmentSpec(
        inhabitants=inhabitants,
        prevalence_per_100k=prevalence,
        incidence_per_100k_year=incidence,
        onset_age_mean=onset_mean,
        onset_age_sd=onset_sd,
        sex_ratio_adult=ratio_adult,
        inhabitant_race_pct={"white": 100.0 - black, "black": black},
    )
    c = generate_catchment(spec, seed=seed)
    p = c.cohort.patients
    assert p.n == c.n_prevalent
    m = p.manifestations
    assert (cls.meets_acr1997(m) | cls.meets_slicc2012(m)).all()
    assert (p.age <= AGE_MAX).all()
    assert (p.age >= p.disease_duration).all()
    if black == 0.0:
        assert not (p.race == RACE_GROUPS.index("black")).any()


def test_module_exports_what_it_documents() -> None:
    for name in catchment_module.__all__:
        assert hasattr(catchment_module, name)
