"""Disease-activity instruments shared by every stage of lupsim.

Pure, vectorised functions: SLEDAI (original, SLEDAI-2K, SELENA-SLEDAI),
BILAG-2004, PGA, and the ACR 1997, SLICC 2012 and EULAR/ACR 2019
classification criteria. Each works on numpy arrays for a whole trial and has
a by-hand companion for one patient.
"""

from __future__ import annotations

from lupsim.activity.bilag import (
    BILAG_DOMAINS,
    BILAG_MAX,
    BilagComparison,
    Grade,
    as_grades,
    bilag_global_severity,
    bilag_numeric,
    compare_bilag,
    global_severity,
    numeric_score,
)
from lupsim.activity.classification import (
    MANIFESTATIONS,
    Classification,
    acr1997_count,
    classify,
    eular_acr2019_domain_points,
    eular_acr2019_points,
    meets_acr1997,
    meets_eular_acr2019,
    meets_slicc2012,
    slicc2012_counts,
)
from lupsim.activity.pga import PGA_MAX, PGA_WORSENING, check_pga, pga_worsened
from lupsim.activity.sledai import (
    DESCRIPTOR_CODES,
    DESCRIPTORS,
    N_DESCRIPTORS,
    ORGAN_DOMAINS,
    SLEDAI_MAX,
    SLEDAI_VERSIONS,
    WEIGHTS,
    activity_band,
    descriptor_index,
    domain_activity,
    score_sledai,
    sledai_score,
)

__all__ = [
    "BILAG_DOMAINS",
    "BILAG_MAX",
    "DESCRIPTORS",
    "DESCRIPTOR_CODES",
    "MANIFESTATIONS",
    "N_DESCRIPTORS",
    "ORGAN_DOMAINS",
    "PGA_MAX",
    "PGA_WORSENING",
    "SLEDAI_MAX",
    "SLEDAI_VERSIONS",
    "WEIGHTS",
    "BilagComparison",
    "Classification",
    "Grade",
    "acr1997_count",
    "activity_band",
    "as_grades",
    "bilag_global_severity",
    "bilag_numeric",
    "check_pga",
    "classify",
    "compare_bilag",
    "descriptor_index",
    "domain_activity",
    "eular_acr2019_domain_points",
    "eular_acr2019_points",
    "global_severity",
    "meets_acr1997",
    "meets_eular_acr2019",
    "meets_slicc2012",
    "numeric_score",
    "pga_worsened",
    "score_sledai",
    "sledai_score",
    "slicc2012_counts",
]
