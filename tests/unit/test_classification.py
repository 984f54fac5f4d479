"""Tests of the ACR 1997, SLICC 2012 and EULAR/ACR 2019 classification criteria.

The expected values are hand-computed from the papers, and the property tests
compare the module with :func:`_oracle`, a plain-Python transcription of the
three rule sets written independently of the module's rule tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lupsim.activity.classification import (
    CLINICAL_MANIFESTATIONS,
    EULAR_ACR2019_DOMAINS,
    EULAR_ACR2019_MAX,
    IMMUNOLOGICAL_MANIFESTATIONS,
    MANIFESTATION_LABELS,
    MANIFESTATIONS,
    Classification,
    acr1997_count,
    classify,
    eular_acr2019_domain_points,
    eular_acr2019_points,
    meets_acr1997,
    meets_eular_acr2019,
    meets_slicc2012,
    slicc2012_counts,
)
from lupsim.errors import InstrumentError

# ---------------------------------------------------------------------------
# Independent oracle, straight from the criteria
# ---------------------------------------------------------------------------


def _any(s: frozenset[str], *codes: str) -> bool:
    return any(c in s for c in codes)


def _oracle(codes: Iterable[str]) -> dict[str, int | bool | dict[str, int]]:
    s = frozenset(codes)
    acr = [
        _any(s, "acute_cutaneous"),
        _any(s, "discoid"),
        _any(s, "photosensitivity"),
        _any(s, "oral_ulcers"),
        _any(s, "arthritis"),
        _any(s, "pleuritis", "pericarditis", "serosal_effusion"),
        _any(s, "proteinuria", "cellular_casts"),
        _any(s, "seizure", "psychosis"),
        _any(s, "haemolytic_anaemia", "leukopenia", "lymphopenia", "thrombocytopenia"),
        _any(s, "anti_dsdna", "anti_sm", "antiphospholipid"),
        _any(s, "ana"),
    ]
    slicc_clinical = [
        _any(s, "acute_cutaneous", "subacute_cutaneous"),
        _any(s, "discoid"),
        _any(s, "oral_ulcers"),
        _any(s, "alopecia"),
        _any(s, "arthritis"),
        _any(s, "pleuritis", "pericarditis", "serosal_effusion"),
        _any(s, "proteinuria", "cellular_casts"),
        _any(s, "seizure", "psychosis", "neuropathy", "delirium"),
        _any(s, "haemolytic_anaemia"),
        _any(s, "leukopenia", "lymphopenia"),
        _any(s, "thrombocytopenia"),
    ]
    slicc_immunological = [
        _any(s, "ana"),
        _any(s, "anti_dsdna"),
        _any(s, "anti_sm"),
        _any(s, "antiphospholipid"),
        _any(s, "low_c3", "low_c4"),
        "direct_coombs" in s and "haemolytic_anaemia" not in s,
    ]
    clin, imm = sum(slicc_clinical), sum(slicc_immunological)
    slicc = (clin + imm >= 4 and clin >= 1 and imm >= 1) or (
        _any(s, "nephritis_class_2_5", "nephritis_class_3_4") and _any(s, "ana", "anti_dsdna")
    )

    def top(*items: tuple[int, bool]) -> int:
        return max((w for w, present in items if present), default=0)

    domains = {
        "constitutional": top((2, "fever" in s)),
        "haematologic": top(
            (3, "leukopenia" in s), (4, "thrombocytopenia" in s), (4, "haemolytic_anaemia" in s)
        ),
        "neuropsychiatric": top((2, "delirium" in s), (3, "psychosis" in s), (5, "seizure" in s)),
        "mucocutaneous": top(
            (2, "alopecia" in s),
            (2, "oral_ulcers" in s),
            (4, _any(s, "subacute_cutaneous", "discoid")),
            (6, "acute_cutaneous" in s),
        ),
        "serosal": top((5, "serosal_effusion" in s), (6, "pericarditis" in s)),
        "musculoskeletal": top((6, "arthritis" in s)),
        "renal": top(
            (4, "proteinuria" in s),
            (8, "nephritis_class_2_5" in s),
            (10, "nephritis_class_3_4" in s),
        ),
        "antiphospholipid": top((2, "antiphospholipid" in s)),
        "complement": top((3, _any(s, "low_c3", "low_c4")), (4, {"low_c3", "low_c4"} <= s)),
        "sle_specific_antibodies": top((6, _any(s, "anti_dsdna", "anti_sm"))),
    }
    if "ana" not in s:
        domains = dict.fromkeys(domains, 0)
    clinical_domains = list(domains)[:7]
    points = sum(domains.values())
    return {
        "acr1997_count": sum(acr),
        "acr1997": sum(acr) >= 4,
        "slicc2012_clinical": clin,
        "slicc2012_immunological": imm,
        "slicc2012": slicc,
        "eular_acr2019_points": points,
        "eular_acr2019": points >= 10 and any(domains[d] > 0 for d in clinical_domains),
        "domains": domains,
    }


def _as_dict(c: Classification) -> dict[str, int | bool]:
    return dataclasses.asdict(c)


def _expected(codes: Iterable[str]) -> dict[str, int | bool]:
    out = _oracle(codes)
    del out["domains"]
    return out  # type: ignore[return-value]


def _matrix(patients: list[frozenset[str]]) -> np.ndarray:
    m = np.zeros((len(patients), len(MANIFESTATIONS)), dtype=bool)
    for row, patient in enumerate(patients):
        for code in patient:
            m[row, MANIFESTATIONS.index(code)] = True
    return m


def _vectorised(m: Any) -> dict[str, np.ndarray]:
    clinical, immunological = slicc2012_counts(m)
    return {
        "acr1997_count": acr1997_count(m),
        "acr1997": meets_acr1997(m),
        "slicc2012_clinical": clinical,
        "slicc2012_immunological": immunological,
        "slicc2012": meets_slicc2012(m),
        "eular_acr2019_points": eular_acr2019_points(m),
        "eular_acr2019": meets_eular_acr2019(m),
    }


patients = st.frozensets(st.sampled_from(MANIFESTATIONS))

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------


def test_manifestations_in_documented_order() -> None:
    assert MANIFESTATIONS == (
        "acute_cutaneous",
        "subacute_cutaneous",
        "discoid",
        "photosensitivity",
        "oral_ulcers",
        "alopecia",
        "arthritis",
        "pleuritis",
        "pericarditis",
        "serosal_effusion",
        "proteinuria",
        "cellular_casts",
        "nephritis_class_2_5",
        "nephritis_class_3_4",
        "seizure",
        "psychosis",
        "delirium",
        "neuropathy",
        "haemolytic_anaemia",
        "leukopenia",
        "lymphopenia",
        "thrombocytopenia",
        "fever",
        "ana",
        "anti_dsdna",
        "anti_sm",
        "antiphospholipid",
        "low_c3",
        "low_c4",
        "direct_coombs",
    )
    assert CLINICAL_MANIFESTATIONS + IMMUNOLOGICAL_MANIFESTATIONS == MANIFESTATIONS
    assert CLINICAL_MANIFESTATIONS[-1] == "fever"
    assert IMMUNOLOGICAL_MANIFESTATIONS[0] == "ana"
    assert set(MANIFESTATION_LABELS) == set(MANIFESTATIONS)
    assert all(MANIFESTATION_LABELS.values())


# ---------------------------------------------------------------------------
# One manifestation at a time: every rule of every set, hand-computed
# ---------------------------------------------------------------------------

# code: (ACR count alone, SLICC clinical alone, SLICC immunological alone,
#        EULAR points together with the entry criterion ANA)
SINGLE = {
    "acute_cutaneous": (1, 1, 0, 6),
    "subacute_cutaneous": (0, 1, 0, 4),
    "discoid": (1, 1, 0, 4),
    "photosensitivity": (1, 0, 0, 0),
    "oral_ulcers": (1, 1, 0, 2),
    "alopecia": (0, 1, 0, 2),
    "arthritis": (1, 1, 0, 6),
    "pleuritis": (1, 1, 0, 0),
    "pericarditis": (1, 1, 0, 6),
    "serosal_effusion": (1, 1, 0, 5),
    "proteinuria": (1, 1, 0, 4),
    "cellular_casts": (1, 1, 0, 0),
    "nephritis_class_2_5": (0, 0, 0, 8),
    "nephritis_class_3_4": (0, 0, 0, 10),
    "seizure": (1, 1, 0, 5),
    "psychosis": (1, 1, 0, 3),
    "delirium": (0, 1, 0, 2),
    "neuropathy": (0, 1, 0, 0),
    "haemolytic_anaemia": (1, 1, 0, 4),
    "leukopenia": (1, 1, 0, 3),
    "lymphopenia": (1, 1, 0, 0),
    "thrombocytopenia": (1, 1, 0, 4),
    "fever": (0, 0, 0, 2),
    "ana": (1, 0, 1, 0),
    "anti_dsdna": (1, 0, 1, 6),
    "anti_sm": (1, 0, 1, 6),
    "antiphospholipid": (1, 0, 1, 2),
    "low_c3": (0, 0, 1, 3),
    "low_c4": (0, 0, 1, 3),
    "direct_coombs": (0, 0, 1, 0),
}


def test_single_table_covers_every_manifestation() -> None:
    assert set(SINGLE) == set(MANIFESTATIONS)


@pytest.mark.parametrize(("code", "expected"), SINGLE.items())
def test_single_manifestation(code: str, expected: tuple[int, int, int, int]) -> None:
    acr, slicc_clin, slicc_imm, eular = expected
    alone = classify({code})
    assert alone.acr1997_count == acr
    assert (alone.slicc2012_clinical, alone.slicc2012_immunological) == (slicc_clin, slicc_imm)
    assert classify({code, "ana"}).eular_acr2019_points == eular
    assert (alone.acr1997, alone.slicc2012, alone.eular_acr2019) == (False, False, False)


# ---------------------------------------------------------------------------
# ACR 1997
# ---------------------------------------------------------------------------


def test_acr_exactly_three_is_not_classified_four_is() -> None:
    three = classify({"arthritis", "oral_ulcers", "ana"})
    assert (three.acr1997_count, three.acr1997) == (3, False)
    four = classify({"arthritis", "oral_ulcers", "ana", "photosensitivity"})
    assert (four.acr1997_count, four.acr1997) == (4, True)


@pytest.mark.parametrize(
    "items",
    [
        ("haemolytic_anaemia", "leukopenia", "lymphopenia", "thrombocytopenia"),
        ("pleuritis", "pericarditis", "serosal_effusion"),
        ("proteinuria", "cellular_casts"),
        ("seizure", "psychosis"),
        ("anti_dsdna", "anti_sm", "antiphospholipid"),
    ],
)
def test_acr_criterion_with_several_items_counts_once(items: tuple[str, ...]) -> None:
    c = classify(items)
    assert c.acr1997_count == 1
    assert not c.acr1997
    # ... so three more criteria are needed, not one
    assert classify({*items, "ana", "arthritis"}).acr1997_count == 3


def test_acr_haematologic_once_and_lymphopenia_counts() -> None:
    assert classify({"lymphopenia", "leukopenia", "ana", "arthritis", "discoid"}).acr1997_count == 4
    assert classify({"lymphopenia", "ana", "arthritis", "discoid"}).acr1997


def test_acr_ignores_items_outside_its_criteria() -> None:
    outside = {
        "subacute_cutaneous",
        "alopecia",
        "delirium",
        "neuropathy",
        "fever",
        "low_c3",
        "low_c4",
        "direct_coombs",
        "nephritis_class_2_5",
        "nephritis_class_3_4",
    }
    assert classify(outside).acr1997_count == 0
    assert classify(set(MANIFESTATIONS)).acr1997_count == 11


# ---------------------------------------------------------------------------
# SLICC 2012
# ---------------------------------------------------------------------------


def test_slicc_four_immunological_only_is_not_classified() -> None:
    c = classify({"ana", "anti_dsdna", "anti_sm", "low_c3", "antiphospholipid"})
    assert (c.slicc2012_clinical, c.slicc2012_immunological) == (0, 5)
    assert not c.slicc2012


def test_slicc_four_clinical_only_is_not_classified() -> None:
    c = classify({"arthritis", "oral_ulcers", "alopecia", "discoid", "thrombocytopenia"})
    assert (c.slicc2012_clinical, c.slicc2012_immunological) == (5, 0)
    assert not c.slicc2012


def test_slicc_needs_four_with_both_kinds() -> None:
    assert classify({"arthritis", "oral_ulcers", "alopecia", "low_c4"}).slicc2012
    assert not classify({"arthritis", "oral_ulcers", "low_c4"}).slicc2012
    assert classify({"arthritis", "ana", "anti_sm", "low_c4"}).slicc2012


def test_slicc_nephritis_biopsy_route() -> None:
    c = classify({"nephritis_class_3_4", "anti_dsdna"})
    assert (c.slicc2012_clinical, c.slicc2012_immunological) == (0, 1)
    assert c.slicc2012
    assert classify({"nephritis_class_2_5", "ana"}).slicc2012
    # biopsy without ANA or anti-dsDNA: other antibodies do not open the route
    assert not classify({"nephritis_class_3_4"}).slicc2012
    assert not classify(
        {"nephritis_class_3_4", "nephritis_class_2_5", "anti_sm", "low_c3", "direct_coombs"}
    ).slicc2012
    # anti-dsDNA without biopsy: not classified
    assert not classify({"anti_dsdna", "proteinuria"}).slicc2012


def test_slicc_direct_coombs_not_counted_with_haemolytic_anaemia() -> None:
    assert classify({"direct_coombs"}).slicc2012_immunological == 1
    both = classify({"direct_coombs", "haemolytic_anaemia"})
    assert (both.slicc2012_clinical, both.slicc2012_immunological) == (1, 0)
    assert classify({"arthritis", "oral_ulcers", "alopecia", "direct_coombs"}).slicc2012
    # haemolytic anaemia replaces the Coombs criterion: no immunological criterion left
    lost = classify({"arthritis", "oral_ulcers", "alopecia", "direct_coombs", "haemolytic_anaemia"})
    assert (lost.slicc2012_clinical, lost.slicc2012_immunological) == (4, 0)
    assert not lost.slicc2012


@pytest.mark.parametrize(
    ("items", "clinical", "immunological"),
    [
        (("acute_cutaneous", "subacute_cutaneous"), 1, 0),
        (("leukopenia", "lymphopenia"), 1, 0),
        (("seizure", "psychosis", "neuropathy", "delirium"), 1, 0),
        (("pleuritis", "pericarditis", "serosal_effusion"), 1, 0),
        (("proteinuria", "cellular_casts"), 1, 0),
        (("low_c3", "low_c4"), 0, 1),
    ],
)
def test_slicc_criterion_with_several_items_counts_once(
    items: tuple[str, ...], clinical: int, immunological: int
) -> None:
    c = classify(items)
    assert (c.slicc2012_clinical, c.slicc2012_immunological) == (clinical, immunological)


def test_slicc_maxima() -> None:
    everything = classify(set(MANIFESTATIONS))
    assert (everything.slicc2012_clinical, everything.slicc2012_immunological) == (11, 5)
    no_haemolysis = classify(set(MANIFESTATIONS) - {"haemolytic_anaemia"})
    assert (no_haemolysis.slicc2012_clinical, no_haemolysis.slicc2012_immunological) == (10, 6)


# ---------------------------------------------------------------------------
# EULAR/ACR 2019
# ---------------------------------------------------------------------------


def test_eular_only_highest_neuropsychiatric_item_counts() -> None:
    codes = {"ana", "seizure", "psychosis", "delirium", "arthritis"}
    c = classify(codes)
    assert c.eular_acr2019_points == 11  # 5 + 6, not 5 + 3 + 2 + 6
    assert c.eular_acr2019
    assert eular_acr2019_domain_points(_matrix([frozenset(codes)]))["neuropsychiatric"][0] == 5


def test_eular_only_highest_mucocutaneous_item_counts() -> None:
    c = classify({"ana", "alopecia", "oral_ulcers", "acute_cutaneous", "arthritis"})
    assert c.eular_acr2019_points == 12  # 6 + 6, not 2 + 2 + 6 + 6 = 16
    assert classify({"ana", "alopecia", "oral_ulcers"}).eular_acr2019_points == 2
    assert classify({"ana", "discoid", "subacute_cutaneous"}).eular_acr2019_points == 4


def test_eular_highest_item_in_other_domains() -> None:
    assert classify({"ana", "leukopenia", "thrombocytopenia"}).eular_acr2019_points == 4
    renal = {"ana", "proteinuria", "nephritis_class_2_5", "nephritis_class_3_4"}
    assert classify(renal).eular_acr2019_points == 10
    serosal = {"ana", "pleuritis", "serosal_effusion", "pericarditis"}
    assert classify(serosal).eular_acr2019_points == 6
    assert classify({"ana", "anti_dsdna", "anti_sm"}).eular_acr2019_points == 6


def test_eular_complement_either_three_both_four() -> None:
    assert classify({"ana", "low_c3"}).eular_acr2019_points == 3
    assert classify({"ana", "low_c4"}).eular_acr2019_points == 3
    assert classify({"ana", "low_c3", "low_c4"}).eular_acr2019_points == 4


def test_eular_entry_criterion_missing() -> None:
    no_ana = set(MANIFESTATIONS) - {"ana"}
    c = classify(no_ana)
    assert c.eular_acr2019_points == 0
    assert not c.eular_acr2019
    assert (c.acr1997, c.slicc2012) == (True, True)  # the other sets do not need ANA
    domains = eular_acr2019_domain_points(_matrix([frozenset(no_ana)]))
    assert all(v.tolist() == [0] for v in domains.values())


def test_eular_immunology_alone_never_classifies() -> None:
    ten = classify({"ana", "anti_dsdna", "low_c3", "low_c4"})  # 6 + 4
    assert ten.eular_acr2019_points == 10
    assert not ten.eular_acr2019
    twelve = classify({"ana", "anti_dsdna", "anti_sm", "low_c3", "low_c4", "antiphospholipid"})
    assert twelve.eular_acr2019_points == 12
    assert not twelve.eular_acr2019
    # one clinical item, however light, completes the classification
    assert classify({"ana", "anti_dsdna", "low_c3", "low_c4", "fever"}).eular_acr2019


def test_eular_pleuritis_scores_nothing() -> None:
    c = classify({"ana", "pleuritis", "anti_dsdna", "low_c3", "low_c4"})
    assert c.eular_acr2019_points == 10
    assert not c.eular_acr2019  # pleuritis is no clinical criterion here


def test_eular_threshold_nine_vs_ten() -> None:
    nine = classify({"ana", "arthritis", "low_c3"})
    assert (nine.eular_acr2019_points, nine.eular_acr2019) == (9, False)
    ten = classify({"ana", "arthritis", "low_c3", "low_c4"})
    assert (ten.eular_acr2019_points, ten.eular_acr2019) == (10, True)


def test_eular_maximum_and_domain_points() -> None:
    assert EULAR_ACR2019_MAX == 51
    everything = _matrix([frozenset(MANIFESTATIONS)])
    assert eular_acr2019_points(everything).tolist() == [51]
    domains = eular_acr2019_domain_points(everything)
    assert {k: int(v[0]) for k, v in domains.items()} == {
        "constitutional": 2,
        "haematologic": 4,
        "neuropsychiatric": 5,
        "mucocutaneous": 6,
        "serosal": 6,
        "musculoskeletal": 6,
        "renal": 10,
        "antiphospholipid": 2,
        "complement": 4,
        "sle_specific_antibodies": 6,
    }
    assert list(domains) == list(EULAR_ACR2019_DOMAINS)


# ---------------------------------------------------------------------------
# Inputs and the hand API
# ---------------------------------------------------------------------------

COHORT = [
    frozenset({"arthritis", "acute_cutaneous", "ana", "anti_dsdna"}),
    frozenset(),
    frozenset({"nephritis_class_3_4", "anti_dsdna"}),
    frozenset({"ana", "anti_dsdna", "low_c3", "low_c4"}),
]


def _check_cohort(result: dict[str, np.ndarray]) -> None:
    for key, values in result.items():
        assert values.shape == (len(COHORT),)
        assert values.tolist() == [_expected(p)[key] for p in COHORT], key


def test_matrix_input() -> None:
    _check_cohort(_vectorised(_matrix(COHORT)))
    _check_cohort(_vectorised(_matrix(COHORT).astype(int)))


def test_mapping_input_missing_codes_are_false() -> None:
    m = _matrix(COHORT)
    present = {code: m[:, i] for i, code in enumerate(MANIFESTATIONS) if m[:, i].any()}
    assert len(present) < len(MANIFESTATIONS)
    _check_cohort(_vectorised(present))
    _check_cohort(_vectorised({k: v.tolist() for k, v in present.items()}))


def test_mapping_scalars_broadcast() -> None:
    result = meets_eular_acr2019({"ana": True, "arthritis": [True, False], "anti_dsdna": True})
    assert result.tolist() == [True, False]
    assert acr1997_count({}).tolist() == [0]


def test_dataframe_input() -> None:
    m = _matrix(COHORT)
    df = pd.DataFrame(m[:, m.any(axis=0)], columns=np.array(MANIFESTATIONS)[m.any(axis=0)])
    _check_cohort(_vectorised(df))
    _check_cohort(_vectorised(df.astype(int)))


def test_dataframe_extra_column_raises() -> None:
    df = pd.DataFrame({"ana": [True], "patient_id": [7]})
    with pytest.raises(InstrumentError, match="patient_id"):
        meets_acr1997(df)


def test_one_patient_vector() -> None:
    row = _matrix([COHORT[0]])[0]
    assert row.shape == (len(MANIFESTATIONS),)
    assert eular_acr2019_points(row).tolist() == [18]
    assert meets_slicc2012(row).tolist() == [True]


def test_empty_cohort() -> None:
    empty = np.zeros((0, len(MANIFESTATIONS)), dtype=bool)
    for values in _vectorised(empty).values():
        assert values.shape == (0,)
    assert all(v.shape == (0,) for v in eular_acr2019_domain_points(empty).values())


@pytest.mark.parametrize(
    "call",
    [
        lambda: classify({"arthritus", "ana"}),
        lambda: acr1997_count({"arthritus": [True]}),
        lambda: meets_eular_acr2019(pd.DataFrame({"arthritus": [True]})),
    ],
)
def test_unknown_code_names_it_and_suggests(call: object) -> None:
    with pytest.raises(InstrumentError, match=r"'arthritus'.*did you mean 'arthritis'"):
        call()  # type: ignore[operator]


def test_instrument_error_is_value_error() -> None:
    with pytest.raises(ValueError, match="lupus_headache"):
        classify(["lupus_headache"])


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.zeros((3, 29), dtype=bool), r"\(3, 29\)"),
        (np.zeros((2, 3, 30), dtype=bool), r"\(2, 3, 30\)"),
        (np.full((1, 30), 2), "0/1"),
        (np.full((1, 30), np.nan), "0/1"),
        ({"ana": [True, False], "arthritis": [True, False, True]}, "different numbers"),
        ({"ana": [[True]]}, "1D"),
        ({"ana": ["yes"]}, "boolean"),
        (["ana", "arthritis"], "classify"),
    ],
)
def test_bad_inputs_raise(bad: object, match: str) -> None:
    with pytest.raises(InstrumentError, match=match):
        meets_slicc2012(bad)  # type: ignore[arg-type]


def test_classify_rejects_a_bare_string() -> None:
    with pytest.raises(InstrumentError, match="'ana'"):
        classify("ana")


def test_classification_is_frozen_with_plain_types() -> None:
    c = classify(["arthritis", "acute_cutaneous", "ana", "anti_dsdna", "ana"])
    assert c == Classification(4, True, 2, 2, True, 18, True)
    for field in dataclasses.fields(c):
        value = getattr(c, field.name)
        assert type(value) in (int, bool), field.name
        assert type(value) is (
            bool if field.name in {"acr1997", "slicc2012", "eular_acr2019"} else int
        )
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.acr1997 = False  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@given(patients)
def test_classify_matches_oracle(codes: frozenset[str]) -> None:
    assert _as_dict(classify(codes)) == _expected(codes)


@given(st.lists(patients, min_size=1, max_size=25))
def test_vectorised_equals_classify(cohort: list[frozenset[str]]) -> None:
    m = _matrix(cohort)
    by_hand = [_as_dict(classify(p)) for p in cohort]
    assert by_hand == [_expected(p) for p in cohort]
    for result in (
        _vectorised(m),
        _vectorised({code: m[:, i] for i, code in enumerate(MANIFESTATIONS)}),
        _vectorised(pd.DataFrame(m, columns=list(MANIFESTATIONS))),
    ):
        for key, values in result.items():
            assert values.tolist() == [h[key] for h in by_hand], key
    domains = eular_acr2019_domain_points(m)
    for row, patient in enumerate(cohort):
        assert {k: int(v[row]) for k, v in domains.items()} == _oracle(patient)["domains"]


def test_vectorised_matches_oracle_on_a_large_random_cohort() -> None:
    rng = np.random.default_rng(1997)
    m = rng.random((3000, len(MANIFESTATIONS))) < rng.uniform(0.02, 0.5, size=(3000, 1))
    cohort = [frozenset(np.array(MANIFESTATIONS)[row].tolist()) for row in m]
    result = _vectorised(m)
    for key, values in result.items():
        assert values.tolist() == [_expected(p)[key] for p in cohort], key


@given(patients)
def test_adding_a_manifestation_never_lowers_a_result(codes: frozenset[str]) -> None:
    # Row 0 is the patient; row 1 + k is the patient with MANIFESTATIONS[k] added.
    cohort = [codes, *(codes | {extra} for extra in MANIFESTATIONS)]
    r = _vectorised(_matrix(cohort))
    before = {k: int(v[0]) for k, v in r.items()}
    after = {k: v[1:].astype(int) for k, v in r.items()}
    for key in ("acr1997_count", "acr1997", "eular_acr2019_points", "eular_acr2019"):
        assert (after[key] >= before[key]).all(), key
    assert (after["slicc2012_clinical"] >= before["slicc2012_clinical"]).all()
    total = after["slicc2012_clinical"] + after["slicc2012_immunological"]
    assert (total >= before["slicc2012_clinical"] + before["slicc2012_immunological"]).all()
    # The only exception, by the SLICC rule: haemolytic anaemia cancels the Coombs criterion.
    cancelled = np.array(
        [
            extra == "haemolytic_anaemia" and "direct_coombs" in codes and extra not in codes
            for extra in MANIFESTATIONS
        ]
    )
    imm = after["slicc2012_immunological"]
    assert (imm[~cancelled] >= before["slicc2012_immunological"]).all()
    assert (imm[cancelled] == before["slicc2012_immunological"] - 1).all()
    assert (after["slicc2012_clinical"][cancelled] == before["slicc2012_clinical"] + 1).all()
    slicc = after["slicc2012"]
    assert (slicc[~cancelled] >= before["slicc2012"]).all()
    if cancelled.any() and before["slicc2012"] and not slicc[cancelled].all():
        assert before["slicc2012_immunological"] == 1  # Coombs was the only one
    domains = eular_acr2019_domain_points(_matrix(cohort))
    for name, values in domains.items():
        assert (values[1:] >= values[0]).all(), name


@given(st.lists(patients, min_size=1, max_size=25))
def test_results_stay_in_range(cohort: list[frozenset[str]]) -> None:
    m = _matrix(cohort)
    r = _vectorised(m)
    assert ((r["acr1997_count"] >= 0) & (r["acr1997_count"] <= 11)).all()
    assert ((r["slicc2012_clinical"] >= 0) & (r["slicc2012_clinical"] <= 11)).all()
    assert ((r["slicc2012_immunological"] >= 0) & (r["slicc2012_immunological"] <= 6)).all()
    points = r["eular_acr2019_points"]
    assert ((points >= 0) & (points <= EULAR_ACR2019_MAX)).all()
    assert (points[~m[:, MANIFESTATIONS.index("ana")]] == 0).all()
    domains = eular_acr2019_domain_points(m)
    assert (np.sum(list(domains.values()), axis=0) == points).all()
    for name, items in EULAR_ACR2019_DOMAINS.items():
        allowed = {0, *(item.weight for item in items)}
        assert set(domains[name].tolist()) <= allowed, name
