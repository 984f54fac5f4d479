"""The commented scenario template written by ``lupsim new-scenario PATH``.

It is a complete, valid scenario (a BLISS-like two-arm trial) whose comments
say what each table and key means, with units and ranges; the full reference
is docs/scenario-schema.md. A test loads and simulates it.
"""

from __future__ import annotations

__all__ = ["SCENARIO_TEMPLATE"]

SCENARIO_TEMPLATE = """\
# A lupsim scenario: a population, its eligibility rules, a trial design and an
# analysis plan. Every key is checked before anything runs; see
# docs/scenario-schema.md for every key with its unit and range, and
# docs/variables.md for the variables rules may use.

name = "my-trial"                       # short name used in outputs
title = "Anti-BAFF vs placebo on standard care, 52 weeks"
source = "Where the figures come from (publication, protocol)"

# ---------------------------------------------------------------------------
# Who the randomised patients are: the figures of a published Table 1.
# Every figure is optional; percentages are 0-100. A figure published only as
# a bound is a string, e.g. renal = "<16". lupsim fits its patient generator
# so that patients who pass the eligibility rules reproduce these figures.
# ---------------------------------------------------------------------------
[population]
female_pct = 93.0
age_mean = 38.0                         # years
age_sd = 12.0
sledai_mean = 10.0                      # SELENA-SLEDAI at baseline
sledai_sd = 3.5
anti_dsdna_pct = 70.0                   # anti-dsDNA >= 30 IU/mL
low_c3_pct = 45.0                       # C3 < 90 mg/dL
prednisone_pct = 90.0
prednisone_mean_mg = 10.0               # mg/day, among users

[population.race_pct]                   # shares sum to 100 (+/- 1 for rounding)
white = 60.0
black = 15.0
asian = 15.0
other = 10.0

# ---------------------------------------------------------------------------
# Eligibility: every include rule must hold, no exclude rule may.
# ---------------------------------------------------------------------------
[eligibility]
include = [
    "acr1997",                          # SLE by the ACR 1997 criteria
    "selena_sledai >= 6",
    "ana_titre >= 80 or anti_dsdna_iu >= 30",
]
exclude = ["severe_active_nephritis", "severe_active_cns"]
# Enrichment: further rules applied after these. The population figures above
# describe patients who passed include/exclude; enrich narrows the trial to a
# subgroup of them without refitting the population.
# enrich = ["serologically_active"]

# ---------------------------------------------------------------------------
# The trial.
# ---------------------------------------------------------------------------
[design]
n_randomised = 400                      # patients randomised
primary_week = 52                       # week of the primary endpoint
visit_interval_weeks = 4
visit_window_days = 7                   # a visit may move +/- 7 days
allocation = [1, 1]                     # one ratio per arm, in arm order

[[design.arms]]
name = "placebo"                        # the first arm is the control
drug = "placebo"

[[design.arms]]
name = "anti_baff_10mg"
drug = "anti_baff"
route = "iv"                            # "iv" (dose_mg_per_kg) or "sc" (dose_mg)
dose_mg_per_kg = 10.0
loading_days = [0, 14, 28]              # then every interval_days
interval_days = 28
last_dose_day = 336

[design.randomisation]
stratify_by = ["selena_sledai >= 10"]   # yes/no rules; strata are their combinations
block_sizes = [4]                       # multiples of the allocation total

[design.enrolment]
sites = 40
activation_weeks = [0, 20]              # sites open uniformly over these weeks
screening_rate_per_site_week = 0.4      # candidates screened per open site per week

# Optional: an interim look when n_patients have reached week (its boundaries
# come from the analysis.interim table below; scenarios/interim-gsd.toml).
# [[design.milestones]]
# name = "IA1"
# week = 52
# n_patients = 200

# Optional: lupus nephritis induction for every arm (regimen shares); the renal
# endpoints "perr" and "crr" then apply (scenarios/nephritis-addon.toml).
# [design.background]
# induction = { mycophenolate = 0.74, euro_lupus_cyclophosphamide = 0.26 }

# ---------------------------------------------------------------------------
# The statistical analysis plan.
# ---------------------------------------------------------------------------
[analysis]
alpha = 0.05
sided = "two"
primary = { endpoint = "sri4", method = "logistic" }   # adjusted for the strata
secondary = [{ endpoint = "sledai_change", method = "ancova" }]
# With milestones: Lan-DeMets spending ("obf" or "pocock") at the interim looks.
# [analysis.interim]
# spending = "obf"
# futility_beta = 0.1                   # non-binding futility boundary

# Optional: change the drug or the disease model (defaults: calibrated to BLISS-52).
# [disease]
# drug_logodds = 1.0                    # a weaker drug than the default
"""
