"""SELENA-SLEDAI change analyses (ANCOVA, mixed model, GEE) and the results objects.

Exact checks on small trials whose answers follow by hand: ANCOVA with only the
arm is the difference of the two arms' mean changes with the pooled-variance t
interval; with covariates it is the least-squares fit numpy computes directly;
on complete, balanced data the mixed model and GEE (random intercept /
exchangeable correlation) give the OLS point estimates exactly, because the
compound-symmetry covariance maps the design's column space onto itself
(Zyskind's condition). One statistical check: belimumab 10 mg/kg lowers
SELENA-SLEDAI in a BLISS-52-sized trial (seed 1, p < 1e-6 there, checked once).
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lupsim.analysis.continuous import ancova_change, gee, mixed_model
from lupsim.analysis.results import (
    SUMMARY_COLUMNS,
    AnalysisResult,
    Estimate,
    comparison_label,
    full_rank_columns,
    wald_interval,
)
from lupsim.errors import AnalysisError, LupsimError
from lupsim.trial import TrialDataset, simulate_trial
from lupsim.trial.dataset import VisitArrays

matplotlib.use("Agg")
NAN = float("nan")


@pytest.fixture(scope="module")
def bliss(bliss52: Any) -> TrialDataset:
    """One BLISS-52-sized trial (865 subjects, three arms)."""
    return simulate_trial(bliss52, seed=1)


def toy(
    template: TrialDataset,
    arm: list[int],
    selena: list[list[int]] | np.ndarray,
    *,
    observed: list[list[bool]] | np.ndarray | None = None,
    strata: list[list[bool]] | None = None,
    arms: tuple[str, ...] = ("placebo", "drug"),
) -> TrialDataset:
    """A small trial: the first subjects and visits of ``template`` with the given
    arms, SELENA-SLEDAI scores, visits seen and stratification flags."""
    sel = np.asarray(selena, dtype=np.int16)
    n, v = sel.shape
    cut = {k: np.asarray(x)[:n, :v].copy() for k, x in vars(template.arrays).items()}
    cut.update(
        selena=sel,
        observed=np.ones((n, v), bool) if observed is None else np.asarray(observed, bool),
        treatment_failure=np.zeros((n, v), bool),
    )
    sa = {k: np.asarray(x)[:n].copy() for k, x in template.subject_arrays.items()}
    sa.update(
        arm_index=np.asarray(arm, np.int8),
        selena_bl=sel[:, 0],
        disc_visit=np.full(n, -1, np.int16),
        disc_reason=np.full(n, -1, np.int8),
        failure_visit=np.full(n, -1),
        treatment_failure=np.zeros(n, bool),
    )
    for j, flags in enumerate(strata or []):
        sa[f"stratum_factor_{j + 1}"] = np.asarray(flags, bool)
    return replace(
        template,
        subject_arrays=sa,
        arrays=VisitArrays(**cut),
        visit_weeks=template.visit_weeks[:v],
        arms=arms,
        control=arms[0],
        primary_week=template.visit_weeks[v - 1],
        strata_rules=tuple(f"factor_{j + 1}" for j in range(len(strata or []))),
    )


# ---------------------------------------------------------------- ANCOVA


class TestAncova:
    def test_arm_only_is_the_difference_of_mean_changes(self, bliss: TrialDataset) -> None:
        # Constant baseline and no strata: the model reduces to change ~ arm.
        # The two subjects not seen at week 8 are left out.
        change_placebo = [-2, 0, -4, 1]
        change_drug = [-6, -3, -5, -2, -4]
        selena = [[10, 9, 10 + c] for c in [*change_placebo, 30, *change_drug, 30]]
        seen = [[True, True, i not in (4, 10)] for i in range(11)]
        ds = toy(bliss, [0] * 5 + [1] * 6, selena, observed=seen)

        r = ancova_change(ds)
        e = r.estimate_for("drug vs placebo")
        diff = np.mean(change_drug) - np.mean(change_placebo)  # -4.0 + 1.25 = -2.75
        n1, n0 = len(change_drug), len(change_placebo)
        pooled = (
            (n1 - 1) * np.var(change_drug, ddof=1) + (n0 - 1) * np.var(change_placebo, ddof=1)
        ) / (n1 + n0 - 2)
        se = np.sqrt(pooled * (1 / n1 + 1 / n0))
        q = stats.t.ppf(0.975, n1 + n0 - 2)
        assert e.estimate == pytest.approx(-2.75, abs=1e-12)
        assert e.estimate == pytest.approx(diff, abs=1e-12)
        assert (e.ci_low, e.ci_high) == pytest.approx((diff - q * se, diff + q * se), abs=1e-10)
        assert e.p_value == pytest.approx(
            stats.ttest_ind(change_drug, change_placebo).pvalue, rel=1e-10
        )
        assert e.n == 9
        assert e.measure == "difference"
        assert any("baseline_selena" in n for n in r.notes)  # constant: left out
        means = r.frames["adjusted_means"].set_index("arm")
        assert means.loc["placebo", "adjusted_mean"] == pytest.approx(np.mean(change_placebo))
        assert means.loc["drug", "n"] == 5

    def test_equals_least_squares_with_baseline_and_strata(self, bliss: TrialDataset) -> None:
        r = ancova_change(bliss)
        a = bliss.arrays
        j = bliss.visit_column(52)
        seen = a.observed[:, j]
        base = a.selena[:, 0].astype(float)
        y = (a.selena[:, j] - base)[seen]
        strata = bliss.subjects[["STRAT1", "STRAT2", "STRAT3"]].to_numpy(float)
        X = np.column_stack(
            [np.ones(bliss.n), bliss.arm_index == 1, bliss.arm_index == 2, base, strata]
        ).astype(float)[seen]
        beta, rss, *_ = np.linalg.lstsq(X, y, rcond=None)
        df = X.shape[0] - X.shape[1]
        cov = rss[0] / df * np.linalg.inv(X.T @ X)
        q = stats.t.ppf(0.975, df)
        for col, arm in ((1, "belimumab_1mg"), (2, "belimumab_10mg")):
            e = r.estimate_for(f"{arm} vs placebo")
            se = np.sqrt(cov[col, col])
            assert e.estimate == pytest.approx(beta[col], abs=1e-9)
            assert e.ci_low == pytest.approx(beta[col] - q * se, abs=1e-9)
            assert e.p_value == pytest.approx(2 * stats.t.sf(abs(beta[col]) / se, df), rel=1e-6)
            assert e.n == int((seen & np.isin(bliss.arm_index, [0, col])).sum())
        # Adjusted means differ by exactly the estimates.
        m = r.frames["adjusted_means"].set_index("arm")["adjusted_mean"]
        assert m["belimumab_10mg"] - m["placebo"] == pytest.approx(beta[2], abs=1e-9)

    def test_contrasts_follow_the_control_arm(self, bliss: TrialDataset) -> None:
        # The same model with another reference arm: differences re-express exactly.
        base = ancova_change(bliss)
        d1 = base.estimate_for("belimumab_1mg vs placebo").estimate
        d10 = base.estimate_for("belimumab_10mg vs placebo").estimate
        other = ancova_change(replace(bliss, control="belimumab_1mg"))
        assert list(other.summary()["comparison"]) == [
            "placebo vs belimumab_1mg",
            "belimumab_10mg vs belimumab_1mg",
        ]
        assert other.estimate_for("placebo vs belimumab_1mg").estimate == pytest.approx(-d1)
        assert other.estimate_for("belimumab_10mg vs belimumab_1mg").estimate == pytest.approx(
            d10 - d1
        )

    def test_arm_without_completers_is_nan_with_a_note(self, bliss: TrialDataset) -> None:
        selena = [[10, 8, 6]] * 9
        seen = [[True, True, k != 2] for k in [0, 0, 0, 1, 1, 1, 2, 2, 2]]
        ds = toy(bliss, [0, 0, 0, 1, 1, 1, 2, 2, 2], selena, observed=seen, arms=("p", "a", "b"))
        r = ancova_change(ds)
        b = r.estimate_for("b vs p")
        assert np.isnan(b.estimate)
        assert np.isnan(b.p_value)
        assert "no subject of b" in b.note
        assert r.estimate_for("a vs p").estimate == pytest.approx(0.0)
        assert "no subject of b" in str(r)

    def test_week_must_be_a_post_baseline_visit(self, bliss: TrialDataset) -> None:
        with pytest.raises(AnalysisError, match="post-baseline"):
            ancova_change(bliss, week=0)
        with pytest.raises(LupsimError, match="not a visit"):
            ancova_change(bliss, week=5)

    @pytest.mark.statistical
    def test_belimumab_10mg_lowers_sledai_in_bliss52(self, bliss: TrialDataset) -> None:
        e = ancova_change(bliss).estimate_for("belimumab_10mg vs placebo")
        assert e.estimate < 0
        assert e.ci_high < 0
        assert e.p_value < 0.05


# ------------------------------------------------------- repeated measures


def _complete_toy(bliss: TrialDataset, seed: int = 7) -> TrialDataset:
    """40 subjects, 2 arms, every visit seen, random scores (balanced design)."""
    rng = np.random.default_rng(seed)
    n, v = 40, 4
    arm = np.repeat([0, 1], n // 2)
    subject = rng.normal(0, 2, n)[:, None]
    selena = 10 + rng.integers(-4, 5, n)[:, None] + subject - arm[:, None] * np.arange(v)
    selena = np.clip(np.rint(selena + rng.normal(0, 1.5, (n, v))), 0, 40).astype(int)
    return toy(bliss, list(arm), selena)


def _ols_by_week(ds: TrialDataset) -> dict[float, float]:
    """Drug minus placebo at each week from OLS of change ~ arm * week + baseline."""
    a = ds.arrays
    weeks = np.asarray(ds.visit_weeks)
    i, j = np.nonzero(a.observed & (weeks > 0))
    w = weeks[j]
    arm = (ds.arm_index[i] == 1).astype(float)
    base = a.selena[i, 0].astype(float)
    levels = sorted(set(w))
    cols = [np.ones(i.size), arm, base]
    cols += [(w == lv).astype(float) for lv in levels[1:]]
    cols += [arm * (w == lv) for lv in levels[1:]]
    X = np.column_stack(cols)
    beta = np.linalg.lstsq(X, a.selena[i, j] - base, rcond=None)[0]
    k = len(levels) - 1
    return {lv: beta[1] + (beta[3 + k + m - 1] if m else 0.0) for m, lv in enumerate(levels)}


class TestRepeatedMeasures:
    @pytest.mark.parametrize("analysis", [mixed_model, gee])
    def test_complete_balanced_data_give_the_ols_estimates(
        self, bliss: TrialDataset, analysis: Any
    ) -> None:
        ds = _complete_toy(bliss)
        expected = _ols_by_week(ds)
        r = analysis(ds)
        e = r.estimate_for("drug vs placebo")
        assert e.estimate == pytest.approx(expected[ds.primary_week], abs=1e-6)
        assert e.ci_low < e.estimate < e.ci_high
        assert e.n == 40
        by_week = r.frames["by_week"].set_index("week")["estimate"]
        for week, value in expected.items():
            assert by_week[week] == pytest.approx(value, abs=1e-6)

    def test_week_selects_the_reported_contrast(self, bliss: TrialDataset) -> None:
        ds = _complete_toy(bliss)
        expected = _ols_by_week(ds)
        first = ds.visit_weeks[1]  # the reference week: the arm main effect alone
        e = gee(ds, week=first).estimate_for("drug vs placebo")
        assert e.estimate == pytest.approx(expected[first], abs=1e-6)

    def test_partly_seen_subjects_count(self, bliss: TrialDataset) -> None:
        ds = _complete_toy(bliss)
        seen = np.ones((40, 4), bool)
        seen[:5, 2:] = False  # five placebo subjects leave after week 4
        seen[35:, 1:] = False  # five drug subjects are never seen after baseline
        r = gee(replace(ds, arrays=replace(ds.arrays, observed=seen)))
        assert r.estimate_for("drug vs placebo").n == 35

    @pytest.mark.statistical
    def test_bliss52_agrees_with_ancova(self, bliss: TrialDataset) -> None:
        ancova = ancova_change(bliss).estimate_for("belimumab_10mg vs placebo")
        for r in (mixed_model(bliss), gee(bliss)):
            e = r.estimate_for("belimumab_10mg vs placebo")
            assert e.estimate < 0, r
            assert e.p_value < 0.05, r
            # Same quantity, different use of the data: within about one SE.
            assert abs(e.estimate - ancova.estimate) < 0.5
            assert len(r.frames["by_week"]) == 2 * (len(bliss.visit_weeks) - 1)


# ------------------------------------------------------------ results objects


def _result() -> AnalysisResult:
    return AnalysisResult(
        name="toy",
        method="test",
        estimates=(
            Estimate("a vs p", "odds_ratio", 2.0, 1.5, 2.7, 0.001, 100, "logistic"),
            Estimate("b vs p", "odds_ratio", NAN, NAN, NAN, NAN, 90, "logistic", "separation"),
        ),
        frames={"extra": pd.DataFrame({"x": [1]})},
        notes=("fit converged slowly",),
    )


class TestResults:
    def test_summary_and_to_frame(self) -> None:
        r = _result()
        s = r.summary()
        assert tuple(s.columns) == SUMMARY_COLUMNS
        assert s["estimate"].iloc[0] == 2.0
        assert s["n"].tolist() == [100, 90]
        f = r.to_frame()
        assert f.columns[0] == "analysis"
        assert f.columns[-1] == "note"
        assert f["note"].tolist() == ["", "separation"]

    def test_text_and_html(self) -> None:
        r = _result()
        text = str(r)
        assert "a vs p" in text
        assert "separation" in text
        assert "converged slowly" in text
        assert "<table" in r._repr_html_()
        assert "separation" in r._repr_html_()

    def test_frozen(self) -> None:
        r = _result()
        with pytest.raises(dataclasses.FrozenInstanceError):
            r.name = "other"  # type: ignore[misc]
        with pytest.raises(TypeError):
            r.frames["new"] = pd.DataFrame()  # type: ignore[index]

    def test_estimate_for_unknown_comparison_says_what_exists(self) -> None:
        with pytest.raises(
            LupsimError, match=r"did you mean 'a vs p'.*comparisons: a vs p, b vs p"
        ):
            _result().estimate_for("a vs q")

    def test_plot_uses_a_log_axis_for_ratios(self) -> None:
        ax = _result().plot()
        assert ax.get_xscale() == "log"
        assert [t.get_text() for t in ax.get_yticklabels()] == ["a vs p", "b vs p"]

    def test_estimate_null_value(self) -> None:
        e = Estimate(comparison_label("a", "p"), "difference", -1.0, -2.0, 0.0, 0.05, 10, "m")
        assert e.comparison == "a vs p"
        assert not e.is_ratio
        assert e.null_value == 0.0

    def test_wald_interval(self) -> None:
        lo, hi, p = wald_interval(1.0, 0.5)
        assert (lo, hi) == pytest.approx((1 - 1.959964 * 0.5, 1 + 1.959964 * 0.5), abs=1e-6)
        assert p == pytest.approx(2 * stats.norm.sf(2.0))
        lo, hi, p = wald_interval(1.0, 0.5, df=10)
        assert hi - 1.0 == pytest.approx(stats.t.ppf(0.975, 10) * 0.5)
        assert np.isnan(wald_interval(1.0, float("nan"))[2])

    def test_full_rank_columns_keeps_what_is_new_after_a_dropped_column(self) -> None:
        X = pd.DataFrame(
            {
                "one": [1.0, 1, 1, 1],
                "a": [1.0, 0, 1, 0],
                "b": [1.0, 1, 0, 0],
                "one_minus_a": [0.0, 1, 0, 1],  # aliased: one - a
                "zero": [0.0, 0, 0, 0],
                "c": [0.0, 1, 1, 0],  # independent of one, a, b
                "d": [2.0, 1, 2, 3],  # four rows: anything after four columns is aliased
            }
        )
        kept = full_rank_columns(X)
        assert kept[:3] == ["one", "a", "b"]
        assert "one_minus_a" not in kept
        assert "zero" not in kept
        assert "c" in kept
        assert "d" not in kept
        assert np.linalg.matrix_rank(X[kept].to_numpy()) == len(kept)
        assert np.linalg.matrix_rank(X.to_numpy()) == len(kept)
