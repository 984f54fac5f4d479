"""Unit tests of lupsim.activity.sledai: the original SLEDAI, SLEDAI-2K and SELENA-SLEDAI.

Every expected score below is computed by hand from the SLEDAI-2K form (Gladman et al.,
J Rheumatol 2002;29:288-91) and the version rules, never from the module's own tables.
"""

from __future__ import annotations

import numpy as np
import pytest

from lupsim.activity import sledai
from lupsim.activity.sledai import (
    DESCRIPTOR_CODES,
    DESCRIPTORS,
    N_DESCRIPTORS,
    ORGAN_DOMAINS,
    SLEDAI_MAX,
    SLEDAI_VERSIONS,
    WEIGHTS,
    activity_band,
    descriptor_index,
    domain_activity,
    score_sledai,
    sledai_score,
)
from lupsim.errors import InstrumentError, LupsimError

# The SLEDAI-2K form, in its printed order, with the weight of each descriptor.
FORM: tuple[tuple[str, int], ...] = (
    ("seizure", 8),
    ("psychosis", 8),
    ("organic_brain_syndrome", 8),
    ("visual_disturbance", 8),
    ("cranial_nerve_disorder", 8),
    ("lupus_headache", 8),
    ("cva", 8),
    ("vasculitis", 8),
    ("arthritis", 4),
    ("myositis", 4),
    ("urinary_casts", 4),
    ("haematuria", 4),
    ("proteinuria", 4),
    ("pyuria", 4),
    ("rash", 2),
    ("alopecia", 2),
    ("mucosal_ulcers", 2),
    ("pleurisy", 2),
    ("pericarditis", 2),
    ("low_complement", 2),
    ("increased_dna_binding", 2),
    ("fever", 1),
    ("thrombocytopenia", 1),
    ("leukopenia", 1),
)
ORDER = [code for code, _ in FORM]

EXPECTED_DOMAIN = {
    "seizure": "cns",
    "psychosis": "cns",
    "organic_brain_syndrome": "cns",
    "visual_disturbance": "cns",
    "cranial_nerve_disorder": "cns",
    "lupus_headache": "cns",
    "cva": "cns",
    "vasculitis": "vascular",
    "arthritis": "musculoskeletal",
    "myositis": "musculoskeletal",
    "urinary_casts": "renal",
    "haematuria": "renal",
    "proteinuria": "renal",
    "pyuria": "renal",
    "rash": "mucocutaneous",
    "alopecia": "mucocutaneous",
    "mucosal_ulcers": "mucocutaneous",
    "pleurisy": "cardiorespiratory",
    "pericarditis": "cardiorespiratory",
    "low_complement": "immunological",
    "increased_dna_binding": "immunological",
    "fever": "constitutional",
    "thrombocytopenia": "haematological",
    "leukopenia": "haematological",
}


def state(*codes: str) -> np.ndarray:
    """A (24,) boolean state with the named descriptors present (form order)."""
    out = np.zeros(24, dtype=bool)
    for code in codes:
        out[ORDER.index(code)] = True
    return out


# --------------------------------------------------------------------------- weights


class TestWeights:
    def test_there_are_24_descriptors_in_form_order(self) -> None:
        assert N_DESCRIPTORS == 24
        assert list(DESCRIPTOR_CODES) == ORDER
        assert [d.code for d in DESCRIPTORS] == ORDER

    @pytest.mark.parametrize(("code", "weight"), FORM)
    def test_descriptor_alone_scores_its_weight_in_every_version(
        self, code: str, weight: int
    ) -> None:
        for version in ("original", "2k", "selena"):
            assert sledai_score([code], version=version) == weight

    @pytest.mark.parametrize(("code", "weight"), FORM)
    def test_weight_table_and_descriptor_records_agree_with_form(
        self, code: str, weight: int
    ) -> None:
        i = ORDER.index(code)
        assert DESCRIPTORS[i].weight == weight
        assert int(WEIGHTS[i]) == weight
        assert descriptor_index(code) == i

    def test_weight_counts_8x8_6x4_7x2_3x1(self) -> None:
        w = [int(x) for x in WEIGHTS]
        assert w.count(8) == 8
        assert w.count(4) == 6
        assert w.count(2) == 7
        assert w.count(1) == 3
        assert sorted(set(w)) == [1, 2, 4, 8]

    def test_maximum_is_105(self) -> None:
        assert SLEDAI_MAX == 105
        assert 8 * 8 + 6 * 4 + 7 * 2 + 3 * 1 == 105

    def test_weights_are_read_only(self) -> None:
        with pytest.raises(ValueError, match="read-only"):
            WEIGHTS[0] = 0

    def test_versions(self) -> None:
        assert set(SLEDAI_VERSIONS) == {"original", "2k", "selena"}


# ------------------------------------------------------------------ hand scores


class TestHandScores:
    def test_arthritis_rash_complement_dna_is_10_in_2k(self) -> None:
        codes = ["arthritis", "rash", "low_complement", "increased_dna_binding"]
        # 4 + 2 + 2 + 2
        assert sledai_score(codes) == 10
        assert sledai_score(codes, version="2k") == 10

    def test_arthritis_rash_complement_dna_all_new_is_10_in_every_version(self) -> None:
        codes = ["arthritis", "rash", "low_complement", "increased_dna_binding"]
        assert sledai_score(codes, version="original") == 10
        assert sledai_score(codes, version="selena") == 10

    def test_same_with_persistent_rash(self) -> None:
        codes = ["arthritis", "rash", "low_complement", "increased_dna_binding"]
        assert sledai_score(codes, version="2k", persistent=["rash"]) == 10
        assert sledai_score(codes, version="selena", persistent=["rash"]) == 10
        assert sledai_score(codes, version="original", persistent=["rash"]) == 8

    def test_persistent_proteinuria_counts_4_in_2k(self) -> None:
        assert sledai_score(["proteinuria"], version="2k", persistent=["proteinuria"]) == 4

    def test_persistent_proteinuria_counts_0_in_selena(self) -> None:
        assert sledai_score(["proteinuria"], version="selena", persistent=["proteinuria"]) == 0

    def test_persistent_proteinuria_counts_0_in_original(self) -> None:
        assert sledai_score(["proteinuria"], version="original", persistent=["proteinuria"]) == 0

    @pytest.mark.parametrize("version", ["original", "2k", "selena"])
    def test_new_proteinuria_counts_4(self, version: str) -> None:
        assert sledai_score(["proteinuria"], version=version) == 4

    @pytest.mark.parametrize("code", ["rash", "alopecia", "mucosal_ulcers", "proteinuria"])
    def test_original_ignores_persistent_new_only_descriptor(self, code: str) -> None:
        assert sledai_score([code], version="original", persistent=[code]) == 0

    @pytest.mark.parametrize(
        ("code", "weight"), [("rash", 2), ("alopecia", 2), ("mucosal_ulcers", 2)]
    )
    def test_selena_counts_persistent_rash_alopecia_ulcers(self, code: str, weight: int) -> None:
        assert sledai_score([code], version="selena", persistent=[code]) == weight

    @pytest.mark.parametrize(("code", "weight"), FORM)
    def test_2k_counts_every_persistent_descriptor(self, code: str, weight: int) -> None:
        assert sledai_score([code], version="2k", persistent=[code]) == weight

    @pytest.mark.parametrize(
        ("code", "weight"),
        [
            ("seizure", 8),
            ("vasculitis", 8),
            ("arthritis", 4),
            ("haematuria", 4),
            ("pleurisy", 2),
            ("low_complement", 2),
            ("fever", 1),
        ],
    )
    def test_original_and_selena_count_other_persistent_descriptors(
        self, code: str, weight: int
    ) -> None:
        assert sledai_score([code], version="original", persistent=[code]) == weight
        assert sledai_score([code], version="selena", persistent=[code]) == weight

    def test_all_four_new_only_descriptors_persistent(self) -> None:
        codes = ["rash", "alopecia", "mucosal_ulcers", "proteinuria"]
        assert sledai_score(codes, version="2k", persistent=codes) == 10  # 2+2+2+4
        assert sledai_score(codes, version="selena", persistent=codes) == 6  # 2+2+2
        assert sledai_score(codes, version="original", persistent=codes) == 0

    def test_mixed_patient(self) -> None:
        codes = ["seizure", "proteinuria", "alopecia", "fever"]
        persistent = ["proteinuria", "alopecia"]
        assert sledai_score(codes, version="2k", persistent=persistent) == 15  # 8+4+2+1
        assert sledai_score(codes, version="selena", persistent=persistent) == 11  # 8+2+1
        assert sledai_score(codes, version="original", persistent=persistent) == 9  # 8+1

    def test_all_24_present_is_105_in_2k(self) -> None:
        assert sledai_score(ORDER) == 105
        assert sledai_score(ORDER, version="2k", persistent=ORDER) == 105

    @pytest.mark.parametrize("version", ["original", "2k", "selena"])
    def test_all_24_new_is_105_in_every_version(self, version: str) -> None:
        assert sledai_score(ORDER, version=version) == 105

    def test_all_24_persistent_by_version(self) -> None:
        assert sledai_score(ORDER, version="selena", persistent=ORDER) == 101  # 105 - 4
        assert sledai_score(ORDER, version="original", persistent=ORDER) == 95  # 105 - 10

    def test_no_descriptors_scores_zero(self) -> None:
        for version in ("original", "2k", "selena"):
            assert sledai_score([], version=version) == 0

    def test_duplicates_count_once(self) -> None:
        assert sledai_score(["arthritis", "arthritis"]) == 4

    def test_default_version_is_2k(self) -> None:
        assert sledai_score(["proteinuria"], persistent=["proteinuria"]) == 4
        p = state("proteinuria")
        assert int(score_sledai(p, np.zeros(24, dtype=bool))) == 4

    def test_returns_python_int(self) -> None:
        assert type(sledai_score(["rash"])) is int


# ------------------------------------------------------------ vectorised scoring


class TestScoreSledai:
    @pytest.mark.parametrize("version", ["original", "2k", "selena"])
    def test_new_none_means_all_versions_agree(self, version: str) -> None:
        p = state("rash", "alopecia", "mucosal_ulcers", "proteinuria", "arthritis")
        # 2+2+2+4+4
        assert int(score_sledai(p, None, version)) == 14
        assert int(score_sledai(p, version=version)) == 14

    def test_new_none_equals_all_new(self) -> None:
        p = state("rash", "proteinuria", "fever")
        for version in ("original", "2k", "selena"):
            assert int(score_sledai(p, None, version)) == int(score_sledai(p, p, version)) == 7

    def test_new_flag_without_present_adds_nothing(self) -> None:
        p = np.zeros(24, dtype=bool)
        n = np.ones(24, dtype=bool)
        for version in ("original", "2k", "selena"):
            assert int(score_sledai(p, n, version)) == 0

    def test_example_arthritis_rash(self) -> None:
        s = np.zeros((2, 24), dtype=bool)
        s[0, [ORDER.index("arthritis"), ORDER.index("rash")]] = True
        assert score_sledai(s).tolist() == [6, 0]

    def test_subjects_by_visits_array_gives_hand_scores(self) -> None:
        # (present, persistent) -> hand-computed (original, 2k, selena)
        cells = [
            [
                ((), (), (0, 0, 0)),
                (("arthritis", "rash"), (), (6, 6, 6)),
                (("arthritis", "rash"), ("rash",), (4, 6, 6)),
            ],
            [
                (("proteinuria", "haematuria"), ("proteinuria",), (4, 8, 4)),
                (
                    ("seizure", "vasculitis", "fever", "leukopenia", "thrombocytopenia"),
                    ("seizure", "fever"),
                    (19, 19, 19),
                ),
                (
                    tuple(ORDER),
                    ("rash", "alopecia", "mucosal_ulcers", "proteinuria"),
                    (95, 105, 101),
                ),
            ],
        ]
        present = np.zeros((2, 3, 24), dtype=bool)
        new = np.zeros((2, 3, 24), dtype=bool)
        expected = {v: np.zeros((2, 3), dtype=int) for v in ("original", "2k", "selena")}
        for i, row in enumerate(cells):
            for j, (codes, persistent, scores) in enumerate(row):
                present[i, j] = state(*codes)
                new[i, j] = present[i, j] & ~state(*persistent)
                for version, score in zip(("original", "2k", "selena"), scores, strict=True):
                    expected[version][i, j] = score
        for version in ("original", "2k", "selena"):
            got = score_sledai(present, new, version)
            assert got.shape == (2, 3)
            assert np.issubdtype(got.dtype, np.integer)
            np.testing.assert_array_equal(got, expected[version])
            # the by-hand companion agrees cell by cell
            for i, row in enumerate(cells):
                for j, (codes, persistent, _) in enumerate(row):
                    assert sledai_score(codes, version=version, persistent=persistent) == int(
                        got[i, j]
                    )

    def test_integer_01_arrays_and_lists_are_accepted(self) -> None:
        p = state("arthritis", "proteinuria").astype(int)
        n = state("arthritis").astype(int)
        assert int(score_sledai(p, n, "selena")) == 4
        assert int(score_sledai(p.tolist(), n.tolist(), "2k")) == 8
        assert int(score_sledai(p.astype(float), None, "original")) == 8

    def test_empty_leading_axis(self) -> None:
        got = score_sledai(np.zeros((0, 24), dtype=bool))
        assert got.shape == (0,)

    def test_does_not_modify_inputs(self) -> None:
        p = state("rash", "proteinuria")
        n = np.zeros(24, dtype=bool)
        p0, n0 = p.copy(), n.copy()
        score_sledai(p, n, "original")
        np.testing.assert_array_equal(p, p0)
        np.testing.assert_array_equal(n, n0)


# ----------------------------------------------------------------------- errors


class TestErrors:
    def test_instrument_error_is_value_error_and_lupsim_error(self) -> None:
        assert issubclass(InstrumentError, ValueError)
        assert issubclass(InstrumentError, LupsimError)

    def test_misspelt_descriptor_names_value_and_suggests(self) -> None:
        with pytest.raises(InstrumentError) as info:
            sledai_score(["arthritus"])
        msg = str(info.value)
        assert "'arthritus'" in msg
        assert "did you mean 'arthritis'" in msg

    def test_descriptor_index_unknown(self) -> None:
        with pytest.raises(InstrumentError, match="'headache'"):
            descriptor_index("headache")

    def test_unknown_descriptor_without_close_match(self) -> None:
        with pytest.raises(InstrumentError) as info:
            sledai_score(["zzzzzz"])
        assert "'zzzzzz'" in str(info.value)
        assert "did you mean" not in str(info.value)

    def test_unknown_descriptor_in_persistent(self) -> None:
        with pytest.raises(InstrumentError, match=r"'rassh'.*did you mean 'rash'"):
            sledai_score(["rash"], persistent=["rassh"])

    def test_persistent_but_not_present_raises(self) -> None:
        with pytest.raises(InstrumentError, match=r"'rash'.*persistent"):
            sledai_score(["arthritis"], version="original", persistent=["rash"])

    @pytest.mark.parametrize("version", ["sledai-2k", "2000", "SELENA-SLEDAI", ""])
    def test_unknown_version_score_sledai(self, version: str) -> None:
        with pytest.raises(InstrumentError) as info:
            score_sledai(np.zeros(24, dtype=bool), version=version)  # type: ignore[arg-type]
        assert repr(version) in str(info.value)

    def test_unknown_version_by_hand(self) -> None:
        with pytest.raises(InstrumentError, match=r"'selina'.*did you mean 'selena'"):
            sledai_score(["rash"], version="selina")  # type: ignore[arg-type]

    @pytest.mark.parametrize("shape", [(23,), (25,), (2, 23), (3, 24, 2), (0,)])
    def test_wrong_last_axis_raises_with_shape(self, shape: tuple[int, ...]) -> None:
        with pytest.raises(InstrumentError) as info:
            score_sledai(np.zeros(shape, dtype=bool))
        assert str(shape) in str(info.value)

    def test_scalar_raises(self) -> None:
        with pytest.raises(InstrumentError, match="24"):
            score_sledai(True)

    @pytest.mark.parametrize("bad", [2, -1, 0.5])
    def test_non_boolean_present_raises(self, bad: float) -> None:
        p = np.zeros(24)
        p[3] = bad
        with pytest.raises(InstrumentError):
            score_sledai(p)

    @pytest.mark.parametrize("bad", [2, -1, 0.5])
    def test_non_boolean_present_message_names_value(self, bad: float) -> None:
        p = np.zeros(24)
        p[3] = bad
        with pytest.raises(InstrumentError) as info:
            score_sledai(p)
        assert str(bad) in str(info.value)

    def test_non_boolean_new_raises_for_selena(self) -> None:
        n = np.zeros(24)
        n[12] = 2
        with pytest.raises(InstrumentError, match="new"):
            score_sledai(state("proteinuria"), n, "selena")

    @pytest.mark.parametrize("version", ["original", "selena"])
    def test_new_shape_mismatch_raises(self, version: str) -> None:
        with pytest.raises(InstrumentError, match=r"\(2, 24\).*\(24,\)"):
            score_sledai(state("rash"), np.zeros((2, 24), dtype=bool), version)

    @pytest.mark.parametrize("version", ["original", "selena"])
    def test_new_wrong_last_axis_raises(self, version: str) -> None:
        with pytest.raises(InstrumentError, match=r"\(23,\)"):
            score_sledai(state("rash"), np.zeros(23, dtype=bool), version)

    @pytest.mark.parametrize(
        "new", [np.zeros((2, 24), dtype=bool), np.zeros(23, dtype=bool), np.full(24, 2)]
    )
    def test_bad_new_raises_for_2k_too(self, new: np.ndarray) -> None:
        with pytest.raises(InstrumentError):
            score_sledai(state("rash"), new, "2k")


# --------------------------------------------------------------- domain activity


class TestDomainActivity:
    def test_domains_and_membership(self) -> None:
        assert set(ORGAN_DOMAINS) == set(EXPECTED_DOMAIN.values())
        assert len(ORGAN_DOMAINS) == 9
        for dom, idx in ORGAN_DOMAINS.items():
            assert sorted(ORDER[i] for i in idx) == sorted(
                c for c, d in EXPECTED_DOMAIN.items() if d == dom
            )
        for i, d in enumerate(DESCRIPTORS):
            assert d.domain == EXPECTED_DOMAIN[ORDER[i]]

    @pytest.mark.parametrize("code", ORDER)
    def test_single_descriptor_activates_only_its_domain(self, code: str) -> None:
        act = domain_activity(state(code))
        assert set(act) == set(EXPECTED_DOMAIN.values())
        for dom, value in act.items():
            assert bool(value) is (dom == EXPECTED_DOMAIN[code])

    def test_arthritis_only(self) -> None:
        act = domain_activity(state("arthritis"))
        assert bool(act["musculoskeletal"]) is True
        assert not any(bool(v) for d, v in act.items() if d != "musculoskeletal")

    def test_nothing_present(self) -> None:
        assert not any(bool(v) for v in domain_activity(np.zeros(24, dtype=bool)).values())

    def test_vectorised(self) -> None:
        p = np.zeros((2, 3, 24), dtype=bool)
        p[0, 1] = state("proteinuria")
        p[1, 2] = state("seizure", "fever")
        act = domain_activity(p)
        assert act["renal"].shape == (2, 3)
        assert act["renal"].tolist() == [[False, True, False], [False, False, False]]
        assert act["cns"].tolist() == [[False, False, False], [False, False, True]]
        assert act["constitutional"].tolist() == [[False, False, False], [False, False, True]]
        assert not act["haematological"].any()

    def test_persistence_is_irrelevant_presence_counts(self) -> None:
        # domain activity uses presence only; the 0/1 integer form works too
        act = domain_activity(state("rash").astype(int))
        assert bool(act["mucocutaneous"]) is True

    def test_wrong_shape_raises(self) -> None:
        with pytest.raises(InstrumentError, match=r"\(9,\)"):
            domain_activity(np.zeros(9, dtype=bool))

    def test_non_boolean_raises(self) -> None:
        with pytest.raises(InstrumentError):
            domain_activity(np.full(24, 3))


# ------------------------------------------------------------------ activity band


class TestActivityBand:
    @pytest.mark.parametrize(
        ("score", "band"),
        [
            (0, "none"),
            (1, "low"),
            (2, "low"),
            (4, "low"),
            (5, "moderate"),
            (6, "moderate"),
            (10, "moderate"),
            (11, "high"),
            (20, "high"),
            (105, "high"),
        ],
    )
    def test_boundaries(self, score: int, band: str) -> None:
        assert str(activity_band(score)) == band

    def test_vectorised(self) -> None:
        got = activity_band(np.array([[0, 1, 4], [5, 10, 11]]))
        assert got.shape == (2, 3)
        assert got.tolist() == [["none", "low", "low"], ["moderate", "moderate", "high"]]

    def test_on_score_output(self) -> None:
        p = np.zeros((3, 24), dtype=bool)
        p[1] = state("arthritis")  # 4
        p[2] = state("arthritis", "rash", "low_complement", "increased_dna_binding")  # 10
        assert activity_band(score_sledai(p)).tolist() == ["none", "low", "moderate"]

    @pytest.mark.parametrize("bad", [-1, 106, 1000])
    def test_out_of_range_raises_with_value(self, bad: int) -> None:
        with pytest.raises(InstrumentError) as info:
            activity_band(bad)
        assert str(bad) in str(info.value)

    def test_out_of_range_inside_array_raises(self) -> None:
        with pytest.raises(InstrumentError, match="106"):
            activity_band([0, 5, 106])

    def test_nan_raises(self) -> None:
        with pytest.raises(InstrumentError):
            activity_band(float("nan"))


def test_module_public_names() -> None:
    for name in sledai.__all__:
        assert hasattr(sledai, name)
