"""Reports of simulated trials: figures, Table 1 and a self-contained HTML page.

The report reads results. Its numbers come from :mod:`lupsim.analysis` (and
the Table 1 figures from :mod:`lupsim.cohort.table`);
:mod:`lupsim.report.figures` draws them and :mod:`lupsim.report.html` lays
them out as one HTML file with the figures embedded.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> from lupsim.report import table1_by_arm
>>> t = table1_by_arm(simulate_trial(load_scenario("bliss52"), seed=1), formatted=True)
>>> t.loc["Female, %", "all"]
'95.7'
"""

from __future__ import annotations

from lupsim.report.figures import (
    analytic_power,
    consort_diagram,
    forest,
    kaplan_meier,
    plain_text,
    pooled_rates,
    power_curve,
    response_by_visit,
    sledai_change_over_time,
    sri_by_visit,
    sri_components,
    table1_by_arm,
)
from lupsim.report.html import (
    Report,
    build_report,
    check_power_sizes,
    default_power_sizes,
    scenario_hash,
)

__all__ = [
    "Report",
    "analytic_power",
    "build_report",
    "check_power_sizes",
    "consort_diagram",
    "default_power_sizes",
    "forest",
    "kaplan_meier",
    "plain_text",
    "pooled_rates",
    "power_curve",
    "response_by_visit",
    "scenario_hash",
    "sledai_change_over_time",
    "sri_by_visit",
    "sri_components",
    "table1_by_arm",
]
