"""The printed power table: interim designs show how often each look stops the
trial and the expected duration; designs without looks do not."""

from __future__ import annotations

from lupsim.analysis.power import run_power
from lupsim.scenario import load_scenario


def test_interim_summary_shows_stopping_and_duration() -> None:
    res = run_power(load_scenario("interim-gsd"), [865], replicates=6, seed=4)
    text = res.summary()
    header = text.splitlines()[1]
    assert "P(stop at look 1)" in header
    assert "E[duration] (weeks)" in header
    row = res.table.iloc[1]
    cells = text.splitlines()[3].split()
    assert cells[-2] == f"{row['stop_look_1']:.3f}"
    assert cells[-1] == f"{row['expected_duration_days'] / 7:.3f}"


def test_summary_without_looks_has_no_stopping_columns() -> None:
    text = run_power(load_scenario("two-arm-binomial"), [200], replicates=5, seed=1).summary()
    assert "stop at look" not in text
    assert "duration" not in text
