"""Read trial datasets back from the CSV (or Parquet) files ``to_dir`` writes.

``lupsim analyse DIR`` uses this to analyse datasets written by ``lupsim
simulate --out DIR``, or files in the same layout from elsewhere:

- ``subjects.csv``: one row per subject with at least ``USUBJID``, ``arm``
  (or ``TRT01P``), ``rand_calendar_day`` (optional, default 0), ``STRAT1``...
  (yes/no stratification factors, optional), ``DCSREAS``/``DCSDY`` (optional);
- ``visits.csv``: long form with ``USUBJID``, ``AVISITN`` (week), ``ADY``
  (study day), ``PARAMCD`` and ``AVAL`` (``AVALC`` for BILAG letters), with the
  parameters SELENA, SLEDAI2K, SLEDAIOR, PGA, PRED, DSDNA, C3, C4, PROT,
  EGFR, FLAREMM, FLARESEV, FLARESVU, RESCUE, TRTFAIL, BILAG_<DOMAIN> and
  SD_<ITEM>; ``subjects.csv`` may give the nephritis induction regimen
  (``INDUCT``);
- ``events.csv`` (optional): ``day`` (calendar day from the start of the
  trial), ``event`` and ``detail``; its ``milestone`` and ``data_cut`` rows
  are the interim looks an analysis plan with ``[analysis.interim]`` analyses
  (``rand_calendar_day`` in ``subjects.csv`` then dates each subject's visits).

Missing optional parameters are filled conservatively (no flares, no
failures); a missing eGFR is unknown (NaN: renal responses then say so); a
missing required column is a clear error. This docstring is the reference of
the layout (``python -m pydoc lupsim.trial.io``); the variables of a dataset
written with ``--cdisc`` are listed in its ``variables.csv``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lupsim.activity.bilag import BILAG_DOMAINS
from lupsim.activity.sledai import DESCRIPTOR_CODES
from lupsim.cohort.vocabulary import INDUCTION_REGIMENS
from lupsim.errors import LupsimError, did_you_mean
from lupsim.trial.dataset import EventLog, TrialDataset, VisitArrays
from lupsim.trial.disease import DROPOUT_REASONS

__all__ = ["read_dataset"]


def _read(path: Path, name: str) -> pd.DataFrame:
    for suffix, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
        f = path / f"{name}{suffix}"
        if f.is_file():
            try:
                return reader(f)
            except Exception as exc:  # pandas raises many kinds for a damaged file
                raise LupsimError(f"{f}: cannot read it ({exc})") from None
    raise LupsimError(
        f"{path}: no {name}.csv (or {name}.parquet); write datasets with "
        "lupsim simulate --out DIR, or see the layout in python -m pydoc lupsim.trial.io"
    )


def _milestones(path: Path) -> tuple[tuple[float, str, str], ...]:
    """Milestones and data cuts of ``events.csv`` (or .parquet), if there is one:
    interim looks need their calendar days."""
    if not any((path / f"events{s}").is_file() for s in (".parquet", ".csv")):
        return ()
    events = _read(path, "events")
    if not {"day", "event"} <= set(events.columns):
        return ()
    keep = events[events["event"].isin(("milestone", "data_cut"))]
    detail = keep["detail"] if "detail" in keep.columns else pd.Series("", index=keep.index)
    try:
        days = keep["day"].astype(float)
    except (TypeError, ValueError):
        raise LupsimError(
            f"{path}: events: a milestone's day is not a number; days are calendar days "
            "from the start of the trial"
        ) from None
    return tuple(
        (float(d), str(e), "" if pd.isna(t) else str(t))
        for d, e, t in zip(days, keep["event"], detail, strict=True)
    )


def _induction_codes(names: np.ndarray) -> np.ndarray:
    """Induction regimen codes (0 none, 1 + index in INDUCTION_REGIMENS) of names."""
    codes = {r: k + 1 for k, r in enumerate(INDUCTION_REGIMENS)}
    unknown = sorted({str(x) for x in names} - {*codes, "none", "nan", ""})
    if unknown:
        raise LupsimError(
            f"subjects: INDUCT {unknown[0]!r} is not an induction regimen; use none or "
            f"{', '.join(INDUCTION_REGIMENS)}"
        )
    return np.array([codes.get(str(x), 0) for x in names], dtype=np.int8)


def _require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LupsimError(f"{what}: missing column(s) {', '.join(missing)}")


def read_dataset(path: str | Path, *, control: str | None = None) -> TrialDataset:
    """Load a dataset written by :meth:`TrialDataset.to_dir` (or in its layout).

    Parameters
    ----------
    path
        Directory holding ``subjects`` and ``visits`` (CSV or Parquet).
    control
        Name of the control arm; by default ``placebo`` if there is one, else
        the first arm. A name that is not an arm raises a LupsimError listing
        the arms.

    Examples
    --------
    >>> import tempfile
    >>> from lupsim.scenario import load_scenario
    >>> from lupsim.trial import simulate_trial
    >>> ds = simulate_trial(load_scenario("bliss52"), seed=1)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     back = read_dataset(ds.to_dir(d, parquet=False))
    >>> back.n == ds.n, back.arms == ds.arms
    (True, True)
    """
    root = Path(path)
    if not root.is_dir():
        raise LupsimError(f"{root}: not a directory of trial datasets")
    subjects = _read(root, "subjects")
    visits = _read(root, "visits")
    arm_col = "arm" if "arm" in subjects.columns else "TRT01P"
    _require(subjects, ["USUBJID", arm_col], "subjects")
    _require(visits, ["USUBJID", "AVISITN", "PARAMCD", "AVAL"], "visits")
    if "arm_index" in subjects.columns:  # keep the design's arm order
        order = subjects.drop_duplicates("arm_index").sort_values("arm_index")
        arms = tuple(order[arm_col].astype(str))
    else:
        arms = tuple(dict.fromkeys(subjects[arm_col].astype(str)))
    if not arms:
        raise LupsimError(f"{root}: subjects has no subjects, so no arms to analyse")
    if control is not None and control not in arms:
        raise LupsimError(
            f"control {control!r} is not an arm of {root}{did_you_mean(control, arms)}; "
            f"its arms are {', '.join(arms)}"
        )
    control = control or ("placebo" if "placebo" in arms else arms[0])
    ids = subjects["USUBJID"].astype(str).to_numpy()
    weeks = sorted(float(w) for w in visits["AVISITN"].unique())
    if not weeks or weeks[0] != 0.0:
        raise LupsimError("visits: there must be a baseline visit (AVISITN = 0)")
    row = pd.Series(np.arange(ids.size), index=ids)
    col = {w: j for j, w in enumerate(weeks)}
    n, v = ids.size, len(weeks)
    unknown = set(visits["USUBJID"].astype(str)) - set(ids)
    if unknown:
        raise LupsimError(f"visits: subjects not in subjects.csv, e.g. {sorted(unknown)[0]!r}")
    i = row[visits["USUBJID"].astype(str)].to_numpy()
    j = visits["AVISITN"].astype(float).map(col).to_numpy()
    observed = np.zeros((n, v), dtype=bool)
    observed[i, j] = True
    day = np.tile(np.asarray(weeks) * 7.0, (n, 1))
    if "ADY" in visits.columns:
        day[i, j] = visits["ADY"].astype(float).to_numpy()

    def param(code: str, dtype: Any, fill: float = 0.0) -> np.ndarray:
        out = np.full((n, v), fill, dtype=float)
        sel = (visits["PARAMCD"] == code).to_numpy()
        if sel.any():
            out[i[sel], j[sel]] = visits.loc[sel, "AVAL"].astype(float).to_numpy()
        return out.astype(dtype)

    present = np.zeros((n, v, len(DESCRIPTOR_CODES)), dtype=bool)
    for k, code in enumerate(DESCRIPTOR_CODES):
        present[:, :, k] = param(f"SD_{code[:12].upper()}", bool)
    new = present.copy()
    new[:, 1:] &= ~present[:, :-1]  # new = present now, absent at the previous visit
    bilag = np.full((n, v, len(BILAG_DOMAINS)), 4, dtype=np.int8)
    for k, d in enumerate(BILAG_DOMAINS):
        bilag[:, :, k] = param(f"BILAG_{d[:6].upper()}", np.int8, 4.0)
    selena = param("SELENA", np.int16)
    arrays = VisitArrays(
        observed=observed,
        day=day,
        selena=selena,
        sledai_2k=param("SLEDAI2K", np.int16)
        if (visits["PARAMCD"] == "SLEDAI2K").any()
        else selena.copy(),
        sledai_original=param("SLEDAIOR", np.int16)
        if (visits["PARAMCD"] == "SLEDAIOR").any()
        else selena.copy(),
        present=present,
        new=new,
        bilag=bilag,
        pga=param("PGA", float),
        prednisone_mg=param("PRED", float),
        anti_dsdna_iu=param("DSDNA", float),
        c3=param("C3", float),
        c4=param("C4", float),
        proteinuria_g=param("PROT", float),
        egfr=param("EGFR", float, np.nan),
        flare_mild=param("FLAREMM", bool),
        flare_severe=param("FLARESVU", bool) | param("FLARESEV", bool),
        flare_severe_modified=param("FLARESEV", bool),
        rescue=param("RESCUE", bool),
        treatment_failure=np.maximum.accumulate(param("TRTFAIL", bool), axis=1),
    )
    arm_index = np.array([arms.index(a) for a in subjects[arm_col].astype(str)], dtype=np.int8)
    strata_cols = sorted(c for c in subjects.columns if c.startswith("STRAT") and c[5:].isdigit())
    rand = np.asarray(
        subjects.get("rand_calendar_day", pd.Series(np.zeros(n))).to_numpy(dtype=float),
        dtype=np.float64,
    )
    reasons = subjects.get("DCSREAS", pd.Series([""] * n)).fillna("").astype(str).to_numpy()
    disc_reason = np.array(
        [DROPOUT_REASONS.index(r) if r in DROPOUT_REASONS else -1 for r in reasons], dtype=np.int8
    )
    disc_day = subjects.get("DCSDY", pd.Series(np.full(n, np.nan))).to_numpy(dtype=float)
    failed_any = arrays.treatment_failure.any(axis=1)

    def col_or(name: str, default: Any) -> np.ndarray:
        return subjects[name].to_numpy() if name in subjects.columns else np.full(n, default)

    subject_arrays: dict[str, Any] = {
        "subject": np.arange(n),
        "arm_index": arm_index,
        "site": np.zeros(n, dtype=np.int32),
        "stratum": np.zeros(n, dtype=np.int32),
        "rand_calendar_day": rand,
        "screened_calendar_day": rand,
        "age": col_or("AGE", np.nan).astype(float),
        "female": col_or("SEX", "F") == "F",
        "race": np.zeros(n, dtype=np.int8),
        "region": np.zeros(n, dtype=np.int8),
        "weight_kg": col_or("WEIGHTBL", np.nan).astype(float),
        "selena_bl": selena[:, 0],
        "sledai_2k_bl": arrays.sledai_2k[:, 0],
        "pga_bl": arrays.pga[:, 0],
        "prednisone_bl": arrays.prednisone_mg[:, 0],
        "anti_dsdna_bl": arrays.anti_dsdna_iu[:, 0],
        "c3_bl": arrays.c3[:, 0],
        "c4_bl": arrays.c4[:, 0],
        "proteinuria_bl": arrays.proteinuria_g[:, 0],
        "egfr_bl": arrays.egfr[:, 0],
        "induction": _induction_codes(col_or("INDUCT", "none")),
        "serologically_active": col_or("SEROACT", False).astype(bool),
        "antimalarial": col_or("ANTIMAL", False).astype(bool),
        "immunosuppressant_bl": col_or("ISBL", False).astype(np.int8),
        "disc_visit": np.where(disc_reason >= 0, 0, -1).astype(np.int16),
        "disc_reason": disc_reason,
        "disc_day": disc_day,
        "treatment_failure": failed_any,
        "failure_visit": np.where(failed_any, arrays.treatment_failure.argmax(axis=1), -1),
    }
    for k, c in enumerate(strata_cols, start=1):
        subject_arrays[f"stratum_factor_{k}"] = subjects[c].astype(bool).to_numpy()
    if "RACE" in subjects.columns:
        from lupsim.cohort.vocabulary import RACE_GROUPS, REGIONS

        subject_arrays["race"] = np.array(
            [RACE_GROUPS.index(r) if r in RACE_GROUPS else 4 for r in subjects["RACE"]],
            dtype=np.int8,
        )
        if "REGION" in subjects.columns:
            subject_arrays["region"] = np.array(
                [REGIONS.index(r) if r in REGIONS else 6 for r in subjects["REGION"]],
                dtype=np.int8,
            )
    log = EventLog(
        site_activation=np.zeros(1),
        screen_day=rand,
        screen_first_failure=np.full(n, -1, dtype=np.int16),
        rand_day=rand,
        disc_day=rand + disc_day,
        milestones=_milestones(root),
    )
    return TrialDataset(
        subject_arrays=subject_arrays,
        arrays=arrays,
        visit_weeks=tuple(weeks),
        arms=arms,
        control=control,
        primary_week=float(weeks[-1]),
        event_log=log,
        seed=-1,
        replicate=None,
        scenario=root.name,
        screening={"screened": n, "randomised": n, "failures": {}},
        strata_rules=tuple(subjects.attrs.get(c, c) for c in strata_cols),
    )
