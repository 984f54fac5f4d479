"""Grid points of a power run: what each changes in the scenario, and nothing else."""

from __future__ import annotations

import pytest

from lupsim.analysis.power import GridPoint, apply_grid_point
from lupsim.scenario import load_scenario


@pytest.mark.parametrize(("n_total", "expected"), [(864, 432), (600, 300), (101, 51), (2, 1)])
def test_interim_look_keeps_its_information_fraction(n_total: int, expected: int) -> None:
    s = load_scenario("interim-gsd")
    assert s.design is not None
    (look,) = s.design.milestones
    share = look.n_patients / s.design.n_randomised
    assert share == pytest.approx(0.5, abs=0.002)  # the scenario's half-way look
    moved = apply_grid_point(s, GridPoint(0, {"n_total": n_total}))
    assert moved.design is not None
    assert moved.design.n_randomised == n_total
    assert moved.design.milestones[0].n_patients == expected
    assert moved.design.milestones[0].week == look.week


def test_n_total_changes_nothing_else() -> None:
    s = load_scenario("bliss52")
    moved = apply_grid_point(s, GridPoint(0, {"n_total": 400}))
    a, b = s.model_dump(), moved.model_dump()
    a["design"].pop("n_randomised")
    b["design"].pop("n_randomised")
    assert a == b
