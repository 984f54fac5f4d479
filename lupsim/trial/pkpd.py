"""Exposure and effect of an anti-BAFF antibody over the days of a trial.

Belimumab is linear (CL about 215 mL/day, terminal half-life about 19 days,
subcutaneous bioavailability about 76%; Struemper et al., J Clin Pharmacol
2013;53:711-20 and the BENLYSTA label; sle-reference.md section 6). lupsim
uses a one-compartment approximation with that clearance and half-life (so the
average steady-state concentration, dose rate / CL, is exact), IV doses as
boluses and SC doses with first-order absorption.

The effect is an Emax function of concentration, reached through an effect
compartment: B-cell survival falls over weeks after BAFF is neutralised, so the
clinical effect lags exposure. The effect is a fraction in [0, 1) of the full
effect; :mod:`lupsim.trial.disease` turns it into lower odds of organ activity.

Examples
--------
>>> from lupsim.trial.design import Arm
>>> arm = Arm(name="bel10", drug="anti_baff", dose_mg_per_kg=10)
>>> curve = effect_curve(arm, PKPD(), last_day=364)
>>> bool(0.0 < curve[28] < curve[112] < 1.0)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import signal

from lupsim.trial.design import Arm

__all__ = ["PKPD", "concentration_curve", "effect_curve", "steady_state_concentration"]

REFERENCE_WEIGHT_KG = 70.0


@dataclass(frozen=True)
class PKPD:
    """Pharmacokinetic and pharmacodynamic constants of the anti-BAFF antibody.

    Attributes
    ----------
    clearance_l_per_day
        Linear clearance of a 70 kg patient (0.215 L/day; Struemper 2013).
    half_life_days
        Terminal half-life (19 days; BENLYSTA label).
    sc_bioavailability
        Fraction of a subcutaneous dose absorbed (0.76; Struemper 2016).
    sc_absorption_per_day
        First-order absorption rate (lupsim assumption giving a t_max of
        about 3 days after a subcutaneous dose).
    ec50_ug_ml
        Concentration giving half the maximal effect. Calibrated so that
        1 mg/kg gives a little more than half the SRI-4 gain of 10 mg/kg in
        BLISS-52 (:mod:`lupsim.trial.calibration`); at 10 mg/kg (about 116
        ug/mL on average) the exposure-response is then flat, as reported.
    effect_half_life_days
        Half-life of the effect compartment: 8 weeks (lupsim assumption; naive
        and transitional B cells fall over months under belimumab, Stohl et al.,
        Arthritis Rheum 2012;64:2328-37), chosen so that the arms separate from
        about week 16 and the difference grows to week 52, as in BLISS-52.
    """

    clearance_l_per_day: float = 0.215
    half_life_days: float = 19.0
    sc_bioavailability: float = 0.76
    sc_absorption_per_day: float = 1.0
    ec50_ug_ml: float = 9.76
    effect_half_life_days: float = 56.0

    @property
    def elimination_per_day(self) -> float:
        return float(np.log(2.0) / self.half_life_days)

    @property
    def volume_l(self) -> float:
        """Apparent volume that gives the clearance and half-life together."""
        return self.clearance_l_per_day / self.elimination_per_day


def _dose_mg(arm: Arm, weight_kg: float) -> float:
    if arm.drug != "anti_baff":
        return 0.0
    if arm.route == "iv":
        assert arm.dose_mg_per_kg is not None
        return arm.dose_mg_per_kg * weight_kg
    assert arm.dose_mg is not None
    return arm.dose_mg


def concentration_curve(
    arm: Arm, pk: PKPD, last_day: int, weight_kg: float = REFERENCE_WEIGHT_KG
) -> NDArray[np.float64]:
    """Concentration (ug/mL = mg/L) on each day 0..last_day after randomisation.

    Clearance and volume scale with body weight (so mg/kg doses give the same
    concentrations whatever the weight, and fixed doses give more to lighter
    patients).

    Examples
    --------
    >>> from lupsim.trial.design import Arm
    >>> c = concentration_curve(Arm(name="p"), PKPD(), 10)
    >>> float(c.max())
    0.0
    """
    days = np.arange(last_day + 1, dtype=np.float64)
    conc = np.zeros_like(days)
    dose = _dose_mg(arm, weight_kg)
    if dose == 0.0:
        return conc
    scale = weight_kg / REFERENCE_WEIGHT_KG
    v = pk.volume_l * scale
    k = pk.elimination_per_day
    for t0 in arm.dose_days():
        dt = days - t0
        after = dt >= 0
        if arm.route == "iv":
            conc[after] += dose / v * np.exp(-k * dt[after])
        else:
            ka = pk.sc_absorption_per_day
            f = pk.sc_bioavailability
            conc[after] += (
                f * dose * ka / (v * (ka - k)) * (np.exp(-k * dt[after]) - np.exp(-ka * dt[after]))
            )
    return conc


def effect_curve(
    arm: Arm, pk: PKPD, last_day: int, weight_kg: float = REFERENCE_WEIGHT_KG
) -> NDArray[np.float64]:
    """Fraction of the full drug effect on each day 0..last_day (0 for placebo).

    The Emax response ``C / (EC50 + C)`` drives an effect compartment,
    integrated exactly over each day.
    """
    conc = concentration_curve(arm, pk, last_day, weight_kg)
    drive = conc / (pk.ec50_ug_ml + conc)
    decay = float(np.exp(-np.log(2.0) / pk.effect_half_life_days))
    # out[t] = decay * out[t-1] + (1 - decay) * mid[t]: exact for a drive held at
    # its mid-day value over each day; a first-order recursive filter.
    mid = np.concatenate(([0.0], 0.5 * (drive[:-1] + drive[1:])))
    out: NDArray[np.float64] = signal.lfilter([1.0 - decay], [1.0, -decay], mid)
    return out


def steady_state_concentration(arm: Arm, pk: PKPD, weight_kg: float = REFERENCE_WEIGHT_KG) -> float:
    """Average concentration at steady state, dose rate / clearance (ug/mL).

    Examples
    --------
    >>> from lupsim.trial.design import Arm
    >>> iv = Arm(name="iv", drug="anti_baff", dose_mg_per_kg=10)
    >>> sc = Arm(name="sc", drug="anti_baff", route="sc", dose_mg=200, loading_days=(0,),
    ...          interval_days=7, last_dose_day=357)
    >>> round(steady_state_concentration(iv, PKPD())), round(steady_state_concentration(sc, PKPD()))
    (116, 101)
    """
    dose = _dose_mg(arm, weight_kg)
    bio = pk.sc_bioavailability if arm.route == "sc" else 1.0
    cl = pk.clearance_l_per_day * weight_kg / REFERENCE_WEIGHT_KG
    return bio * dose / arm.interval_days / cl
