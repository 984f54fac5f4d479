"""Classification criteria for SLE: ACR 1997, SLICC 2012 and EULAR/ACR 2019.

Classification criteria are applied to *cumulative* manifestations: a
manifestation counts if it has ever been present, not necessarily at the same
time as the others. Each patient is therefore one row of booleans over the 30
manifestations of :data:`MANIFESTATIONS` (23 clinical, then 7 immunological).

=====================  ==========================================================
criteria               rule
=====================  ==========================================================
ACR 1997               >= 4 of 11 criteria (Tan et al., Arthritis Rheum
                       1982;25:1271-7, revised by Hochberg, Arthritis Rheum
                       1997;40:1725)
SLICC 2012             >= 4 of 17 criteria with >= 1 clinical and >= 1
                       immunological, or biopsy-proven lupus nephritis with ANA
                       or anti-dsDNA (Petri et al., Arthritis Rheum
                       2012;64:2677-86)
EULAR/ACR 2019         entry criterion ANA >= 1:80, then >= 10 points with >= 1
                       clinical criterion; only the highest-weighted item of a
                       domain counts (Aringer et al., Ann Rheum Dis
                       2019;78:1151-9)
=====================  ==========================================================

Reading choices, where the vocabulary is coarser than the criteria:

- ``lymphopenia`` means < 1,000/mm3 (the SLICC threshold) and is used for the
  ACR haematologic criterion too, whose threshold is < 1,500/mm3. ACR 1997 is
  thus read conservatively: a lymphocyte count of 1,000-1,499/mm3 does not count.
- ``pleuritis`` (pleurisy without effusion) counts for the ACR and SLICC
  serositis criteria but scores 0 in EULAR/ACR 2019, whose serosal domain has
  only "pleural or pericardial effusion" (5) and "acute pericarditis" (6).
- A renal biopsy (``nephritis_class_2_5``, ``nephritis_class_3_4``) is not by
  itself the ACR or SLICC renal criterion, which asks for ``proteinuria`` or
  ``cellular_casts``; a simulator that biopsies because of proteinuria should
  set both. In SLICC 2012 the biopsy is the separate stand-alone route.
- ``direct_coombs`` counts for SLICC 2012 only in the absence of
  ``haemolytic_anaemia``. This is the one place where adding a manifestation
  can lower a result: adding ``haemolytic_anaemia`` moves a criterion from the
  immunological to the clinical count (the total is unchanged), so a patient
  whose only immunological criterion was the Coombs test stops meeting SLICC.
  Every other count, point total and classification only grows as
  manifestations are added.

The vectorised functions (:func:`acr1997_count`, :func:`meets_slicc2012`,
:func:`eular_acr2019_points`, ...) take a whole cohort at once, as any of

- a boolean array ``(n, 30)`` in :data:`MANIFESTATIONS` order, or ``(30,)`` for
  one patient (results then have shape ``(1,)``);
- a mapping ``{code: bool array of shape (n,)}``; codes left out are False
  and scalars apply to every patient;
- a :class:`pandas.DataFrame` whose columns are manifestation codes; codes left
  out are False, results follow the row order.

:func:`classify` applies all three sets to one patient given by hand.

Examples
--------
>>> c = classify({"arthritis", "acute_cutaneous", "ana", "anti_dsdna"})
>>> c.acr1997_count, c.slicc2012, c.eular_acr2019_points, c.eular_acr2019
(4, True, 18, True)
>>> meets_eular_acr2019({"ana": [True, False], "arthritis": [True, True],
...                      "anti_dsdna": [True, True]}).tolist()
[True, False]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lupsim.errors import InstrumentError, did_you_mean

if TYPE_CHECKING:
    import pandas as pd

    #: What the vectorised functions accept (see the module docstring).
    ManifestationInput: TypeAlias = Mapping[str, ArrayLike] | pd.DataFrame | ArrayLike

__all__ = [
    "ACR1997_CRITERIA",
    "CLINICAL_MANIFESTATIONS",
    "EULAR_ACR2019_CLINICAL_DOMAINS",
    "EULAR_ACR2019_DOMAINS",
    "EULAR_ACR2019_MAX",
    "IMMUNOLOGICAL_MANIFESTATIONS",
    "MANIFESTATIONS",
    "MANIFESTATION_LABELS",
    "N_MANIFESTATIONS",
    "SLICC2012_CLINICAL_CRITERIA",
    "SLICC2012_IMMUNOLOGICAL_CRITERIA",
    "Classification",
    "EularItem",
    "acr1997_count",
    "classify",
    "eular_acr2019_domain_points",
    "eular_acr2019_points",
    "meets_acr1997",
    "meets_acr1997_and_slicc2012",
    "meets_eular_acr2019",
    "meets_slicc2012",
    "slicc2012_counts",
]

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------

MANIFESTATION_LABELS: dict[str, str] = {
    # Clinical
    "acute_cutaneous": "Acute cutaneous lupus (incl. malar rash)",
    "subacute_cutaneous": "Subacute cutaneous lupus",
    "discoid": "Chronic cutaneous (discoid) lupus",
    "photosensitivity": "Photosensitivity",
    "oral_ulcers": "Oral ulcers",
    "alopecia": "Non-scarring alopecia",
    "arthritis": "Arthritis (synovitis in >= 2 joints)",
    "pleuritis": "Pleuritis",
    "pericarditis": "Pericarditis",
    "serosal_effusion": "Pleural or pericardial effusion",
    "proteinuria": "Proteinuria (> 0.5 g/24 h)",
    "cellular_casts": "Cellular casts",
    "nephritis_class_2_5": "Biopsy: ISN/RPS class II or V lupus nephritis",
    "nephritis_class_3_4": "Biopsy: ISN/RPS class III or IV lupus nephritis",
    "seizure": "Seizure",
    "psychosis": "Psychosis",
    "delirium": "Delirium (acute confusional state)",
    "neuropathy": "Mononeuritis multiplex, myelitis, peripheral or cranial neuropathy",
    "haemolytic_anaemia": "Autoimmune haemolytic anaemia",
    "leukopenia": "Leukopenia (< 4,000/mm3)",
    "lymphopenia": "Lymphopenia (< 1,000/mm3)",
    "thrombocytopenia": "Thrombocytopenia (< 100,000/mm3)",
    "fever": "Fever (> 38.3 C)",
    # Immunological
    "ana": "Antinuclear antibodies (>= 1:80)",
    "anti_dsdna": "Anti-dsDNA antibodies",
    "anti_sm": "Anti-Smith antibodies",
    "antiphospholipid": "Antiphospholipid antibodies (aCL, anti-beta2GP1 or lupus anticoagulant)",
    "low_c3": "Low C3",
    "low_c4": "Low C4",
    "direct_coombs": "Direct Coombs test positive",
}

#: All manifestation codes, in the column order of the input matrices.
MANIFESTATIONS: tuple[str, ...] = tuple(MANIFESTATION_LABELS)
N_MANIFESTATIONS = len(MANIFESTATIONS)  # 30
CLINICAL_MANIFESTATIONS: tuple[str, ...] = MANIFESTATIONS[: MANIFESTATIONS.index("ana")]
IMMUNOLOGICAL_MANIFESTATIONS: tuple[str, ...] = MANIFESTATIONS[MANIFESTATIONS.index("ana") :]

_INDEX = {code: i for i, code in enumerate(MANIFESTATIONS)}

# ---------------------------------------------------------------------------
# Rules as data: each criterion is met if any of its manifestations is present.
# ---------------------------------------------------------------------------

#: ACR 1997: the 11 criteria and the manifestations that meet each.
ACR1997_CRITERIA: dict[str, tuple[str, ...]] = {
    "malar_rash": ("acute_cutaneous",),
    "discoid_rash": ("discoid",),
    "photosensitivity": ("photosensitivity",),
    "oral_ulcers": ("oral_ulcers",),
    "arthritis": ("arthritis",),
    "serositis": ("pleuritis", "pericarditis", "serosal_effusion"),
    "renal": ("proteinuria", "cellular_casts"),
    "neurologic": ("seizure", "psychosis"),
    "haematologic": ("haemolytic_anaemia", "leukopenia", "lymphopenia", "thrombocytopenia"),
    "immunologic": ("anti_dsdna", "anti_sm", "antiphospholipid"),
    "ana": ("ana",),
}

#: SLICC 2012: the 11 clinical criteria.
SLICC2012_CLINICAL_CRITERIA: dict[str, tuple[str, ...]] = {
    "acute_cutaneous": ("acute_cutaneous", "subacute_cutaneous"),
    "chronic_cutaneous": ("discoid",),
    "oral_ulcers": ("oral_ulcers",),
    "alopecia": ("alopecia",),
    "synovitis": ("arthritis",),
    "serositis": ("pleuritis", "pericarditis", "serosal_effusion"),
    "renal": ("proteinuria", "cellular_casts"),
    "neurologic": ("seizure", "psychosis", "neuropathy", "delirium"),
    "haemolytic_anaemia": ("haemolytic_anaemia",),
    "leukopenia_or_lymphopenia": ("leukopenia", "lymphopenia"),
    "thrombocytopenia": ("thrombocytopenia",),
}

#: SLICC 2012: the 6 immunological criteria. ``direct_coombs`` counts only in
#: the absence of ``haemolytic_anaemia`` (applied in :func:`slicc2012_counts`).
SLICC2012_IMMUNOLOGICAL_CRITERIA: dict[str, tuple[str, ...]] = {
    "ana": ("ana",),
    "anti_dsdna": ("anti_dsdna",),
    "anti_sm": ("anti_sm",),
    "antiphospholipid": ("antiphospholipid",),
    "low_complement": ("low_c3", "low_c4"),
    "direct_coombs": ("direct_coombs",),
}

# SLICC 2012 stand-alone route: biopsy-proven nephritis with ANA or anti-dsDNA.
_SLICC_NEPHRITIS = ("nephritis_class_2_5", "nephritis_class_3_4")
_SLICC_NEPHRITIS_ANTIBODIES = ("ana", "anti_dsdna")


@dataclass(frozen=True, slots=True)
class EularItem:
    """One weighted EULAR/ACR 2019 item.

    It is present if any of ``codes`` is present, or all of them when
    ``all_required`` is true (low C3 *and* low C4).
    """

    label: str
    weight: int
    codes: tuple[str, ...]
    all_required: bool = False


#: EULAR/ACR 2019 domains (clinical first) and their weighted items. Only the
#: highest-weighted present item of each domain counts.
EULAR_ACR2019_DOMAINS: dict[str, tuple[EularItem, ...]] = {
    "constitutional": (EularItem("Fever", 2, ("fever",)),),
    "haematologic": (
        EularItem("Leukopenia", 3, ("leukopenia",)),
        EularItem("Thrombocytopenia", 4, ("thrombocytopenia",)),
        EularItem("Autoimmune haemolysis", 4, ("haemolytic_anaemia",)),
    ),
    "neuropsychiatric": (
        EularItem("Delirium", 2, ("delirium",)),
        EularItem("Psychosis", 3, ("psychosis",)),
        EularItem("Seizure", 5, ("seizure",)),
    ),
    "mucocutaneous": (
        EularItem("Non-scarring alopecia", 2, ("alopecia",)),
        EularItem("Oral ulcers", 2, ("oral_ulcers",)),
        EularItem("Subacute cutaneous or discoid lupus", 4, ("subacute_cutaneous", "discoid")),
        EularItem("Acute cutaneous lupus", 6, ("acute_cutaneous",)),
    ),
    # Pleuritis without effusion is no EULAR/ACR 2019 item: it scores 0.
    "serosal": (
        EularItem("Pleural or pericardial effusion", 5, ("serosal_effusion",)),
        EularItem("Acute pericarditis", 6, ("pericarditis",)),
    ),
    "musculoskeletal": (EularItem("Joint involvement", 6, ("arthritis",)),),
    "renal": (
        EularItem("Proteinuria > 0.5 g/24 h", 4, ("proteinuria",)),
        EularItem("Renal biopsy class II or V lupus nephritis", 8, ("nephritis_class_2_5",)),
        EularItem("Renal biopsy class III or IV lupus nephritis", 10, ("nephritis_class_3_4",)),
    ),
    "antiphospholipid": (
        EularItem(
            "Anticardiolipin, anti-beta2GP1 or lupus anticoagulant", 2, ("antiphospholipid",)
        ),
    ),
    "complement": (
        EularItem("Low C3 or low C4", 3, ("low_c3", "low_c4")),
        EularItem("Low C3 and low C4", 4, ("low_c3", "low_c4"), all_required=True),
    ),
    "sle_specific_antibodies": (
        EularItem("Anti-dsDNA or anti-Smith", 6, ("anti_dsdna", "anti_sm")),
    ),
}

#: Domains whose points count as the clinical criterion EULAR/ACR 2019 requires.
EULAR_ACR2019_CLINICAL_DOMAINS: tuple[str, ...] = (
    "constitutional",
    "haematologic",
    "neuropsychiatric",
    "mucocutaneous",
    "serosal",
    "musculoskeletal",
    "renal",
)
_EULAR_ENTRY = "ana"
_EULAR_THRESHOLD = 10
_ACR_THRESHOLD = 4
_SLICC_THRESHOLD = 4

#: Highest possible EULAR/ACR 2019 total: the top item of every domain (51).
EULAR_ACR2019_MAX = sum(max(i.weight for i in items) for items in EULAR_ACR2019_DOMAINS.values())

# Everything below is derived from the tables above once, at import.
_Groups: TypeAlias = tuple[NDArray[np.intp], ...]


def _groups(criteria: Iterable[tuple[str, ...]]) -> _Groups:
    return tuple(np.array([_INDEX[c] for c in codes], dtype=np.intp) for codes in criteria)


_ACR_GROUPS = _groups(ACR1997_CRITERIA.values())
_SLICC_BIOPSY, _SLICC_BIOPSY_ANTIBODY = _groups((_SLICC_NEPHRITIS, _SLICC_NEPHRITIS_ANTIBODIES))
_SLICC_CLIN_GROUPS = _groups(SLICC2012_CLINICAL_CRITERIA.values())
_SLICC_IMM_GROUPS = _groups(
    v for k, v in SLICC2012_IMMUNOLOGICAL_CRITERIA.items() if k != "direct_coombs"
)


def _membership(*blocks: _Groups) -> NDArray[np.float32]:
    """Manifestation-by-criterion membership, the blocks' criteria side by side."""
    groups = [g for block in blocks for g in block]
    out = np.zeros((N_MANIFESTATIONS, len(groups)), dtype=np.float32)
    for k, idx in enumerate(groups):
        out[idx, k] = 1.0
    return out


# ACR 1997 and SLICC 2012 from one product: which criteria each patient meets,
# then how many of each set. Columns: the 11 ACR criteria, the 11 SLICC
# clinical, the 5 SLICC immunological (the Coombs test apart), biopsy, and the
# biopsy route's antibodies.
_CRITERIA = _membership(
    _ACR_GROUPS,
    _SLICC_CLIN_GROUPS,
    _SLICC_IMM_GROUPS,
    (_SLICC_BIOPSY, _SLICC_BIOPSY_ANTIBODY),
)
_N_ACR = len(_ACR_GROUPS)
_N_SLICC_CLIN = len(_SLICC_CLIN_GROUPS)
_BIOPSY_COL = _N_ACR + _N_SLICC_CLIN + len(_SLICC_IMM_GROUPS)
_CRITERIA_SETS = np.zeros((_CRITERIA.shape[1], 3), dtype=np.float32)
_CRITERIA_SETS[:_N_ACR, 0] = 1.0
_CRITERIA_SETS[_N_ACR : _N_ACR + _N_SLICC_CLIN, 1] = 1.0
_CRITERIA_SETS[_N_ACR + _N_SLICC_CLIN : _BIOPSY_COL, 2] = 1.0
_EULAR_ITEMS: tuple[EularItem, ...] = tuple(
    i for items in EULAR_ACR2019_DOMAINS.values() for i in items
)
_EULAR_ITEM_GROUPS = _groups(i.codes for i in _EULAR_ITEMS)
_EULAR_WEIGHTS: NDArray[np.int16] = np.array([i.weight for i in _EULAR_ITEMS], dtype=np.int16)
_EULAR_WEIGHTS.setflags(write=False)
# Column where each domain starts in the item matrix, for np.maximum.reduceat.
_EULAR_DOMAIN_STARTS: NDArray[np.intp] = np.cumsum(
    [0, *(len(v) for v in EULAR_ACR2019_DOMAINS.values())][:-1], dtype=np.intp
)
_EULAR_DOMAIN_NAMES: tuple[str, ...] = tuple(EULAR_ACR2019_DOMAINS)
_N_EULAR_CLINICAL = len(EULAR_ACR2019_CLINICAL_DOMAINS)
assert _EULAR_DOMAIN_NAMES[:_N_EULAR_CLINICAL] == EULAR_ACR2019_CLINICAL_DOMAINS

# ---------------------------------------------------------------------------
# Input normalisation
# ---------------------------------------------------------------------------


def _index(code: str) -> int:
    try:
        return _INDEX[code]
    except (KeyError, TypeError):
        raise InstrumentError(
            f"unknown manifestation {code!r}{did_you_mean(str(code), MANIFESTATIONS)}; "
            f"valid manifestations are: {', '.join(MANIFESTATIONS)}"
        ) from None


def _as_bool(values: Any, name: str) -> NDArray[np.bool_]:
    arr = np.asarray(values)
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind not in "iufO":
        raise InstrumentError(f"{name} must be boolean (0/1), got dtype {arr.dtype}")
    try:
        num = arr.astype(float)
    except (TypeError, ValueError):
        raise InstrumentError(f"{name} must be boolean (0/1), got non-numeric values") from None
    if not np.isin(num, (0.0, 1.0)).all():
        bad = num[~np.isin(num, (0.0, 1.0))].ravel()[0]
        raise InstrumentError(f"{name} must be boolean (0/1) without missing values, got {bad}")
    return num.astype(bool)


def _from_columns(columns: Mapping[Any, Any], what: str) -> NDArray[np.bool_]:
    indices = [_index(code) for code in columns]
    arrays = [_as_bool(v, f"{what} {code!r}") for code, v in columns.items()]
    for code, a in zip(columns, arrays, strict=True):
        if a.ndim > 1:
            raise InstrumentError(
                f"{what} {code!r} must be a 1D array (one value per patient), got shape {a.shape}"
            )
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        lengths = sorted({a.shape[0] for a in arrays if a.ndim == 1})
        raise InstrumentError(
            f"{what}s have different numbers of patients: {lengths}; give each code "
            "one value per patient"
        ) from None
    n = shape[0] if shape else 1
    out = np.zeros((n, N_MANIFESTATIONS), dtype=bool)
    for i, a in zip(indices, arrays, strict=True):
        out[:, i] = a
    return out


def _is_dataframe(obj: object) -> TypeGuard[pd.DataFrame]:
    # A DataFrame argument means pandas is already imported; no need to import it here.
    pd_module = sys.modules.get("pandas")
    return pd_module is not None and isinstance(obj, pd_module.DataFrame)


def _as_matrix(manifestations: ManifestationInput) -> NDArray[np.bool_]:
    """Normalise any accepted input to a boolean matrix ``(n, 30)``."""
    if isinstance(manifestations, Mapping):
        return _from_columns(manifestations, "manifestation")
    if _is_dataframe(manifestations):
        columns = list(manifestations.columns)
        duplicated = sorted({str(c) for c in columns if columns.count(c) > 1})
        if duplicated:
            raise InstrumentError(f"DataFrame has duplicated columns: {', '.join(duplicated)}")
        return _from_columns(
            {c: manifestations[c].to_numpy() for c in columns},
            "column",
        )
    arr = np.asarray(manifestations)
    if arr.dtype.kind in "USO" and arr.size and isinstance(arr.flat[0], str):
        raise InstrumentError(
            "got manifestation names where a boolean matrix was expected; pass a mapping "
            "{code: bool array}, or use classify() for one patient's set of codes"
        )
    if arr.ndim == 1 and arr.shape[0] == N_MANIFESTATIONS:
        arr = arr.reshape(1, N_MANIFESTATIONS)
    if arr.ndim != 2 or arr.shape[1] != N_MANIFESTATIONS:
        raise InstrumentError(
            f"manifestations must be a boolean array (n, {N_MANIFESTATIONS}) in MANIFESTATIONS "
            f"order, a mapping or a DataFrame, got shape {arr.shape}"
        )
    return _as_bool(arr, "manifestations")


def _criteria(
    m: NDArray[np.bool_],
) -> tuple[NDArray[np.int16], NDArray[np.int16], NDArray[np.int16], NDArray[np.bool_]]:
    """ACR 1997 count, SLICC 2012 clinical and immunological counts, and the
    SLICC biopsy route (biopsy with ANA or anti-dsDNA), per patient.

    Two small float32 products (BLAS; counts of at most 30 are exact): which
    criteria each patient meets, then how many of each set, rather than one
    reduction per criterion.
    """
    met = (m.astype(np.float32) @ _CRITERIA) > 0
    counts = (met.astype(np.float32) @ _CRITERIA_SETS).astype(np.int16)
    coombs = _col(m, "direct_coombs") & ~_col(m, "haemolytic_anaemia")
    biopsy = met[:, _BIOPSY_COL] & met[:, _BIOPSY_COL + 1]
    return counts[:, 0], counts[:, 1], (counts[:, 2] + coombs).astype(np.int16), biopsy


def _row_sum(a: NDArray[np.bool_] | NDArray[np.int16]) -> NDArray[np.int16]:
    """Sum over patients' criteria (axis 1) as int16; every total here is at most 51."""
    total: NDArray[np.int16] = a.sum(axis=1, dtype=np.int16)
    return total


def _col(m: NDArray[np.bool_], code: str) -> NDArray[np.bool_]:
    return m[:, _INDEX[code]]


# ---------------------------------------------------------------------------
# ACR 1997
# ---------------------------------------------------------------------------


def acr1997_count(manifestations: ManifestationInput) -> NDArray[np.int16]:
    """Number of ACR 1997 criteria met (0-11), per patient.

    Each of the 11 criteria counts once, however many of its manifestations are
    present (e.g. leukopenia and thrombocytopenia are one haematologic criterion).

    Parameters
    ----------
    manifestations
        Cumulative manifestations: boolean array ``(n, 30)`` in
        :data:`MANIFESTATIONS` order (or ``(30,)``), a mapping
        ``{code: bool array}`` or a DataFrame with code columns.

    Returns
    -------
    numpy.ndarray
        Integer counts of shape ``(n,)``.

    Examples
    --------
    >>> acr1997_count({"leukopenia": [True, True], "thrombocytopenia": [True, False],
    ...                "ana": [True, False]}).tolist()
    [2, 1]
    """
    return _criteria(_as_matrix(manifestations))[0]


def meets_acr1997(manifestations: ManifestationInput) -> NDArray[np.bool_]:
    """Whether each patient meets ACR 1997: at least 4 of the 11 criteria.

    Examples
    --------
    >>> meets_acr1997({"arthritis": [True, True], "oral_ulcers": [True, True],
    ...                "ana": [True, True], "anti_sm": [True, False]}).tolist()
    [True, False]
    """
    return acr1997_count(manifestations) >= _ACR_THRESHOLD


# ---------------------------------------------------------------------------
# SLICC 2012
# ---------------------------------------------------------------------------


def slicc2012_counts(
    manifestations: ManifestationInput,
) -> tuple[NDArray[np.int16], NDArray[np.int16]]:
    """Numbers of SLICC 2012 clinical (0-11) and immunological (0-6) criteria met.

    A positive direct Coombs test counts only in the absence of haemolytic
    anaemia.

    Returns
    -------
    tuple of numpy.ndarray
        ``(clinical, immunological)``, each of shape ``(n,)``.

    Examples
    --------
    >>> clinical, immunological = slicc2012_counts(
    ...     {"haemolytic_anaemia": [True, False], "direct_coombs": [True, True]})
    >>> clinical.tolist(), immunological.tolist()
    ([1, 0], [0, 1])
    """
    _, clinical, immunological, _ = _criteria(_as_matrix(manifestations))
    return clinical, immunological


def meets_slicc2012(manifestations: ManifestationInput) -> NDArray[np.bool_]:
    """Whether each patient meets SLICC 2012.

    Met with at least 4 criteria including at least 1 clinical and 1
    immunological, or with biopsy-proven lupus nephritis (any of ISN/RPS
    classes II-V) together with ANA or anti-dsDNA.

    Examples
    --------
    >>> meets_slicc2012({"nephritis_class_3_4": [True, True],
    ...                  "anti_dsdna": [True, False]}).tolist()
    [True, False]
    >>> meets_slicc2012({"ana": True, "anti_dsdna": True, "anti_sm": True,
    ...                  "low_c3": True}).tolist()
    [False]
    """
    return meets_acr1997_and_slicc2012(manifestations)[1]


def meets_acr1997_and_slicc2012(
    manifestations: ManifestationInput,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Whether each patient meets ACR 1997, and SLICC 2012, in one pass.

    Same results as :func:`meets_acr1997` and :func:`meets_slicc2012`, from
    one product: for generators that need both on many candidates.

    Examples
    --------
    >>> acr, slicc = meets_acr1997_and_slicc2012(
    ...     {"arthritis": True, "oral_ulcers": True, "ana": True, "anti_sm": True})
    >>> acr.tolist(), slicc.tolist()
    ([True], [True])
    """
    acr, clinical, immunological, biopsy = _criteria(_as_matrix(manifestations))
    by_count = (
        (clinical + immunological >= _SLICC_THRESHOLD) & (clinical >= 1) & (immunological >= 1)
    )
    return acr >= _ACR_THRESHOLD, by_count | biopsy


# ---------------------------------------------------------------------------
# EULAR/ACR 2019
# ---------------------------------------------------------------------------


def _eular_domain_matrix(m: NDArray[np.bool_]) -> NDArray[np.int16]:
    """Points per domain ``(n, 10)``, highest item only, 0 without the entry criterion."""
    items = np.empty((m.shape[0], len(_EULAR_ITEMS)), dtype=bool)
    for k, (item, idx) in enumerate(zip(_EULAR_ITEMS, _EULAR_ITEM_GROUPS, strict=True)):
        if item.all_required:
            np.all(m[:, idx], axis=1, out=items[:, k])
        else:
            np.any(m[:, idx], axis=1, out=items[:, k])
    weighted = items * _EULAR_WEIGHTS
    if weighted.shape[0] == 0:  # reduceat cannot reduce an empty axis-0 array reliably
        return np.zeros((0, len(_EULAR_DOMAIN_NAMES)), dtype=np.int16)
    domains = np.maximum.reduceat(weighted, _EULAR_DOMAIN_STARTS, axis=1)
    return (domains * _col(m, _EULAR_ENTRY)[:, None]).astype(np.int16)


def eular_acr2019_domain_points(manifestations: ManifestationInput) -> dict[str, NDArray[np.int16]]:
    """EULAR/ACR 2019 points per domain, after the highest-item rule.

    Every domain is 0 for patients without the entry criterion (ANA >= 1:80),
    so the domain points always add up to :func:`eular_acr2019_points`.

    Returns
    -------
    dict
        Domain name (:data:`EULAR_ACR2019_DOMAINS` order) to points ``(n,)``.

    Examples
    --------
    >>> pts = eular_acr2019_domain_points(
    ...     {"ana": True, "seizure": True, "psychosis": True, "delirium": True})
    >>> pts["neuropsychiatric"].tolist(), pts["renal"].tolist()
    ([5], [0])
    """
    domains = _eular_domain_matrix(_as_matrix(manifestations))
    return {name: domains[:, k] for k, name in enumerate(_EULAR_DOMAIN_NAMES)}


def eular_acr2019_points(manifestations: ManifestationInput) -> NDArray[np.int16]:
    """EULAR/ACR 2019 total points (0-51), 0 when the entry criterion (ANA) is absent.

    Only the highest-weighted item of each domain counts.

    Examples
    --------
    >>> eular_acr2019_points({"ana": [True, True, False],
    ...                       "alopecia": [True, True, True],
    ...                       "acute_cutaneous": [True, False, True]}).tolist()
    [6, 2, 0]
    """
    return _row_sum(_eular_domain_matrix(_as_matrix(manifestations)))


def meets_eular_acr2019(manifestations: ManifestationInput) -> NDArray[np.bool_]:
    """Whether each patient meets EULAR/ACR 2019.

    Met with ANA >= 1:80 (entry), a total of at least 10 points, and at least
    one clinical domain scoring (immunology alone never classifies).

    Examples
    --------
    >>> meets_eular_acr2019({"ana": [True, True], "anti_dsdna": [True, True],
    ...                      "low_c3": [True, True], "low_c4": [True, True],
    ...                      "fever": [True, False]}).tolist()
    [True, False]
    """
    domains = _eular_domain_matrix(_as_matrix(manifestations))
    total = _row_sum(domains)
    clinical = _row_sum(domains[:, :_N_EULAR_CLINICAL]) > 0
    return (total >= _EULAR_THRESHOLD) & clinical


# ---------------------------------------------------------------------------
# One patient by hand
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Classification:
    """One patient's results under the three classification criteria."""

    acr1997_count: int
    acr1997: bool
    slicc2012_clinical: int
    slicc2012_immunological: int
    slicc2012: bool
    eular_acr2019_points: int
    eular_acr2019: bool


def classify(manifestations: Iterable[str]) -> Classification:
    """Classify one patient from the codes of the manifestations ever present.

    Parameters
    ----------
    manifestations
        Codes from :data:`MANIFESTATIONS`; repeats are ignored.

    Examples
    --------
    >>> classify({"arthritis", "acute_cutaneous", "ana", "anti_dsdna"})
    ... # doctest: +NORMALIZE_WHITESPACE
    Classification(acr1997_count=4, acr1997=True, slicc2012_clinical=2,
                   slicc2012_immunological=2, slicc2012=True,
                   eular_acr2019_points=18, eular_acr2019=True)
    >>> classify(["ana", "pleuritis"]).eular_acr2019_points
    0
    """
    if isinstance(manifestations, str):
        raise InstrumentError(
            f"manifestations must be a collection of codes, got the string {manifestations!r}; "
            f"write [{manifestations!r}]"
        )
    row = np.zeros((1, N_MANIFESTATIONS), dtype=bool)
    for code in manifestations:
        row[0, _index(code)] = True
    clinical, immunological = slicc2012_counts(row)
    return Classification(
        acr1997_count=int(acr1997_count(row)[0]),
        acr1997=bool(meets_acr1997(row)[0]),
        slicc2012_clinical=int(clinical[0]),
        slicc2012_immunological=int(immunological[0]),
        slicc2012=bool(meets_slicc2012(row)[0]),
        eular_acr2019_points=int(eular_acr2019_points(row)[0]),
        eular_acr2019=bool(meets_eular_acr2019(row)[0]),
    )
