"""TrialDataset: what one simulated trial produced.

Three views of the same data:

- ``subjects``: one row per randomised subject (ADSL-like): USUBJID, arm,
  site, strata, baseline values, randomisation day, completion or
  discontinuation day and reason, treatment failure;
- ``visits``: long form, one row per subject x visit x parameter (SLEDAI in
  each version, each descriptor, BILAG grades and score, PGA, prednisone,
  anti-dsDNA, C3, C4, proteinuria, eGFR, flare flags), built on first use;
- ``events``: the trial's event log (site activations, screenings,
  randomisations, discontinuations, milestones, data cuts).

Endpoints and analyses work on the arrays (``subjects x visits``) directly, so
a power run never builds the long table.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lupsim.activity.bilag import BILAG_DOMAINS, NUMERIC
from lupsim.activity.sledai import DESCRIPTOR_CODES
from lupsim.cohort.vocabulary import INDUCTION_REGIMENS, RACE_GROUPS, REGIONS
from lupsim.errors import LupsimError
from lupsim.trial.disease import DROPOUT_REASONS

__all__ = ["EventLog", "TrialDataset", "VisitArrays"]

_INDUCTION_NAMES = np.asarray(("none", *INDUCTION_REGIMENS), dtype=object)

F = NDArray[np.float64]
B = NDArray[np.bool_]


@dataclass(frozen=True)
class VisitArrays:
    """Visit-level measurements, each ``(subjects, visits)`` (or with a last
    axis of 24 descriptors or 9 BILAG domains). ``observed`` marks visits that
    happened (not after discontinuation, not after a data cut)."""

    observed: B
    day: F  # actual study day of each visit
    selena: NDArray[np.int16]
    sledai_2k: NDArray[np.int16]
    sledai_original: NDArray[np.int16]
    present: B  # (n, V, 24)
    new: B  # (n, V, 24)
    bilag: NDArray[np.int8]  # (n, V, 9), A=0 ... E=4
    pga: F
    prednisone_mg: F
    anti_dsdna_iu: F
    c3: F
    c4: F
    proteinuria_g: F  # g/24 h (a uPCR in g/g reads the same)
    egfr: F  # mL/min/1.73 m2
    flare_mild: B
    flare_severe: B
    flare_severe_modified: B
    rescue: B
    treatment_failure: B  # cumulative: failed at or before this visit

    def take(self, index: NDArray[np.intp] | B) -> VisitArrays:
        """The rows of some subjects."""
        return VisitArrays(**{k: v[index] for k, v in self.__dict__.items()})


@dataclass(frozen=True)
class EventLog:
    """The trial's events as arrays (the table is built on demand).

    Days are calendar days from the start of the trial (first possible site
    activation).
    """

    site_activation: F
    screen_day: F
    screen_first_failure: NDArray[np.int16]
    rand_day: F
    disc_day: F  # NaN for completers
    milestones: tuple[tuple[float, str, str], ...]


@dataclass(frozen=True)
class TrialDataset:
    """One simulated trial: subjects, visit arrays, and the event log.

    Attributes
    ----------
    subject_arrays
        Subject-level values as arrays (``subjects`` shows them as a table).
    arrays
        Visit measurements as ``(subjects, visits)`` arrays.
    visit_weeks
        Nominal week of each visit column (0 = baseline).
    arms
        Arm names, in design order; ``arm_index`` indexes it.
    control
        Name of the control arm.
    primary_week
        Week of the primary endpoint.
    event_log
        The events, as arrays (``events`` shows them as a table).
    seed, replicate, scenario
        How it was made.
    screening
        Screening counts: screened, randomised, failures by first rule broken.
    strata_rules
        The stratification factors (yes/no rules), in ``stratum_factor_j`` order.
    data_cut_day
        Calendar day of the data cut this dataset reflects (None: all data).
    conduct
        Trial-conduct figures, e.g. infusion-chair waits when sites have a
        limited number of chairs (``infusions``, ``infusion_wait_hours``,
        ``infusions_moved``).
    outcome
        ``"disease"`` (the disease model) or ``"binomial"`` (a response drawn
        per arm, :mod:`lupsim.trial.binomial`: only SRI-4, the response, means
        anything).
    """

    subject_arrays: dict[str, NDArray[Any]]
    arrays: VisitArrays
    visit_weeks: tuple[float, ...]
    arms: tuple[str, ...]
    control: str
    primary_week: float
    event_log: EventLog
    seed: int
    replicate: int | None
    scenario: str
    screening: dict[str, Any] = field(default_factory=dict)
    strata_rules: tuple[str, ...] = ()
    data_cut_day: float | None = None
    conduct: dict[str, Any] = field(default_factory=dict)
    outcome: str = "disease"

    # -- views ------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of randomised subjects."""
        return int(self.subject_arrays["arm_index"].size)

    @property
    def nephritis(self) -> bool:
        """Whether the design gave a lupus nephritis induction regimen (renal
        endpoints then lead the summaries)."""
        induction = self.subject_arrays.get("induction")
        return induction is not None and bool(np.any(induction > 0))

    @property
    def binomial(self) -> bool:
        """Whether the responses were drawn per arm with no disease model."""
        return self.outcome == "binomial"

    @property
    def arm_index(self) -> NDArray[np.int8]:
        """Arm index of each subject."""
        return self.subject_arrays["arm_index"]

    def visit_column(self, week: float) -> int:
        """Column of the visit at a nominal week; raises if there is none."""
        for j, w in enumerate(self.visit_weeks):
            if abs(w - week) < 1e-9:
                return j
        raise LupsimError(
            f"week {week:g} is not a visit of this trial; visits are at weeks "
            f"{', '.join(f'{w:g}' for w in self.visit_weeks)}"
        )

    @cached_property
    def subjects(self) -> pd.DataFrame:
        """One row per randomised subject (ADSL-like)."""
        s = self.subject_arrays
        a = self.arrays
        n = self.n
        arms = np.asarray(self.arms)
        reasons = np.asarray((*DROPOUT_REASONS, ""), dtype=object)
        disc = s["disc_visit"] >= 0
        last_obs = np.where(
            a.observed.any(axis=1),
            a.observed.shape[1] - 1 - np.argmax(a.observed[:, ::-1], axis=1),
            0,
        )
        weeks = np.asarray(self.visit_weeks)
        completed_primary = a.observed[:, self.visit_column(self.primary_week)]
        df = pd.DataFrame(
            {
                "USUBJID": [f"LUP-{i + 1:05d}" for i in range(n)],
                "SITEID": [f"S{int(x) + 1:03d}" for x in s["site"]],
                "arm": arms[s["arm_index"]],
                "arm_index": s["arm_index"],
                "TRT01P": arms[s["arm_index"]],
                "stratum": s["stratum"],
                "AGE": s["age"],
                "SEX": np.where(s["female"], "F", "M"),
                "RACE": np.asarray(RACE_GROUPS)[s["race"]],
                "REGION": np.asarray(REGIONS)[s["region"]],
                "WEIGHTBL": s["weight_kg"],
                "rand_calendar_day": s["rand_calendar_day"],
                "screened_calendar_day": s["screened_calendar_day"],
                "SELENABL": s["selena_bl"],
                "SLEDAI2KBL": s["sledai_2k_bl"],
                "PGABL": s["pga_bl"],
                "PREDBL": s["prednisone_bl"],
                "DSDNABL": s["anti_dsdna_bl"],
                "C3BL": s["c3_bl"],
                "C4BL": s["c4_bl"],
                "PROTBL": s["proteinuria_bl"],
                "EGFRBL": s["egfr_bl"],
                "INDUCT": _INDUCTION_NAMES[s["induction"]],
                "SEROACT": s["serologically_active"],
                "ANTIMAL": s["antimalarial"],
                "ISBL": s["immunosuppressant_bl"] > 0,
                "COMPLFL": completed_primary & ~disc,
                "DCSREAS": reasons[np.where(disc, s["disc_reason"], len(DROPOUT_REASONS))],
                "DCSDY": s["disc_day"],
                "LASTVISW": weeks[last_obs],
                "TRTFAIL": s["treatment_failure"],
                "TRTFAILW": np.where(
                    s["failure_visit"] >= 0, weeks[np.maximum(s["failure_visit"], 0)], np.nan
                ),
            }
        )
        for j, rule in enumerate(self.strata_rules):
            df[f"STRAT{j + 1}"] = s[f"stratum_factor_{j + 1}"]
            df.attrs[f"STRAT{j + 1}"] = rule
        return df

    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log as a table in time order: day, event, USUBJID, detail."""
        e = self.event_log
        ids = self.subjects["USUBJID"].to_numpy()
        arms = self.subjects["arm"].to_numpy()
        rows: list[pd.DataFrame] = [
            pd.DataFrame(
                {
                    "day": e.site_activation,
                    "event": "site_activation",
                    "USUBJID": "",
                    "detail": [f"S{i + 1:03d}" for i in range(e.site_activation.size)],
                }
            ),
            pd.DataFrame(
                {
                    "day": e.screen_day,
                    "event": np.where(
                        e.screen_first_failure >= 0, "screen_failure", "screened_eligible"
                    ),
                    "USUBJID": "",
                    "detail": [self._rule_label(int(k)) for k in e.screen_first_failure],
                }
            ),
            pd.DataFrame(
                {"day": e.rand_day, "event": "randomised", "USUBJID": ids, "detail": arms}
            ),
        ]
        gone = ~np.isnan(e.disc_day)
        reasons = np.asarray(DROPOUT_REASONS)[np.maximum(self.subject_arrays["disc_reason"], 0)]
        rows.append(
            pd.DataFrame(
                {
                    "day": e.disc_day[gone],
                    "event": "discontinued",
                    "USUBJID": ids[gone],
                    "detail": reasons[gone],
                }
            )
        )
        if e.milestones:
            rows.append(
                pd.DataFrame(
                    [
                        {"day": d, "event": ev, "USUBJID": "", "detail": det}
                        for d, ev, det in e.milestones
                    ]
                )
            )
        df = pd.concat(rows, ignore_index=True)
        if self.data_cut_day is not None:
            df = df[df["day"] <= self.data_cut_day]
        return df.sort_values(["day"], kind="stable").reset_index(drop=True)

    def _rule_label(self, k: int) -> str:
        rules = list(self.screening.get("failures", {}))
        return rules[k] if 0 <= k < len(rules) else ""

    @cached_property
    def visits(self) -> pd.DataFrame:
        """Long form: one row per subject x visit x parameter (observed visits only).

        Columns: USUBJID, ARM, AVISITN (week), ADY (study day), PARAMCD,
        AVAL (number) and AVALC (BILAG letters).
        """
        a = self.arrays
        ids = self.subjects["USUBJID"].to_numpy()
        arm = self.subjects["arm"].to_numpy()
        obs = a.observed
        rows_i, rows_j = np.nonzero(obs)
        parts: list[pd.DataFrame] = []

        def add(code: str, values: NDArray[Any], text: NDArray[Any] | None = None) -> None:
            parts.append(
                pd.DataFrame(
                    {
                        "USUBJID": ids[rows_i],
                        "ARM": arm[rows_i],
                        "AVISITN": np.asarray(self.visit_weeks)[rows_j],
                        "ADY": a.day[rows_i, rows_j],
                        "PARAMCD": code,
                        "AVAL": values[rows_i, rows_j].astype(float),
                        "AVALC": None if text is None else text[rows_i, rows_j],
                    }
                )
            )

        add("SELENA", a.selena)
        add("SLEDAI2K", a.sledai_2k)
        add("SLEDAIOR", a.sledai_original)
        add("PGA", a.pga)
        add("PRED", a.prednisone_mg)
        add("DSDNA", a.anti_dsdna_iu)
        add("C3", a.c3)
        add("C4", a.c4)
        add("PROT", a.proteinuria_g)
        add("EGFR", a.egfr)
        add("FLAREMM", a.flare_mild)
        add("FLARESEV", a.flare_severe_modified)
        add("FLARESVU", a.flare_severe)
        add("RESCUE", a.rescue)
        add("TRTFAIL", a.treatment_failure)
        add("BILAGNUM", NUMERIC[a.bilag].sum(axis=-1))
        letters = np.asarray(list("ABCDE"))
        for k, d in enumerate(BILAG_DOMAINS):
            add(f"BILAG_{d[:6].upper()}", a.bilag[:, :, k], letters[a.bilag[:, :, k]])
        for k, code in enumerate(DESCRIPTOR_CODES):
            add(f"SD_{code[:12].upper()}", a.present[:, :, k])
        out = pd.concat(parts, ignore_index=True)
        return out.sort_values(["USUBJID", "AVISITN"], kind="stable").reset_index(drop=True)

    # -- transforms -------------------------------------------------------
    def cut(self, day: float) -> TrialDataset:
        """The data available at a calendar day: later subjects and visits dropped.

        Calendar days count from the start of the trial; each subject's visit
        falls on ``rand_calendar_day + study day``.
        """
        rand = self.subject_arrays["rand_calendar_day"]
        keep = np.flatnonzero(rand <= day)
        arrays = self.arrays.take(keep)
        cal = rand[keep][:, None] + arrays.day
        observed = arrays.observed & (cal <= day)
        # Nothing that happens after the cut is known at it: failures are
        # those seen at visits up to the cut, discontinuations those before it.
        failed = arrays.treatment_failure & observed
        arrays = replace(arrays, observed=observed, treatment_failure=failed)
        subjects = {k: v[keep] for k, v in self.subject_arrays.items()}
        left_by_cut = rand[keep] + subjects["disc_day"] <= day  # NaN compares False
        subjects["disc_visit"] = np.where(left_by_cut, subjects["disc_visit"], -1)
        subjects["disc_reason"] = np.where(left_by_cut, subjects["disc_reason"], -1)
        subjects["disc_day"] = np.where(left_by_cut, subjects["disc_day"], np.nan)
        any_failed = np.asarray(failed.any(axis=1))
        subjects["treatment_failure"] = any_failed
        subjects["failure_visit"] = np.where(any_failed, failed.argmax(axis=1), -1)
        e = self.event_log
        log = EventLog(
            site_activation=e.site_activation,
            screen_day=e.screen_day,
            screen_first_failure=e.screen_first_failure,
            rand_day=e.rand_day[keep],
            disc_day=np.where(e.disc_day[keep] <= day, e.disc_day[keep], np.nan),
            milestones=tuple(m for m in e.milestones if m[0] <= day),
        )
        return replace(
            self, subject_arrays=subjects, arrays=arrays, event_log=log, data_cut_day=day
        )

    def to_dir(self, path: str | Path, *, parquet: bool | None = None) -> Path:
        """Write subjects, visits and events as CSV (and Parquet if available).

        Files are written to a temporary name and renamed, so an interrupted
        write leaves nothing partial behind.
        """
        out = Path(path)
        blocking = file_in_the_way(out)
        if blocking is not None:
            raise LupsimError(
                f"cannot write datasets to {out}: {blocking} is a file, not a directory; "
                "give a new or existing directory"
            )
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LupsimError(f"cannot create {out}: {exc.strerror or exc}") from None
        if parquet is None:
            import importlib.util

            parquet = importlib.util.find_spec("pyarrow") is not None
        frames = {"subjects": self.subjects, "visits": self.visits, "events": self.events}
        for name, frame in frames.items():
            _atomic(frame, out / f"{name}.csv", "csv")
            if parquet:
                _atomic(frame, out / f"{name}.parquet", "parquet")
        return out


def file_in_the_way(directory: str | Path) -> Path | None:
    """The file (if any) at ``directory`` or at one of its parents, which stops
    ``directory`` being created or written to.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "notes.txt").write_text("")
    ...     file_in_the_way(Path(d) / "notes.txt" / "out").name, file_in_the_way(d)
    ('notes.txt', None)
    """
    for p in (Path(directory), *Path(directory).parents):
        if p.exists():
            return None if p.is_dir() else p
    return None


def _atomic(frame: pd.DataFrame, path: Path, kind: str) -> None:
    tmp = path.with_name(path.name + ".part")
    try:
        if kind == "csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):  # e.g. the folder is a file: no part was made
            tmp.unlink(missing_ok=True)
        raise LupsimError(f"could not write {path}: {exc.strerror or exc}") from None
