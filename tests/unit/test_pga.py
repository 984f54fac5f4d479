"""Unit tests of lupsim.activity.pga (physician's global assessment, 0-3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lupsim.activity.pga import PGA_MAX, PGA_WORSENING, check_pga, pga_worsened
from lupsim.errors import InstrumentError


def test_constants() -> None:
    assert PGA_MAX == 3.0
    assert abs(PGA_WORSENING - 0.3) < 1e-12


class TestCheckPga:
    @pytest.mark.parametrize("value", [0, 0.0, 0.3, 1, 1.5, 2, 2.99, 3, 3.0])
    def test_in_range_accepted(self, value: float) -> None:
        got = check_pga(value)
        assert got.dtype == np.float64
        assert float(got) == float(value)

    def test_array_returned_as_floats(self) -> None:
        got = check_pga([0, 1.5, 3])
        assert got.dtype == np.float64
        assert got.tolist() == [0.0, 1.5, 3.0]

    def test_two_dimensional(self) -> None:
        got = check_pga(np.array([[0, 1], [2, 3]]))
        assert got.shape == (2, 2)

    @pytest.mark.parametrize("bad", [-0.1, 3.01, -1.0, 4.0, 100.0])
    def test_out_of_range_raises_with_value(self, bad: float) -> None:
        with pytest.raises(InstrumentError) as info:
            check_pga(bad)
        assert str(bad) in str(info.value)

    def test_nan_raises(self) -> None:
        with pytest.raises(InstrumentError, match="nan"):
            check_pga(float("nan"))

    @pytest.mark.parametrize("bad", [math.inf, -math.inf])
    def test_infinite_raises(self, bad: float) -> None:
        with pytest.raises(InstrumentError, match="inf"):
            check_pga(bad)

    def test_bad_value_inside_array_named(self) -> None:
        with pytest.raises(InstrumentError, match=r"3\.01"):
            check_pga([0.5, 1.0, 3.01, 2.0])

    def test_nan_inside_array(self) -> None:
        with pytest.raises(InstrumentError):
            check_pga([0.5, float("nan")])

    def test_missing_none_raises(self) -> None:
        with pytest.raises(InstrumentError):
            check_pga([1.0, None])

    def test_non_numeric_raises_with_value(self) -> None:
        with pytest.raises(InstrumentError, match="abc"):
            check_pga("abc")

    def test_name_in_message(self) -> None:
        with pytest.raises(InstrumentError, match="screening PGA"):
            check_pga(-0.1, name="screening PGA")

    def test_instrument_error_is_value_error(self) -> None:
        with pytest.raises(ValueError, match="0-3"):
            check_pga(3.5)


class TestPgaWorsened:
    def test_rise_of_exactly_03_is_worsening(self) -> None:
        assert bool(pga_worsened(1.0, 1.3)) is True

    def test_rise_of_029_is_not_worsening(self) -> None:
        assert bool(pga_worsened(1.0, 1.29)) is False

    def test_decrease_is_not_worsening(self) -> None:
        assert bool(pga_worsened(1.0, 0.5)) is False
        assert bool(pga_worsened(3.0, 0.0)) is False

    def test_no_change_is_not_worsening(self) -> None:
        assert bool(pga_worsened(2.0, 2.0)) is False

    @pytest.mark.parametrize(
        ("base", "follow"), [(0.0, 0.3), (0.1, 0.4), (0.7, 1.0), (2.7, 3.0), (1.2, 1.5)]
    )
    def test_rise_of_03_at_any_level_counts_despite_rounding(
        self, base: float, follow: float
    ) -> None:
        assert bool(pga_worsened(base, follow)) is True

    def test_large_rise(self) -> None:
        assert bool(pga_worsened(0.0, 3.0)) is True

    def test_vectorised(self) -> None:
        got = pga_worsened([1.0, 1.0, 1.0, 2.0], [1.29, 1.3, 0.5, 2.6])
        assert got.tolist() == [False, True, False, True]

    def test_baseline_broadcasts(self) -> None:
        got = pga_worsened(1.0, np.array([[1.0, 1.3], [1.5, 0.0]]))
        assert got.shape == (2, 2)
        assert got.tolist() == [[False, True], [True, False]]

    def test_custom_threshold(self) -> None:
        assert bool(pga_worsened(1.0, 1.5, threshold=0.5)) is True
        assert bool(pga_worsened(1.0, 1.49, threshold=0.5)) is False
        assert bool(pga_worsened(1.0, 1.1, threshold=0.1)) is True

    def test_returns_array(self) -> None:
        assert pga_worsened(1.0, 1.3).item() is True

    @pytest.mark.parametrize(("base", "follow"), [(-0.1, 1.0), (1.0, 3.01), (float("nan"), 1.0)])
    def test_invalid_inputs_raise(self, base: float, follow: float) -> None:
        with pytest.raises(InstrumentError):
            pga_worsened(base, follow)

    def test_invalid_followup_is_named_as_followup(self) -> None:
        with pytest.raises(InstrumentError, match=r"follow-up PGA.*3\.01"):
            pga_worsened(1.0, 3.01)

    def test_invalid_baseline_is_named_as_baseline(self) -> None:
        with pytest.raises(InstrumentError, match=r"baseline PGA.*-0\.1"):
            pga_worsened(-0.1, 1.0)
