"""Words the cohort generator shares with its users: race groups, regions,
organ domains, and the figures a baseline table reports.

Every default here carries its source. "lupsim assumption" marks a value that
no single publication gives; it shapes the model but is not a fitted target.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

import numpy as np

from lupsim.activity.sledai import ORGAN_DOMAINS

__all__ = [
    "INDUCTION_REGIMENS",
    "ORGAN_DOMAIN_NAMES",
    "RACE_BY_REGION",
    "RACE_GROUPS",
    "REGIONS",
]

#: Race groups as trials report them. "indigenous_american" is the BLISS
#: "Alaska native or American Indian" group (mostly Latin American mestizo and
#: indigenous patients in BLISS-52).
RACE_GROUPS: Final[tuple[str, ...]] = ("white", "black", "asian", "indigenous_american", "other")

#: Regions a population may name. Race is drawn conditionally on region so that
#: regional subgroups look like real ones (no Asian patients in Eastern Europe).
REGIONS: Final[tuple[str, ...]] = (
    "latin_america",
    "asia_pacific",
    "eastern_europe",
    "western_europe",
    "north_america",
    "africa",
    "rest_of_world",
)

# Race composition of SLE trial patients within each region, in RACE_GROUPS
# order. lupsim assumption, informed by the regional make-up of the BLISS-52
# (Navarra 2011) and BLISS-76 (Furie 2011) populations and by US lupus cohorts
# (LUMINA, Alarcon 1998; Hopkins). The generator multiplies these by one odds
# factor per race group, fitted so that the overall shares match the target,
# so only their pattern matters. Small non-zero entries keep every group
# reachable.
_RACE_BY_REGION = {
    "latin_america": (0.30, 0.05, 0.005, 0.64, 0.005),
    "asia_pacific": (0.03, 0.002, 0.96, 0.002, 0.006),
    "eastern_europe": (0.975, 0.005, 0.005, 0.002, 0.013),
    "western_europe": (0.83, 0.08, 0.05, 0.002, 0.038),
    "north_america": (0.55, 0.30, 0.07, 0.02, 0.06),
    "africa": (0.05, 0.90, 0.01, 0.002, 0.038),
    "rest_of_world": (0.40, 0.15, 0.25, 0.10, 0.10),
}
RACE_BY_REGION: Final = MappingProxyType(
    {r: np.asarray(v, dtype=float) / np.sum(v) for r, v in _RACE_BY_REGION.items()}
)

#: SELENA-SLEDAI organ domains, in reporting order.
ORGAN_DOMAIN_NAMES: Final[tuple[str, ...]] = tuple(ORGAN_DOMAINS)

#: Induction regimens of lupus nephritis a trial design may give as background
#: therapy (``[design.background] induction``), in code order (code 0 is none):
#: mycophenolate mofetil for induction and maintenance, or the Euro-Lupus
#: low-dose intravenous cyclophosphamide (500 mg every 2 weeks x 6, then
#: azathioprine; Houssiau FA et al., Arthritis Rheum 2002;46:2121-31), the two
#: regimens of BLISS-LN (Furie R et al., N Engl J Med 2020;383:1117-28).
INDUCTION_REGIMENS: Final[tuple[str, ...]] = ("mycophenolate", "euro_lupus_cyclophosphamide")
