"""BILAG-2004: nine organ domains graded A-E.

Grades (Isenberg et al., Rheumatology 2005;44:902-6; Yee et al., Arthritis Rheum
2009;61:1168-78):

- **A** severe: would need prednisolone > 20 mg/day, IV methylprednisolone or an
  immunosuppressant;
- **B** moderate: lower-dose steroid, antimalarials or NSAIDs;
- **C** mild stable disease;
- **D** previously active, now inactive;
- **E** never involved.

Numeric score A=12, B=8, C=1, D=0, E=0 (Yee et al., Arthritis Care Res
2010;62:1457-65), maximum 108. Global severity: severe if >= 1 A, moderate if
>= 2 B, mild if only C or a single B.

Grades are stored as small integers, ``A=0 ... E=4`` (:class:`Grade`), so that a
lower code is more severe and a whole trial is an integer array
``(..., 9)`` in :data:`BILAG_DOMAINS` order. The functions accept codes or the
letters ``"A"``-``"E"``.

Examples
--------
>>> bilag_numeric({"renal": "A", "mucocutaneous": "B"})
20
>>> bilag_global_severity({"musculoskeletal": "B", "mucocutaneous": "B"})
'moderate'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lupsim.errors import InstrumentError, did_you_mean

__all__ = [
    "BILAG_DOMAINS",
    "BILAG_MAX",
    "GRADE_LETTERS",
    "NUMERIC",
    "N_BILAG_DOMAINS",
    "BilagComparison",
    "Grade",
    "as_grades",
    "bilag_global_severity",
    "bilag_numeric",
    "compare_bilag",
    "global_severity",
    "grades_from_mapping",
    "numeric_score",
]

BILAG_DOMAINS: tuple[str, ...] = (
    "constitutional",
    "mucocutaneous",
    "neuropsychiatric",
    "musculoskeletal",
    "cardiorespiratory",
    "gastrointestinal",
    "ophthalmic",
    "renal",
    "haematological",
)
N_BILAG_DOMAINS = len(BILAG_DOMAINS)
GRADE_LETTERS: tuple[str, ...] = ("A", "B", "C", "D", "E")


class Grade(IntEnum):
    """BILAG grade as an integer code; lower is more severe."""

    A = 0
    B = 1
    C = 2
    D = 3
    E = 4


#: Numeric BILAG-2004 value of each grade code (Yee 2010).
NUMERIC: NDArray[np.int16] = np.array([12, 8, 1, 0, 0], dtype=np.int16)
NUMERIC.setflags(write=False)
BILAG_MAX = int(NUMERIC[0]) * N_BILAG_DOMAINS  # 108

_LETTER_TO_CODE = {letter: i for i, letter in enumerate(GRADE_LETTERS)}
_DOMAIN_INDEX = {d: i for i, d in enumerate(BILAG_DOMAINS)}


def as_grades(grades: ArrayLike, name: str = "grades") -> NDArray[np.int8]:
    """Convert letters ``"A"``-``"E"`` or codes 0-4 to an int8 code array.

    The last axis must hold the nine domains. Anything else raises
    :class:`~lupsim.errors.InstrumentError` naming the offending value.

    Examples
    --------
    >>> as_grades(list("ABCDEEEEE")).tolist()
    [0, 1, 2, 3, 4, 4, 4, 4, 4]
    """
    arr = np.asarray(grades)
    if arr.ndim == 0 or arr.shape[-1] != N_BILAG_DOMAINS:
        raise InstrumentError(
            f"{name} must have the {N_BILAG_DOMAINS} BILAG domains on its last axis "
            f"({', '.join(BILAG_DOMAINS)}), got shape {arr.shape}"
        )
    if arr.dtype.kind in "US":
        upper = np.char.upper(arr.astype(str))
        bad = ~np.isin(upper, GRADE_LETTERS)
        if bad.any():
            raise InstrumentError(
                f"BILAG grade {arr[bad].ravel()[0].item()!r} is not one of A, B, C, D, E"
            )
        out = np.zeros(arr.shape, dtype=np.int8)
        for letter, code in _LETTER_TO_CODE.items():
            out[upper == letter] = code
        return out
    if arr.dtype.kind in "iu" or (arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0)):
        bad = (arr < 0) | (arr > 4)
        if bad.any():
            raise InstrumentError(
                f"BILAG grade code {arr[bad].ravel()[0].item()!r} is outside 0-4 (A=0 ... E=4)"
            )
        return arr.astype(np.int8)
    raise InstrumentError(f"{name} must be letters A-E or integer codes 0-4, got dtype {arr.dtype}")


def grades_from_mapping(grades: Mapping[str, str]) -> NDArray[np.int8]:
    """Build one patient's grade vector from ``{domain: letter}``; others are E.

    Examples
    --------
    >>> grades_from_mapping({"renal": "A"}).tolist()
    [4, 4, 4, 4, 4, 4, 4, 0, 4]
    """
    out = np.full(N_BILAG_DOMAINS, int(Grade.E), dtype=np.int8)
    for domain, letter in grades.items():
        if domain not in _DOMAIN_INDEX:
            raise InstrumentError(
                f"unknown BILAG domain {domain!r}{did_you_mean(domain, BILAG_DOMAINS)}; "
                f"valid domains are: {', '.join(BILAG_DOMAINS)}"
            )
        key = str(letter).upper()
        if key not in _LETTER_TO_CODE:
            raise InstrumentError(
                f"BILAG grade {letter!r} for domain {domain!r} is not one of A, B, C, D, E"
            )
        out[_DOMAIN_INDEX[domain]] = _LETTER_TO_CODE[key]
    return out


def numeric_score(grades: ArrayLike) -> NDArray[np.int16]:
    """BILAG-2004 numeric score (A=12, B=8, C=1, D=E=0), vectorised.

    Examples
    --------
    >>> numeric_score(list("ABCEEEEEE")).tolist()
    21
    """
    g = as_grades(grades)
    return NUMERIC[g].sum(axis=-1, dtype=np.int16)


_SEVERITY = np.array(["none", "mild", "moderate", "severe"])


def global_severity(grades: ArrayLike) -> NDArray[np.str_]:
    """Global severity: severe (>= 1 A), moderate (>= 2 B), mild, or none.

    *Mild* is only C or a single B; *none* has no A, B or C.

    Examples
    --------
    >>> global_severity([list("BBEEEEEEE"), list("CEEEEEEEE")]).tolist()
    ['moderate', 'mild']
    """
    g = as_grades(grades)
    n_a = (g == Grade.A).sum(axis=-1)
    n_b = (g == Grade.B).sum(axis=-1)
    n_c = (g == Grade.C).sum(axis=-1)
    level = np.where(n_a >= 1, 3, np.where(n_b >= 2, 2, np.where((n_b == 1) | (n_c >= 1), 1, 0)))
    return _SEVERITY[level]


@dataclass(frozen=True, slots=True)
class BilagComparison:
    """A follow-up BILAG compared with baseline, as SRI and BICLA need it.

    Attributes
    ----------
    new_a
        Domains graded A at follow-up that were not A at baseline.
    new_b
        Domains graded B at follow-up that were C, D or E at baseline.
    no_worsening
        The SRI criterion: no new A and at most one new B.
    all_improved
        The BICLA criterion: every baseline A is now B, C or D, and every
        baseline B is now C or D.
    """

    new_a: NDArray[np.int16]
    new_b: NDArray[np.int16]
    no_worsening: NDArray[np.bool_]
    all_improved: NDArray[np.bool_]


def compare_bilag(baseline: ArrayLike, followup: ArrayLike) -> BilagComparison:
    """Compare follow-up grades with baseline (vectorised).

    Examples
    --------
    >>> c = compare_bilag(list("BCEEEEEEE"), list("CBBEEEEEE"))
    >>> int(c.new_a), int(c.new_b), bool(c.no_worsening), bool(c.all_improved)
    (0, 2, False, True)
    """
    b = as_grades(baseline, "baseline")
    f = as_grades(followup, "followup")
    try:
        b, f = np.broadcast_arrays(b, f)
    except ValueError:
        raise InstrumentError(
            f"baseline shape {b.shape} and followup shape {f.shape} do not match"
        ) from None
    new_a = ((f == Grade.A) & (b != Grade.A)).sum(axis=-1, dtype=np.int16)
    new_b = ((f == Grade.B) & (b >= Grade.C)).sum(axis=-1, dtype=np.int16)
    # BICLA improvement: A -> B/C/D, B -> C/D. E cannot follow activity (the
    # domain was involved), so it is treated like D.
    a_ok = (b != Grade.A) | (f >= Grade.B)
    b_ok = (b != Grade.B) | (f >= Grade.C)
    return BilagComparison(
        new_a=new_a,
        new_b=new_b,
        no_worsening=(new_a == 0) & (new_b <= 1),
        all_improved=(a_ok & b_ok).all(axis=-1),
    )


def bilag_numeric(grades: Mapping[str, str]) -> int:
    """Numeric BILAG-2004 score of one patient given ``{domain: letter}``.

    Domains not listed are E.

    Examples
    --------
    >>> bilag_numeric({"renal": "A", "mucocutaneous": "B", "musculoskeletal": "C"})
    21
    """
    return int(numeric_score(grades_from_mapping(grades)))


def bilag_global_severity(grades: Mapping[str, str]) -> str:
    """Global severity of one patient given ``{domain: letter}``.

    Examples
    --------
    >>> bilag_global_severity({"renal": "A"})
    'severe'
    """
    return str(global_severity(grades_from_mapping(grades)))
