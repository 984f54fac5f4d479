"""The trial engine: designs, the SimPy calendar, the disease model, datasets.

- :class:`~lupsim.trial.design.TrialDesign` declares a trial;
- :func:`simulate_trial` runs one trial of a scenario and returns a
  :class:`~lupsim.trial.dataset.TrialDataset`.
"""

from __future__ import annotations

from lupsim.trial.dataset import TrialDataset
from lupsim.trial.design import Arm, TrialDesign
from lupsim.trial.disease import DiseaseParameters
from lupsim.trial.engine import simulate_trial
from lupsim.trial.pkpd import PKPD

__all__ = ["PKPD", "Arm", "DiseaseParameters", "TrialDataset", "TrialDesign", "simulate_trial"]
