"""The enrolment horizon: the first day by which the wanted arrivals are expected."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lupsim.trial.engine import _MAX_ENROLMENT_DAYS, _horizon

days = st.floats(0.0, 400.0, allow_nan=False)


@given(
    activation=st.lists(days, min_size=1, max_size=40),
    rate=st.floats(0.001, 2.0),
    wanted=st.floats(0.0, 5000.0),
    start=days,
)
def test_the_expected_count_reaches_what_is_wanted_exactly_there(
    activation: list[float], rate: float, wanted: float, start: float
) -> None:
    act = np.asarray(activation)  # in any order: the horizon sorts the openings
    day = _horizon(act, rate, wanted, start)
    opens = np.maximum(act, start)

    def expected(t: float) -> float:
        return float(rate * np.maximum(t - opens, 0.0).sum())

    assert start <= day <= start + _MAX_ENROLMENT_DAYS
    if day < start + _MAX_ENROLMENT_DAYS:
        assert abs(expected(day) - wanted) <= 1e-9 * max(wanted, 1.0)
        # The first such day: a little earlier, fewer are expected.
        if wanted > 1e-6:
            assert expected(day - 1e-6 * max(day - start, 1.0)) < wanted
    else:
        assert expected(day) <= wanted * (1 + 1e-12)


def test_nothing_wanted_is_now() -> None:
    assert _horizon(np.array([5.0, 9.0]), 0.5, 0.0, 3.0) == 3.0
