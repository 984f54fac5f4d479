"""CDISC ADaM-style exports of a simulated trial.

A trial statistician loads these into the tools they already use (SAS, R,
Stata, Python) without learning lupsim's own layout:

- :func:`adsl`: subject-level analysis dataset, one row per randomised subject;
- :func:`adeff`: efficacy dataset in the Basic Data Structure (BDS), one row per
  subject x analysis visit x parameter: measured activity, treatment and
  laboratory values (eGFR included) at every attended visit, and responder
  parameters (SRI-4/5/6, BICLA, LLDAS; PERR and CRR in nephritis trials) at
  every post-baseline visit with non-responder imputation;
- :func:`adtte`: time to first severe flare (modified SELENA flare index);
- :func:`variables_table`: name, label, type and codelist/notes of every
  variable (the define.xml a statistician would otherwise ask for);
- :func:`write_cdisc`: all four as CSV (and Parquet), written atomically.

Conventions, where lupsim and CDISC differ:

- Study days follow CDISC (no day 0): lupsim's day 0, the day of randomisation
  and first dose, is study day 1, so ``ADY = floor(lupsim day) + 1``.
- Time-to-event values (``ADTTE.AVAL``) are durations in days since
  randomisation, equal to :func:`lupsim.analysis.endpoints.flares`.
- Character missing values are blank (``""``), numeric ones null, as in SAS.
- Variable names have at most 8 characters and labels at most 40, so that the
  files convert to SAS transport (XPT v5) unchanged.

Only variables lupsim simulates are exported: there are no dates, deaths,
adverse events or exposure records.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> from lupsim.trial import simulate_trial
>>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
>>> sorted(adeff(ds)["PARAMCD"].unique())[:4]
['BICLA', 'BILAGNUM', 'C3', 'C4']
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lupsim.activity.bilag import NUMERIC
from lupsim.analysis.endpoints import bicla, crr, flares, lldas, perr, sri
from lupsim.cohort.vocabulary import INDUCTION_REGIMENS
from lupsim.errors import LupsimError
from lupsim.trial.dataset import TrialDataset
from lupsim.trial.disease import DROPOUT_REASONS

__all__ = ["adeff", "adsl", "adtte", "variables_table", "write_cdisc"]

F = NDArray[np.float64]
B = NDArray[np.bool_]

#: lupsim race groups as CDISC RACE terms (C74457). lupsim's
#: "indigenous_american" is the BLISS "Alaska native or American Indian" group.
RACE_TERMS: Final[dict[str, str]] = {
    "white": "WHITE",
    "black": "BLACK OR AFRICAN AMERICAN",
    "asian": "ASIAN",
    "indigenous_american": "AMERICAN INDIAN OR ALASKA NATIVE",
    "other": "OTHER",
}

#: Discontinuation reasons as (DCSREAS, DCSREASP). The first three are
#: NCI NCOMPLT terms; a severe flare has no term of its own there, so it is
#: "OTHER" with the reason specified, as a CRF would record it.
DISCONTINUATION_TERMS: Final[dict[str, tuple[str, str]]] = {
    "withdrawal": ("WITHDRAWAL BY SUBJECT", ""),
    "adverse_event": ("ADVERSE EVENT", ""),
    "lack_of_efficacy": ("LACK OF EFFICACY", ""),
    "severe_flare": ("OTHER", "SEVERE FLARE"),
}

# Measured parameters of ADEFF: PARAMCD, PARAM, and the visit array they come from.
_MEASURED: Final[tuple[tuple[str, str, Callable[[TrialDataset], F]], ...]] = (
    ("SELENA", "SELENA-SLEDAI Total Score", lambda d: d.arrays.selena.astype(float)),
    ("SLEDAI2K", "SLEDAI-2K Total Score", lambda d: d.arrays.sledai_2k.astype(float)),
    (
        "BILAGNUM",
        "BILAG-2004 Numeric Score (A=12 B=8 C=1)",
        lambda d: NUMERIC[d.arrays.bilag].sum(axis=-1).astype(float),
    ),
    ("PGA", "Physician's Global Assessment (0-3)", lambda d: d.arrays.pga),
    ("PRED", "Prednisone Dose (mg/day)", lambda d: d.arrays.prednisone_mg),
    ("DSDNA", "Anti-dsDNA Antibodies (IU/mL)", lambda d: d.arrays.anti_dsdna_iu),
    ("C3", "Complement C3 (mg/dL)", lambda d: d.arrays.c3),
    ("C4", "Complement C4 (mg/dL)", lambda d: d.arrays.c4),
    ("PROT", "Proteinuria (g/24 h)", lambda d: d.arrays.proteinuria_g),
    ("EGFR", "eGFR (mL/min/1.73 m2)", lambda d: d.arrays.egfr),
)

# Responder parameters of ADEFF: PARAMCD, PARAM, and response at a week.
_RESPONDERS: Final[tuple[tuple[str, str, Callable[[TrialDataset, float], B]], ...]] = (
    ("SRI4", "SRI-4 Response", lambda d, w: sri(d, w, 4).responder),
    ("SRI5", "SRI-5 Response", lambda d, w: sri(d, w, 5).responder),
    ("SRI6", "SRI-6 Response", lambda d, w: sri(d, w, 6).responder),
    ("BICLA", "BICLA Response", bicla),
    ("LLDAS", "Lupus Low Disease Activity State", lldas),
)
# Renal responder parameters, in trials with a nephritis background regimen.
_RENAL_RESPONDERS: Final[tuple[tuple[str, str, Callable[[TrialDataset, float], B]], ...]] = (
    ("PERR", "Primary Efficacy Renal Response", lambda d, w: perr(d, w).responder),
    ("CRR", "Complete Renal Response", lambda d, w: crr(d, w).responder),
)

#: ADSL terms of the background induction regimens (blank: none).
INDUCTION_TERMS: Final[dict[str, str]] = {
    "mycophenolate": "MYCOPHENOLATE MOFETIL",
    "euro_lupus_cyclophosphamide": "EURO-LUPUS CYCLOPHOSPHAMIDE",
}
assert tuple(INDUCTION_TERMS) == INDUCTION_REGIMENS

_TTE_PARAMCD: Final = "TTSEVFL"
_TTE_PARAM: Final = "Time to First Severe Flare (days)"

# Variable metadata: name, label, type, codelist, notes. "STRATnFL" stands for
# one flag per stratification factor; ``variables_table(ds)`` expands it.
_Spec = tuple[str, str, str, str, str]
_STRAT: Final = "STRATnFL"

_ANL01FL_RULE: Final = (
    "Measured parameters: Y if the visit was attended and the subject was not a "
    "treatment failure at or before it (the failure visit and later ones are out, "
    "as in lupsim.analysis.endpoints). Responder parameters: Y on every record, "
    "NRI records included, as the BLISS primary analysis counted dropouts and "
    "treatment failures as non-responders."
)
_STUDY_DAY: Final = "lupsim day 0 (randomisation, first dose) is study day 1"


def _v(name: str, label: str, kind: str, codelist: str = "", notes: str = "") -> _Spec:
    return (name, label, kind, codelist, notes)


_YN: Final = "Y; N"

_ADSL_VARS: Final[tuple[_Spec, ...]] = (
    _v("STUDYID", "Study Identifier", "Char", notes="the lupsim scenario name"),
    _v("USUBJID", "Unique Subject Identifier", "Char", notes="as in TrialDataset.subjects"),
    _v("SUBJID", "Subject Identifier for the Study", "Char"),
    _v("SITEID", "Study Site Identifier", "Char"),
    _v("REGION1", "Geographic Region 1", "Char", notes="lupsim region, upper case"),
    _v("AGE", "Age", "Num", notes="completed years at baseline"),
    _v("AGEU", "Age Units", "Char", "YEARS"),
    _v("SEX", "Sex", "Char", "F; M"),
    _v("RACE", "Race", "Char", "; ".join(RACE_TERMS.values()), "CDISC RACE terms"),
    _v("WEIGHTBL", "Baseline Weight (kg)", "Num"),
    _v("ARM", "Description of Planned Arm", "Char", notes="arm name of the design"),
    _v("ARMCD", "Planned Arm Code", "Char", notes="upper-case arm name, <= 20 characters"),
    _v("TRT01P", "Planned Treatment for Period 01", "Char", notes="arm name of the design"),
    _v("TRT01PN", "Planned Treatment for Period 01 (N)", "Num", notes="arm order, 1..k"),
    _v("TRT01A", "Actual Treatment for Period 01", "Char", notes="lupsim gives the planned arm"),
    _v("TRT01AN", "Actual Treatment for Period 01 (N)", "Num", notes="as TRT01PN"),
    _v("RANDFL", "Randomized Population Flag", "Char", "Y", "every subject is randomised"),
    _v("ITTFL", "Intent-To-Treat Population Flag", "Char", "Y", "all randomised subjects"),
    _v(
        "SAFFL",
        "Safety Population Flag",
        "Char",
        _YN,
        "Y if the baseline visit (first dose) took place",
    ),
    _v("COMPLFL", "Completers Population Flag", "Char", _YN, "Y if the primary visit was attended"),
    _v(
        "EOSSTT",
        "End of Study Status",
        "Char",
        "COMPLETED; DISCONTINUED; ONGOING",
        "ONGOING: still on study at the data cut",
    ),
    _v(
        "DCSREAS",
        "Reason for Discontinuation from Study",
        "Char",
        "ADVERSE EVENT; LACK OF EFFICACY; WITHDRAWAL BY SUBJECT; OTHER",
        "NCI NCOMPLT terms; blank if not discontinued",
    ),
    _v("DCSREASP", "Reason Spec for Discont from Study", "Char", "SEVERE FLARE", "if OTHER"),
    _v("DCSDY", "Study Day of Discontinuation", "Num", notes=_STUDY_DAY),
    _v("LSTVISWK", "Week of Last Visit Attended", "Num"),
    _v(
        "RANDCDY",
        "Randomization Day From Trial Start",
        "Num",
        notes="calendar days since the trial started (lupsim has no dates); data cuts use it",
    ),
    _v(_STRAT, "Stratification Factor n Flag", "Char", _YN, "one per stratification factor"),
    _v("SELENABL", "Baseline SELENA-SLEDAI Score", "Num"),
    _v("SLE2KBL", "Baseline SLEDAI-2K Score", "Num"),
    _v("BILAGBL", "Baseline BILAG-2004 Numeric Score", "Num", notes="A=12, B=8, C=1, D=E=0"),
    _v("BILAGABL", "Baseline Number of BILAG A Domains", "Num"),
    _v("BILAGBBL", "Baseline Number of BILAG B Domains", "Num"),
    _v("PGABL", "Baseline Physician's Global Assessment", "Num", notes="0-3"),
    _v("PREDBL", "Baseline Prednisone Dose (mg/day)", "Num"),
    _v("DSDNABL", "Baseline Anti-dsDNA (IU/mL)", "Num"),
    _v("C3BL", "Baseline C3 (mg/dL)", "Num"),
    _v("C4BL", "Baseline C4 (mg/dL)", "Num"),
    _v("PROTBL", "Baseline Proteinuria (g/24 h)", "Num", notes="a uPCR in g/g reads the same"),
    _v("EGFRBL", "Baseline eGFR (mL/min/1.73 m2)", "Num"),
    _v(
        "INDUCT",
        "Background Induction Regimen",
        "Char",
        "; ".join(INDUCTION_TERMS.values()),
        "lupus nephritis induction (design.background); blank if none",
    ),
    _v(
        "SERACTFL",
        "Serologically Active at Baseline Flag",
        "Char",
        _YN,
        "anti-dsDNA positive and low C3 or C4",
    ),
    _v("ANTIMLFL", "Antimalarial at Baseline Flag", "Char", _YN),
    _v("ISBLFL", "Immunosuppressant at Baseline Flag", "Char", _YN),
    _v(
        "TRTFFL",
        "Treatment Failure Flag",
        "Char",
        _YN,
        "rescue or prohibited therapy at any visit attended",
    ),
    _v("TRTFWK", "Week of Treatment Failure", "Num", notes="nominal week of the visit"),
    _v("TRTFDY", "Study Day of Treatment Failure", "Num", notes=_STUDY_DAY),
)

_BDS_KEYS: Final[tuple[_Spec, ...]] = (
    _v("STUDYID", "Study Identifier", "Char"),
    _v("USUBJID", "Unique Subject Identifier", "Char"),
    _v("TRT01P", "Planned Treatment for Period 01", "Char"),
    _v("TRT01PN", "Planned Treatment for Period 01 (N)", "Num"),
    _v(_STRAT, "Stratification Factor n Flag", "Char", _YN, "copied from ADSL"),
)

_ADEFF_VARS: Final[tuple[_Spec, ...]] = (
    *_BDS_KEYS,
    _v(
        "PARAMCD",
        "Parameter Code",
        "Char",
        "; ".join(p[0] for p in (*_MEASURED, *_RESPONDERS, *_RENAL_RESPONDERS)),
        "PERR and CRR in trials with a nephritis induction regimen only",
    ),
    _v("PARAM", "Parameter", "Char"),
    _v("PARAMN", "Parameter (N)", "Num", notes="order of the PARAMCD codelist"),
    _v("AVISIT", "Analysis Visit", "Char", "BASELINE; WEEK n"),
    _v("AVISITN", "Analysis Visit (N)", "Num", notes="nominal week, 0 = baseline"),
    _v("ADY", "Analysis Relative Day", "Num", notes=_STUDY_DAY + "; null if not attended"),
    _v("AVAL", "Analysis Value", "Num", notes="responder parameters: 1 = response, 0 = none"),
    _v("AVALC", "Analysis Value (C)", "Char", _YN, "responder parameters only"),
    _v("BASE", "Baseline Value", "Num", notes="measured parameters only"),
    _v("CHG", "Change from Baseline", "Num", notes="AVAL - BASE after baseline"),
    _v("ABLFL", "Baseline Record Flag", "Char", "Y", "week 0 records of measured parameters"),
    _v("ANL01FL", "Analysis Flag 01", "Char", "Y", _ANL01FL_RULE),
    _v(
        "DTYPE",
        "Derivation Type",
        "Char",
        "NRI",
        "non-responder imputation: visit not attended (dropout), or at or after treatment failure",
    ),
)

_ADTTE_VARS: Final[tuple[_Spec, ...]] = (
    *_BDS_KEYS,
    _v("PARAMCD", "Parameter Code", "Char", _TTE_PARAMCD),
    _v("PARAM", "Parameter", "Char"),
    _v(
        "AVAL",
        "Analysis Value",
        "Num",
        notes="days from randomisation to the first severe flare (modified SELENA "
        "flare index) up to the primary visit, or to the last visit attended up to it",
    ),
    _v("CNSR", "Censor", "Num", "0; 1", "0 = event, 1 = censored"),
    _v("EVNTDESC", "Event or Censoring Description", "Char"),
)

_DATASETS: Final[dict[str, tuple[_Spec, ...]]] = {
    "ADSL": _ADSL_VARS,
    "ADEFF": _ADEFF_VARS,
    "ADTTE": _ADTTE_VARS,
}


# -- helpers -----------------------------------------------------------------
def _yn(flag: NDArray[Any]) -> NDArray[np.object_]:
    return np.where(np.asarray(flag, dtype=bool), "Y", "N").astype(object)


def _nullable_int(x: F) -> pd.api.extensions.ExtensionArray:
    """Whole numbers with NaN as pandas' nullable Int64 (``243``, not ``243.0``)."""
    return pd.Series(x, dtype=float).astype("Int64").array


def _study_day(day: NDArray[Any]) -> pd.api.extensions.ExtensionArray:
    """CDISC study day (day 1 = randomisation) as nullable integers."""
    return _nullable_int(np.floor(np.asarray(day, dtype=float)) + 1.0)


def _weeks(weeks: NDArray[np.float64]) -> NDArray[Any] | pd.api.extensions.ExtensionArray:
    # Whole weeks print as 4, not 4.0, in the CSV a statistician opens.
    known = weeks[~np.isnan(weeks)]
    if not np.all(known == np.round(known)):
        return weeks
    return weeks.astype(np.int64) if known.size == weeks.size else _nullable_int(weeks)


def _visit_name(week: float) -> str:
    return "BASELINE" if week == 0 else f"WEEK {week:g}"


def _arm_codes(arms: tuple[str, ...]) -> list[str]:
    """SDTM ARMCD: letters, digits and underscores, at most 20 characters."""
    codes = [
        "".join(c if c.isascii() and c.isalnum() else "_" for c in a.upper())[:20] for a in arms
    ]
    if len(set(codes)) < len(codes):  # truncation or replacement made two arms alike
        codes = [f"ARM{k + 1}" for k in range(len(arms))]
    return codes


def _strata(ds: TrialDataset) -> dict[str, NDArray[np.object_]]:
    s = ds.subject_arrays
    return {
        f"STRAT{j + 1}FL": _yn(s[f"stratum_factor_{j + 1}"]) for j in range(len(ds.strata_rules))
    }


def _treatment(ds: TrialDataset) -> tuple[NDArray[np.object_], NDArray[np.int64]]:
    idx = ds.arm_index.astype(np.int64)
    return np.asarray(ds.arms, dtype=object)[idx], idx + 1


def _expand(specs: tuple[_Spec, ...], ds: TrialDataset | None) -> list[_Spec]:
    """Replace the STRATnFL placeholder by the dataset's flags (with their rules)."""
    out: list[_Spec] = []
    for name, label, kind, codelist, notes in specs:
        if name != _STRAT or ds is None:
            out.append((name, label, kind, codelist, notes))
            continue
        for j, rule in enumerate(ds.strata_rules):
            out.append(
                (f"STRAT{j + 1}FL", f"Stratification Factor {j + 1} Flag", kind, codelist, rule)
            )
    return out


def _columns(dataset: str, ds: TrialDataset) -> list[str]:
    return [spec[0] for spec in _expand(_DATASETS[dataset], ds)]


# -- datasets ----------------------------------------------------------------
def adsl(ds: TrialDataset) -> pd.DataFrame:
    """Subject-level analysis dataset: one row per randomised subject.

    Column names, labels and codelists are in :func:`variables_table`. Baseline
    values carry the ``BL`` suffix; ``STRATnFL`` are the stratification factors
    (``Y``/``N``) in ``ds.strata_rules`` order.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> t = adsl(ds)
    >>> len(t) == ds.n, t["USUBJID"].is_unique
    (True, True)
    >>> t.loc[0, ["STUDYID", "AGEU", "RANDFL"]].tolist()
    ['bliss52', 'YEARS', 'Y']
    """
    s = ds.subject_arrays
    a = ds.arrays
    sub = ds.subjects
    n = ds.n
    trt, trtn = _treatment(ds)
    weeks = np.asarray(ds.visit_weeks, dtype=float)
    usubjid = sub["USUBJID"].astype(str).to_numpy(dtype=object)
    disc = s["disc_visit"] >= 0
    reason_names = np.asarray(DROPOUT_REASONS, dtype=object)[np.maximum(s["disc_reason"], 0)]
    terms = [
        DISCONTINUATION_TERMS.get(str(r), ("OTHER", str(r).replace("_", " ").upper()))
        for r in reason_names
    ]
    dcsreas = np.where(disc, [t[0] for t in terms], "").astype(object)
    dcsreasp = np.where(disc, [t[1] for t in terms], "").astype(object)
    attended_last = a.observed[:, -1]
    eosstt = np.where(disc, "DISCONTINUED", np.where(attended_last, "COMPLETED", "ONGOING"))
    last_seen = np.where(
        a.observed.any(axis=1), a.observed.shape[1] - 1 - np.argmax(a.observed[:, ::-1], axis=1), 0
    )
    failed = s["failure_visit"] >= 0
    fail_col = np.maximum(s["failure_visit"], 0)
    fail_day = np.where(failed, a.day[np.arange(n), fail_col], np.nan)
    race = sub["RACE"].astype(str).map(lambda r: RACE_TERMS.get(r, "OTHER")).to_numpy(dtype=object)
    grades0 = a.bilag[:, 0]
    cols: dict[str, Any] = {
        "STUDYID": np.full(n, ds.scenario, dtype=object),
        "USUBJID": usubjid,
        "SUBJID": np.asarray([u.rsplit("-", 1)[-1] for u in usubjid], dtype=object),
        "SITEID": sub["SITEID"].astype(str).to_numpy(dtype=object),
        "REGION1": sub["REGION"]
        .astype(str)
        .str.replace("_", " ")
        .str.upper()
        .to_numpy(dtype=object),
        # Nullable: a binomial design has no patients' ages.
        "AGE": pd.array(np.floor(np.asarray(s["age"], dtype=float)), dtype="Int64"),
        "AGEU": np.full(n, "YEARS", dtype=object),
        "SEX": np.where(s["female"], "F", "M").astype(object),
        "RACE": race,
        "WEIGHTBL": np.asarray(s["weight_kg"], dtype=float),
        "ARM": trt,
        "ARMCD": np.asarray(_arm_codes(ds.arms), dtype=object)[trtn - 1],
        "TRT01P": trt,
        "TRT01PN": trtn,
        # lupsim gives every subject the randomised treatment (no dosing errors).
        "TRT01A": trt.copy(),
        "TRT01AN": trtn.copy(),
        "RANDFL": np.full(n, "Y", dtype=object),
        "ITTFL": np.full(n, "Y", dtype=object),
        # The first dose is given at the baseline visit.
        "SAFFL": _yn(a.observed[:, 0]),
        "COMPLFL": _yn(a.observed[:, ds.visit_column(ds.primary_week)]),
        "EOSSTT": eosstt.astype(object),
        "DCSREAS": dcsreas,
        "DCSREASP": dcsreasp,
        "DCSDY": _study_day(np.where(disc, s["disc_day"], np.nan)),
        "LSTVISWK": _weeks(weeks[last_seen]),
        "RANDCDY": np.asarray(s["rand_calendar_day"], dtype=float),
        **_strata(ds),
        "SELENABL": np.asarray(s["selena_bl"], dtype=np.int64),
        "SLE2KBL": np.asarray(s["sledai_2k_bl"], dtype=np.int64),
        "BILAGBL": NUMERIC[grades0].sum(axis=-1).astype(np.int64),
        "BILAGABL": (grades0 == 0).sum(axis=-1).astype(np.int64),
        "BILAGBBL": (grades0 == 1).sum(axis=-1).astype(np.int64),
        "PGABL": np.asarray(s["pga_bl"], dtype=float),
        "PREDBL": np.asarray(s["prednisone_bl"], dtype=float),
        "DSDNABL": np.asarray(s["anti_dsdna_bl"], dtype=float),
        "C3BL": np.asarray(s["c3_bl"], dtype=float),
        "C4BL": np.asarray(s["c4_bl"], dtype=float),
        "PROTBL": np.asarray(s["proteinuria_bl"], dtype=float),
        "EGFRBL": np.asarray(s["egfr_bl"], dtype=float),
        "INDUCT": np.asarray(["", *INDUCTION_TERMS.values()], dtype=object)[s["induction"]],
        "SERACTFL": _yn(s["serologically_active"]),
        "ANTIMLFL": _yn(s["antimalarial"]),
        "ISBLFL": _yn(np.asarray(s["immunosuppressant_bl"]) > 0),
        "TRTFFL": _yn(failed),
        "TRTFWK": _weeks(np.where(failed, weeks[fail_col], np.nan)),
        "TRTFDY": _study_day(fail_day),
    }
    frame = pd.DataFrame(cols)[_columns("ADSL", ds)]
    if ds.binomial:
        # No patients are modelled, only responses: demographics and baseline
        # disease are missing, not the placeholders the dataset carries.
        for col in _NOT_MODELLED_IN_BINOMIAL:
            if col in frame.columns:
                numeric = pd.api.types.is_numeric_dtype(frame[col])
                frame[col] = np.nan if numeric else ""
    return frame


#: ADSL variables a binomial design (no disease model) has no value for.
_NOT_MODELLED_IN_BINOMIAL = (
    "REGION1",
    "SEX",
    "RACE",
    "WEIGHTBL",
    "SELENABL",
    "SLE2KBL",
    "BILAGBL",
    "BILAGABL",
    "BILAGBBL",
    "PGABL",
    "PREDBL",
    "DSDNABL",
    "C3BL",
    "C4BL",
    "PROTBL",
    "EGFRBL",
    "SERACTFL",
    "ANTIMLFL",
    "ISBLFL",
)


def _pending(ds: TrialDataset) -> B:
    """Visits not yet due at the data cut of a subject still on study.

    They are future visits, not missing ones, so they get no responder record
    (``lupsim.analysis.endpoints`` counts them as non-responders).
    """
    a = ds.arrays
    if ds.data_cut_day is None:
        return np.zeros_like(a.observed)
    s = ds.subject_arrays
    calendar = s["rand_calendar_day"][:, None] + a.day
    on_study = (s["disc_visit"] < 0)[:, None]
    return np.asarray(~a.observed & on_study & (calendar > ds.data_cut_day))


def adeff(ds: TrialDataset) -> pd.DataFrame:
    """Efficacy dataset (BDS): one row per subject x analysis visit x parameter.

    - Measured parameters (SELENA, SLEDAI2K, BILAGNUM, PGA, PRED, DSDNA, C3, C4,
      PROT, EGFR): one record per attended visit, baseline (``ABLFL="Y"``)
      included; ``BASE`` is the week-0 value and ``CHG = AVAL - BASE`` after
      baseline.
    - Responder parameters (SRI4, SRI5, SRI6, BICLA, LLDAS, and PERR and CRR
      in trials with a nephritis induction regimen): one record per
      post-baseline visit, ``AVAL`` 1/0 and ``AVALC`` ``Y``/``N`` as computed
      by :mod:`lupsim.analysis.endpoints`. A visit not attended (dropout) or at
      or after treatment failure is a non-responder with ``DTYPE="NRI"``.
      Visits still to come at a data cut have no record.

    ``ANL01FL`` marks analysis records: for measured parameters, attended and
    not at or after treatment failure; for responder parameters, every record
    (NRI included), as in the BLISS primary analysis.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> t = adeff(ds)
    >>> w52 = t[(t["PARAMCD"] == "SRI4") & (t["AVISIT"] == "WEEK 52")]
    >>> len(w52) == ds.n, set(w52["AVALC"]) == {"Y", "N"}
    (True, True)
    """
    a = ds.arrays
    n, v = a.observed.shape
    trt, trtn = _treatment(ds)
    ids = ds.subjects["USUBJID"].astype(str).to_numpy(dtype=object)
    weeks = np.asarray(ds.visit_weeks, dtype=float)
    evaluable = a.observed & ~a.treatment_failure
    parts: list[pd.DataFrame] = []

    def part(
        i: NDArray[np.intp],
        j: NDArray[np.intp],
        paramn: int,
        code: str,
        label: str,
        cols: dict[str, Any],
    ) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "_i": i,
                "USUBJID": ids[i],
                "PARAMCD": code,
                "PARAM": label,
                "PARAMN": paramn,
                "AVISIT": np.asarray([_visit_name(w) for w in weeks], dtype=object)[j],
                "AVISITN": weeks[j],
                **cols,
            }
        )

    rows_i, rows_j = np.nonzero(a.observed)
    for k, (code, label, values) in enumerate(_MEASURED):
        x = values(ds)
        aval = x[rows_i, rows_j]
        base = x[rows_i, 0]
        baseline = rows_j == 0
        parts.append(
            part(
                rows_i,
                rows_j,
                k + 1,
                code,
                label,
                {
                    "ADY": _study_day(a.day[rows_i, rows_j]),
                    "AVAL": aval,
                    "AVALC": "",
                    "BASE": base,
                    # Rounded so that binary noise (1.79 - 1.83 = -0.0400...036)
                    # does not reach the CSV; measurements have <= 2 decimals.
                    "CHG": np.where(baseline, np.nan, np.round(aval - base, 10)),
                    "ABLFL": np.where(baseline, "Y", "").astype(object),
                    "ANL01FL": np.where(evaluable[rows_i, rows_j], "Y", "").astype(object),
                    "DTYPE": "",
                },
            )
        )

    keep = ~_pending(ds)
    keep[:, 0] = False  # responders are defined after baseline only
    ri, rj = np.nonzero(keep)
    responders = (*_RESPONDERS, *(_RENAL_RESPONDERS if ds.nephritis else ()))
    for k, (code, label, respond) in enumerate(responders):
        response = np.zeros((n, v), dtype=bool)
        for j in range(1, v):
            response[:, j] = respond(ds, weeks[j])
        r = response[ri, rj]
        seen = a.observed[ri, rj]
        parts.append(
            part(
                ri,
                rj,
                len(_MEASURED) + k + 1,
                code,
                label,
                {
                    "ADY": _study_day(np.where(seen, a.day[ri, rj], np.nan)),
                    "AVAL": r.astype(float),
                    "AVALC": np.where(r, "Y", "N").astype(object),
                    "BASE": np.nan,
                    "CHG": np.nan,
                    "ABLFL": "",
                    "ANL01FL": "Y",
                    "DTYPE": np.where(evaluable[ri, rj], "", "NRI").astype(object),
                },
            )
        )

    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["_i", "PARAMN", "AVISITN"], kind="stable").reset_index(drop=True)
    i = out["_i"].to_numpy()
    out["STUDYID"] = ds.scenario
    out["TRT01P"] = trt[i]
    out["TRT01PN"] = trtn[i]
    for name, flag in _strata(ds).items():
        out[name] = flag[i]
    out["AVISITN"] = _weeks(out["AVISITN"].to_numpy(dtype=float))
    return out[_columns("ADEFF", ds)]


def adtte(ds: TrialDataset) -> pd.DataFrame:
    """Time-to-event dataset: time to first severe flare, one row per subject.

    ``AVAL`` is the time in days from randomisation to the first severe flare
    by the modified SELENA flare index up to the primary visit (``CNSR=0``),
    or to the last visit attended up to it (``CNSR=1``): exactly
    :func:`lupsim.analysis.endpoints.flares` at the primary week.

    Examples
    --------
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> t = adtte(ds)
    >>> len(t) == ds.n, sorted(t["CNSR"].unique().tolist())
    (True, [0, 1])
    """
    a = ds.arrays
    f = flares(ds)
    trt, trtn = _treatment(ds)
    primary = a.observed[:, ds.visit_column(ds.primary_week)]
    disc = ds.subject_arrays["disc_visit"] >= 0
    censored = np.where(
        primary,
        f"NO SEVERE FLARE BY WEEK {ds.primary_week:g}",
        np.where(disc, "DISCONTINUED STUDY", "ONGOING AT DATA CUT"),
    )
    out = pd.DataFrame(
        {
            "STUDYID": np.full(ds.n, ds.scenario, dtype=object),
            "USUBJID": ds.subjects["USUBJID"].astype(str).to_numpy(dtype=object),
            "TRT01P": trt,
            "TRT01PN": trtn,
            **_strata(ds),
            "PARAMCD": _TTE_PARAMCD,
            "PARAM": _TTE_PARAM,
            "AVAL": f.time_to_severe.astype(float),
            "CNSR": np.where(f.severe_event, 0, 1).astype(np.int64),
            "EVNTDESC": np.where(f.severe_event, "SEVERE FLARE", censored).astype(object),
        }
    )
    return out[_columns("ADTTE", ds)]


def variables_table(ds: TrialDataset | None = None) -> pd.DataFrame:
    """Metadata of every exported variable: one row per dataset x variable.

    Columns: ``dataset`` (ADSL, ADEFF, ADTTE), ``name``, ``label`` (at most 40
    characters), ``type`` (``Char``/``Num``), ``codelist`` (allowed values,
    ``; ``-separated) and ``notes`` (derivation). Given a dataset, the
    stratification flags are listed one by one with their rule, and the
    treatment codes are spelled out; without one, ``STRATnFL`` stands for them.

    Examples
    --------
    >>> t = variables_table()
    >>> t.loc[t["name"] == "CNSR", ["dataset", "type", "codelist"]].values.tolist()
    [['ADTTE', 'Num', '0; 1']]
    >>> bool(t["label"].str.len().max() <= 40)
    True
    """
    rows: list[dict[str, str]] = []
    for dataset, specs in _DATASETS.items():
        for name, label, kind, codelist, notes in _expand(specs, ds):
            if ds is not None and name in ("TRT01PN", "TRT01AN"):
                codelist = "; ".join(f"{k + 1} = {arm}" for k, arm in enumerate(ds.arms))
            rows.append(
                {
                    "dataset": dataset,
                    "name": name,
                    "label": label,
                    "type": kind,
                    "codelist": codelist,
                    "notes": notes,
                }
            )
    return pd.DataFrame(rows)


# -- writing -----------------------------------------------------------------
def write_cdisc(
    ds: TrialDataset, directory: str | Path, *, parquet: bool | None = None
) -> list[Path]:
    """Write ``adsl``, ``adeff``, ``adtte`` and ``variables`` as CSV (and Parquet).

    Parquet is written when ``parquet`` is true, or by default when pyarrow
    is installed. Every file goes to a temporary name first and is renamed
    only once all of them are written, so a failure leaves neither partial
    files nor a half-updated set behind (nor a directory this call created).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    LupsimError
        If the directory cannot be created or written, or Parquet is asked for
        without pyarrow.

    Examples
    --------
    >>> import tempfile
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in write_cdisc(ds, d, parquet=False)]
    ['adsl.csv', 'adeff.csv', 'adtte.csv', 'variables.csv']
    """
    out = Path(directory)
    has_pyarrow = importlib.util.find_spec("pyarrow") is not None
    if parquet is None:
        parquet = has_pyarrow
    elif parquet and not has_pyarrow:
        raise LupsimError("Parquet output needs pyarrow: pip install 'lupsim[parquet]'")
    if out.exists() and not out.is_dir():
        raise LupsimError(f"cannot write CDISC datasets to {out}: it is a file, not a directory")
    frames = {
        "adsl": adsl(ds),
        "adeff": adeff(ds),
        "adtte": adtte(ds),
        "variables": variables_table(ds),
    }
    created = [p for p in (out, *out.parents) if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_dirs(created)
        raise LupsimError(
            f"cannot create directory {out} for CDISC datasets: {exc.strerror or exc}"
        ) from None
    targets: list[tuple[pd.DataFrame, Path]] = []
    for name, frame in frames.items():
        targets.append((frame, out / f"{name}.csv"))
        if parquet:
            targets.append((frame, out / f"{name}.parquet"))
    temps: list[Path] = []
    try:
        for frame, path in targets:
            tmp = path.with_name(f".{path.name}.part")
            temps.append(tmp)
            if path.suffix == ".csv":
                frame.to_csv(tmp, index=False)
            else:
                frame.to_parquet(tmp, index=False)
        for (_, path), tmp in zip(targets, temps, strict=True):
            tmp.replace(path)
    except BaseException as exc:
        for tmp in temps:
            with contextlib.suppress(OSError):  # never hide the first error behind a second
                tmp.unlink(missing_ok=True)
        _remove_dirs(created)
        if isinstance(exc, OSError):
            raise LupsimError(
                f"could not write CDISC datasets to {out}: {exc.strerror or exc}"
            ) from None
        raise
    return [path for _, path in targets]


def _remove_dirs(created: list[Path]) -> None:
    """Remove the directories a failed write created (deepest first), if empty."""
    for p in created:
        try:
            p.rmdir()
        except OSError:
            return
