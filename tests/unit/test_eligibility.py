"""Eligibility rules: parsing, evaluation against a direct numpy computation,
error messages, and screening (eligible, first failure, labels)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from lupsim.cohort.columns import VARIABLES, PatientView
from lupsim.cohort.eligibility import Eligibility, parse_rule
from lupsim.cohort.model import build_patients, default_parameters, draw_noise


def make_view(n: int = 400, seed: int = 11) -> PatientView:
    noise = draw_noise(n, np.random.default_rng(seed))
    patients = build_patients(
        noise, default_parameters(), region_codes=(6,), age_range=(18.0, 75.0)
    )
    return PatientView(patients)


@pytest.fixture(scope="module")
def view() -> PatientView:
    return make_view()


def both_outcomes(mask: np.ndarray) -> None:
    """A comparison is only informative when some patients pass and some fail."""
    assert mask.any()
    assert not mask.all()


# --- evaluation ------------------------------------------------------------------


def test_comparison_matches_numpy(view: PatientView) -> None:
    sledai = view["selena_sledai"]
    for op, fn in [
        (">=", np.greater_equal),
        (">", np.greater),
        ("<=", np.less_equal),
        ("<", np.less),
        ("==", np.equal),
        ("!=", np.not_equal),
    ]:
        got = parse_rule(f"selena_sledai {op} 6").evaluate(view)
        expected = fn(sledai, 6)
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got, expected, err_msg=op)
    both_outcomes(parse_rule("selena_sledai >= 6").evaluate(view))


def test_and_binds_tighter_than_or(view: PatientView) -> None:
    sledai, age, female = view["selena_sledai"], view["age"], view["female"]
    got = parse_rule("selena_sledai >= 6 and age < 40 or female").evaluate(view)
    expected = ((sledai >= 6) & (age < 40)) | female
    np.testing.assert_array_equal(got, expected)
    # the other grouping gives a different answer on these patients, so the
    # check above tells the two apart
    wrong = (sledai >= 6) & ((age < 40) | female)
    assert not np.array_equal(expected, wrong)


def test_or_then_and(view: PatientView) -> None:
    age, male, sledai = view["age"], view["male"], view["selena_sledai"]
    got = parse_rule("male or age >= 50 and selena_sledai < 4").evaluate(view)
    expected = male | ((age >= 50) & (sledai < 4))
    np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(expected, (male | (age >= 50)) & (sledai < 4))


def test_or_of_serology(view: PatientView) -> None:
    got = parse_rule("ana_titre >= 80 or anti_dsdna_iu >= 30").evaluate(view)
    expected = (view["ana_titre"] >= 80) | (view["anti_dsdna_iu"] >= 30)
    np.testing.assert_array_equal(got, expected)
    both_outcomes(expected)


def test_yes_no_variable_and_not(view: PatientView) -> None:
    female = np.asarray(view["female"], dtype=bool)
    both_outcomes(female)
    np.testing.assert_array_equal(parse_rule("female").evaluate(view), female)
    np.testing.assert_array_equal(parse_rule("not female").evaluate(view), ~female)
    np.testing.assert_array_equal(
        parse_rule("female and not low_c3").evaluate(view),
        female & ~np.asarray(view["low_c3"], dtype=bool),
    )


def test_not_on_a_derived_bool(view: PatientView) -> None:
    nephritis = np.asarray(view["severe_active_nephritis"], dtype=bool)
    np.testing.assert_array_equal(
        parse_rule("not severe_active_nephritis").evaluate(view), ~nephritis
    )


def test_negative_and_decimal_numbers(view: PatientView) -> None:
    np.testing.assert_array_equal(
        parse_rule("prednisone_mg > 7.5").evaluate(view), view["prednisone_mg"] > 7.5
    )
    assert parse_rule("age > -1").evaluate(view).all()


def test_variables_of_a_rule() -> None:
    rule = parse_rule("selena_sledai >= 6 and age < 40 or not female")
    assert rule.variables == frozenset({"selena_sledai", "age", "female"})


# --- errors ---------------------------------------------------------------------------


def rule_error(text: str) -> str:
    with pytest.raises(ValueError) as info:  # noqa: PT011 - message checked by callers
        parse_rule(text)
    return str(info.value)


def test_unknown_variable_with_did_you_mean() -> None:
    msg = rule_error("sledai >= 6")
    assert msg.startswith("rule 'sledai >= 6': unknown variable 'sledai'")
    assert "(did you mean 'sledai_2k'?)" in msg
    msg = rule_error("selena_sleda >= 6")
    assert "(did you mean 'selena_sledai'?)" in msg


def test_text_variable_cannot_be_compared() -> None:
    msg = rule_error("race >= 1")
    assert msg.startswith("rule 'race >= 1': 'race' is text and cannot be compared with a number")
    assert "race_black" in msg


def test_bare_number_variable() -> None:
    msg = rule_error("age")
    assert msg == "rule 'age': 'age' is a number, not yes/no; compare it, e.g. 'age >= 1'"


def test_bare_text_variable() -> None:
    assert "'race' is a text, not yes/no" in rule_error("race")


def test_not_before_a_comparison() -> None:
    msg = rule_error("not age >= 18")
    assert msg.startswith("rule 'not age >= 18': 'not' applies to yes/no variables")
    assert "invert the comparison" in msg


def test_not_alone() -> None:
    assert "'not' must be followed by a yes/no variable" in rule_error("not")


@pytest.mark.parametrize("joiner", ["and", "or"])
def test_dangling_joiner(joiner: str) -> None:
    msg = rule_error(f"selena_sledai >= 6 {joiner}")
    assert msg == f"rule 'selena_sledai >= 6 {joiner}': '{joiner}' must be followed by a condition"


def test_leading_joiner() -> None:
    assert "expected a variable name, got 'and'" in rule_error("and female")


def test_missing_number() -> None:
    assert rule_error("age >=") == "rule 'age >=': age >= needs a number after it"


def test_not_a_number() -> None:
    msg = rule_error("age >= old")
    assert msg == "rule 'age >= old': age >= must be followed by a number, got 'old'"


def test_two_variables_without_a_joiner() -> None:
    msg = rule_error("female antimalarial")
    assert (
        msg
        == "rule 'female antimalarial': expected 'and' or 'or' after 'female', got 'antimalarial'"
    )


def test_parentheses_are_not_supported() -> None:
    assert "expected a variable name, got '('" in rule_error("(age >= 18)")


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_rule(text: str) -> None:
    assert rule_error(text) == "a rule cannot be empty; write e.g. 'selena_sledai >= 6'"


def test_every_registered_variable_is_usable_in_a_rule() -> None:
    for name, var in VARIABLES.items():
        text = {"number": f"{name} >= 0", "bool": name, "text": None}[var.kind]
        if text is not None:
            assert parse_rule(text).variables == {name}


# --- Eligibility and screening -----------------------------------------------------------


def test_eligibility_rejects_a_bad_rule() -> None:
    with pytest.raises(ValidationError, match="unknown variable 'sledai'"):
        Eligibility(include=("sledai >= 6",))
    with pytest.raises(ValidationError, match="cannot be empty"):
        Eligibility(exclude=("",))


def test_screen_eligible_iff_all_include_and_no_exclude(view: PatientView) -> None:
    elig = Eligibility(
        include=("selena_sledai >= 4", "age < 60"),
        exclude=("severe_active_nephritis", "male"),
    )
    res = elig.screen(view)
    sledai, age = view["selena_sledai"], view["age"]
    nephritis, male = view["severe_active_nephritis"], view["male"]
    expected = (sledai >= 4) & (age < 60) & ~nephritis & ~male
    assert res.eligible.dtype == np.bool_
    np.testing.assert_array_equal(res.eligible, expected)
    both_outcomes(expected)


def test_first_failure_is_the_first_rule_broken(view: PatientView) -> None:
    elig = Eligibility(
        include=("selena_sledai >= 4", "age < 45"),
        exclude=("male", "low_c3"),
    )
    res = elig.screen(view)
    fails = np.stack(
        [
            ~(view["selena_sledai"] >= 4),
            ~(view["age"] < 45),
            np.asarray(view["male"], dtype=bool),
            np.asarray(view["low_c3"], dtype=bool),
        ]
    )
    any_fail = fails.any(axis=0)
    expected = np.where(any_fail, np.argmax(fails, axis=0), -1)
    np.testing.assert_array_equal(res.first_failure, expected)
    np.testing.assert_array_equal(res.eligible, ~any_fail)
    assert (res.first_failure[res.eligible] == -1).all()
    # every rule is somebody's first failure, and some patients break several
    # rules, so "first" is tested and not just "some"
    assert set(np.unique(res.first_failure)) == {-1, 0, 1, 2, 3}
    assert (fails.sum(axis=0) >= 2).any()


def test_no_rules_everyone_eligible(view: PatientView) -> None:
    res = Eligibility().screen(view)
    assert res.eligible.all()
    assert (res.first_failure == -1).all()
    assert len(res.eligible) == len(view["age"])


def test_labels_and_rules_order() -> None:
    elig = Eligibility(include=("acr1997", "selena_sledai >= 6"), exclude=("severe_active_cns",))
    assert elig.labels() == (
        "include: acr1997",
        "include: selena_sledai >= 6",
        "exclude: severe_active_cns",
    )
    assert [kind for kind, _ in elig.rules] == ["include", "include", "exclude"]
    assert elig.variables == frozenset({"acr1997", "selena_sledai", "severe_active_cns"})


def test_bliss52_rules_screen_like_numpy(bliss52) -> None:  # type: ignore[no-untyped-def]
    view = make_view(300, seed=5)
    res = bliss52.eligibility.screen(view)
    expected = (
        np.asarray(view["acr1997"], dtype=bool)
        & (view["selena_sledai"] >= 6)
        & ((view["ana_titre"] >= 80) | (view["anti_dsdna_iu"] >= 30))
        & ~np.asarray(view["severe_active_nephritis"], dtype=bool)
        & ~np.asarray(view["severe_active_cns"], dtype=bool)
    )
    np.testing.assert_array_equal(res.eligible, expected)
    both_outcomes(expected)
