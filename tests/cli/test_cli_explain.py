"""lupsim simulate --explain: one subject's story, and why they respond or not."""

from __future__ import annotations

import pytest

from lupsim.cli import main
from lupsim.scenario import load_scenario
from lupsim.trial import simulate_trial
from lupsim.trial.explain import explain_subject


@pytest.fixture(scope="module")
def ds():  # type: ignore[no-untyped-def]
    return simulate_trial(load_scenario("bliss52"), 1)


def test_every_observed_visit_is_one_line(ds) -> None:  # type: ignore[no-untyped-def]
    for k in (0, 10, 100):
        text = explain_subject(ds, ds.subjects["USUBJID"][k])
        rows = [line for line in text.splitlines() if line[:4].strip().isdigit()]
        assert len(rows) == int(ds.arrays.observed[k].sum())


def test_the_verdict_agrees_with_the_endpoint(ds) -> None:  # type: ignore[no-untyped-def]
    from lupsim.analysis.endpoints import sri

    r = sri(ds).responder
    for k in range(0, ds.n, 37):
        verdict = explain_subject(ds, str(k + 1)).splitlines()
        line = next(v for v in verdict if v.startswith("SRI-4 at week 52"))
        assert ("non-responder" not in line) == bool(r[k])


def test_dropouts_say_why(ds) -> None:  # type: ignore[no-untyped-def]
    k = int(ds.subjects.index[ds.subjects["DCSREAS"] != ""][0])
    text = explain_subject(ds, str(k + 1))
    assert "Left the study" in text
    assert "left the study before the visit" in text


def test_unknown_subject_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "bliss52", "--explain", "LUP-99999"]) == 2
    err = capsys.readouterr().err
    assert "no subject 'LUP-99999'" in err
    assert "Traceback" not in err
