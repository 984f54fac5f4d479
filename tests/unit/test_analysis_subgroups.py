"""Subgroup odds ratios, interaction tests and the forest plot.

Exact checks: without covariates the logistic odds ratio within a level is the
2 x 2 table's cross-product ratio with Woolf's interval; the interaction test
is the likelihood-ratio test of two directly fitted logistic models, and the
full model's log-likelihood is the saturated one computed from the cell
proportions. Broken levels (an arm missing, separation) give NaN and a note.
Statistical: on 20 pooled BLISS-52 trials belimumab's odds ratio is larger in
serologically active patients, as the disease model builds in.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from lupsim.analysis.endpoints import endpoint_table
from lupsim.analysis.subgroups import (
    FOREST_COLUMNS,
    default_subgroups,
    forest_plot,
    subgroup_odds_ratios,
)
from lupsim.errors import AnalysisError
from lupsim.trial import TrialDataset, simulate_trial
from lupsim.trial.dataset import VisitArrays

matplotlib.use("Agg")
Z = stats.norm.ppf(0.975)
TEN = "belimumab_10mg vs placebo"
ONE = "belimumab_1mg vs placebo"


@pytest.fixture(scope="module")
def bliss(bliss52: Any) -> TrialDataset:
    return simulate_trial(bliss52, seed=1)


@pytest.fixture(scope="module")
def made_up(bliss: TrialDataset) -> tuple[np.ndarray, np.ndarray]:
    """A response and a two-level label per subject, drawn independently of the trial."""
    rng = np.random.default_rng(5)
    y = (rng.random(bliss.n) < 0.3 + 0.15 * (bliss.arm_index == 2)).astype(float)
    g = rng.choice(np.array(["x", "y"], dtype=object), bliss.n)
    return y, g


def _cells(y: np.ndarray, sel: np.ndarray) -> tuple[float, float]:
    return float(y[sel].sum()), float(sel.sum() - y[sel].sum())


class TestOddsRatios:
    def test_level_odds_ratio_is_the_two_by_two_table(
        self, bliss: TrialDataset, made_up: tuple[np.ndarray, np.ndarray]
    ) -> None:
        y, g = made_up
        t = subgroup_odds_ratios(bliss, y, subgroups={"g": g})
        row = t[(t["level"] == "x") & (t["comparison"] == TEN)].iloc[0]
        a, b = _cells(y, (g == "x") & (bliss.arm_index == 2))
        c, d = _cells(y, (g == "x") & (bliss.arm_index == 0))
        log_or = math.log(a * d / (b * c))
        se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        assert row["odds_ratio"] == pytest.approx(a * d / (b * c), rel=1e-8)
        assert row["ci_low"] == pytest.approx(math.exp(log_or - Z * se), rel=1e-7)
        assert row["ci_high"] == pytest.approx(math.exp(log_or + Z * se), rel=1e-7)
        assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(log_or) / se), rel=1e-6)
        assert (row["responders_active"], row["n_active"]) == (a, a + b)
        assert (row["responders_control"], row["n_control"]) == (c, c + d)
        assert row["n"] == a + b + c + d
        assert row["note"] == ""

    def test_interaction_is_the_likelihood_ratio_test(
        self, bliss: TrialDataset, made_up: tuple[np.ndarray, np.ndarray]
    ) -> None:
        y, g = made_up
        t = subgroup_odds_ratios(bliss, y, subgroups={"g": g})
        pair = np.isin(bliss.arm_index, [0, 2])
        df = pd.DataFrame({"y": y, "treated": (bliss.arm_index == 2) * 1.0, "g": g})[pair]
        full = smf.logit("y ~ treated * C(g)", df).fit(disp=0)
        reduced = smf.logit("y ~ treated + C(g)", df).fit(disp=0)
        p = stats.chi2.sf(2 * (full.llf - reduced.llf), 1)
        in_g = t[(t["comparison"] == TEN) & (t["subgroup"] == "g")]
        assert in_g["interaction_p"].tolist() == pytest.approx([p, p], rel=1e-6)
        # The full model is saturated: its log-likelihood is that of the cell proportions.
        saturated = 0.0
        for (_, _), cell in df.groupby(["treated", "g"]):
            r, n = cell["y"].sum(), len(cell)
            saturated += r * math.log(r / n) + (n - r) * math.log(1 - r / n)
        assert full.llf == pytest.approx(saturated, rel=1e-9)

    def test_overall_row_is_the_whole_trial(self, bliss: TrialDataset) -> None:
        t = subgroup_odds_ratios(bliss)
        y = endpoint_table(bliss)["sri4"].to_numpy(float)
        a, b = _cells(y, bliss.arm_index == 2)
        c, d = _cells(y, bliss.arm_index == 0)
        overall = t[(t["subgroup"] == "overall") & (t["comparison"] == TEN)].iloc[0]
        assert overall["odds_ratio"] == pytest.approx(a * d / (b * c), rel=1e-8)
        assert overall["n"] == int(np.isin(bliss.arm_index, [0, 2]).sum())
        assert math.isnan(overall["interaction_p"])

    def test_covariates_adjust_every_model(
        self, bliss: TrialDataset, made_up: tuple[np.ndarray, np.ndarray]
    ) -> None:
        y, g = made_up
        t = subgroup_odds_ratios(bliss, y, subgroups={"g": g}, covariates=["STRAT1"])
        sel = (g == "y") & np.isin(bliss.arm_index, [0, 1])
        X = np.column_stack(
            [np.ones(sel.sum()), bliss.arm_index[sel] == 1, bliss.subjects["STRAT1"][sel]]
        ).astype(float)
        direct = sm.Logit(y[sel], X).fit(disp=0)
        row = t[(t["level"] == "y") & (t["comparison"] == ONE)].iloc[0]
        assert row["odds_ratio"] == pytest.approx(math.exp(direct.params[1]), rel=1e-7)

    def test_separation_and_a_missing_arm_give_nan_and_a_note(
        self, bliss: TrialDataset, made_up: tuple[np.ndarray, np.ndarray]
    ) -> None:
        y, g = made_up
        y, g = y.copy(), g.copy()
        arm = bliss.arm_index
        # Level "z": 3 placebo (one responder), 2 on 1 mg (both responders), none on 10 mg.
        z = np.concatenate([np.flatnonzero(arm == 0)[:3], np.flatnonzero(arm == 1)[:2]])
        g[z] = "z"
        y[z] = [1, 0, 0, 1, 1]
        y[np.flatnonzero(arm == 2)[:4]] = np.nan  # not evaluable: left out
        t = subgroup_odds_ratios(bliss, y, subgroups={"g": g})
        at_z = t[t["level"] == "z"].set_index("comparison")
        odds, note, n = at_z["odds_ratio"], at_z["note"], at_z["n"]
        assert math.isnan(odds[ONE])
        assert "only responders in belimumab_1mg" in note[ONE]
        assert math.isnan(odds[TEN])
        assert "no subject of belimumab_10mg" in note[TEN]
        assert n[TEN] == 3
        # The other levels and the interaction tests are unaffected.
        assert t.loc[t["level"] != "z", "odds_ratio"].notna().all()
        assert t.loc[t["subgroup"] == "g", "interaction_p"].between(0, 1).all()
        # Everyone evaluable in each pair of arms (four on 10 mg/kg are not).
        pairs = [int(np.isfinite(y[arm != 2]).sum()), int(np.isfinite(y[arm != 1]).sum())]
        assert pairs[1] <= int((arm != 1).sum()) - 4
        assert t.loc[t["subgroup"] == "overall", "n"].tolist() == pairs

    def test_labels_order_and_missing_labels(self, bliss: TrialDataset) -> None:
        labels = np.where(bliss.subjects["SELENABL"] >= 10, 10, 2).astype(object)
        labels[:5] = None  # no label: not in the subgroup analysis
        t = subgroup_odds_ratios(bliss, subgroups={"baseline": labels})
        levels = t.loc[t["subgroup"] == "baseline", "level"].unique().tolist()
        assert levels == ["2", "10"]  # numbers in numeric order
        n_labelled = t.loc[t["subgroup"] == "baseline"].groupby("comparison")["n"].sum()
        n_all = t.loc[t["subgroup"] == "overall"].set_index("comparison")["n"]
        assert ((n_all - n_labelled) <= 5).all()
        assert ((n_all - n_labelled) > 0).any()


class TestDefaults:
    def test_default_subgroups_and_columns(self, bliss: TrialDataset) -> None:
        t = subgroup_odds_ratios(bliss)
        assert tuple(t.columns) == FOREST_COLUMNS
        assert t["subgroup"].unique().tolist() == [
            "overall",
            "serologically_active",
            "baseline_selena_sledai",
            "race",
            "region",
        ]
        sero = t[(t["subgroup"] == "serologically_active") & (t["comparison"] == TEN)]
        assert sero["level"].tolist() == ["yes", "no"]
        active = bliss.subjects["SEROACT"].to_numpy()
        assert sero["n"].sum() == int(np.isin(bliss.arm_index, [0, 2]).sum())
        assert sero["n"].iloc[0] == int((active & np.isin(bliss.arm_index, [0, 2])).sum())
        races = t.loc[t["subgroup"] == "race", "level"].unique().tolist()
        assert set(races) == set(bliss.subjects["RACE"])
        assert t.attrs == {"endpoint": "sri4", "week": 52.0}
        groups = default_subgroups(bliss)
        assert list(groups["baseline_selena_sledai"].categories) == [">= 10", "<= 9"]

    def test_bad_inputs_say_how_to_fix_them(self, bliss: TrialDataset) -> None:
        with pytest.raises(AnalysisError, match="did you mean 'sri4'"):
            subgroup_odds_ratios(bliss, "sri_4")
        with pytest.raises(AnalysisError, match="not a binary endpoint"):
            subgroup_odds_ratios(bliss, "time_to_severe_flare")
        with pytest.raises(AnalysisError, match="did you mean 'SEROACT'"):
            subgroup_odds_ratios(bliss, subgroups=["SEROACTIVE"])
        with pytest.raises(AnalysisError, match="one response per subject"):
            subgroup_odds_ratios(bliss, np.ones(10))
        with pytest.raises(AnalysisError, match="1, 0 or NaN"):
            subgroup_odds_ratios(bliss, np.full(bliss.n, 2.0))
        with pytest.raises(AnalysisError, match="one per subject"):
            subgroup_odds_ratios(bliss, subgroups={"g": ["a", "b"]})


class TestForestPlot:
    def test_rows_headers_and_scale(
        self, bliss: TrialDataset, made_up: tuple[np.ndarray, np.ndarray]
    ) -> None:
        y, g = made_up
        g = g.copy()
        g[np.flatnonzero(bliss.arm_index == 0)[:2]] = "only_placebo"
        t = subgroup_odds_ratios(bliss, y, subgroups={"g": g})
        ax = forest_plot(t)
        labels = [tk.get_text() for tk in ax.get_yticklabels()]
        assert ax.get_xscale() == "log"
        assert labels[0] == "overall (n=865)"
        assert labels[1].startswith("g (interaction p")
        assert labels[2] == "only_placebo (n=2) – not estimable"  # levels sorted
        assert labels[3:5] == [f"x (n={(g == 'x').sum()})", f"y (n={(g == 'y').sum()})"]
        # Two comparisons x three estimable rows (overall, x, y): a CI line and a marker each.
        assert len(ax.get_lines()) == 2 * 3 * 2 + 2 + 1  # + legend handles + line at 1

    def test_needs_the_frame_columns(self) -> None:
        with pytest.raises(AnalysisError, match="missing odds_ratio"):
            forest_plot(pd.DataFrame({"subgroup": [], "level": [], "comparison": []}))


def _pooled(bliss52: Any, seeds: range) -> TrialDataset:
    """Several trials of one scenario as one dataset (same visits and arms)."""
    trials = [simulate_trial(bliss52, seed=s) for s in seeds]
    first = trials[0]
    subjects = {
        k: np.concatenate([t.subject_arrays[k] for t in trials]) for k in first.subject_arrays
    }
    arrays = {k: np.concatenate([getattr(t.arrays, k) for t in trials]) for k in vars(first.arrays)}
    return replace(first, subject_arrays=subjects, arrays=VisitArrays(**arrays))


@pytest.mark.statistical
def test_serologically_active_patients_respond_more_to_belimumab(bliss52: Any) -> None:
    # 20 pooled trials (17,300 subjects); seeds fixed. The disease model gives
    # belimumab a larger effect when anti-dsDNA is up and complement low.
    t = subgroup_odds_ratios(_pooled(bliss52, range(100, 120)), subgroups=["SEROACT"])
    ors = t.set_index(["level", "comparison"])["odds_ratio"]
    for comparison in (ONE, TEN):
        assert ors["yes", comparison] > ors["no", comparison]
        assert ors["no", comparison] > 1.0
    ten = t[(t["comparison"] == TEN) & (t["subgroup"] == "SEROACT")]
    assert ten["interaction_p"].iloc[0] < 0.01
