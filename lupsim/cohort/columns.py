"""Named patient variables, computed on demand from :class:`PatientArrays`.

One registry (:data:`VARIABLES`) names every variable a user can see in a
cohort table or use in an eligibility rule, with its kind and meaning, so that
the rule parser, the DataFrame and the docs agree. :class:`PatientView`
computes a variable the first time it is asked for, so screening thousands of
candidates costs only the variables the rule uses.

Examples
--------
>>> from lupsim.cohort.columns import VARIABLES
>>> VARIABLES["selena_sledai"].kind
'number'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from lupsim.activity import classification as cls
from lupsim.activity.bilag import BILAG_DOMAINS, NUMERIC
from lupsim.activity.sledai import DESCRIPTOR_CODES, DESCRIPTORS, ORGAN_DOMAINS, score_sledai
from lupsim.cohort import model
from lupsim.cohort.model import PatientArrays
from lupsim.cohort.vocabulary import INDUCTION_REGIMENS, RACE_GROUPS, REGIONS

__all__ = ["RANDOMISATION_VARIABLES", "VARIABLES", "PatientView", "Variable"]

Kind = Literal["number", "bool", "text"]
Array = NDArray[Any]


@dataclass(frozen=True)
class Variable:
    """A patient variable: name, kind, unit and meaning."""

    name: str
    kind: Kind
    description: str
    unit: str = ""
    compute: Callable[[PatientView], Any] | None = None


VARIABLES: dict[str, Variable] = {}


def _var(
    name: str, kind: Kind, description: str, unit: str = ""
) -> Callable[[Callable[[PatientView], Any]], Callable[[PatientView], Any]]:
    def deco(fn: Callable[[PatientView], Any]) -> Callable[[PatientView], Any]:
        VARIABLES[name] = Variable(name, kind, description, unit, fn)
        return fn

    return deco


class PatientView:
    """Lazy, cached named variables of a batch of patients.

    Examples
    --------
    >>> import numpy as np
    >>> from lupsim.cohort.model import build_patients, default_parameters, draw_noise
    >>> p = build_patients(draw_noise(4, np.random.default_rng(0)), default_parameters(),
    ...                    region_codes=(6,), age_range=(18, 75))
    >>> PatientView(p)["selena_sledai"].shape
    (4,)
    """

    def __init__(self, patients: PatientArrays) -> None:
        self._patients = patients
        self._cache: dict[str, Array] = {}

    @property
    def patients(self) -> PatientArrays:
        """The patients as a struct of arrays."""
        return self._patients

    def __getitem__(self, name: str) -> Array:
        if name not in self._cache:
            var = VARIABLES[name]
            assert var.compute is not None
            self._cache[name] = var.compute(self)
        return self._cache[name]

    def remember(self, name: str, values: Array) -> None:
        """Keep a variable already computed elsewhere (e.g. while generating the
        patients), so that asking for it does not compute it again."""
        if name not in VARIABLES:
            raise KeyError(name)
        self._cache[name] = values

    def subset(self, mask: NDArray[np.bool_]) -> PatientView:
        """A view of some patients that reuses this view's computed variables."""
        return _SubsetView(self, mask)


class _SubsetView(PatientView):
    """Variables of a subset, computed on the parent and then selected.

    Screening computes the rule variables on every candidate; the statistics
    of the eligible ones then cost an index, not a copy of every field.
    """

    def __init__(self, parent: PatientView, mask: NDArray[np.bool_]) -> None:
        self.parent = parent
        self.mask = mask
        self._cache = {}

    @property
    def patients(self) -> PatientArrays:
        return self.parent.patients.take(self.mask)

    def __getitem__(self, name: str) -> Array:
        if name not in self._cache:
            self._cache[name] = self.parent[name][self.mask]
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(VARIABLES)


# --- demographics -----------------------------------------------------------
_var("age", "number", "age at baseline", "years")(lambda v: v.patients.age)
_var("female", "bool", "female sex")(lambda v: v.patients.female)
_var("male", "bool", "male sex")(lambda v: ~v.patients.female)
_var("weight_kg", "number", "body weight", "kg")(lambda v: v.patients.weight_kg)
_var("disease_duration", "number", "years since diagnosis", "years")(
    lambda v: v.patients.disease_duration
)
_var("race", "text", "race group")(lambda v: np.asarray(RACE_GROUPS)[v.patients.race])
_var("region", "text", "enrolment region")(lambda v: np.asarray(REGIONS)[v.patients.region])
for _i, _g in enumerate(RACE_GROUPS):
    _var(f"race_{_g}", "bool", f"race group is {_g}")(
        lambda v, i=_i: v.patients.race == i  # type: ignore[misc]
    )
for _i, _r in enumerate(REGIONS):
    _var(f"region_{_r}", "bool", f"enrolled in {_r}")(
        lambda v, i=_i: v.patients.region == i  # type: ignore[misc]
    )

# --- activity scores --------------------------------------------------------
_var("selena_sledai", "number", "SELENA-SLEDAI", "points")(
    lambda v: score_sledai(v.patients.present, v.patients.new, "selena")
)
_var("sledai_2k", "number", "SLEDAI-2K", "points")(
    lambda v: score_sledai(v.patients.present, v.patients.new, "2k")
)
_var("sledai_original", "number", "original SLEDAI (1992)", "points")(
    lambda v: score_sledai(v.patients.present, v.patients.new, "original")
)
_IMMUNO = list(ORGAN_DOMAINS["immunological"])
_var("clinical_sledai", "number", "SLEDAI-2K without low complement and anti-dsDNA", "points")(
    lambda v: v["sledai_2k"] - score_sledai(_immuno_only(v.patients.present), None, "2k")
)


def _immuno_only(present: NDArray[np.bool_]) -> NDArray[np.bool_]:
    out = np.zeros_like(present)
    out[:, _IMMUNO] = present[:, _IMMUNO]
    return out


_var("pga", "number", "physician's global assessment", "0-3")(lambda v: v.patients.pga)
_var("bilag_numeric", "number", "BILAG-2004 numeric score", "0-108")(
    lambda v: NUMERIC[v.patients.bilag].sum(axis=1)
)
_var("bilag_n_a", "number", "number of BILAG A domains")(
    lambda v: (v.patients.bilag == 0).sum(axis=1)
)
_var("bilag_n_b", "number", "number of BILAG B domains")(
    lambda v: (v.patients.bilag == 1).sum(axis=1)
)
_var("bilag_any_a", "bool", ">= 1 BILAG A domain")(lambda v: v["bilag_n_a"] >= 1)
_var("bilag_a_or_2b", "bool", ">= 1 BILAG A or >= 2 BILAG B domains")(
    lambda v: (v["bilag_n_a"] >= 1) | (v["bilag_n_b"] >= 2)
)
for _k, _dname in enumerate(BILAG_DOMAINS):
    _var(f"bilag_{_dname}", "text", f"BILAG-2004 grade of the {_dname} domain")(
        lambda v, k=_k: np.asarray(list("ABCDE"))[v.patients.bilag[:, k]]  # type: ignore[misc]
    )

# --- SLEDAI descriptors and organ domains -----------------------------------
for _j, _d in enumerate(DESCRIPTORS):
    _var(_d.code, "bool", f"SLEDAI descriptor present: {_d.label}")(
        lambda v, j=_j: v.patients.present[:, j]  # type: ignore[misc]
    )


def _selena_counted(v: PatientView) -> NDArray[np.bool_]:
    p = v.patients
    counted = p.present.copy()
    j = DESCRIPTOR_CODES.index("proteinuria")
    counted[:, j] &= p.new[:, j]
    return counted


for _dom, _idx in ORGAN_DOMAINS.items():
    _var(f"domain_{_dom}", "bool", f"SELENA-SLEDAI {_dom} domain active (scored)")(
        lambda v, idx=list(_idx): _selena_counted(v)[:, idx].any(axis=1)  # type: ignore[misc]
    )

# --- serology -----------------------------------------------------------------
_var("ana_titre", "number", "ANA titre (reciprocal; 0 = negative, < 1:80)")(
    lambda v: v.patients.ana_titre
)
_var("ana_positive", "bool", "ANA >= 1:80")(lambda v: v.patients.ana_titre >= 80)
_var("anti_dsdna_iu", "number", "anti-dsDNA", "IU/mL")(lambda v: v.patients.anti_dsdna_iu)
_var("anti_dsdna_positive", "bool", "anti-dsDNA >= 30 IU/mL")(
    lambda v: v.patients.anti_dsdna_iu >= model.DSDNA_POSITIVE_IU
)
_var("c3", "number", "C3", "mg/dL")(lambda v: v.patients.c3)
_var("c4", "number", "C4", "mg/dL")(lambda v: v.patients.c4)
_var("low_c3", "bool", "C3 < 90 mg/dL")(lambda v: v.patients.c3 < model.C3_LOW)
_var("low_c4", "bool", "C4 < 16 mg/dL")(lambda v: v.patients.c4 < model.C4_LOW)
_var("low_c3_or_c4", "bool", "C3 < 90 or C4 < 16 mg/dL")(lambda v: v["low_c3"] | v["low_c4"])
_var("serologically_active", "bool", "anti-dsDNA positive and low C3 or C4")(
    lambda v: v["anti_dsdna_positive"] & v["low_c3_or_c4"]
)

# --- renal ------------------------------------------------------------------
_var("proteinuria_g", "number", "proteinuria", "g/24 h")(lambda v: v.patients.proteinuria_g)
_var("egfr", "number", "estimated GFR", "mL/min/1.73 m2")(lambda v: v.patients.egfr)
_var(
    "severe_active_nephritis",
    "bool",
    "proteinuria > 6 g/24 h or eGFR < 25 (serum creatinine > 2.5 mg/dL), as excluded "
    "by the BLISS protocols",
)(lambda v: (v.patients.proteinuria_g > 6.0) | (v.patients.egfr < 25.0))
_CNS_SEVERE = [
    DESCRIPTOR_CODES.index(c) for c in ("seizure", "psychosis", "organic_brain_syndrome", "cva")
]
_var(
    "severe_active_cns",
    "bool",
    "seizure, psychosis, organic brain syndrome or CVA present, as excluded by the BLISS protocols",
)(lambda v: v.patients.present[:, _CNS_SEVERE].any(axis=1))

# --- therapy and damage -------------------------------------------------------
_var("prednisone_mg", "number", "prednisone dose", "mg/day")(lambda v: v.patients.prednisone_mg)
_var("on_prednisone", "bool", "on prednisone")(lambda v: v.patients.prednisone_mg > 0)
_var("antimalarial", "bool", "on an antimalarial")(lambda v: v.patients.antimalarial)
_var("immunosuppressant", "bool", "on an immunosuppressant")(
    lambda v: v.patients.immunosuppressant > 0
)
for _k, _agent in enumerate(model.IS_AGENTS):
    _var(_agent, "bool", f"on {_agent}")(
        lambda v, k=_k: v.patients.immunosuppressant == k + 1  # type: ignore[misc]
    )
_var("sdi", "number", "SLICC/ACR damage index")(lambda v: v.patients.sdi)

# --- background therapy assigned at randomisation ----------------------------
_INDUCTION_NAMES = np.asarray(("none", *INDUCTION_REGIMENS))
_var(
    "induction",
    "text",
    "lupus nephritis induction regimen of the trial's background therapy "
    "(design.background.induction; 'none' without one); assigned at randomisation",
)(lambda v: _INDUCTION_NAMES[v.patients.induction])
for _k, _regimen in enumerate(INDUCTION_REGIMENS):
    _var(
        f"induction_{_regimen}",
        "bool",
        f"background induction regimen is {_regimen} (assigned at randomisation: "
        "a stratification factor, not a screening rule)",
    )(
        lambda v, k=_k: v.patients.induction == k + 1  # type: ignore[misc]
    )

#: Variables the trial assigns at randomisation: they may stratify the
#: randomisation but cannot screen candidates (who have none yet).
RANDOMISATION_VARIABLES: frozenset[str] = frozenset(
    ("induction", *(f"induction_{r}" for r in INDUCTION_REGIMENS))
)

# --- classification -----------------------------------------------------------
_var("acr1997", "bool", "meets the ACR 1997 criteria (>= 4 of 11)")(
    lambda v: cls.meets_acr1997(v.patients.manifestations)
)
_var("slicc2012", "bool", "meets the SLICC 2012 criteria")(
    lambda v: cls.meets_slicc2012(v.patients.manifestations)
)
_var("eular_acr2019", "bool", "meets the EULAR/ACR 2019 criteria")(
    lambda v: cls.meets_eular_acr2019(v.patients.manifestations)
)
for _k, _m in enumerate(cls.MANIFESTATIONS):
    _var(f"ever_{_m}", "bool", f"ever had: {cls.MANIFESTATION_LABELS[_m]}")(
        lambda v, k=_k: v.patients.manifestations[:, k]  # type: ignore[misc]
    )
