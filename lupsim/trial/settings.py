"""Scenario tables that override the disease and drug parameters.

A scenario may carry ``[disease]`` and ``[pkpd]`` tables: any field of
:class:`~lupsim.trial.disease.DiseaseParameters` or
:class:`~lupsim.trial.pkpd.PKPD`, checked against its range. This is how a
scenario states a different drug (a stronger or weaker effect, another EC50) or
a refitted model (``lupsim calibrate --out`` writes these tables).

Examples
--------
>>> DiseaseSettings(drug_logodds=2.0).apply(DiseaseParameters()).drug_logodds
2.0
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from lupsim.cohort.population import meta
from lupsim.trial.disease import DiseaseParameters
from lupsim.trial.pkpd import PKPD

__all__ = ["DiseaseSettings", "PKPDSettings"]

# Range (inclusive bounds) and unit of each overridable parameter. Log-odds are
# bounded at +/- 10 (odds ratios beyond e^10 are not a lupus treatment effect).
_DISEASE_RANGES: dict[str, tuple[float, float, str]] = {
    "organ_rate_per_week": (0.0, 10.0, "1/week"),
    "standard_care_logodds": (-10.0, 10.0, "log-odds"),
    "item_rate_per_week": (0.0, 10.0, "1/week"),
    "drug_logodds": (-10.0, 10.0, "log-odds at the full effect"),
    "drug_onset_logodds": (-10.0, 10.0, "log onset rate at the full effect"),
    "seronegative_fraction": (0.0, 1.0, "fraction"),
    "sero_active_turnover": (0.01, 100.0, "rate multiplier"),
    "steroid_logodds": (-10.0, 10.0, "log-odds per log(1 + mg/day)"),
    "dsdna_drop_log10": (-5.0, 5.0, "log10 IU/mL"),
    "c3_rise": (-100.0, 100.0, "mg/dL"),
    "c4_rise_log": (-5.0, 5.0, "log mg/dL"),
    "serology_persistence": (0.0, 0.999, "fraction"),
    "serology_ar": (0.0, 0.999, "autocorrelation per 4 weeks"),
    "proteinuria_ar": (0.0, 0.999, "autocorrelation per 4 weeks"),
    "bilag_ar": (0.0, 0.999, "autocorrelation per 4 weeks"),
    "bilag_persistence": (0.0, 0.999, "fraction"),
    "flare_severity": (-10.0, 10.0, "BILAG severity units"),
    "pga_visit_sd": (0.0, 3.0, "PGA points"),
    "induction_renal_logodds": (-10.0, 10.0, "log-odds of renal activity"),
    "cyclophosphamide_vs_mycophenolate_logodds": (-10.0, 10.0, "log-odds of renal activity"),
    "remission_proteinuria_g": (0.01, 10.0, "g/24 h"),
    "remission_proteinuria_log_sd": (0.0, 3.0, "log g/24 h"),
    "proteinuria_remission_per_week": (0.0, 10.0, "1/week"),
    "egfr_recoverable_fraction": (0.0, 1.0, "fraction"),
    "egfr_loss_per_week": (0.0, 10.0, "1/week"),
    "egfr_recovery_per_week": (0.0, 10.0, "1/week"),
    "egfr_chronic_loss_per_year": (0.0, 100.0, "mL/min/1.73 m2 per year active"),
    "egfr_visit_cv": (0.0, 0.5, "fraction"),
}
_PKPD_RANGES: dict[str, tuple[float, float, str]] = {
    "clearance_l_per_day": (1e-6, 100.0, "L/day"),
    "half_life_days": (0.1, 1000.0, "days"),
    "sc_bioavailability": (0.0, 1.0, "fraction"),
    "sc_absorption_per_day": (1e-3, 100.0, "1/day"),
    "ec50_ug_ml": (1e-6, 1e5, "ug/mL"),
    "effect_half_life_days": (0.1, 1000.0, "days"),
}


def _settings_model(name: str, target: type, ranges: dict[str, Any]) -> type[BaseModel]:
    names = [f.name for f in fields(target)]
    assert set(names) == set(ranges), set(names) ^ set(ranges)
    spec: dict[str, Any] = {}
    for n in names:
        lo, hi, unit = ranges[n]
        spec[n] = (
            float | None,
            Field(
                None,
                strict=True,
                ge=lo,
                le=hi,
                description=f"{n} ({unit})",
                json_schema_extra=meta(unit),
            ),
        )
    return create_model(name, __config__=ConfigDict(frozen=True, extra="forbid"), **spec)


_DiseaseBase = _settings_model("_DiseaseBase", DiseaseParameters, _DISEASE_RANGES)
_PKPDBase = _settings_model("_PKPDBase", PKPD, _PKPD_RANGES)


class DiseaseSettings(_DiseaseBase):  # type: ignore[valid-type,misc]
    """Overrides of :class:`~lupsim.trial.disease.DiseaseParameters` (all optional)."""

    def apply(self, base: DiseaseParameters) -> DiseaseParameters:
        """``base`` with the stated fields replaced."""
        return base.replace(**{k: v for k, v in self.model_dump().items() if v is not None})


class PKPDSettings(_PKPDBase):  # type: ignore[valid-type,misc]
    """Overrides of :class:`~lupsim.trial.pkpd.PKPD` (all optional)."""

    def apply(self, base: PKPD) -> PKPD:
        """``base`` with the stated fields replaced."""
        return replace(base, **{k: v for k, v in self.model_dump().items() if v is not None})
