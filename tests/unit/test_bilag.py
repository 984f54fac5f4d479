"""Unit tests of lupsim.activity.bilag (BILAG-2004).

Expected values are computed by hand: numeric A=12, B=8, C=1, D=0, E=0 (Yee et al.,
Arthritis Care Res 2010;62:1457-65); global severity severe >= 1 A, moderate >= 2 B,
mild only C or a single B; SRI "no worsening" = no new A and at most one new B; BICLA
"all improved" = every baseline A now B/C/D(/E), every baseline B now C/D(/E).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from lupsim.activity.bilag import (
    BILAG_DOMAINS,
    BILAG_MAX,
    GRADE_LETTERS,
    N_BILAG_DOMAINS,
    NUMERIC,
    BilagComparison,
    Grade,
    as_grades,
    bilag_global_severity,
    bilag_numeric,
    compare_bilag,
    global_severity,
    grades_from_mapping,
    numeric_score,
)
from lupsim.errors import InstrumentError

DOMAINS = [
    "constitutional",
    "mucocutaneous",
    "neuropsychiatric",
    "musculoskeletal",
    "cardiorespiratory",
    "gastrointestinal",
    "ophthalmic",
    "renal",
    "haematological",
]


def g(letters: str) -> list[str]:
    """Nine grades from a nine-letter string, e.g. 'AEEEEEEEE'."""
    assert len(letters) == 9
    return list(letters)


# -------------------------------------------------------------------- constants


class TestConstants:
    def test_domains(self) -> None:
        assert list(BILAG_DOMAINS) == DOMAINS
        assert N_BILAG_DOMAINS == 9

    def test_grade_codes(self) -> None:
        assert [int(Grade.A), int(Grade.B), int(Grade.C), int(Grade.D), int(Grade.E)] == [
            0,
            1,
            2,
            3,
            4,
        ]
        assert list(GRADE_LETTERS) == ["A", "B", "C", "D", "E"]

    def test_numeric_table(self) -> None:
        assert NUMERIC.tolist() == [12, 8, 1, 0, 0]
        assert BILAG_MAX == 108

    def test_numeric_table_read_only(self) -> None:
        with pytest.raises(ValueError, match="read-only"):
            NUMERIC[0] = 9


# -------------------------------------------------------------------- numeric


class TestNumeric:
    @pytest.mark.parametrize(
        ("letter", "value"), [("A", 12), ("B", 8), ("C", 1), ("D", 0), ("E", 0)]
    )
    def test_single_domain_value(self, letter: str, value: int) -> None:
        assert bilag_numeric({"renal": letter}) == value
        assert int(numeric_score(g(letter + "EEEEEEEE"))) == value

    @pytest.mark.parametrize("domain", DOMAINS)
    def test_every_domain_counts_a_as_12(self, domain: str) -> None:
        assert bilag_numeric({domain: "A"}) == 12

    def test_all_a_is_108(self) -> None:
        assert int(numeric_score(g("AAAAAAAAA"))) == 108
        assert bilag_numeric(dict.fromkeys(DOMAINS, "A")) == 108

    def test_all_b_is_72(self) -> None:
        assert int(numeric_score(g("BBBBBBBBB"))) == 72

    def test_all_c_is_9(self) -> None:
        assert int(numeric_score(g("CCCCCCCCC"))) == 9

    def test_all_d_and_all_e_are_0(self) -> None:
        assert int(numeric_score(g("DDDDDDDDD"))) == 0
        assert int(numeric_score(g("EEEEEEEEE"))) == 0
        assert bilag_numeric({}) == 0

    def test_mixed(self) -> None:
        assert int(numeric_score(g("ABCDEEEEE"))) == 21  # 12+8+1
        assert int(numeric_score(g("ABCCBAEDD"))) == 42  # 12+8+1+1+8+12
        assert bilag_numeric({"renal": "A", "mucocutaneous": "B", "musculoskeletal": "C"}) == 21

    def test_lower_case_letters_accepted(self) -> None:
        assert int(numeric_score(g("abcdeeeee"))) == 21
        assert int(numeric_score(g("aBcDeEeEe"))) == 21
        assert bilag_numeric({"renal": "a", "mucocutaneous": "b"}) == 20

    def test_integer_codes_accepted(self) -> None:
        assert int(numeric_score([0, 1, 2, 3, 4, 4, 4, 4, 4])) == 21
        assert int(numeric_score(np.array([0] * 9, dtype=np.uint8))) == 108

    def test_whole_float_codes_accepted(self) -> None:
        assert int(numeric_score([0.0, 1.0, 2.0, 3.0, 4.0, 4.0, 4.0, 4.0, 4.0])) == 21

    def test_grade_enum_members_accepted(self) -> None:
        grades = [Grade.A, Grade.B] + [Grade.E] * 7
        assert int(numeric_score(grades)) == 20

    def test_vectorised(self) -> None:
        arr = np.array(
            [
                [g("AAAAAAAAA"), g("EEEEEEEEE"), g("BEEEEEEEE")],
                [g("CCEEEEEEE"), g("ABCDEEEEE"), g("DDDDDDDDD")],
            ]
        )
        got = numeric_score(arr)
        assert got.shape == (2, 3)
        assert got.tolist() == [[108, 0, 8], [2, 21, 0]]

    def test_bytes_letters_accepted(self) -> None:
        assert int(numeric_score(np.array(g("ABEEEEEEE"), dtype="S1"))) == 20


# ----------------------------------------------------------------- conversion


class TestAsGrades:
    def test_letters_to_codes(self) -> None:
        assert as_grades(g("ABCDEEEEE")).tolist() == [0, 1, 2, 3, 4, 4, 4, 4, 4]
        assert as_grades(g("abcdeeeee")).tolist() == [0, 1, 2, 3, 4, 4, 4, 4, 4]
        assert as_grades(g("ABCDEEEEE")).dtype == np.int8

    def test_mapping_places_grades_in_domain_order(self) -> None:
        assert grades_from_mapping({"renal": "A"}).tolist() == [4, 4, 4, 4, 4, 4, 4, 0, 4]
        got = grades_from_mapping({"constitutional": "b", "haematological": "C"})
        assert got.tolist() == [1, 4, 4, 4, 4, 4, 4, 4, 2]

    def test_mapping_empty_is_all_e(self) -> None:
        assert grades_from_mapping({}).tolist() == [4] * 9


# --------------------------------------------------------------------- errors


class TestErrors:
    @pytest.mark.parametrize("bad", ["F", "X", "1", "AA", ""])
    def test_invalid_letter_named(self, bad: str) -> None:
        grades = [bad] + ["E"] * 8
        with pytest.raises(InstrumentError) as info:
            numeric_score(grades)
        assert repr(bad) in str(info.value)

    def test_invalid_letter_in_middle_of_array(self) -> None:
        arr = np.array([g("EEEEEEEEE"), g("EEEEFEEEE")])
        with pytest.raises(InstrumentError, match="'F'"):
            global_severity(arr)

    @pytest.mark.parametrize("bad", [5, -1, 9])
    def test_invalid_code_named(self, bad: int) -> None:
        codes = [4] * 9
        codes[2] = bad
        with pytest.raises(InstrumentError) as info:
            numeric_score(codes)
        assert re.search(rf"(?<![\d-]){re.escape(str(bad))}(?!\d)", str(info.value))

    def test_fractional_code_raises(self) -> None:
        with pytest.raises(InstrumentError, match="float64"):
            numeric_score([1.5] + [4.0] * 8)

    def test_nan_code_raises(self) -> None:
        with pytest.raises(InstrumentError):
            numeric_score([float("nan")] + [4.0] * 8)

    def test_boolean_array_raises(self) -> None:
        with pytest.raises(InstrumentError, match="bool"):
            numeric_score(np.zeros(9, dtype=bool))

    @pytest.mark.parametrize("shape", [(8,), (10,), (3, 8), (9, 2)])
    def test_wrong_shape_raises_with_shape(self, shape: tuple[int, ...]) -> None:
        with pytest.raises(InstrumentError) as info:
            numeric_score(np.full(shape, 4))
        assert str(shape) in str(info.value)

    def test_scalar_raises(self) -> None:
        with pytest.raises(InstrumentError, match="9 BILAG domains"):
            as_grades("A")

    def test_unknown_domain_in_mapping_named_with_suggestion(self) -> None:
        with pytest.raises(InstrumentError) as info:
            bilag_numeric({"renall": "A"})
        msg = str(info.value)
        assert "'renall'" in msg
        assert "did you mean 'renal'" in msg

    def test_unknown_domain_without_close_match(self) -> None:
        with pytest.raises(InstrumentError, match="'kidney'"):
            bilag_global_severity({"kidney": "A"})

    def test_invalid_letter_in_mapping_names_letter_and_domain(self) -> None:
        with pytest.raises(InstrumentError) as info:
            bilag_numeric({"renal": "F"})
        msg = str(info.value)
        assert "'F'" in msg
        assert "'renal'" in msg

    def test_compare_shape_mismatch(self) -> None:
        with pytest.raises(InstrumentError, match=r"\(2, 9\).*\(3, 9\)"):
            compare_bilag(np.full((2, 9), 4), np.full((3, 9), 4))

    def test_compare_names_which_argument_has_wrong_shape(self) -> None:
        with pytest.raises(InstrumentError, match="followup"):
            compare_bilag(g("EEEEEEEEE"), ["E"] * 8)
        with pytest.raises(InstrumentError, match="baseline"):
            compare_bilag(["E"] * 8, g("EEEEEEEEE"))


# ----------------------------------------------------------------- severity


class TestGlobalSeverity:
    @pytest.mark.parametrize(
        ("letters", "expected"),
        [
            ("AEEEEEEEE", "severe"),
            ("EEEEEEEAE", "severe"),
            ("ABBBBCCCC", "severe"),
            ("AAAAAAAAA", "severe"),
            ("BBEEEEEEE", "moderate"),
            ("EBEBEEEEE", "moderate"),
            ("BBBCCCDDE", "moderate"),
            ("BEEEEEEEE", "mild"),
            ("BCCCCDDEE", "mild"),
            ("CEEEEEEEE", "mild"),
            ("CCCCCCCCC", "mild"),
            ("DEEEEEEEE", "none"),
            ("DDDDDDDDD", "none"),
            ("EEEEEEEEE", "none"),
        ],
    )
    def test_cases(self, letters: str, expected: str) -> None:
        assert str(global_severity(g(letters))) == expected

    def test_by_hand_one_a(self) -> None:
        assert bilag_global_severity({"renal": "A"}) == "severe"

    def test_by_hand_two_b(self) -> None:
        assert bilag_global_severity({"musculoskeletal": "B", "mucocutaneous": "B"}) == "moderate"

    def test_by_hand_one_b(self) -> None:
        assert bilag_global_severity({"musculoskeletal": "B"}) == "mild"

    def test_by_hand_only_c(self) -> None:
        assert bilag_global_severity({"musculoskeletal": "C", "renal": "C"}) == "mild"

    def test_by_hand_only_d_e(self) -> None:
        assert bilag_global_severity({"renal": "D"}) == "none"
        assert bilag_global_severity({}) == "none"

    def test_returns_python_str(self) -> None:
        assert type(bilag_global_severity({"renal": "A"})) is str

    def test_vectorised(self) -> None:
        arr = np.array([[g("AEEEEEEEE"), g("BBEEEEEEE")], [g("BEEEEEEEE"), g("DEEEEEEEE")]])
        got = global_severity(arr)
        assert got.shape == (2, 2)
        assert got.tolist() == [["severe", "moderate"], ["mild", "none"]]


# ---------------------------------------------------------------- comparison

ALL_PAIRS = [(b, f) for b in "ABCDE" for f in "ABCDE"]
NEW_A_PAIRS = {("B", "A"), ("C", "A"), ("D", "A"), ("E", "A")}
NEW_B_PAIRS = {("C", "B"), ("D", "B"), ("E", "B")}
NOT_IMPROVED_PAIRS = {("A", "A"), ("B", "A"), ("B", "B")}


def one_domain(letter: str) -> list[str]:
    return g("EEEEEEE" + letter + "E")  # the renal domain


class TestCompareBilag:
    @pytest.mark.parametrize(("base", "follow"), ALL_PAIRS)
    def test_single_domain_transition(self, base: str, follow: str) -> None:
        c = compare_bilag(one_domain(base), one_domain(follow))
        assert isinstance(c, BilagComparison)
        assert int(c.new_a) == (1 if (base, follow) in NEW_A_PAIRS else 0)
        assert int(c.new_b) == (1 if (base, follow) in NEW_B_PAIRS else 0)
        # one new B alone never fails; any new A does
        assert bool(c.no_worsening) is ((base, follow) not in NEW_A_PAIRS)
        assert bool(c.all_improved) is ((base, follow) not in NOT_IMPROVED_PAIRS)

    def test_a_to_a_is_not_new_a(self) -> None:
        c = compare_bilag(g("AEEEEEEEE"), g("AEEEEEEEE"))
        assert int(c.new_a) == 0
        assert bool(c.no_worsening) is True
        assert bool(c.all_improved) is False

    def test_a_to_b_is_not_new_b(self) -> None:
        c = compare_bilag(g("AAAEEEEEE"), g("BBBEEEEEE"))
        assert int(c.new_a) == 0
        assert int(c.new_b) == 0
        assert bool(c.no_worsening) is True
        assert bool(c.all_improved) is True

    def test_b_to_b_is_not_new_b(self) -> None:
        c = compare_bilag(g("BBEEEEEEE"), g("BBEEEEEEE"))
        assert int(c.new_b) == 0
        assert bool(c.no_worsening) is True
        assert bool(c.all_improved) is False

    def test_one_new_b_passes_no_worsening(self) -> None:
        c = compare_bilag(g("CEEEEEEEE"), g("BEEEEEEEE"))
        assert int(c.new_b) == 1
        assert bool(c.no_worsening) is True

    def test_two_new_b_fail_no_worsening(self) -> None:
        c = compare_bilag(g("CDEEEEEEE"), g("BBEEEEEEE"))
        assert int(c.new_b) == 2
        assert int(c.new_a) == 0
        assert bool(c.no_worsening) is False

    def test_one_new_a_fails_no_worsening(self) -> None:
        c = compare_bilag(g("EEEEEEEEE"), g("EEEEAEEEE"))
        assert int(c.new_a) == 1
        assert int(c.new_b) == 0
        assert bool(c.no_worsening) is False

    def test_counts_several_new_a_and_b(self) -> None:
        # baseline B C D E C A B E E -> follow-up A A B B C A C E D
        c = compare_bilag(g("BCDECABEE"), g("AABBCACED"))
        assert int(c.new_a) == 2  # B->A, C->A (A->A is not new)
        assert int(c.new_b) == 2  # D->B, E->B
        assert bool(c.no_worsening) is False
        assert bool(c.all_improved) is False  # A->A, B->A

    def test_docstring_example(self) -> None:
        c = compare_bilag(g("BCEEEEEEE"), g("CBBEEEEEE"))
        assert (int(c.new_a), int(c.new_b), bool(c.no_worsening), bool(c.all_improved)) == (
            0,
            2,
            False,
            True,
        )

    def test_bicla_mixed(self) -> None:
        # A->B ok, B->C ok, C->C free, D->B free for BICLA (new B, counted by new_b)
        c = compare_bilag(g("ABCDEEEEE"), g("BCCBEEEEE"))
        assert bool(c.all_improved) is True
        assert int(c.new_b) == 1
        assert bool(c.no_worsening) is True
        # A->B ok but B->B not
        c = compare_bilag(g("ABEEEEEEE"), g("BBEEEEEEE"))
        assert bool(c.all_improved) is False

    def test_baseline_c_d_e_free_for_bicla(self) -> None:
        c = compare_bilag(g("CDECDECDE"), g("CDECDECDE"))
        assert bool(c.all_improved) is True

    def test_letters_and_codes_mix(self) -> None:
        c = compare_bilag(g("aEEEEEEEE"), [1, 4, 4, 4, 4, 4, 4, 4, 4])
        assert bool(c.all_improved) is True
        assert int(c.new_b) == 0

    def test_vectorised(self) -> None:
        base = np.array([g("AEEEEEEEE"), g("CCEEEEEEE"), g("BEEEEEEEE")])
        follow = np.array([g("AEEEEEEEE"), g("BBEEEEEEE"), g("CAEEEEEEE")])
        c = compare_bilag(base, follow)
        assert c.new_a.tolist() == [0, 0, 1]
        assert c.new_b.tolist() == [0, 2, 0]
        assert c.no_worsening.tolist() == [True, False, False]
        assert c.all_improved.tolist() == [False, True, True]

    def test_baseline_broadcasts_over_visits(self) -> None:
        base = g("ABEEEEEEE")
        follow = np.array([g("BCEEEEEEE"), g("AAEEEEEEE"), g("BBBEEEEEE")])
        c = compare_bilag(base, follow)
        assert c.new_a.tolist() == [0, 1, 0]
        assert c.new_b.tolist() == [0, 0, 1]
        assert c.no_worsening.tolist() == [True, False, True]
        assert c.all_improved.tolist() == [True, False, False]
