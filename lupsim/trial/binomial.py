"""Binomial trials: each arm's response drawn with a fixed rate, no disease model.

The textbook case for teaching power and for checking the power engine against
formulas (``outcome = "binomial"`` in a design, a ``response_rate`` per arm).
Patients are randomised with the design's permuted blocks (one stratum), and
each subject's response is a Bernoulli draw with their arm's rate.

The result is an ordinary :class:`~lupsim.trial.dataset.TrialDataset` with two
visits, baseline and the primary week, built so that every endpoint function
works unchanged: a responder's SELENA-SLEDAI falls from 4 to 0 and nothing
else changes, so SRI-4 (and its reduction component) *is* the drawn response;
no one drops out or fails treatment.

Examples
--------
>>> from lupsim.scenario import parse_scenario
>>> s = parse_scenario({"name": "two", "design": {"outcome": "binomial", "n_randomised": 200,
...     "arms": [{"name": "control", "response_rate": 0.4},
...              {"name": "active", "response_rate": 0.6}]}})
>>> ds = simulate_binomial_trial(s, seed=1)
>>> ds.n, ds.arms
(200, ('control', 'active'))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from lupsim.activity.bilag import N_BILAG_DOMAINS
from lupsim.activity.sledai import N_DESCRIPTORS
from lupsim.errors import ScenarioError
from lupsim.random import replicate_seed, stream
from lupsim.trial.dataset import EventLog, TrialDataset, VisitArrays
from lupsim.trial.randomisation import allocate

if TYPE_CHECKING:
    from lupsim.scenario import Scenario

__all__ = ["simulate_binomial_trial"]

_BASELINE_SLEDAI = 4


def simulate_binomial_trial(
    scenario: Scenario, seed: int, *, replicate: int | None = None
) -> TrialDataset:
    """Simulate one binomial trial (see the module docstring)."""
    design = scenario.design
    if design is None or design.outcome != "binomial":
        raise ScenarioError(
            f"scenario {scenario.name!r}: simulate_binomial_trial needs a design with "
            "outcome = 'binomial' and a response_rate per arm"
        )
    ss = replicate_seed(seed, replicate)
    n = design.n_randomised
    strata = np.zeros(n, dtype=np.int32)
    arm = allocate(strata, design.allocation or (1,) * len(design.arms), design.block_sizes(), ss)
    rates = np.array([a.response_rate for a in design.arms], dtype=float)
    response = stream(ss, "response").random(n) < rates[arm]

    primary = design.primary_week
    selena = np.empty((n, 2), dtype=np.int16)
    selena[:, 0] = _BASELINE_SLEDAI
    selena[:, 1] = np.where(response, 0, _BASELINE_SLEDAI)
    present = np.zeros((n, 2, N_DESCRIPTORS), dtype=bool)
    no = np.zeros((n, 2), dtype=bool)
    zeros = np.zeros((n, 2))
    arrays = VisitArrays(
        observed=np.ones((n, 2), dtype=bool),
        day=np.column_stack([np.zeros(n), np.full(n, 7.0 * primary)]),
        selena=selena,
        sledai_2k=selena.copy(),
        sledai_original=selena.copy(),
        present=present,
        new=present.copy(),
        bilag=np.full((n, 2, N_BILAG_DOMAINS), 4, dtype=np.int8),
        pga=np.ones((n, 2)),
        prednisone_mg=zeros.copy(),
        anti_dsdna_iu=zeros.copy(),
        c3=zeros.copy(),
        c4=zeros.copy(),
        proteinuria_g=zeros.copy(),
        egfr=np.full((n, 2), np.nan),  # not modelled
        flare_mild=no,
        flare_severe=no.copy(),
        flare_severe_modified=no.copy(),
        rescue=no.copy(),
        treatment_failure=no.copy(),
    )
    # Randomised one a day: enough calendar for interim looks to be meaningful.
    rand_day = np.arange(n, dtype=np.float64)
    subjects: dict[str, Any] = {
        "subject": np.arange(n),
        "arm_index": arm,
        "site": np.zeros(n, dtype=np.int32),
        "stratum": strata,
        "rand_calendar_day": rand_day,
        "screened_calendar_day": rand_day,
        "age": np.full(n, np.nan),
        "female": np.ones(n, dtype=bool),
        "race": np.zeros(n, dtype=np.int8),
        "region": np.zeros(n, dtype=np.int8),
        "weight_kg": np.full(n, np.nan),
        "selena_bl": selena[:, 0],
        "sledai_2k_bl": selena[:, 0],
        "pga_bl": np.ones(n),
        "prednisone_bl": np.zeros(n),
        "anti_dsdna_bl": np.zeros(n),
        "c3_bl": np.zeros(n),
        "c4_bl": np.zeros(n),
        "proteinuria_bl": np.zeros(n),
        "egfr_bl": np.full(n, np.nan),
        "induction": np.zeros(n, dtype=np.int8),
        "serologically_active": np.zeros(n, dtype=bool),
        "antimalarial": np.zeros(n, dtype=bool),
        "immunosuppressant_bl": np.zeros(n, dtype=np.int8),
        "disc_visit": np.full(n, -1, dtype=np.int16),
        "disc_reason": np.full(n, -1, dtype=np.int8),
        "disc_day": np.full(n, np.nan),
        "treatment_failure": np.zeros(n, dtype=bool),
        "failure_visit": np.full(n, -1),
    }
    log = EventLog(
        site_activation=np.zeros(1),
        screen_day=rand_day,
        screen_first_failure=np.full(n, -1, dtype=np.int16),
        rand_day=rand_day,
        disc_day=np.full(n, np.nan),
        milestones=(),
    )
    return TrialDataset(
        subject_arrays=subjects,
        arrays=arrays,
        visit_weeks=(0.0, float(primary)),
        arms=tuple(a.name for a in design.arms),
        control=design.control_arm,
        primary_week=float(primary),
        event_log=log,
        seed=seed,
        replicate=replicate,
        scenario=scenario.name,
        screening={"screened": n, "randomised": n, "failures": {}},
        outcome="binomial",
    )
