"""SLEDAI family: the original SLEDAI, SLEDAI-2K and SELENA-SLEDAI.

All three versions score the same 24 descriptors with the same weights (8, 4, 2
or 1; range 0-105). They differ in whether a descriptor counts when it is
*persistent* or only when it is *new* (new onset, recurrence, or for proteinuria
a recent increase of more than 0.5 g/24 h):

=================  =====================================================
version            descriptors counted only when new
=================  =====================================================
``"original"``     rash, alopecia, mucosal ulcers, proteinuria
                   (Bombardier et al., Arthritis Rheum 1992;35:630-40)
``"2k"``           none (Gladman et al., J Rheumatol 2002;29:288-91)
``"selena"``       proteinuria (Petri et al., NEJM 2005;353:2550-8)
=================  =====================================================

A simulator therefore carries, per descriptor, a *present* flag and a *new*
flag, and every version is scored from that one state.

The vectorised functions take boolean arrays whose last axis holds the 24
descriptors in :data:`DESCRIPTORS` order, so a whole trial (subjects x visits x
24) is scored in one call. :func:`sledai_score` scores one patient by hand.

Examples
--------
>>> sledai_score(["arthritis", "rash", "low_complement", "increased_dna_binding"])
10
>>> sledai_score(["proteinuria"], version="selena", persistent=["proteinuria"])
0
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lupsim.errors import InstrumentError, did_you_mean

__all__ = [
    "DESCRIPTORS",
    "DESCRIPTOR_CODES",
    "N_DESCRIPTORS",
    "ORGAN_DOMAINS",
    "SLEDAI_MAX",
    "SLEDAI_VERSIONS",
    "WEIGHTS",
    "Descriptor",
    "SledaiVersion",
    "activity_band",
    "descriptor_index",
    "domain_activity",
    "score_sledai",
    "sledai_score",
]

SledaiVersion = Literal["original", "2k", "selena"]
SLEDAI_VERSIONS: tuple[SledaiVersion, ...] = ("original", "2k", "selena")


@dataclass(frozen=True, slots=True)
class Descriptor:
    """One SLEDAI descriptor: its code, label, weight and organ domain."""

    code: str
    label: str
    weight: int
    domain: str


# Order and weights of the SLEDAI-2K form (Gladman 2002); the organ domains are
# those SELENA-SLEDAI organ-involvement tables report (e.g. Navarra 2011, Table 1).
DESCRIPTORS: tuple[Descriptor, ...] = (
    Descriptor("seizure", "Seizure", 8, "cns"),
    Descriptor("psychosis", "Psychosis", 8, "cns"),
    Descriptor("organic_brain_syndrome", "Organic brain syndrome", 8, "cns"),
    Descriptor("visual_disturbance", "Visual disturbance", 8, "cns"),
    Descriptor("cranial_nerve_disorder", "Cranial nerve disorder", 8, "cns"),
    Descriptor("lupus_headache", "Lupus headache", 8, "cns"),
    Descriptor("cva", "Cerebrovascular accident", 8, "cns"),
    Descriptor("vasculitis", "Vasculitis", 8, "vascular"),
    Descriptor("arthritis", "Arthritis (> 2 joints)", 4, "musculoskeletal"),
    Descriptor("myositis", "Myositis", 4, "musculoskeletal"),
    Descriptor("urinary_casts", "Urinary casts", 4, "renal"),
    Descriptor("haematuria", "Haematuria (> 5 RBC/hpf)", 4, "renal"),
    Descriptor("proteinuria", "Proteinuria (> 0.5 g/24 h)", 4, "renal"),
    Descriptor("pyuria", "Pyuria (> 5 WBC/hpf)", 4, "renal"),
    Descriptor("rash", "Rash", 2, "mucocutaneous"),
    Descriptor("alopecia", "Alopecia", 2, "mucocutaneous"),
    Descriptor("mucosal_ulcers", "Mucosal ulcers", 2, "mucocutaneous"),
    Descriptor("pleurisy", "Pleurisy", 2, "cardiorespiratory"),
    Descriptor("pericarditis", "Pericarditis", 2, "cardiorespiratory"),
    Descriptor("low_complement", "Low complement (C3, C4 or CH50)", 2, "immunological"),
    Descriptor("increased_dna_binding", "Increased DNA binding", 2, "immunological"),
    Descriptor("fever", "Fever (> 38 C)", 1, "constitutional"),
    Descriptor("thrombocytopenia", "Thrombocytopenia (< 100 x 10^9/L)", 1, "haematological"),
    Descriptor("leukopenia", "Leukopenia (< 3 x 10^9/L)", 1, "haematological"),
)
N_DESCRIPTORS = len(DESCRIPTORS)
DESCRIPTOR_CODES: tuple[str, ...] = tuple(d.code for d in DESCRIPTORS)
WEIGHTS: NDArray[np.int16] = np.array([d.weight for d in DESCRIPTORS], dtype=np.int16)
WEIGHTS.setflags(write=False)
SLEDAI_MAX = int(WEIGHTS.sum())  # 105
_WEIGHTS_F32 = WEIGHTS.astype(np.float32)

#: Organ domains in reporting order, each with the indices of its descriptors.
ORGAN_DOMAINS: dict[str, tuple[int, ...]] = {}
for _i, _d in enumerate(DESCRIPTORS):
    ORGAN_DOMAINS.setdefault(_d.domain, ())
    ORGAN_DOMAINS[_d.domain] = (*ORGAN_DOMAINS[_d.domain], _i)

_INDEX = {code: i for i, code in enumerate(DESCRIPTOR_CODES)}

# Descriptors that a version counts only when new (see the module docstring).
_NEW_ONLY: dict[str, tuple[str, ...]] = {
    "original": ("rash", "alopecia", "mucosal_ulcers", "proteinuria"),
    "2k": (),
    "selena": ("proteinuria",),
}


def _new_only_mask(version: str) -> NDArray[np.bool_]:
    mask = np.zeros(N_DESCRIPTORS, dtype=bool)
    for code in _NEW_ONLY[version]:
        mask[_INDEX[code]] = True
    mask.setflags(write=False)
    return mask


_NEW_ONLY_MASK = {v: _new_only_mask(v) for v in SLEDAI_VERSIONS}


def _check_version(version: str) -> SledaiVersion:
    if version not in _NEW_ONLY:
        raise InstrumentError(
            f"SLEDAI version {version!r} is unknown{did_you_mean(version, SLEDAI_VERSIONS)}; "
            f"use one of {', '.join(map(repr, SLEDAI_VERSIONS))}"
        )
    return version  # type: ignore[return-value]


def descriptor_index(code: str) -> int:
    """Position of a descriptor in :data:`DESCRIPTORS`.

    Raises :class:`~lupsim.errors.InstrumentError` naming the unknown code and
    the closest valid one.

    Examples
    --------
    >>> descriptor_index("arthritis")
    8
    """
    try:
        return _INDEX[code]
    except KeyError:
        raise InstrumentError(
            f"unknown SLEDAI descriptor {code!r}{did_you_mean(code, DESCRIPTOR_CODES)}; "
            f"valid descriptors are: {', '.join(DESCRIPTOR_CODES)}"
        ) from None


def _as_state(values: ArrayLike, name: str) -> NDArray[np.bool_]:
    arr = np.asarray(values)
    if arr.ndim == 0 or arr.shape[-1] != N_DESCRIPTORS:
        raise InstrumentError(
            f"{name} must have the {N_DESCRIPTORS} SLEDAI descriptors on its last axis, "
            f"got shape {arr.shape}"
        )
    if arr.dtype != np.bool_:
        bad = ~np.isin(arr, (0, 1))
        if bad.any():
            value = arr[bad].ravel()[0]
            shown = value.item() if hasattr(value, "item") else value
            raise InstrumentError(f"{name} must be boolean (0/1 or True/False), got {shown!r}")
        arr = arr.astype(bool)
    return arr


def score_sledai(
    present: ArrayLike,
    new: ArrayLike | None = None,
    version: SledaiVersion = "2k",
) -> NDArray[np.int16]:
    """Score SLEDAI from descriptor states, vectorised over leading axes.

    Parameters
    ----------
    present
        Boolean array ``(..., 24)``: descriptor present at the visit (or in
        the recall window before it), in :data:`DESCRIPTORS` order.
    new
        Boolean array of the same shape: the descriptor is new, recurrent or
        (proteinuria) increased by more than 0.5 g/24 h. ``None`` treats every
        present descriptor as new, so all versions then agree.
    version
        ``"original"``, ``"2k"`` or ``"selena"``.

    Returns
    -------
    numpy.ndarray
        Integer scores of shape ``present.shape[:-1]``, in 0-105.

    Examples
    --------
    >>> import numpy as np
    >>> state = np.zeros((2, 24), dtype=bool)
    >>> state[0, [8, 14]] = True          # arthritis + rash
    >>> score_sledai(state).tolist()
    [6, 0]
    """
    version = _check_version(version)
    p = _as_state(present, "present")
    counted = p
    new_only = _NEW_ONLY_MASK[version]
    if new is not None:
        # Checked for every version, so a misaligned array is never silently ignored.
        n = _as_state(new, "new")
        if n.shape != p.shape:
            raise InstrumentError(f"new has shape {n.shape} but present has shape {p.shape}")
        if new_only.any():
            counted = p & (n | ~new_only)
    # A float32 product uses BLAS (integer matmul does not); sums of at most
    # 105 are exact in float32.
    return (counted.astype(np.float32) @ _WEIGHTS_F32).astype(np.int16)


def sledai_score(
    descriptors: Iterable[str],
    *,
    version: SledaiVersion = "2k",
    persistent: Iterable[str] = (),
) -> int:
    """Score one patient by hand from the names of the present descriptors.

    Parameters
    ----------
    descriptors
        Codes of the present descriptors (see :data:`DESCRIPTOR_CODES`).
    version
        ``"original"``, ``"2k"`` or ``"selena"``.
    persistent
        Present descriptors that are persistent rather than new; they do not
        count in versions that score them only when new.

    Examples
    --------
    >>> sledai_score(["arthritis", "rash", "low_complement", "increased_dna_binding"])
    10
    >>> sledai_score(["rash", "alopecia"], version="original", persistent=["rash"])
    2
    """
    present = np.zeros(N_DESCRIPTORS, dtype=bool)
    for code in descriptors:
        present[descriptor_index(code)] = True
    new = present.copy()
    for code in persistent:
        i = descriptor_index(code)
        if not present[i]:
            raise InstrumentError(
                f"descriptor {code!r} is listed as persistent but not as present; "
                "list it in descriptors too"
            )
        new[i] = False
    return int(score_sledai(present, new, version))


def domain_activity(present: ArrayLike) -> dict[str, NDArray[np.bool_]]:
    """Whether each organ domain has at least one present descriptor.

    Examples
    --------
    >>> import numpy as np
    >>> state = np.zeros(24, dtype=bool); state[8] = True
    >>> bool(domain_activity(state)["musculoskeletal"])
    True
    """
    p = _as_state(present, "present")
    return {dom: np.asarray(p[..., list(idx)].any(axis=-1)) for dom, idx in ORGAN_DOMAINS.items()}


_BANDS = np.array(["none", "low", "moderate", "high"])


def activity_band(score: ArrayLike) -> NDArray[np.str_]:
    """SLEDAI-2K activity band: 0 none, 1-4 low, 5-10 moderate, > 10 high.

    Bands as in the lupsim reference (sle-reference.md, section 2).

    Examples
    --------
    >>> activity_band([0, 4, 5, 10, 11]).tolist()
    ['none', 'low', 'moderate', 'moderate', 'high']
    """
    s = np.asarray(score, dtype=float)
    bad = ~((s >= 0) & (s <= SLEDAI_MAX))  # also catches NaN
    if np.any(bad):
        raise InstrumentError(
            f"SLEDAI score must be in 0-{SLEDAI_MAX}, got {s[bad].ravel()[0].item()!r}"
        )
    return _BANDS[np.searchsorted([0, 4, 10], s, side="left")]
