"""Unit tests of lupsim.analysis.gsd (group-sequential designs).

Reference boundaries are published outputs of rpact and gsDesign; each is kept
with the call that produced it and where it was printed. They are compared
within 1e-3: the references are printed to 6-8 digits by packages with their
own integration grids and solver tolerances (rpact 1e-8, gsDesign r = 18), so a
correct implementation may differ from them in the 6th-7th digit, while any
error of substance (one- vs two-sided alpha in the spending function, a wrong
correlation, the wrong spending function) moves a boundary by more than 0.01.
A second check holds the rpact values to 1e-6, the accuracy lupsim documents.

Monte Carlo checks simulate the canonical joint distribution of the Z
statistics independently of lupsim's numerical integration, and allow 4
binomial standard errors (a two-sided 6e-5 false-alarm rate per comparison).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from lupsim.analysis.gsd import (
    GroupSequentialDesign,
    crossing_probabilities,
    drift_for_power,
    efficacy_boundaries,
    futility_boundaries,
    group_sequential_design,
    obrien_fleming_spending,
    pocock_spending,
)
from lupsim.errors import AnalysisError, LupsimError

N_MC = 200_000


Spend = Callable[[np.ndarray, float], np.ndarray]


def kim_demets(gamma: float) -> Spend:
    """rpact's "asKD"/"bsKD" power family: total * t**gamma."""
    return lambda t, total: total * np.asarray(t) ** gamma


def tabulated(values: dict[float, float]) -> Spend:
    """rpact's "asUser"/"bsUser": cumulative spending given at the looks."""
    return lambda t, total: np.array([values[round(float(x), 6)] for x in t])


# --------------------------------------------------------------------------- references

# gsDesign::gsDesign(k = 3, test.type = 1, alpha = 0.025, sfu = sfLDOF,
#                    timing = c(1, 2, 3) / 3)$upper$bound
#   [1] 3.710303 2.511427 1.993048
# Source: gosukehommaEX/FastSurvival, articles/group-sequential-design.md (rendered
# vignette output). rpact's getDesignGroupSequential(kMax = 3, alpha = 0.025,
# typeOfDesign = "asOF") gives the same boundaries (about 3.710, 2.511, 1.993).
GSDESIGN_LDOF_K3 = [3.710303, 2.511427, 1.993048]


@dataclass(frozen=True)
class Rpact:
    """A getDesignGroupSequential() result printed in rpact's own unit tests."""

    t: list[float]
    alpha: float
    critical: list[float]
    futility: list[float] = field(default_factory=list)  # interim looks only
    beta: float | None = None
    alpha_spent: list[float] | None = None
    beta_spent: list[float] | None = None


# rpact, tests/testthat/test-f_design_group_sequential.R (rpact-com/rpact, commit
# 1d81a55), object x7a:
#   getDesignGroupSequential(kMax = 3, alpha = 0.13, beta = 0.41,
#       typeOfDesign = "asOF", typeBetaSpending = "bsKD",
#       informationRates = c(0.4, 0.75, 1), gammaB = 2.5, bindingFutility = FALSE)
RPACT_X7A_K3 = Rpact(
    t=[0.4, 0.75, 1.0],
    alpha=0.13,
    beta=0.41,
    critical=[2.1280732, 1.4368565, 1.2468994],
    alpha_spent=[0.016665509, 0.080406163, 0.12999999],
    futility=[-0.83725762, 0.35992547],
    beta_spent=[0.041489083, 0.19972711, 0.41],
)
# Same file, the kMax = 4 version of x7a:
#   getDesignGroupSequential(kMax = 4, alpha = 0.13, beta = 0.41,
#       typeOfDesign = "asOF", typeBetaSpending = "bsKD",
#       informationRates = c(0.4, 0.75, 0.85, 1), gammaB = 2.5, bindingFutility = FALSE)
RPACT_X7A_K4 = Rpact(
    t=[0.4, 0.75, 0.85, 1.0],
    alpha=0.13,
    beta=0.41,
    critical=[2.1280732, 1.4368565, 1.422873, 1.2970881],
    futility=[-0.82676531, 0.3743303, 0.65077266],
)
# Same file, object x6a (Lan-DeMets Pocock alpha spending, user beta spending):
#   getDesignGroupSequential(kMax = 3, alpha = 0.13, typeOfDesign = "asP",
#       typeBetaSpending = "bsUser", informationRates = c(0.35, 0.7, 1),
#       bindingFutility = FALSE, userBetaSpending = c(0.01, 0.05, 0.3))
RPACT_X6A = Rpact(
    t=[0.35, 0.7, 1.0],
    alpha=0.13,
    beta=0.3,
    critical=[1.5446617, 1.4828682, 1.4620058],
    alpha_spent=[0.061214062, 0.10266465, 0.13],
    futility=[-1.2557044, -0.16828659],
)
RPACT_X6A_BETA_SPENDING = {0.35: 0.01, 0.7: 0.05, 1.0: 0.3}
# Same file, object x5 (user alpha spending, default kMax = 4 equally spaced):
#   getDesignGroupSequential(typeOfDesign = "asUser",
#       userAlphaSpending = c(0.01, 0.02, 0.03, 0.05))
RPACT_X5 = Rpact(
    t=[0.25, 0.5, 0.75, 1.0],
    alpha=0.05,
    critical=[2.3263479, 2.2192994, 2.1201347, 1.8189562],
)
RPACT_X5_SPENDING = {0.25: 0.01, 0.5: 0.02, 0.75: 0.03, 1.0: 0.05}

REFERENCE_TOL = 1e-3  # see the module docstring
ACCURACY_TOL = 1e-6  # lupsim's documented agreement with rpact


def test_obf_three_equal_looks_gsdesign() -> None:
    b = efficacy_boundaries([1 / 3, 2 / 3, 1], alpha=0.025, spending="obf")
    np.testing.assert_allclose(b, GSDESIGN_LDOF_K3, rtol=0, atol=REFERENCE_TOL)


@pytest.mark.parametrize("ref", [RPACT_X7A_K3, RPACT_X7A_K4], ids=["kMax3", "kMax4"])
def test_obf_unequal_looks_with_beta_spending_rpact(ref: Rpact) -> None:
    assert ref.beta is not None
    d = group_sequential_design(
        ref.t, alpha=ref.alpha, spending="obf", beta=ref.beta, beta_spending=kim_demets(2.5)
    )
    for tol in (REFERENCE_TOL, ACCURACY_TOL):
        np.testing.assert_allclose(d.efficacy_z, ref.critical, rtol=0, atol=tol)
        np.testing.assert_allclose(d.futility_z[:-1], ref.futility, rtol=0, atol=tol)
    if ref.alpha_spent is not None and ref.beta_spent is not None:
        np.testing.assert_allclose(d.alpha_spent, ref.alpha_spent, rtol=0, atol=1e-7)
        assert d.beta_spent is not None
        np.testing.assert_allclose(d.beta_spent, ref.beta_spent, rtol=0, atol=1e-7)
    # The final futility boundary meets the efficacy one: power is 1 - beta.
    assert d.futility_z[-1] == d.efficacy_z[-1]
    assert d.drift is not None
    up, _ = crossing_probabilities(d.information_fractions, d.efficacy_z, d.futility_z, d.drift)
    assert float(up.sum()) == pytest.approx(1 - ref.beta, abs=1e-7)


def test_pocock_spending_with_user_beta_spending_rpact() -> None:
    ref = RPACT_X6A
    assert ref.beta is not None
    assert ref.alpha_spent is not None
    d = group_sequential_design(
        ref.t,
        alpha=ref.alpha,
        spending="pocock",
        beta=ref.beta,
        beta_spending=tabulated(RPACT_X6A_BETA_SPENDING),
    )
    for tol in (REFERENCE_TOL, ACCURACY_TOL):
        np.testing.assert_allclose(d.efficacy_z, ref.critical, rtol=0, atol=tol)
        np.testing.assert_allclose(d.futility_z[:-1], ref.futility, rtol=0, atol=tol)
    np.testing.assert_allclose(d.alpha_spent, ref.alpha_spent, rtol=0, atol=1e-7)


def test_user_alpha_spending_rpact() -> None:
    ref = RPACT_X5
    b = efficacy_boundaries(ref.t, ref.alpha, spending=tabulated(RPACT_X5_SPENDING))
    for tol in (REFERENCE_TOL, ACCURACY_TOL):
        np.testing.assert_allclose(b, ref.critical, rtol=0, atol=tol)


# --------------------------------------------------------------------------- Monte Carlo


def simulate_z(t: np.ndarray, drift: float, n: int, seed: int) -> np.ndarray:
    """n sequences of (Z_1..Z_K) from independent Brownian increments."""
    rng = np.random.default_rng(seed)
    dt = np.diff(t, prepend=0.0)
    w = np.cumsum(rng.normal(drift * dt, np.sqrt(dt), size=(n, t.size)), axis=1)
    return np.asarray(w / np.sqrt(t))


def first_crossing(crossed: np.ndarray) -> np.ndarray:
    """Cumulative share of sequences that crossed by each look."""
    return np.asarray(np.logical_or.accumulate(crossed, axis=1).mean(axis=0))


def assert_within_mc(observed: np.ndarray, expected: np.ndarray, n: int) -> None:
    se = np.sqrt(expected * (1 - expected) / n)
    # A floor of 1e-5 keeps looks that spend (almost) nothing from demanding exactness.
    assert np.all(np.abs(observed - expected) <= 4 * np.maximum(se, 1e-5)), (
        observed,
        expected,
        se,
    )


@pytest.mark.statistical
@pytest.mark.parametrize(
    ("fractions", "alpha", "spending", "seed"),
    [
        ([1 / 3, 2 / 3, 1], 0.025, "obf", 1),
        ([1 / 3, 2 / 3, 1], 0.025, "pocock", 2),
        ([0.2, 0.4, 0.6, 0.8, 1.0], 0.025, "obf", 3),
        ([0.25, 0.6, 1.0], 0.05, "pocock", 4),
        ([0.4, 0.75, 0.85, 1.0], 0.13, "obf", 5),
    ],
)
def test_alpha_spent_matches_spending_function(
    fractions: list[float], alpha: float, spending: str, seed: int
) -> None:
    t = np.asarray(fractions)
    b = efficacy_boundaries(t, alpha, spending)  # type: ignore[arg-type]
    z = simulate_z(t, 0.0, N_MC, seed)
    observed = first_crossing(z >= b)
    spend = obrien_fleming_spending if spending == "obf" else pocock_spending
    assert_within_mc(observed, spend(t, alpha), N_MC)


@pytest.mark.statistical
@pytest.mark.parametrize("with_efficacy", [False, True])
def test_beta_spent_matches_spending_function(with_efficacy: bool) -> None:
    t = np.array([0.3, 0.6, 0.8, 1.0])
    beta, drift = 0.15, 3.0
    b = efficacy_boundaries(t, 0.025, "obf")
    a = futility_boundaries(t, beta, drift, "pocock", efficacy=b if with_efficacy else None)
    z = simulate_z(t, drift, N_MC, 11 + with_efficacy)
    if with_efficacy:
        # First exit: futility counts only if efficacy was not crossed before or at it.
        futile = np.zeros(N_MC, dtype=bool)
        running = np.zeros(N_MC, dtype=bool)
        observed = []
        for k in range(t.size):
            futile |= ~running & (z[:, k] <= a[k]) & (z[:, k] < b[k])
            running |= (z[:, k] >= b[k]) | (z[:, k] <= a[k])
            observed.append(futile.mean())
        observed_arr = np.asarray(observed)
    else:
        observed_arr = first_crossing(z <= a)
    assert_within_mc(observed_arr, pocock_spending(t, beta), N_MC)


@pytest.mark.statistical
def test_design_power_by_simulation() -> None:
    d = group_sequential_design([1 / 3, 2 / 3, 1], alpha=0.025, spending="obf", beta=0.1)
    assert d.drift is not None
    z = simulate_z(d.information_fractions, d.drift, N_MC, 21)
    stopped = np.zeros(N_MC, dtype=bool)
    success = np.zeros(N_MC, dtype=bool)
    for k in range(d.n_looks):
        eff = ~stopped & (z[:, k] >= d.efficacy_z[k])
        success |= eff
        stopped |= eff | (z[:, k] <= d.futility_z[k])
    assert_within_mc(np.array([success.mean()]), np.array([0.9]), N_MC)


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("k", range(2, 11))
def test_obf_boundaries_decrease(k: int) -> None:
    b = efficacy_boundaries(np.arange(1, k + 1) / k, 0.025, "obf")
    assert np.all(np.diff(b) < 0)
    assert b[0] - b[-1] > 0.9  # very conservative early


@pytest.mark.parametrize("k", range(2, 6))
def test_pocock_boundaries_nearly_constant_for_equal_spacing(k: int) -> None:
    # Lan-DeMets Pocock spending only approximates Pocock's constant boundary: for
    # 2-5 equally spaced looks it varies by less than 0.06 (about 2%), where the
    # O'Brien-Fleming-type boundaries fall by more than 0.9.
    b = efficacy_boundaries(np.arange(1, k + 1) / k, 0.025, "pocock")
    assert b.max() - b.min() < 0.06


@settings(max_examples=40, deadline=None)
@given(alpha=st.floats(0.001, 0.49), spending=st.sampled_from(["obf", "pocock"]))
def test_single_look_is_the_fixed_design(alpha: float, spending: str) -> None:
    b = efficacy_boundaries([1.0], alpha, spending)  # type: ignore[arg-type]
    assert b[0] == pytest.approx(norm.ppf(1 - alpha), abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    increments=st.lists(st.floats(0.05, 1.0), min_size=2, max_size=6),
    alpha=st.sampled_from([0.005, 0.025, 0.05, 0.2]),
    spending=st.sampled_from(["obf", "pocock"]),
)
def test_boundaries_spend_exactly_the_spending_function(
    increments: list[float], alpha: float, spending: str
) -> None:
    t = np.cumsum(increments) / np.sum(increments)
    b = efficacy_boundaries(t, alpha, spending)  # type: ignore[arg-type]
    up, _ = crossing_probabilities(t, b)
    spend = obrien_fleming_spending if spending == "obf" else pocock_spending
    np.testing.assert_allclose(np.cumsum(up), spend(t, alpha), rtol=1e-6, atol=1e-10)


def test_spending_functions() -> None:
    # 2 - 2 Phi(z_{1 - alpha/2} / sqrt(t)), written as 2 Phi-bar(.) to keep the
    # digits at small t, and alpha ln(1 + (e - 1) t).
    t = np.array([0.0, 0.1, 0.5, 1.0])
    with np.errstate(divide="ignore"):
        expected_obf = np.where(t > 0, 2 * norm.sf(norm.ppf(1 - 0.025 / 2) / np.sqrt(t)), 0.0)
    np.testing.assert_allclose(obrien_fleming_spending(t, 0.025), expected_obf, rtol=1e-12)
    np.testing.assert_allclose(pocock_spending(t, 0.025), 0.025 * np.log(1 + (np.e - 1) * t))
    assert obrien_fleming_spending(1.0, 0.05) == pytest.approx(0.05)
    assert isinstance(pocock_spending(0.5, 0.05), float)
    assert obrien_fleming_spending(0.0, 0.05) == 0.0


def test_no_spending_at_a_look_means_no_efficacy_stop() -> None:
    # A spending function flat between 0.5 and 0.8 puts no boundary at 0.8.
    spend = tabulated({0.5: 0.01, 0.8: 0.01, 1.0: 0.025})
    b = efficacy_boundaries([0.5, 0.8, 1.0], 0.025, spend)
    assert b[1] == np.inf
    up, _ = crossing_probabilities([0.5, 0.8, 1.0], b)
    np.testing.assert_allclose(np.cumsum(up), [0.01, 0.01, 0.025], atol=1e-9)


def test_drift_for_power_single_look() -> None:
    # Fixed design: drift = z_{1-alpha} + z_{power}.
    drift = drift_for_power([1.0], [norm.ppf(0.975)], 0.9)
    assert drift == pytest.approx(norm.ppf(0.975) + norm.ppf(0.9), abs=1e-8)


def test_drift_for_power_sequential() -> None:
    t = [1 / 3, 2 / 3, 1]
    b = efficacy_boundaries(t, 0.025, "obf")
    drift = drift_for_power(t, b, 0.8)
    up, _ = crossing_probabilities(t, b, drift=drift)
    assert float(up.sum()) == pytest.approx(0.8, abs=1e-8)
    # Sequential testing costs a little information: drift above the fixed design's.
    assert drift > norm.ppf(0.975) + norm.ppf(0.8)
    with pytest.raises(AnalysisError, match="not above the design's type I error"):
        drift_for_power(t, b, 0.02)


def test_futility_given_drift() -> None:
    t = [0.5, 1.0]
    a = futility_boundaries(t, beta=0.1, drift=3.0, spending="pocock")
    # Look 1 closed form: P(Z_1 <= a_1) = beta(0.5) with Z_1 ~ N(3 sqrt(0.5), 1).
    assert a[0] == pytest.approx(3.0 * np.sqrt(0.5) + norm.ppf(pocock_spending(0.5, 0.1)))
    d = group_sequential_design(t, alpha=0.025, spending="obf", beta=0.1, drift=3.0)
    assert d.drift == 3.0
    assert d.futility_z[-1] == d.efficacy_z[-1]
    assert np.all(d.futility_z <= d.efficacy_z)


def test_design_without_futility() -> None:
    d = group_sequential_design([0.5, 1.0], alpha=0.025)
    assert np.all(d.futility_z == -np.inf)
    assert d.beta is None
    assert d.beta_spent is None
    assert d.drift is None
    np.testing.assert_allclose(d.nominal_p, norm.sf(d.efficacy_z))
    np.testing.assert_allclose(d.alpha_spent, obrien_fleming_spending(np.array([0.5, 1.0]), 0.025))


# --------------------------------------------------------------------------- design object


def test_decide() -> None:
    d = group_sequential_design([1 / 3, 2 / 3, 1], alpha=0.025, spending="obf", beta=0.2)
    b, a = d.efficacy_z, d.futility_z
    assert d.decide(b[0], look=1) == "efficacy"
    assert d.decide(b[0] - 1e-6, look=1) == "continue"
    assert d.decide(a[0], look=1) == "futility"
    assert d.decide([b[1] + 0.1, (a[1] + b[1]) / 2, a[1] - 0.1], look=2).tolist() == [
        "efficacy",
        "continue",
        "futility",
    ]
    # No "continue" at the final analysis.
    assert d.decide(b[2], look=3) == "efficacy"
    assert d.decide(b[2] - 1e-6, look=3) == "futility"
    no_futility = group_sequential_design([0.5, 1.0], alpha=0.025)
    assert no_futility.decide(-10.0, look=1) == "continue"


@pytest.mark.parametrize("look", [0, 4, 1.5, True])
def test_decide_rejects_unknown_looks(look: object) -> None:
    d = group_sequential_design([1 / 3, 2 / 3, 1], alpha=0.025)
    with pytest.raises(AnalysisError, match="look"):
        d.decide(1.0, look=look)  # type: ignore[call-overload]


def test_decide_rejects_nan() -> None:
    d = group_sequential_design([0.5, 1.0], alpha=0.025)
    with pytest.raises(AnalysisError, match="NaN"):
        d.decide([1.0, float("nan")], look=1)


def test_to_frame() -> None:
    d = group_sequential_design([0.5, 1.0], alpha=0.025, beta=0.2)
    frame = d.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [
        "look",
        "information_fraction",
        "efficacy_z",
        "nominal_p",
        "alpha_spent",
        "futility_z",
        "beta_spent",
    ]
    assert frame["look"].tolist() == [1, 2]
    assert "beta_spent" not in group_sequential_design([0.5, 1.0]).to_frame()


def test_design_is_frozen_and_read_only() -> None:
    d = group_sequential_design([0.5, 1.0], alpha=0.025)
    assert isinstance(d, GroupSequentialDesign)
    with pytest.raises(AttributeError):
        d.alpha = 0.05  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        d.efficacy_z[0] = 0.0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: efficacy_boundaries([0.5, 0.5, 1.0], 0.025), "strictly increasing"),
        (lambda: efficacy_boundaries([0.6, 0.3, 1.0], 0.025), "strictly increasing"),
        (lambda: efficacy_boundaries([0.0, 1.0], 0.025), "must lie in (0, 1]"),
        (lambda: efficacy_boundaries([0.5, 1.2], 0.025), "must lie in (0, 1]"),
        (lambda: efficacy_boundaries([0.3, 0.8], 0.025), "last information fraction must be 1"),
        (lambda: efficacy_boundaries([], 0.025), "non-empty"),
        (lambda: efficacy_boundaries([1.0], 0.5), "alpha must be in (0, 0.5)"),
        (lambda: efficacy_boundaries([1.0], 0.0), "alpha must be in (0, 0.5)"),
        (lambda: efficacy_boundaries([1.0], 0.025, "pocok"), "did you mean 'pocock'"),  # type: ignore[arg-type]
        (
            lambda: efficacy_boundaries([0.5, 1.0], 0.025, lambda t, a: a * t / 2),
            "it must spend exactly the total",
        ),
        (
            lambda: efficacy_boundaries([0.5, 1.0], 0.025, lambda t, a: np.where(t < 1, 0.03, a)),
            "nondecreasing",
        ),
        (lambda: futility_boundaries([1.0], beta=1.0, drift=3.0), "beta must be in (0, 1)"),
        (lambda: futility_boundaries([1.0], beta=0.1, drift=float("inf")), "drift must be finite"),
        (lambda: futility_boundaries([0.5, 1.0], 0.1, 3.0, efficacy=[2.0]), "one value per look"),
        (lambda: obrien_fleming_spending(1.5, 0.025), "outside [0, 1]"),
        (
            lambda: drift_for_power([0.5, 1.0], [np.inf, 2.0], 0.9, futility=[100.0, -np.inf]),
            "cannot be reached",
        ),
        (lambda: group_sequential_design([0.5, 1.0], drift=3.0), "give beta too"),
        (lambda: group_sequential_design([0.5, 1.0], alpha=0.025, beta=0.98), "beta must be in"),
    ],
)
def test_invalid_inputs_are_named(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AnalysisError, match=re.escape(message)) as info:
        call()
    assert isinstance(info.value, LupsimError)
    assert isinstance(info.value, ValueError)
