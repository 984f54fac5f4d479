"""Synthetic SLE patients: populations, eligibility, generation and Table 1.

- :class:`Population` states the figures of a published baseline table;
- :class:`Eligibility` holds a trial's inclusion and exclusion rules;
- :func:`generate_cohort` draws patients who pass the rules and reproduce the
  table; :class:`Cohort` holds them and prints :meth:`Cohort.table1`.
- :func:`generate_catchment` gives the SLE patients of a general population.
"""

from __future__ import annotations

from lupsim.cohort.calibration import CalibrationResult, calibrate
from lupsim.cohort.catchment import Catchment, CatchmentSpec, generate_catchment
from lupsim.cohort.cohort import Cohort, generate_cohort
from lupsim.cohort.eligibility import Eligibility
from lupsim.cohort.model import Parameters, PatientArrays, default_parameters
from lupsim.cohort.population import Bound, Population

__all__ = [
    "Bound",
    "CalibrationResult",
    "Catchment",
    "CatchmentSpec",
    "Cohort",
    "Eligibility",
    "Parameters",
    "PatientArrays",
    "Population",
    "calibrate",
    "default_parameters",
    "generate_catchment",
    "generate_cohort",
]
