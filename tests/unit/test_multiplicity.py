"""Unit tests of lupsim.analysis.multiplicity.

Expected values are computed by hand (arithmetic in the comments), by
statsmodels' ``multipletests``, by plain-loop reference implementations written
here from the published definitions, and by the closed weighted-Bonferroni test
that the graphical procedure is a shortcut of (Bretz et al., Stat Med
2009;28:586-604, section 3).
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from lupsim.analysis.multiplicity import (
    MultiplicityResult,
    bonferroni,
    fixed_sequence,
    graphical,
    hochberg,
    holm,
    holm_graph,
)
from lupsim.errors import AnalysisError, LupsimError

ALPHAS = st.sampled_from([0.01, 0.025, 0.05, 0.1, 0.2])
P_VALUES = st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=8)


# --------------------------------------------------------------------------- references


def reference_holm(p: list[float], alpha: float) -> list[bool]:
    """Holm (1979): step down through the sorted p-values at alpha / (m - i)."""
    m = len(p)
    reject = [False] * m
    for i, j in enumerate(sorted(range(m), key=lambda j: p[j])):
        if p[j] > alpha / (m - i):
            break
        reject[j] = True
    return reject


def reference_hochberg(p: list[float], alpha: float) -> list[bool]:
    """Hochberg (1988): step up from the largest p-value at alpha / (m - i)."""
    m = len(p)
    order = sorted(range(m), key=lambda j: p[j])
    for i in range(m - 1, -1, -1):
        if p[order[i]] <= alpha / (m - i):
            return [j in order[: i + 1] for j in range(m)]
    return [False] * m


def reference_update(w: dict[int, float], g: dict[tuple[int, int], float], j: int) -> None:
    """Delete H_j from a graph held as dicts (Bretz et al. 2009, Algorithm 1, step 2)."""
    rest = [k for k in w if k != j]
    new_w = {k: w[k] + w[j] * g[j, k] for k in rest}
    new_g = {}
    for a in rest:
        for b in rest:
            if a == b:
                new_g[a, b] = 0.0
                continue
            denom = 1.0 - g[a, j] * g[j, a]
            new_g[a, b] = (g[a, b] + g[a, j] * g[j, b]) / denom if denom > 0 else 0.0
    w.clear()
    w.update(new_w)
    g.clear()
    g.update(new_g)


def closed_test(
    p: np.ndarray, weights: np.ndarray, transitions: np.ndarray, alpha: float
) -> tuple[list[bool], list[float]]:
    """The closed weighted-Bonferroni test whose weights the graph defines.

    Each intersection H_J gets the weights left after deleting, one by one,
    the hypotheses outside J; H_J is rejected when some p_i <= w_i^J alpha.
    H_j is rejected when every intersection containing j is; its adjusted
    p-value is the largest over those intersections of min_i p_i / w_i^J.
    """
    m = len(p)
    local = {}
    for size in range(1, m + 1):
        for subset in itertools.combinations(range(m), size):
            w = {i: float(weights[i]) for i in range(m)}
            g = {(a, b): float(transitions[a, b]) for a in range(m) for b in range(m)}
            for out in (i for i in range(m) if i not in subset):
                reference_update(w, g, out)
            ratios = [float(p[i]) / w[i] if w[i] > 0 else np.inf for i in subset]
            local[subset] = min(ratios)
    adjusted = [min(1.0, max(v for s, v in local.items() if j in s)) for j in range(m)]
    return [a <= alpha for a in adjusted], adjusted


# --------------------------------------------------------------------------- by hand


def test_holm_by_hand() -> None:
    # Sorted: 0.01 (H1), 0.03 (H3), 0.04 (H2). Step 1: 0.01 <= 0.05/3 = 0.0167, reject
    # H1. Step 2: 0.03 > 0.05/2 = 0.025, stop: H2 and H3 stay.
    # Adjusted: H1 3 x 0.01 = 0.03; H3 max(0.03, 2 x 0.03) = 0.06; H2 max(0.06, 0.04).
    r = holm([0.01, 0.04, 0.03], alpha=0.05)
    assert r.reject.tolist() == [True, False, False]
    np.testing.assert_allclose(r.adjusted, [0.03, 0.06, 0.06])
    assert r.method == "holm"
    assert r.alpha == 0.05


def test_hochberg_by_hand() -> None:
    # Step up: the largest, 0.04 (H2), is <= 0.05/1, so every hypothesis is rejected.
    # Adjusted: H2 0.04; H3 min(0.04, 2 x 0.03) = 0.04; H1 min(0.04, 3 x 0.01) = 0.03.
    r = hochberg([0.01, 0.04, 0.03], alpha=0.05)
    assert r.reject.tolist() == [True, True, True]
    np.testing.assert_allclose(r.adjusted, [0.03, 0.04, 0.04])


def test_bonferroni_by_hand() -> None:
    # alpha / m = 0.0167: only 0.01 passes; adjusted = 3 p, capped at 1.
    r = bonferroni([0.01, 0.04, 0.03, 0.5], alpha=0.05)
    assert r.reject.tolist() == [True, False, False, False]
    np.testing.assert_allclose(r.adjusted, [0.04, 0.16, 0.12, 1.0])


def test_holm_rejects_nothing_when_the_smallest_fails() -> None:
    # 0.03 > 0.05 / 2: step-down stops at once, although 0.04 <= 0.05 / 1.
    assert holm([0.03, 0.04], alpha=0.05).reject.tolist() == [False, False]
    # Hochberg steps up: 0.04 <= 0.05 rejects both.
    assert hochberg([0.03, 0.04], alpha=0.05).reject.tolist() == [True, True]


def test_fixed_sequence_stops_at_first_non_rejection() -> None:
    # Order H1, H2, H3, H4: 0.01 <= 0.05 reject, 0.04 <= 0.05 reject, 0.06 > 0.05 stop;
    # H4's 0.001 is never tested. Adjusted = running maximum in testing order.
    r = fixed_sequence([0.01, 0.04, 0.06, 0.001], None, alpha=0.05)
    assert r.reject.tolist() == [True, True, False, False]
    np.testing.assert_allclose(r.adjusted, [0.01, 0.04, 0.06, 0.06])


def test_fixed_sequence_with_an_order() -> None:
    # Test H3 first (0.001), then H1 (0.02), then H2 (0.3): stop at H2.
    r = fixed_sequence([0.02, 0.3, 0.001], order=[2, 0, 1], alpha=0.025)
    assert r.reject.tolist() == [True, False, True]
    np.testing.assert_allclose(r.adjusted, [0.02, 0.3, 0.001])


def test_graphical_bretz_2011_figure_1() -> None:
    # Two primary hypotheses A1, A2 each gating a secondary one (B1, B2), whose weight
    # flows back to the other primary. Graph of Bretz, Posch, Glimm, Klinglmueller,
    # Maurer, Rohmeyer, Biom J 2011;53:894-913, Figure 1, and its test with
    # p = (.01, .02, .03, .05) at alpha = .05 as printed by graphicalMCP:
    #   test_graph_closure(g_dose, p = c(.01, .02, .03, .05), alpha = .05,
    #                      test_types = "b", groups = list(1:4))
    #   -> Adj. P-value 0.02 0.04 0.06 0.06, Reject TRUE TRUE FALSE FALSE
    # Source: Gilead-BioStats/graphicalMCP, README.md.
    # By hand: A1 0.01 <= 0.5 x 0.05 rejected, its 0.5 goes to B1; A2 0.02 <= 0.025
    # rejected, its 0.5 goes to B2; B1 0.03 > 0.025 and B2 0.05 > 0.025 stay.
    weights = [0.5, 0.5, 0.0, 0.0]
    transitions = np.array([[0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0], [1, 0, 0, 0]], dtype=float)
    r = graphical([0.01, 0.02, 0.03, 0.05], weights, transitions, alpha=0.05)
    assert r.reject.tolist() == [True, True, False, False]
    np.testing.assert_allclose(r.adjusted, [0.02, 0.04, 0.06, 0.06])


def test_graphical_secondary_rejected_after_its_primary() -> None:
    # Same graph; B1 (0.02) becomes testable at 0.025 once A1 (0.001) passes its weight.
    # Then B1's weight goes to A2 (weight 1.0): A2's 0.04 <= 0.05 rejected, then B2
    # inherits all the weight: 0.045 <= 0.05 rejected.
    weights = [0.5, 0.5, 0.0, 0.0]
    transitions = np.array([[0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0], [1, 0, 0, 0]], dtype=float)
    r = graphical([0.001, 0.04, 0.02, 0.045], weights, transitions, alpha=0.05)
    assert r.reject.tolist() == [True, True, True, True]


def test_graphical_zero_weight_never_reached() -> None:
    # H2 has no weight and no incoming edge: it is never tested, even with p = 0.
    r = graphical([0.001, 0.0], [1.0, 0.0], np.zeros((2, 2)), alpha=0.05)
    assert r.reject.tolist() == [True, False]
    assert r.adjusted.tolist() == [0.001, 1.0]


def test_holm_graph() -> None:
    w, g = holm_graph(4)
    np.testing.assert_allclose(w, 0.25)
    np.testing.assert_allclose(g.sum(axis=1), 1.0)
    assert np.all(np.diag(g) == 0)
    w1, g1 = holm_graph(1)
    assert w1.tolist() == [1.0]
    assert g1.tolist() == [[0.0]]


# --------------------------------------------------------------------------- properties


# Few examples: statsmodels' Holm runs gc.collect() on every call (~40 ms).
@settings(max_examples=60, deadline=None)
@given(p=P_VALUES, alpha=ALPHAS)
def test_classical_procedures_equal_statsmodels(p: list[float], alpha: float) -> None:
    for ours, method in ((bonferroni, "bonferroni"), (holm, "holm"), (hochberg, "simes-hochberg")):
        r = ours(p, alpha=alpha)
        reject, adjusted, _, _ = multipletests(np.asarray(p), alpha=alpha, method=method)
        assert r.reject.tolist() == reject.tolist()
        np.testing.assert_allclose(r.adjusted, np.minimum(adjusted, 1.0), rtol=0, atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(p=P_VALUES, alpha=ALPHAS)
def test_classical_procedures_follow_their_definitions(p: list[float], alpha: float) -> None:
    m = len(p)
    # Exact ties with a threshold can fall either way in floating point.
    assume(all(abs(x - alpha / k) > 1e-12 for x in p for k in range(1, m + 1)))
    assert holm(p, alpha=alpha).reject.tolist() == reference_holm(p, alpha)
    assert hochberg(p, alpha=alpha).reject.tolist() == reference_hochberg(p, alpha)
    assert bonferroni(p, alpha=alpha).reject.tolist() == [x <= alpha / m for x in p]
    for r in (holm(p, alpha=alpha), hochberg(p, alpha=alpha), bonferroni(p, alpha=alpha)):
        assert r.reject.tolist() == (r.adjusted <= alpha).tolist()


@settings(max_examples=200, deadline=None)
@given(p=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=2, max_size=7), alpha=ALPHAS)
def test_holm_graph_reproduces_holm(p: list[float], alpha: float) -> None:
    m = len(p)
    assume(all(abs(x - alpha / k) > 1e-9 for x in p for k in range(1, m + 1)))
    w, g = holm_graph(m)
    r = graphical(p, w, g, alpha=alpha)
    ref = holm(p, alpha=alpha)
    assert r.reject.tolist() == ref.reject.tolist()
    np.testing.assert_allclose(r.adjusted, ref.adjusted, rtol=1e-12, atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(
    p=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=7),
    alpha=ALPHAS,
    data=st.data(),
)
def test_fixed_sequence_as_a_graph(p: list[float], alpha: float, data: st.DataObject) -> None:
    # Weight 1 on the first hypothesis in the order, transition 1 along the chain.
    m = len(p)
    order = data.draw(st.permutations(range(m)))
    weights = np.zeros(m)
    weights[order[0]] = 1.0
    transitions = np.zeros((m, m))
    for a, b in itertools.pairwise(order):
        transitions[a, b] = 1.0
    r = graphical(p, weights, transitions, alpha=alpha)
    ref = fixed_sequence(p, order=order, alpha=alpha)
    assert r.reject.tolist() == ref.reject.tolist()
    np.testing.assert_allclose(r.adjusted, ref.adjusted)


@settings(max_examples=100, deadline=None)
@given(p=P_VALUES, alpha=ALPHAS)
def test_empty_graph_with_equal_weights_is_bonferroni(p: list[float], alpha: float) -> None:
    m = len(p)
    assume(all(abs(x - alpha / m) > 1e-12 for x in p))
    r = graphical(p, np.full(m, 1.0 / m), np.zeros((m, m)), alpha=alpha)
    ref = bonferroni(p, alpha=alpha)
    assert r.reject.tolist() == ref.reject.tolist()
    np.testing.assert_allclose(r.adjusted, ref.adjusted, rtol=1e-12)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = draw(st.integers(2, 4))
    unit = st.integers(0, 4).map(float)  # coarse shares: zeros and ties are common
    raw_w = np.array(draw(st.lists(unit, min_size=m, max_size=m)))
    scale = draw(st.sampled_from([1.0, 0.8]))
    weights = raw_w / raw_w.sum() * scale if raw_w.sum() > 0 else np.full(m, 1.0 / m)
    g = np.array(draw(st.lists(st.lists(unit, min_size=m, max_size=m), min_size=m, max_size=m)))
    np.fill_diagonal(g, 0.0)
    rows = g.sum(axis=1, keepdims=True)
    full = draw(st.booleans())  # exhaustive rows (sum 1) or partial ones
    g = np.where(rows > 0, g / np.where(rows > 0, rows, 1.0) * (1.0 if full else 0.7), 0.0)
    p = np.array(draw(st.lists(st.floats(0.0, 0.2), min_size=m, max_size=m)))
    return p, weights, g


@settings(max_examples=150, deadline=None)
@given(graph=graphs(), alpha=ALPHAS)
def test_graphical_is_the_closed_weighted_bonferroni_test(
    graph: tuple[np.ndarray, np.ndarray, np.ndarray], alpha: float
) -> None:
    p, weights, transitions = graph
    reject_ref, adjusted_ref = closed_test(p, weights, transitions, alpha)
    r = graphical(p, weights, transitions, alpha=alpha)
    np.testing.assert_allclose(r.adjusted, adjusted_ref, rtol=1e-9, atol=1e-12)
    # Rejections agree away from exact ties with alpha.
    assume(np.all(np.abs(np.asarray(adjusted_ref) - alpha) > 1e-9))
    assert r.reject.tolist() == reject_ref
    assert r.reject.tolist() == (r.adjusted <= alpha).tolist()
    assert np.all(r.adjusted >= p - 1e-15)


# --------------------------------------------------------------------------- frames


def test_to_frame_names() -> None:
    r = holm([0.01, 0.04, 0.03], alpha=0.05, names=["SRI-4", "BICLA", "LLDAS"])
    frame = r.to_frame()
    assert list(frame.columns) == ["hypothesis", "p", "adjusted", "reject"]
    assert frame["hypothesis"].tolist() == ["SRI-4", "BICLA", "LLDAS"]
    assert frame["reject"].tolist() == [True, False, False]
    default = holm([0.01, 0.04], alpha=0.05).to_frame()
    assert default["hypothesis"].tolist() == ["H1", "H2"]
    renamed = r.to_frame(["a", "b", "c"])
    assert renamed["hypothesis"].tolist() == ["a", "b", "c"]
    assert isinstance(frame, pd.DataFrame)


def test_result_is_frozen_and_read_only() -> None:
    r = bonferroni([0.01, 0.2], alpha=0.05)
    assert isinstance(r, MultiplicityResult)
    with pytest.raises(AttributeError):
        r.method = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        r.reject[0] = False


def test_arms_by_endpoints_flattened() -> None:
    # A 2 arms x 2 endpoints family, flattened row by row with cell names.
    # Holm: 0.001 <= 0.05/4, 0.015 <= 0.05/3, 0.04 > 0.05/2: stop.
    table = np.array([[0.001, 0.04], [0.015, 0.3]])
    names = [f"{a}/{e}" for a in ("low", "high") for e in ("SRI-4", "BICLA")]
    r = holm(table.ravel(), alpha=0.05, names=names)
    assert r.to_frame().set_index("hypothesis")["reject"].to_dict() == {
        "low/SRI-4": True,
        "low/BICLA": False,
        "high/SRI-4": True,
        "high/BICLA": False,
    }


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: holm([0.01, 1.2], alpha=0.05), "p[1] = 1.2 is not a p-value"),
        (lambda: holm([0.01, float("nan")], alpha=0.05), "p[1] = nan"),
        (lambda: holm([], alpha=0.05), "non-empty 1-D"),
        (lambda: holm([[0.01, 0.02]], alpha=0.05), "np.ravel"),
        (lambda: holm([0.01], alpha=0.0), "alpha must be in (0, 1)"),
        (lambda: holm([0.01], alpha=1.5), "alpha must be in (0, 1)"),
        (lambda: holm([0.01], alpha="x"), "alpha must be a number"),  # type: ignore[arg-type]
        (lambda: holm([0.01, 0.02], alpha=0.05, names=["a"]), "names has 1 entries"),
        (lambda: holm([0.01, 0.02], alpha=0.05, names=["a", "a"]), "unique"),
        (lambda: fixed_sequence([0.01, 0.02], order=[0, 0], alpha=0.05), "permutation of 0..1"),
        (lambda: fixed_sequence([0.01, 0.02], order=[0], alpha=0.05), "order must list the 2"),
        (
            lambda: graphical([0.01, 0.02], [0.6, 0.6], np.zeros((2, 2)), 0.05),
            "weights sum to 1.2 > 1",
        ),
        (
            lambda: graphical([0.01, 0.02], [0.5, -0.1], np.zeros((2, 2)), 0.05),
            "weights[1] = -0.1",
        ),
        (
            lambda: graphical([0.01, 0.02], [0.5, 0.5], np.array([[0.5, 0.5], [1, 0]]), 0.05),
            "transitions[0, 0] = 0.5",
        ),
        (
            lambda: graphical(
                [0.01, 0.02, 0.03],
                [0.5, 0.5, 0],
                np.array([[0, 1, 0.5], [1, 0, 0], [0, 0, 0]]),
                0.05,
            ),
            "row 0 of transitions sums to 1.5 > 1",
        ),
        (
            lambda: graphical([0.01, 0.02], [0.5, 0.5], np.zeros((3, 3)), 0.05),
            "2 x 2 matrix",
        ),
        (lambda: graphical([0.01, 0.02], [1.0], np.zeros((2, 2)), 0.05), "one entry per"),
        (lambda: holm_graph(0), "positive integer"),
    ],
)
def test_invalid_inputs_are_named(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AnalysisError, match=re.escape(message)) as info:
        call()
    assert isinstance(info.value, LupsimError)
    assert isinstance(info.value, ValueError)


def test_weights_of_thirds_are_accepted() -> None:
    # 1/3 + 1/3 + 1/3 may round above 1 in binary; that is not an excess.
    w = np.array([1 / 3] * 3)
    r = graphical([0.01, 0.01, 0.01], w, np.full((3, 3), 0.5) - np.eye(3) * 0.5, 0.05)
    assert r.reject.all()
