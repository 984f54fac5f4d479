"""The fast draws of lupsim.random: exact where they claim to be, right in
distribution (tolerances of 4 Monte Carlo SE, fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from lupsim.random import (
    _LOGISTIC_QUANTILES,
    bernoulli_thresholds,
    bernoulli_thresholds16,
    coarse_normals,
    logistic16,
    normals,
    raw16,
    stream,
)


@given(st.floats(0.0, 1.0))
def test_a_threshold_is_the_uniforms_comparison_exactly(p: float) -> None:
    cells = np.arange(65536)
    t = int(bernoulli_thresholds(np.array([p]))[0])
    assert ((cells < t) == (cells / 65536.0 < p)).all()


def test_uint16_thresholds_are_the_same_or_refused() -> None:
    p = np.array([0.0, 1e-6, 0.3, 65535 / 65536])
    t16 = bernoulli_thresholds16(p)
    assert t16.dtype == np.uint16
    assert t16.tolist() == bernoulli_thresholds(p).tolist()
    with pytest.raises(ValueError, match="rounds to 1"):
        bernoulli_thresholds16(np.array([0.2, 0.99999]))


def test_raw16_is_uniform_on_its_cells() -> None:
    k = raw16(stream(11, "test"), 400_000).astype(np.float64)
    se = np.sqrt((65536**2 - 1) / 12 / k.size)
    assert abs(k.mean() - 32767.5) < 4 * se
    counts = np.bincount((k // 4096).astype(int), minlength=16)
    expected = k.size / 16
    assert (np.abs(counts - expected) < 4 * np.sqrt(expected)).all()


def test_logistic_variates_give_expit_to_one_cell() -> None:
    """P(l < x) over the table's cells is expit(x) to within 1/65536."""
    x = np.linspace(-11.0, 11.0, 2001)
    share = np.searchsorted(_LOGISTIC_QUANTILES, x, side="left") / 65536.0
    assert np.abs(share - special.expit(x)).max() <= 1.0 / 65536 + 1e-9
    lv = logistic16(stream(12, "test"), (3, 4))
    assert lv.shape == (3, 4)


def test_normals_have_mean_0_sd_1_and_independent_halves() -> None:
    n = 200_000
    for draw in (normals, coarse_normals):
        z = draw(stream(13, "test"), (n,)).astype(np.float64)
        se = 1 / np.sqrt(n)
        assert abs(z.mean()) < 4 * se
        assert abs(z.var() - 1.0) < 4 * np.sqrt(2 / n)
        # Box-Muller pairs (cos, sin halves) are uncorrelated.
        half = n // 2
        assert abs(np.corrcoef(z[:half], z[half:])[0, 1]) < 4 / np.sqrt(half)
    assert np.abs(coarse_normals(stream(14, "test"), (n,))).max() < 4.4
