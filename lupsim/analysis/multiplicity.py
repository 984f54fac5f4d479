"""Multiplicity adjustment for a family of hypotheses (arms x endpoints, doses ...).

Every procedure takes the raw p-values of the family and the familywise level
``alpha`` and controls the familywise error rate in the strong sense. One-sided
and two-sided p-values are both accepted; ``alpha`` must be on the same scale
(one-sided p-values with ``alpha = 0.025``, two-sided ones with ``0.05``).

================================  ===============================================
procedure                         rule
================================  ===============================================
:func:`bonferroni`                reject H_j if p_j <= alpha / m
:func:`holm`                      step-down Bonferroni (Holm, Scand J Stat 1979)
:func:`hochberg`                  step-up Simes (Hochberg, Biometrika 1988);
                                  valid under independence or positive dependence
:func:`fixed_sequence`            test in a pre-set order at full alpha; stop at
                                  the first non-rejection
:func:`graphical`                 weighted Bonferroni graph (Bretz, Maurer,
                                  Brannath, Posch, Stat Med 2009;28:586-604)
================================  ===============================================

Bonferroni and Hochberg call :func:`statsmodels.stats.multitest.multipletests`;
Holm is computed the same way here (see :func:`holm` for why). Each
function returns a :class:`MultiplicityResult` holding the rejections and the
adjusted p-values (reject exactly the hypotheses whose adjusted p-value is at
most ``alpha``). A family laid out as a table, e.g. arms x endpoints, is passed
flattened (``np.ravel``) with the names of its cells.

Examples
--------
>>> holm([0.01, 0.04, 0.03], alpha=0.05).reject.tolist()
[True, False, False]
>>> hochberg([0.01, 0.04, 0.03], alpha=0.05).reject.tolist()
[True, True, True]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from statsmodels.stats.multitest import multipletests

from lupsim.errors import AnalysisError

__all__ = [
    "MultiplicityResult",
    "bonferroni",
    "fixed_sequence",
    "graphical",
    "hochberg",
    "holm",
    "holm_graph",
]

F = NDArray[np.float64]
B = NDArray[np.bool_]

# Weights and transition rows are sums of fractions such as 1/3 that are not
# exact in binary; this much slack above 1 is rounding, not a real excess.
_SUM_TOL = 1e-9


@dataclass(frozen=True)
class MultiplicityResult:
    """Result of a multiplicity adjustment, one entry per hypothesis.

    Attributes
    ----------
    p
        The raw p-values, in the order given.
    reject
        Whether each hypothesis is rejected at familywise level ``alpha``.
    adjusted
        Adjusted p-values: the smallest familywise level at which each
        hypothesis would be rejected (capped at 1).
    method
        Name of the procedure.
    alpha
        Familywise significance level used for ``reject``.
    names
        Hypothesis names, or ``None`` (then ``H1``, ``H2``, ... in tables).
    """

    p: F
    reject: B
    adjusted: F
    method: str
    alpha: float
    names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        # Read-only copies: a frozen result must not change through its arrays.
        for name, dtype in (("p", float), ("reject", bool), ("adjusted", float)):
            arr = np.array(getattr(self, name), dtype=dtype)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    def to_frame(self, names: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per hypothesis: name, raw p, adjusted p, rejected.

        Parameters
        ----------
        names
            Hypothesis names; defaults to those given to the procedure, else
            ``H1``, ``H2``, ...

        Examples
        --------
        >>> bonferroni([0.01, 0.04], alpha=0.05).to_frame(["SRI-4", "BICLA"])
          hypothesis     p  adjusted  reject
        0      SRI-4  0.01      0.02    True
        1      BICLA  0.04      0.08   False
        """
        m = self.p.size
        labels = _check_names(names if names is not None else self.names, m)
        if labels is None:
            labels = tuple(f"H{i + 1}" for i in range(m))
        return pd.DataFrame(
            {
                "hypothesis": list(labels),
                "p": self.p,
                "adjusted": self.adjusted,
                "reject": self.reject,
            }
        )


# --------------------------------------------------------------------------- checks


def _check_alpha(alpha: float) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise AnalysisError(f"alpha must be a number in (0, 1), got {alpha!r}") from None
    if not 0.0 < a < 1.0:  # also rejects NaN
        raise AnalysisError(
            f"alpha must be in (0, 1), got {a!r}; use the familywise level, "
            "e.g. 0.025 for one-sided or 0.05 for two-sided p-values"
        )
    return a


def _check_p(p: ArrayLike) -> F:
    arr = np.asarray(p, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise AnalysisError(
            f"p must be a non-empty 1-D array of p-values, got shape {arr.shape}; "
            "flatten a table of hypotheses (e.g. arms x endpoints) with np.ravel "
            "and pass its cell names"
        )
    bad = ~((arr >= 0.0) & (arr <= 1.0))  # also catches NaN
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise AnalysisError(
            f"p[{i}] = {float(arr[i])!r} is not a p-value; every p-value must be in [0, 1]"
        )
    return arr


def _check_names(names: Sequence[str] | None, m: int) -> tuple[str, ...] | None:
    if names is None:
        return None
    if isinstance(names, str):
        raise AnalysisError(f"names must be a sequence of {m} strings, got the string {names!r}")
    out = tuple(str(n) for n in names)
    if len(out) != m:
        raise AnalysisError(f"names has {len(out)} entries but there are {m} hypotheses")
    if len(set(out)) != m:
        raise AnalysisError(f"names must be unique, got {list(out)}")
    return out


def _check_weights(weights: ArrayLike, m: int) -> F:
    w = np.asarray(weights, dtype=float)
    if w.shape != (m,):
        raise AnalysisError(
            f"weights must have one entry per hypothesis ({m}), got shape {w.shape}"
        )
    bad = ~((w >= 0.0) & (w <= 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise AnalysisError(f"weights[{i}] = {float(w[i])!r}; every weight must be in [0, 1]")
    total = float(w.sum())
    if total > 1.0 + _SUM_TOL:
        raise AnalysisError(
            f"weights sum to {total:.6g} > 1, which would spend more than alpha; "
            "scale them so that they sum to at most 1"
        )
    return w


def _check_transitions(transitions: ArrayLike, m: int) -> F:
    g = np.asarray(transitions, dtype=float)
    if g.shape != (m, m):
        raise AnalysisError(
            f"transitions must be an {m} x {m} matrix (row j: where H{{j}}'s weight goes), "
            f"got shape {g.shape}"
        )
    bad = ~((g >= 0.0) & (g <= 1.0))
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        raise AnalysisError(
            f"transitions[{i}, {j}] = {float(g[i, j])!r}; every entry must be in [0, 1]"
        )
    diag = np.diag(g)
    if np.any(diag != 0.0):
        i = int(np.flatnonzero(diag)[0])
        raise AnalysisError(
            f"transitions[{i}, {i}] = {float(diag[i])!r}; a hypothesis cannot pass weight "
            "to itself, so the diagonal must be 0"
        )
    rows = g.sum(axis=1)
    over = rows > 1.0 + _SUM_TOL
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise AnalysisError(
            f"row {i} of transitions sums to {rows[i]:.6g} > 1; a rejected hypothesis can "
            "pass on at most all of its weight"
        )
    return g


# --------------------------------------------------------------------------- classical


def _statsmodels(
    p: ArrayLike, alpha: float, method: str, label: str, names: Sequence[str] | None
) -> MultiplicityResult:
    arr = _check_p(p)
    a = _check_alpha(alpha)
    labels = _check_names(names, arr.size)
    reject, adjusted, _, _ = multipletests(arr, alpha=a, method=method)
    return MultiplicityResult(
        p=arr,
        reject=np.asarray(reject, dtype=bool),
        adjusted=np.minimum(np.asarray(adjusted, dtype=float), 1.0),
        method=label,
        alpha=a,
        names=labels,
    )


def bonferroni(
    p: ArrayLike, alpha: float, *, names: Sequence[str] | None = None
) -> MultiplicityResult:
    """Bonferroni: reject H_j if ``p_j <= alpha / m``; adjusted p = ``min(m p_j, 1)``.

    Parameters
    ----------
    p
        Raw p-values of the m hypotheses (one-sided or two-sided).
    alpha
        Familywise level on the scale of ``p``.
    names
        Optional hypothesis names, kept for :meth:`MultiplicityResult.to_frame`.

    Examples
    --------
    >>> r = bonferroni([0.01, 0.04, 0.03], alpha=0.05)
    >>> r.reject.tolist(), r.adjusted.round(4).tolist()
    ([True, False, False], [0.03, 0.12, 0.09])
    """
    return _statsmodels(p, alpha, "bonferroni", "bonferroni", names)


def holm(p: ArrayLike, alpha: float, *, names: Sequence[str] | None = None) -> MultiplicityResult:
    """Holm's step-down procedure (Holm, Scand J Stat 1979;6:65-70).

    With the p-values sorted, p_(1) <= ... <= p_(m), reject H_(1), H_(2), ...
    while ``p_(i) <= alpha / (m - i + 1)`` and stop at the first failure.
    Adjusted p-values are the running maximum of ``(m - i + 1) p_(i)``.
    Uniformly more powerful than Bonferroni, same assumptions (none).

    Examples
    --------
    >>> r = holm([0.01, 0.04, 0.03], alpha=0.05)
    >>> r.reject.tolist(), r.adjusted.round(4).tolist()
    ([True, False, False], [0.03, 0.06, 0.06])
    """
    # Computed here rather than by multipletests(method="holm"), whose Holm branch
    # runs gc.collect() on every call (statsmodels 0.14-0.15): tens of milliseconds
    # per family, which adds up over thousands of simulated trials. The same
    # arithmetic; the tests check equality with statsmodels.
    arr = _check_p(p)
    a = _check_alpha(alpha)
    labels = _check_names(names, arr.size)
    m = arr.size
    order = np.argsort(arr, kind="stable")
    steps = np.arange(m, 0, -1, dtype=float)
    sorted_p = arr[order]
    reject = np.empty(m, dtype=bool)
    reject[order] = np.logical_and.accumulate(sorted_p <= a / steps)
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(np.maximum.accumulate(sorted_p * steps), 1.0)
    return MultiplicityResult(
        p=arr, reject=reject, adjusted=adjusted, method="holm", alpha=a, names=labels
    )


def hochberg(
    p: ArrayLike, alpha: float, *, names: Sequence[str] | None = None
) -> MultiplicityResult:
    """Hochberg's step-up procedure (Hochberg, Biometrika 1988;75:800-2).

    Going from the largest p-value down, find the first i with
    ``p_(i) <= alpha / (m - i + 1)`` and reject H_(1), ..., H_(i). It rests on
    the Simes inequality, so it controls the familywise error only for
    independent or positively dependent test statistics (e.g. one treatment
    against control on positively correlated endpoints); use :func:`holm`
    when that cannot be assumed.

    Examples
    --------
    >>> r = hochberg([0.01, 0.04, 0.03], alpha=0.05)
    >>> r.reject.tolist(), r.adjusted.round(4).tolist()
    ([True, True, True], [0.03, 0.04, 0.04])
    """
    return _statsmodels(p, alpha, "simes-hochberg", "hochberg", names)


def fixed_sequence(
    p: ArrayLike,
    order: Sequence[int] | None,
    alpha: float,
    *,
    names: Sequence[str] | None = None,
) -> MultiplicityResult:
    """Fixed-sequence (hierarchical) testing at full alpha.

    Hypotheses are tested in the pre-specified ``order``, each at level
    ``alpha``; testing stops at the first hypothesis not rejected, and no
    later hypothesis can be rejected. The adjusted p-value of a hypothesis is
    the largest raw p-value up to and including it in the order.

    Parameters
    ----------
    p
        Raw p-values, in hypothesis order (not testing order).
    order
        Indices of the hypotheses in testing order: a permutation of
        ``0 .. m-1``. ``None`` tests them in the order given.
    alpha
        Familywise level on the scale of ``p``.
    names
        Optional hypothesis names.

    Examples
    --------
    >>> r = fixed_sequence([0.20, 0.01, 0.03], order=[1, 2, 0], alpha=0.05)
    >>> r.reject.tolist(), r.adjusted.tolist()
    ([False, True, True], [0.2, 0.01, 0.03])
    """
    arr = _check_p(p)
    a = _check_alpha(alpha)
    labels = _check_names(names, arr.size)
    m = arr.size
    if order is None:
        idx = np.arange(m)
    else:
        idx = np.asarray(order)
        if idx.shape != (m,) or not np.issubdtype(idx.dtype, np.integer):
            raise AnalysisError(
                f"order must list the {m} hypothesis indices (integers) in testing order, "
                f"got {list(np.ravel(order))!r}"
            )
        if sorted(idx.tolist()) != list(range(m)):
            raise AnalysisError(
                f"order must be a permutation of 0..{m - 1} (each hypothesis once), "
                f"got {idx.tolist()}"
            )
    adjusted = np.empty(m)
    adjusted[idx] = np.maximum.accumulate(arr[idx])
    return MultiplicityResult(
        p=arr,
        reject=adjusted <= a,
        adjusted=adjusted,
        method="fixed_sequence",
        alpha=a,
        names=labels,
    )


# --------------------------------------------------------------------------- graphical


def _remove(w: F, g: F, active: B, j: int) -> tuple[F, F]:
    """Delete H_j from the graph: Algorithm 1, step 2 (Bretz et al. 2009)."""
    w_new = w + w[j] * g[j]
    # g_lk <- (g_lk + g_lj g_jk) / (1 - g_lj g_jl), and 0 when g_lj g_jl = 1.
    denom = 1.0 - g[:, j] * g[j, :]  # 1 - g_lj g_jl for each l
    num = g + np.outer(g[:, j], g[j, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        g_new = np.where(denom[:, None] > 0.0, num / denom[:, None], 0.0)
    np.fill_diagonal(g_new, 0.0)
    keep = active.copy()
    keep[j] = False
    w_new[~keep] = 0.0
    g_new[~keep, :] = 0.0
    g_new[:, ~keep] = 0.0
    return w_new, g_new


def graphical(
    p: ArrayLike,
    weights: ArrayLike,
    transitions: ArrayLike,
    alpha: float,
    *,
    names: Sequence[str] | None = None,
) -> MultiplicityResult:
    """Graphical weighted-Bonferroni procedure (Bretz et al., Stat Med 2009;28:586-604).

    Algorithm 1 of Bretz et al.: while some hypothesis H_j still in the graph
    has ``p_j <= w_j alpha``, reject it and delete it from the graph, passing
    its weight on along its outgoing edges,
    ``w_l <- w_l + w_j g_jl``, and re-routing the edges through it,
    ``g_lk <- (g_lk + g_lj g_jk) / (1 - g_lj g_jl)``. The set rejected does not
    depend on which eligible hypothesis is taken first; here it is the one
    with the smallest ``p_j / w_j``. A hypothesis with weight 0 is not tested
    until weight reaches it.

    Adjusted p-values follow Bretz et al. (Biom J 2011;53:894-913): delete
    hypotheses in turn in the order of the smallest ``p_j / w_j``; each one's
    adjusted p-value is the running maximum of these ratios (capped at 1).

    Parameters
    ----------
    p
        Raw p-values of the m hypotheses.
    weights
        Initial weights ``w_j >= 0`` with ``sum(w) <= 1``; ``w_j alpha`` is
        H_j's initial local level.
    transitions
        ``m x m`` matrix G: ``G[j, l]`` is the share of H_j's weight passed
        to H_l when H_j is rejected. Entries in [0, 1], zero diagonal, rows
        summing to at most 1.
    alpha
        Familywise level on the scale of ``p``.
    names
        Optional hypothesis names.

    Examples
    --------
    Two primary hypotheses, each the gate to a secondary one, whose weight
    returns to the other primary (Bretz et al. 2011, Figure 1):

    >>> G = [[0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0], [1, 0, 0, 0]]
    >>> r = graphical([0.01, 0.02, 0.03, 0.05], [0.5, 0.5, 0, 0], G, alpha=0.05)
    >>> r.reject.tolist(), r.adjusted.round(4).tolist()
    ([True, True, False, False], [0.02, 0.04, 0.06, 0.06])
    """
    arr = _check_p(p)
    a = _check_alpha(alpha)
    m = arr.size
    labels = _check_names(names, m)
    w0 = _check_weights(weights, m)
    g0 = _check_transitions(transitions, m)

    # Rejections by Algorithm 1 itself, compared with w_j * alpha as published.
    w, g = w0.copy(), g0.copy()
    active = np.ones(m, dtype=bool)
    reject = np.zeros(m, dtype=bool)
    while True:
        eligible = active & (w > 0.0) & (arr <= w * a)
        if not eligible.any():
            break
        cand = np.flatnonzero(eligible)
        with np.errstate(over="ignore"):
            j = int(cand[np.argmin(arr[cand] / w[cand])])
        reject[j] = True
        w, g = _remove(w, g, active, j)
        active[j] = False

    # Adjusted p-values: the same deletion sequence, run to the end.
    w, g = w0.copy(), g0.copy()
    active = np.ones(m, dtype=bool)
    adjusted = np.ones(m)
    running = 0.0
    while active.any():
        live = np.flatnonzero(active & (w > 0.0))
        if live.size == 0:
            break  # the rest never receive weight: not rejectable at any level
        with np.errstate(over="ignore"):  # a tiny weight gives a ratio of inf: fine
            ratios = arr[live] / w[live]
        k = int(np.argmin(ratios))
        j = int(live[k])
        running = min(max(running, float(ratios[k])), 1.0)
        adjusted[j] = running
        w, g = _remove(w, g, active, j)
        active[j] = False

    return MultiplicityResult(
        p=arr, reject=reject, adjusted=adjusted, method="graphical", alpha=a, names=labels
    )


def holm_graph(m: int) -> tuple[F, F]:
    """Weights and transitions of the graph equivalent to Holm's procedure.

    Equal weights ``1/m`` and a complete graph with every edge ``1/(m-1)``
    (Bretz et al. 2009, section 3).

    Examples
    --------
    >>> w, G = holm_graph(3)
    >>> w.round(3).tolist(), G[0].tolist()
    ([0.333, 0.333, 0.333], [0.0, 0.5, 0.5])
    """
    if not isinstance(m, int | np.integer) or m < 1:
        raise AnalysisError(f"m must be a positive integer number of hypotheses, got {m!r}")
    w = np.full(m, 1.0 / m)
    g = np.full((m, m), 1.0 / (m - 1)) if m > 1 else np.zeros((1, 1))
    np.fill_diagonal(g, 0.0)
    return w, g
