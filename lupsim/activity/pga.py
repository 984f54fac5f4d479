"""Physician's global assessment (PGA) on the 0-3 visual analogue scale.

0 none, 1 mild, 2 moderate, 3 severe. SRI counts a PGA increase of >= 0.3 from
baseline as worsening (Furie et al., Arthritis Rheum 2009;61:1143-51); BICLA
allows an increase of less than 10% of the scale, i.e. < 0.3 (Wallace et al.,
Ann Rheum Dis 2014;73:183-90).

Examples
--------
>>> pga_worsened(1.0, 1.3).item()
True
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lupsim.errors import InstrumentError

__all__ = ["PGA_MAX", "PGA_WORSENING", "check_pga", "pga_worsened"]

PGA_MAX = 3.0
#: SRI PGA worsening threshold (Furie 2009).
PGA_WORSENING = 0.3
# Floating-point tolerance so that 1.0 -> 1.3 counts as an increase of 0.3.
_EPS = 1e-9


def check_pga(values: ArrayLike, name: str = "PGA") -> NDArray[np.float64]:
    """Return PGA values as floats, raising if any is outside 0-3 or missing.

    Examples
    --------
    >>> check_pga([0, 1.5, 3]).tolist()
    [0.0, 1.5, 3.0]
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InstrumentError(f"{name} must be numbers on the 0-3 scale, got {values!r}") from None
    bad = ~((arr >= 0.0) & (arr <= PGA_MAX))
    if bad.any():
        raise InstrumentError(
            f"{name} must be in 0-3 (0 none, 1 mild, 2 moderate, 3 severe), "
            f"got {arr[bad].ravel()[0].item()!r}"
        )
    return arr


def pga_worsened(
    baseline: ArrayLike, followup: ArrayLike, threshold: float = PGA_WORSENING
) -> NDArray[np.bool_]:
    """Whether PGA rose by at least ``threshold`` from baseline (vectorised).

    Examples
    --------
    >>> pga_worsened([1.0, 1.0], [1.29, 1.3]).tolist()
    [False, True]
    """
    if not 0 < threshold <= PGA_MAX:
        raise InstrumentError(f"PGA worsening threshold must be in (0, 3], got {threshold!r}")
    b = check_pga(baseline, "baseline PGA")
    f = check_pga(followup, "follow-up PGA")
    try:
        return np.asarray(f - b >= threshold - _EPS)
    except ValueError:
        raise InstrumentError(
            f"baseline PGA shape {b.shape} and follow-up PGA shape {f.shape} do not match"
        ) from None
