"""Property-based tests (hypothesis) of the SLEDAI and BILAG instruments.

The reference scores are computed here from weights and version rules written out
independently of lupsim's own tables.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lupsim.activity.bilag import compare_bilag, global_severity, numeric_score
from lupsim.activity.sledai import score_sledai, sledai_score

# SLEDAI-2K form order and weights (Gladman 2002).
FORM_CODES = [
    "seizure",
    "psychosis",
    "organic_brain_syndrome",
    "visual_disturbance",
    "cranial_nerve_disorder",
    "lupus_headache",
    "cva",
    "vasculitis",
    "arthritis",
    "myositis",
    "urinary_casts",
    "haematuria",
    "proteinuria",
    "pyuria",
    "rash",
    "alopecia",
    "mucosal_ulcers",
    "pleurisy",
    "pericarditis",
    "low_complement",
    "increased_dna_binding",
    "fever",
    "thrombocytopenia",
    "leukopenia",
]
FORM_WEIGHTS = [8] * 8 + [4] * 6 + [2] * 7 + [1] * 3
# Descriptors each version counts only when new.
NEW_ONLY = {
    "original": {"rash", "alopecia", "mucosal_ulcers", "proteinuria"},
    "2k": set(),
    "selena": {"proteinuria"},
}
VERSIONS = ("original", "2k", "selena")
# BILAG-2004 numeric value of grade codes A=0 ... E=4.
BILAG_VALUE = {0: 12, 1: 8, 2: 1, 3: 0, 4: 0}


def reference_sledai(present: np.ndarray, new: np.ndarray, version: str) -> list[int]:
    """Score each row of a (k, 24) state by plain iteration."""
    out = []
    for p_row, n_row in zip(present.tolist(), new.tolist(), strict=True):
        total = 0
        for code, weight, p, n in zip(FORM_CODES, FORM_WEIGHTS, p_row, n_row, strict=True):
            if p and (n or code not in NEW_ONLY[version]):
                total += weight
        out.append(total)
    return out


@st.composite
def sledai_states(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    k = draw(st.integers(min_value=1, max_value=6))
    present = draw(arrays(np.bool_, (k, 24)))
    new = draw(arrays(np.bool_, (k, 24)))
    return present, new


@st.composite
def bilag_grades(draw: st.DrawFn) -> np.ndarray:
    k = draw(st.integers(min_value=1, max_value=6))
    return draw(arrays(np.int8, (k, 9), elements=st.integers(min_value=0, max_value=4)))


# ---------------------------------------------------------------------- SLEDAI


def test_reference_weights_sum_to_105() -> None:
    assert len(FORM_CODES) == len(FORM_WEIGHTS) == 24
    assert sum(FORM_WEIGHTS) == 105


@settings(max_examples=200, deadline=None)
@given(sledai_states())
def test_sledai_scores_in_range(st_: tuple[np.ndarray, np.ndarray]) -> None:
    present, new = st_
    for version in VERSIONS:
        s = score_sledai(present, new, version)
        assert s.shape == (present.shape[0],)
        assert ((s >= 0) & (s <= 105)).all()


@settings(max_examples=200, deadline=None)
@given(sledai_states())
def test_sledai_version_ordering(st_: tuple[np.ndarray, np.ndarray]) -> None:
    present, new = st_
    s2k = score_sledai(present, new, "2k")
    selena = score_sledai(present, new, "selena")
    original = score_sledai(present, new, "original")
    assert (s2k >= selena).all()
    assert (selena >= original).all()
    # SELENA ignores at most proteinuria (4); the original at most 4 + 3 x 2 = 10.
    assert ((s2k - selena) <= 4).all()
    assert ((s2k - original) <= 10).all()


@settings(max_examples=200, deadline=None)
@given(sledai_states())
def test_sledai_equals_independent_sum_of_counted_weights(
    st_: tuple[np.ndarray, np.ndarray],
) -> None:
    present, new = st_
    for version in VERSIONS:
        got = score_sledai(present, new, version).tolist()
        assert got == reference_sledai(present, new, version)


@settings(max_examples=200, deadline=None)
@given(sledai_states())
def test_sledai_new_none_all_versions_equal_presence_sum(
    st_: tuple[np.ndarray, np.ndarray],
) -> None:
    present, _ = st_
    expected = [
        sum(w for w, p in zip(FORM_WEIGHTS, row, strict=True) if p) for row in present.tolist()
    ]
    for version in VERSIONS:
        assert score_sledai(present, None, version).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(sledai_states())
def test_sledai_vectorised_matches_by_hand(st_: tuple[np.ndarray, np.ndarray]) -> None:
    present, new = st_
    for version in VERSIONS:
        vec = score_sledai(present, new, version).tolist()
        for i in range(present.shape[0]):
            codes = [c for c, p in zip(FORM_CODES, present[i], strict=True) if p]
            persistent = [
                c for c, p, n in zip(FORM_CODES, present[i], new[i], strict=True) if p and not n
            ]
            assert sledai_score(codes, version=version, persistent=persistent) == vec[i]


@settings(max_examples=200, deadline=None)
@given(sledai_states(), st.integers(min_value=0, max_value=23), st.booleans())
def test_adding_a_present_descriptor_never_lowers_score(
    st_: tuple[np.ndarray, np.ndarray], index: int, is_new: bool
) -> None:
    present, new = st_
    more = present.copy()
    more[:, index] = True
    more_new = new.copy()
    more_new[:, index] = np.where(present[:, index], new[:, index], is_new)
    before = score_sledai(present, new, "2k")
    after = score_sledai(more, more_new, "2k")
    assert (after >= before).all()
    # in SLEDAI-2K the rise is exactly the weight when the descriptor was absent
    rise = np.where(present[:, index], 0, FORM_WEIGHTS[index])
    np.testing.assert_array_equal(after - before, rise)
    for version in ("original", "selena"):
        assert (score_sledai(more, more_new, version) >= score_sledai(present, new, version)).all()


@settings(max_examples=200, deadline=None)
@given(sledai_states(), st.integers(min_value=0, max_value=23))
def test_marking_a_descriptor_new_never_lowers_score(
    st_: tuple[np.ndarray, np.ndarray], index: int
) -> None:
    present, new = st_
    newer = new.copy()
    newer[:, index] = True
    for version in VERSIONS:
        assert (score_sledai(present, newer, version) >= score_sledai(present, new, version)).all()


# ----------------------------------------------------------------------- BILAG


@settings(max_examples=200, deadline=None)
@given(bilag_grades())
def test_bilag_numeric_in_range_and_equals_reference(grades: np.ndarray) -> None:
    got = numeric_score(grades)
    assert got.shape == (grades.shape[0],)
    assert ((got >= 0) & (got <= 108)).all()
    expected = [sum(BILAG_VALUE[c] for c in row) for row in grades.tolist()]
    assert got.tolist() == expected


@settings(max_examples=200, deadline=None)
@given(bilag_grades())
def test_bilag_letters_and_codes_agree(grades: np.ndarray) -> None:
    letters = np.array(list("ABCDE"))[grades]
    lower = np.array(list("abcde"))[grades]
    codes_score = numeric_score(grades).tolist()
    assert numeric_score(letters).tolist() == codes_score
    assert numeric_score(lower).tolist() == codes_score


@settings(max_examples=200, deadline=None)
@given(
    bilag_grades(),
    st.integers(min_value=0, max_value=8),
    st.integers(min_value=0, max_value=4),
)
def test_bilag_numeric_monotone_in_severity(grades: np.ndarray, domain: int, target: int) -> None:
    worse = grades.copy()
    # move the domain to `target` wherever that is at least as severe (lower code)
    worse[:, domain] = np.minimum(grades[:, domain], target)
    before = numeric_score(grades)
    after = numeric_score(worse)
    assert (after >= before).all()
    expected_rise = [
        BILAG_VALUE[int(new)] - BILAG_VALUE[int(old)]
        for old, new in zip(grades[:, domain], worse[:, domain], strict=True)
    ]
    assert (after - before).tolist() == expected_rise


@settings(max_examples=200, deadline=None)
@given(bilag_grades())
def test_compare_bilag_with_itself(grades: np.ndarray) -> None:
    c = compare_bilag(grades, grades)
    assert c.new_a.tolist() == [0] * grades.shape[0]
    assert c.new_b.tolist() == [0] * grades.shape[0]
    assert c.no_worsening.all()
    # A->A and B->B are not improvements, so only rows without A or B pass BICLA
    expected_improved = [not any(code in (0, 1) for code in row) for row in grades.tolist()]
    assert c.all_improved.tolist() == expected_improved


@settings(max_examples=200, deadline=None)
@given(bilag_grades(), bilag_grades())
def test_compare_bilag_counts_match_reference(base: np.ndarray, follow: np.ndarray) -> None:
    k = min(base.shape[0], follow.shape[0])
    base, follow = base[:k], follow[:k]
    c = compare_bilag(base, follow)
    for i in range(k):
        pairs = list(zip(base[i].tolist(), follow[i].tolist(), strict=True))
        new_a = sum(1 for b, f in pairs if f == 0 and b != 0)
        new_b = sum(1 for b, f in pairs if f == 1 and b >= 2)
        improved = all(not (b == 0 and f == 0) and not (b == 1 and f <= 1) for b, f in pairs)
        assert int(c.new_a[i]) == new_a
        assert int(c.new_b[i]) == new_b
        assert bool(c.no_worsening[i]) is (new_a == 0 and new_b <= 1)
        assert bool(c.all_improved[i]) is improved


@settings(max_examples=200, deadline=None)
@given(bilag_grades())
def test_global_severity_matches_counts(grades: np.ndarray) -> None:
    got = global_severity(grades).tolist()
    for row, level in zip(grades.tolist(), got, strict=True):
        n_a, n_b, n_c = row.count(0), row.count(1), row.count(2)
        if n_a:
            assert level == "severe"
        elif n_b >= 2:
            assert level == "moderate"
        elif n_b == 1 or n_c:
            assert level == "mild"
        else:
            assert level == "none"


def test_rng_generated_trial_matches_reference() -> None:
    """A larger (subjects, visits, 24) trial drawn with a seeded Generator."""
    rng = np.random.default_rng(20240611)
    present = rng.random((40, 6, 24)) < 0.3
    new = rng.random((40, 6, 24)) < 0.5
    for version in VERSIONS:
        got = score_sledai(present, new, version)
        assert got.shape == (40, 6)
        flat = reference_sledai(present.reshape(-1, 24), new.reshape(-1, 24), version)
        assert got.ravel().tolist() == flat
