"""Least-squares fitting shared by the calibrations (cohort and trial).

Both calibrations match simulated figures to published ones with common
random numbers: the residuals are deterministic, piecewise-smooth functions
of the parameters, costly to evaluate. A Levenberg-Marquardt iteration with a
finite-difference Jacobian, then Broyden rank-one updates, needs few
evaluations and tolerates the small steps of counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["FitResult", "levenberg_marquardt"]

F = NDArray[np.float64]


@dataclass(frozen=True)
class FitResult:
    """Solution, its residuals, the last Jacobian and how many evaluations it took."""

    x: F
    residuals: F
    jacobian: F
    evaluations: int


def levenberg_marquardt(
    residual: Callable[[F], F],
    x0: F,
    steps: F,
    *,
    jacobian: F | None = None,
    max_iter: int = 25,
    tol: float = 0.05,
    max_move: float = 10.0,
) -> FitResult:
    """Minimise ``|residual(x)|^2`` from ``x0``.

    Parameters
    ----------
    residual
        Residual vector (in tolerance units, so ``tol`` is the target of the
        largest absolute residual).
    x0, steps
        Start and finite-difference step of each parameter (its natural scale).
    jacobian
        A Jacobian to start from (e.g. from a cheaper fit); computed by forward
        differences if None.
    max_move
        No parameter moves by more than this many steps in one iteration.

    Examples
    --------
    >>> import numpy as np
    >>> res = levenberg_marquardt(lambda x: np.array([x[0] - 3.0, 2 * (x[1] + 1.0)]),
    ...                           np.zeros(2), np.array([0.1, 0.1]), tol=1e-6)
    >>> np.round(res.x, 4).tolist()
    [3.0, -1.0]
    """
    evals = 0
    x = np.array(x0, dtype=np.float64)
    r = residual(x)
    evals += 1
    if jacobian is None:
        jac = np.empty((r.size, x.size))
        for j in range(x.size):
            xj = x.copy()
            xj[j] += steps[j]
            jac[:, j] = (residual(xj) - r) / steps[j]
            evals += 1
    else:
        jac = np.array(jacobian, dtype=np.float64)
    lam = 1e-3
    for _ in range(max_iter):
        if np.max(np.abs(r)) < tol:
            break
        jtj = jac.T @ jac
        g = jac.T @ r
        dx = -np.linalg.solve(jtj + lam * np.diag(np.diag(jtj)) + 1e-9 * np.eye(x.size), g)
        dx = np.clip(dx, -max_move * steps, max_move * steps)
        r_new = residual(x + dx)
        evals += 1
        jac = jac + np.outer(r_new - r - jac @ dx, dx) / float(dx @ dx)
        if float(r_new @ r_new) < float(r @ r):
            x, r = x + dx, r_new
            lam = max(lam / 3.0, 1e-6)
        else:
            lam *= 4.0
    return FitResult(x=x, residuals=r, jacobian=jac, evaluations=evals)
