"""Endpoints and analyses of simulated (or loaded) trials.

Every function takes a :class:`~lupsim.trial.dataset.TrialDataset`; analyses
return an :class:`~lupsim.analysis.results.AnalysisResult`.

- :mod:`~lupsim.analysis.endpoints`: SRI-4..8, BICLA, LLDAS, flares, steroid
  reduction, renal response (PERR, CRR), at any visit, per subject.
- :mod:`~lupsim.analysis.binary`: adjusted logistic regression,
  Cochran-Mantel-Haenszel, risk difference, of a named endpoint or of a
  responder array of your own (with :func:`~lupsim.analysis.binary.evaluable`).
- :mod:`~lupsim.analysis.continuous`: SELENA-SLEDAI change by ANCOVA, mixed
  model, GEE. :mod:`~lupsim.analysis.survival`: time to severe flare.
  :mod:`~lupsim.analysis.subgroups`: subgroup odds ratios.
- :mod:`~lupsim.analysis.plan` and :mod:`~lupsim.analysis.report`: a scenario's
  analysis plan and running it; :mod:`~lupsim.analysis.multiplicity`,
  :mod:`~lupsim.analysis.gsd` and :mod:`~lupsim.analysis.interim`: several
  hypotheses and looks.
- :mod:`~lupsim.analysis.power`: power and sample size by simulation.
- :mod:`~lupsim.analysis.summaries`: per-arm, per-visit rates and means.
"""
