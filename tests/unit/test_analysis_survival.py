"""Time to first severe flare: Cox model, Kaplan-Meier curves, log-rank tests.

Hand computations on small trials: the Cox hazard ratio maximises the partial
likelihood written out here (no tied times, so Efron = Breslow = exact), with
the observed information for its standard error, within strata when
stratified; Kaplan-Meier products, Greenwood variances and log-log intervals;
the two-sample log-rank statistic from observed-minus-expected counts and the
hypergeometric variance. One statistical oracle: flares drawn at visits with a
grouped proportional hazards model of known hazard ratio (0.5) and known
control survival (0.97 per visit).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import matplotlib
import numpy as np
import pytest
from scipy import optimize, stats

from lupsim.analysis.survival import cox_time_to_severe_flare, kaplan_meier
from lupsim.trial import TrialDataset, simulate_trial
from lupsim.trial.dataset import VisitArrays

matplotlib.use("Agg")
Z = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def bliss(bliss52: Any) -> TrialDataset:
    return simulate_trial(bliss52, seed=1)


def toy(
    template: TrialDataset,
    arm: list[int] | np.ndarray,
    flare_visit: list[int | None],
    last_visit: list[int],
    *,
    n_visits: int = 5,
    day_offset: np.ndarray | None = None,
    strata: list[list[bool]] | None = None,
    arms: tuple[str, ...] = ("placebo", "drug"),
) -> TrialDataset:
    """A trial of ``len(arm)`` subjects: first severe flare at a visit (None: none),
    seen up to ``last_visit``; visit j on day 7 * week_j (+ an offset per subject)."""
    n, v = len(arm), n_visits
    weeks = np.asarray(template.visit_weeks[:v])
    day = np.tile(7.0 * weeks, (n, 1))
    if day_offset is not None:
        day[:, 1:] += np.asarray(day_offset, float)[:, None]
    observed = np.arange(v)[None, :] <= np.asarray(last_visit)[:, None]
    severe = np.zeros((n, v), bool)
    for i, j in enumerate(flare_visit):
        if j is not None:
            severe[i, j] = True
    cut = {k: np.asarray(x)[:n, :v].copy() for k, x in vars(template.arrays).items()}
    cut.update(
        day=day,
        observed=observed,
        flare_severe=severe,
        flare_severe_modified=severe,
        treatment_failure=np.zeros((n, v), bool),
    )
    sa = {k: np.asarray(x)[:n].copy() for k, x in template.subject_arrays.items()}
    sa.update(
        arm_index=np.asarray(arm, np.int8),
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
        visit_weeks=tuple(weeks),
        arms=arms,
        control=arms[0],
        primary_week=float(weeks[-1]),
        strata_rules=tuple(f"factor_{j + 1}" for j in range(len(strata or []))),
    )


# Twelve subjects, no tied times (each subject's visits shifted by i/10 day).
ARM = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
FLARE: list[int | None] = [1, 2, None, 3, None, 4, None, 3, None, 4, None, 2]
LAST = [4, 4, 4, 4, 2, 4, 4, 4, 4, 4, 1, 4]


def _partial_loglik(beta: float, t: np.ndarray, d: np.ndarray, x: np.ndarray) -> float:
    return sum(beta * x[i] - math.log(np.exp(beta * x[t >= t[i]]).sum()) for i in np.flatnonzero(d))


def _information(beta: float, t: np.ndarray, d: np.ndarray, x: np.ndarray) -> float:
    info = 0.0
    for i in np.flatnonzero(d):
        w = np.exp(beta * x[t >= t[i]])
        xr = x[t >= t[i]]
        info += (w * xr**2).sum() / w.sum() - ((w * xr).sum() / w.sum()) ** 2
    return info


def _hand_cox(groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[float, float]:
    """MLE and standard error of beta from partial likelihoods summed over strata."""
    res = optimize.minimize_scalar(
        lambda b: -sum(_partial_loglik(b, *g) for g in groups),
        bounds=(-5, 5),
        method="bounded",
        options={"xatol": 1e-10},
    )
    beta = float(res.x)
    return beta, 1 / math.sqrt(sum(_information(beta, *g) for g in groups))


class TestCox:
    def test_hazard_ratio_maximises_the_partial_likelihood(self, bliss: TrialDataset) -> None:
        ds = toy(bliss, ARM, FLARE, LAST, day_offset=np.arange(12) / 10)
        r = cox_time_to_severe_flare(ds)
        e = r.estimate_for("drug vs placebo")

        x = np.asarray(ARM, float)
        t = np.array(
            [
                7 * ds.visit_weeks[f if f is not None else k] + i / 10
                for i, (f, k) in enumerate(zip(FLARE, LAST, strict=True))
            ]
        )
        d = np.array([f is not None for f in FLARE], float)
        beta, se = _hand_cox([(t, d, x)])
        assert e.measure == "hazard_ratio"
        assert e.n == 12
        assert e.estimate == pytest.approx(math.exp(beta), rel=1e-6)
        assert e.ci_low == pytest.approx(math.exp(beta - Z * se), rel=1e-5)
        assert e.ci_high == pytest.approx(math.exp(beta + Z * se), rel=1e-5)
        assert e.p_value == pytest.approx(2 * stats.norm.sf(abs(beta) / se), rel=1e-5)
        events = r.frames["events"].set_index("arm")
        assert events.loc["placebo", "events"] == 4
        assert events.loc["drug", "events"] == 3

    def test_strata_have_their_own_baseline_hazard(self, bliss: TrialDataset) -> None:
        stratum = np.array([0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0], bool)
        ds = toy(bliss, ARM, FLARE, LAST, day_offset=np.arange(12) / 10, strata=[list(stratum)])
        x = np.asarray(ARM, float)
        t = np.array(
            [
                7 * ds.visit_weeks[f if f is not None else k] + i / 10
                for i, (f, k) in enumerate(zip(FLARE, LAST, strict=True))
            ]
        )
        d = np.array([f is not None for f in FLARE], float)
        beta, se = _hand_cox([(t[s], d[s], x[s]) for s in (stratum, ~stratum)])
        pooled, _ = _hand_cox([(t, d, x)])
        assert abs(beta - pooled) > 0.05  # the strata change the answer ...
        e = cox_time_to_severe_flare(ds).estimate_for("drug vs placebo")
        assert e.estimate == pytest.approx(math.exp(beta), rel=1e-6)  # ... to this one
        assert e.ci_high == pytest.approx(math.exp(beta + Z * se), rel=1e-5)
        flat = cox_time_to_severe_flare(ds, stratified=False).estimate_for("drug vs placebo")
        assert flat.estimate == pytest.approx(math.exp(pooled), rel=1e-6)

    def test_arm_without_flares_is_nan_and_the_others_still_fit(self, bliss: TrialDataset) -> None:
        arm = [*ARM, 2, 2, 2]
        ds = toy(
            bliss,
            arm,
            [*FLARE, None, None, None],
            [*LAST, 4, 4, 4],
            day_offset=np.arange(15) / 10,
            arms=("placebo", "drug", "other"),
        )
        r = cox_time_to_severe_flare(ds)
        other = r.estimate_for("other vs placebo")
        assert math.isnan(other.estimate)
        assert "no severe flare in other" in other.note
        alone = cox_time_to_severe_flare(
            toy(bliss, ARM, FLARE, LAST, day_offset=np.arange(12) / 10)
        )
        assert r.estimate_for("drug vs placebo").estimate == pytest.approx(
            alone.estimate_for("drug vs placebo").estimate, rel=1e-9
        )

    def test_week_censors_later_flares(self, bliss: TrialDataset) -> None:
        ds = toy(bliss, ARM, FLARE, LAST, day_offset=np.arange(12) / 10)
        r = cox_time_to_severe_flare(ds, week=8)
        events = r.frames["events"].set_index("arm")["events"]
        assert events.to_dict() == {"placebo": 2, "drug": 1}  # flares at visits 1-2 only
        # Up to week 8 the one drug flare (day 57.1) comes after every placebo
        # subject has been censored (days 56.1-56.5): the partial likelihood
        # falls without end as the log hazard ratio rises, so there is no MLE.
        e = r.estimate_for("drug vs placebo")
        assert math.isnan(e.estimate)
        assert "monotone" in e.note


# ------------------------------------------------------------- Kaplan-Meier

# Placebo: flares at visit 1 (x2), 2, 4; censored at visits 1, 3, 3, 4 (n = 8).
# Drug: flares at visits 2, 3; censored at 1, 4, 4, 4 (n = 6). Days 28, 56, 84, 112.
KM_ARM = [0] * 8 + [1] * 6
KM_FLARE: list[int | None] = [1, 1, None, 2, None, None, 4, None, 2, 3, None, None, None, None]
KM_LAST = [4, 4, 1, 4, 3, 3, 4, 4, 4, 4, 1, 4, 4, 4]


class TestKaplanMeier:
    def test_survival_by_hand(self, bliss: TrialDataset) -> None:
        km = kaplan_meier(toy(bliss, KM_ARM, KM_FLARE, KM_LAST))
        c = km.curves[km.curves["arm"] == "placebo"].set_index("time")
        # S(28) = 6/8; S(56) = 0.75 * 4/5 (the subject censored at 28 is gone);
        # S(112) = 0.6 * 1/2 (two censored at 84).
        assert c["survival"].to_dict() == pytest.approx(
            {0.0: 1.0, 28.0: 0.75, 56.0: 0.6, 112.0: 0.3}
        )
        assert c["at_risk"].to_dict() == {0.0: 8, 28.0: 8, 56.0: 5, 112.0: 2}
        assert c["events"].to_dict() == {0.0: 0, 28.0: 2, 56.0: 1, 112.0: 1}
        # Greenwood and the log-log interval at day 56.
        v = 2 / (8 * 6) + 1 / (5 * 4)
        w = Z * math.sqrt(v) / abs(math.log(0.6))
        assert c["ci_low"][56.0] == pytest.approx(0.6 ** math.exp(w), rel=1e-9)
        assert c["ci_high"][56.0] == pytest.approx(0.6 ** math.exp(-w), rel=1e-9)
        assert km.survival_at("placebo", 100.0) == pytest.approx(0.6)
        # Drug: S = 4/5 at 56, then 4/5 * 3/4 at 84, flat to the last follow-up (112).
        drug = km.curves[km.curves["arm"] == "drug"].set_index("time")["survival"]
        assert drug.to_dict() == pytest.approx({0.0: 1.0, 56.0: 0.8, 84.0: 0.6, 112.0: 0.6})

    def test_logrank_by_hand(self, bliss: TrialDataset) -> None:
        km = kaplan_meier(toy(bliss, KM_ARM, KM_FLARE, KM_LAST))
        # At each event time: (deaths, at risk) in placebo and drug.
        table = [(28, 2, 8, 0, 6), (56, 1, 5, 1, 5), (84, 0, 4, 1, 4), (112, 1, 2, 0, 3)]
        o_minus_e = var = 0.0
        for _, d0, n0, d1, n1 in table:
            d, n = d0 + d1, n0 + n1
            o_minus_e += d0 - d * n0 / n
            var += d * (n0 / n) * (n1 / n) * (n - d) / (n - 1)
        chi2 = o_minus_e**2 / var
        assert km.logrank_chi2 == pytest.approx(chi2, rel=1e-9)
        assert km.logrank_df == 1
        assert km.logrank_p == pytest.approx(stats.chi2.sf(chi2, 1), rel=1e-9)
        assert km.pairwise_p["drug"] == pytest.approx(km.logrank_p)

    def test_summary_text_and_plot(self, bliss: TrialDataset) -> None:
        km = kaplan_meier(toy(bliss, KM_ARM, KM_FLARE, KM_LAST))
        s = km.summary().set_index("arm")
        assert s["median_time"]["placebo"] == 112.0  # first time S <= 0.5
        assert math.isnan(s["median_time"]["drug"])
        assert s["events"]["placebo"] == 4
        assert s["n"]["drug"] == 6
        assert "log-rank" in str(km)
        assert "<table" in km._repr_html_()
        ax = km.plot()
        legend = ax.get_legend()
        assert legend is not None
        assert [t.get_text() for t in legend.get_texts()] == ["placebo", "drug"]
        assert len(ax.get_lines()) == 2

    def test_arm_without_flares_stays_at_one(self, bliss: TrialDataset) -> None:
        km = kaplan_meier(toy(bliss, [0, 0, 1, 1], [1, None, None, None], [4, 4, 4, 2]))
        drug = km.curves[km.curves["arm"] == "drug"]
        assert drug["survival"].tolist() == [1.0, 1.0]  # day 0 and last follow-up
        assert drug["time"].tolist() == [0.0, 112.0]


# ------------------------------------------------------------------- oracle


@pytest.mark.statistical
def test_known_hazard_ratio_and_survival_are_recovered(bliss: TrialDataset) -> None:
    # Grouped proportional hazards: control free of flare at each visit with
    # probability 0.97, drug with 0.97 ** 0.5, so S_drug = S_control ** 0.5 at
    # every visit. 864 subjects, 13 post-baseline visits, ~220 flares.
    rng = np.random.default_rng(20240611)
    n, v = 864, 14
    arm = np.arange(n) % 2
    stay = np.where(arm == 0, 0.97, 0.97**0.5)
    first = rng.geometric(1 - stay)  # visit of the first flare (1, 2, ...)
    flare = [int(f) if f < v else None for f in first]
    ds = toy(bliss, arm, flare, [v - 1] * n, n_visits=v)
    e = cox_time_to_severe_flare(ds).estimate_for("drug vs placebo")
    assert e.ci_low < 0.5 < e.ci_high
    assert e.ci_high < 1.0
    km = kaplan_meier(ds)
    truth = 0.97**13
    se = math.sqrt(truth * (1 - truth) / (n / 2))
    assert abs(km.survival_at("placebo", 7 * 52) - truth) < 3 * se
    assert km.logrank_p < 0.001


def test_bliss52_cox_and_kaplan_meier_agree_on_counts(bliss: TrialDataset) -> None:
    cox = cox_time_to_severe_flare(bliss)
    km = kaplan_meier(bliss)
    assert cox.frames["events"][["arm", "n", "events"]].equals(km.counts)
    for e in cox.estimates:
        assert 0 < e.ci_low < e.estimate < e.ci_high
        assert 0 <= e.p_value <= 1
    assert list(km.summary()["arm"]) == list(bliss.arms)
    assert km.curves.groupby("arm")["survival"].apply(lambda s: s.is_monotonic_decreasing).all()
