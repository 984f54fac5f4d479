"""Run many replicates of a trial and summarise them with Monte Carlo error.

Replicate ``k`` of a run with seed ``s`` uses child ``k`` of the root
SeedSequence (:func:`lupsim.random.replicate_seed`), so a replicate can be re-run
alone and the result does not depend on how replicates are scheduled.

Examples
--------
>>> from lupsim.scenario import load_scenario
>>> res = simulate_replicates(load_scenario("bliss52"), seed=1, replicates=2)
>>> res.replicates, list(res.arms["arm"])
(2, ['placebo', 'belimumab_1mg', 'belimumab_10mg'])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lupsim.analysis.endpoints import (
    RENAL_ENDPOINTS,
    SUMMARY_ENDPOINTS,
    arm_summary,
    weekly_renal,
    weekly_sri,
)
from lupsim.errors import LupsimError
from lupsim.scenario import Scenario
from lupsim.trial import simulate_trial
from lupsim.trial.dataset import TrialDataset

__all__ = [
    "SimulationResult",
    "Store",
    "Task",
    "execute",
    "run_task",
    "simulate_replicates",
    "summarise_trial",
]

#: Endpoint columns of the per-arm summary, as reported (percentages).
ENDPOINTS = ("completed_pct", *SUMMARY_ENDPOINTS)
#: Every endpoint column a summary may have, in reporting order: the renal
#: responses follow completion in trials with a nephritis induction regimen.
ALL_ENDPOINTS = (ENDPOINTS[0], *RENAL_ENDPOINTS, *ENDPOINTS[1:])


def summarise_trial(ds: TrialDataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-arm endpoint percentages and weekly SRI-4 (and, in a nephritis
    trial, weekly PERR and CRR) of one trial."""
    weekly = weekly_sri(ds)
    if ds.nephritis:
        weekly = weekly.merge(weekly_renal(ds), on=["arm", "week"], how="left")
    return arm_summary(ds), weekly


@dataclass(frozen=True)
class SimulationResult:
    """Replicated trials summarised per arm, each figure with its Monte Carlo SE.

    Attributes
    ----------
    arms
        One row per arm: ``n_randomised`` (mean), each endpoint's mean percentage
        and, in ``<endpoint>_mc_se``, its Monte Carlo standard error. With one
        replicate the SE is the within-trial binomial SE.
    weekly
        SRI-4 (and in a nephritis trial PERR and CRR) per arm and visit week,
        mean over replicates, with MC SE.
    """

    scenario: str
    seed: int
    replicates: int
    arms: pd.DataFrame
    weekly: pd.DataFrame

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The endpoint columns of :attr:`arms`, in reporting order."""
        return tuple(c for c in ALL_ENDPOINTS if c in self.arms.columns)

    def to_json(self) -> dict[str, Any]:
        """The ``lupsim simulate --format json`` document."""
        arms = []
        for _, r in self.arms.iterrows():
            row: dict[str, Any] = {"arm": r["arm"], "n_randomised": float(r["n_randomised"])}
            for col in self.endpoints:
                key = col if col.endswith("_pct") else f"{col}_pct"
                row[key] = round(float(r[col]), 4)
            for col in ("sri4", *(c for c in RENAL_ENDPOINTS if c in self.endpoints)):
                row[f"{col}_mc_se"] = round(float(r[f"{col}_mc_se"]), 4)
            arms.append(row)
        rates = [c for c in self.weekly.columns if c.endswith("_pct")]
        weekly = [
            {
                "arm": r["arm"],
                "week": float(r["week"]),
                **{c: round(float(r[c]), 4) for c in rates},
            }
            for _, r in self.weekly.iterrows()
        ]
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "replicates": self.replicates,
            "arms": arms,
            "weekly": weekly,
        }

    def summary(self) -> str:
        """A human-readable table of the per-arm results."""
        lines = [
            f"{self.scenario}: {self.replicates} replicate(s), seed {self.seed} "
            "(percentages; +/- Monte Carlo SE)",
            f"{'':22s}" + "".join(f"{a:>18s}" for a in self.arms["arm"]),
        ]
        labels = {
            "n_randomised": "Randomised (n)",
            "completed_pct": "Completed",
            "perr": "PERR (renal)",
            "crr": "CRR (renal)",
            # A binomial design's only endpoint is its drawn response.
            "sri4": "SRI-4" if len(self.endpoints) > 2 else "Response (sri4)",
            "sledai_reduction4": "  >= 4-point SS drop",
            "no_bilag_worsening": "  no BILAG worsening",
            "no_pga_worsening": "  no PGA worsening",
            "sri5": "SRI-5",
            "sri6": "SRI-6",
            "bicla": "BICLA",
            "lldas": "LLDAS",
            "severe_flare": "Severe flare (mSFI)",
            "steroid_reduction": "Steroid reduction",
        }
        for col, label in labels.items():
            if col != "n_randomised" and col not in self.endpoints:
                continue
            cells = []
            for _, r in self.arms.iterrows():
                if col == "n_randomised":
                    cells.append(f"{r[col]:18.1f}")
                else:
                    cells.append(f"{r[col]:11.1f} +/-{r[col + '_mc_se']:4.1f}")
            lines.append(f"{label:22s}" + "".join(cells))
        return "\n".join(lines)


def simulate_replicates(
    scenario: Scenario,
    seed: int,
    replicates: int,
    *,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Simulate ``replicates`` trials (serially) and summarise them.

    Memory stays flat: each trial is summarised and dropped.
    """
    if replicates < 1:
        raise LupsimError(f"replicates must be >= 1, got {replicates}")
    per_arm: list[pd.DataFrame] = []
    per_week: list[pd.DataFrame] = []
    for k in range(replicates):
        ds = simulate_trial(scenario, seed, replicate=k if replicates > 1 else None)
        a, w = summarise_trial(ds)
        per_arm.append(a.reset_index())
        per_week.append(w)
        if progress is not None:
            progress(k + 1)
    endpoints = [c for c in ALL_ENDPOINTS if c in per_arm[0].columns]
    arms = _aggregate(per_arm, ["arm"], ["n_randomised", *endpoints])
    if replicates == 1:
        # One trial: report the within-trial binomial SE of each percentage.
        n = arms["n_randomised"].to_numpy(dtype=float)
        for col in endpoints:
            p = arms[col].to_numpy(dtype=float) / 100
            arms[col + "_mc_se"] = 100 * np.sqrt(np.clip(p * (1 - p), 0, None) / n)
    rates = [c for c in per_week[0].columns if c.endswith("_pct")]
    weekly = _aggregate(per_week, ["arm", "week"], rates)
    return SimulationResult(scenario.name, seed, replicates, arms, weekly)


def _aggregate(frames: list[pd.DataFrame], keys: list[str], cols: list[str]) -> pd.DataFrame:
    df = pd.concat(frames, ignore_index=True)
    order = frames[0][keys].drop_duplicates()
    g = df.groupby(keys, sort=False)[cols]
    mean = g.mean()
    se = pd.DataFrame(g.std(ddof=1) / np.sqrt(g.count()))
    out = mean.join(se.add_suffix("_mc_se"))
    return order.merge(out.reset_index(), on=keys, how="left")


# ---------------------------------------------------------------------------
# Executing many replicates: serially, on local processes, or on Dask
# ---------------------------------------------------------------------------

#: Replicates per task sent to a worker: large enough to amortise the
#: transfer, small enough for an even load and a fine-grained store.
CHUNK = 25
#: How many times a task whose worker crashed is retried before giving up.
MAX_RETRIES = 2


@dataclass(frozen=True)
class Task:
    """A batch of replicates of one grid point, self-contained for a worker."""

    grid: int
    values: dict[str, Any]
    scenario_json: str
    plan_json: str
    seed: int
    replicates: tuple[int, ...]


def run_task(task: Task) -> list[dict[str, Any]]:
    """Simulate and analyse a task's replicates (runs in a worker process)."""
    from lupsim.analysis.power import GridPoint, analyse_replicate

    scenario, plan = _decode(task.scenario_json, task.plan_json)
    point = GridPoint(task.grid, task.values)
    out: list[dict[str, Any]] = []
    for k in task.replicates:
        out.extend(analyse_replicate(scenario, plan, task.seed, k, point))
    return out


_DECODED: dict[tuple[str, str], Any] = {}


def _decode(scenario_json: str, plan_json: str) -> Any:
    """Parse a task's scenario and plan once per worker."""
    key = (scenario_json, plan_json)
    if key not in _DECODED:
        from lupsim.analysis.plan import AnalysisPlan

        _DECODED[key] = (
            Scenario.model_validate_json(scenario_json),
            AnalysisPlan.model_validate_json(plan_json),
        )
    return _DECODED[key]


class Store:
    """Append-only store of finished replicates (SQLite, standard library).

    Each finished task is committed in one transaction, so an interrupted run
    loses at most the tasks that were running; ``resume`` skips what is stored.
    The run's identity (scenarios, plan, seed, replicates) is recorded and a
    store is never reused for a different run.
    """

    def __init__(self, directory: str, identity: dict[str, Any], resume: bool) -> None:
        import json
        import sqlite3
        from pathlib import Path

        path = Path(directory)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LupsimError(f"--store {directory}: cannot create it: {exc.strerror}") from None
        self.file = path / "replicates.sqlite"
        existed = self.file.exists()
        self.db = sqlite3.connect(self.file)
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS rows (grid INTEGER, replicate INTEGER, seq INTEGER, "
            "payload TEXT, PRIMARY KEY (grid, replicate, seq))"
        )
        ident = json.dumps(identity, sort_keys=True)
        found = self.db.execute("SELECT value FROM meta WHERE key = 'run'").fetchone()
        if existed and found is not None:
            if not resume:
                raise LupsimError(
                    f"--store {directory} already holds a run; add --resume to continue it, "
                    "or choose another directory"
                )
            if found[0] != ident:
                raise LupsimError(
                    f"--store {directory} holds a different run (scenario, plan, seed or "
                    "replicates differ); it cannot be resumed with these settings"
                )
        else:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('run', ?)", (ident,))
            self.db.commit()

    def done(self) -> set[tuple[int, int]]:
        return {
            (int(g), int(r))
            for g, r in self.db.execute("SELECT DISTINCT grid, replicate FROM rows")
        }

    def add(self, records: list[dict[str, Any]]) -> None:
        import json

        seq: dict[tuple[int, int], int] = {}
        rows = []
        for rec in records:
            key = (int(rec["grid"]), int(rec["replicate"]))
            seq[key] = seq.get(key, -1) + 1
            rows.append((*key, seq[key], json.dumps(rec, default=float)))
        with self.db:  # one transaction: a task is stored whole or not at all
            self.db.executemany("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?)", rows)

    def records(self) -> list[dict[str, Any]]:
        import json

        return [
            json.loads(p)
            for (p,) in self.db.execute("SELECT payload FROM rows ORDER BY grid, replicate, seq")
        ]

    def close(self) -> None:
        self.db.close()


def execute(
    scenarios: list[Scenario],
    points: list[Any],
    plan: Any,
    seed: int,
    replicates: int,
    *,
    workers: int = 1,
    dask_address: str | None = None,
    store: str | None = None,
    resume: bool = False,
    progress: bool | Callable[[int, int], None] = False,
) -> tuple[pd.DataFrame, int]:
    """Run every replicate of every grid point; returns the records and retries.

    The records do not depend on ``workers`` or the backend: each replicate's
    randomness comes from its own child SeedSequence.
    """
    import hashlib

    plan_json = plan.model_dump_json()
    tasks: list[Task] = []
    identity = {
        "seed": seed,
        "replicates": replicates,
        "plan": plan_json,
        "scenarios": [hashlib.sha256(s.model_dump_json().encode()).hexdigest() for s in scenarios],
    }
    st = Store(store, identity, resume) if store else None
    done = st.done() if st else set()
    for point, sc in zip(points, scenarios, strict=True):
        todo = [k for k in range(replicates) if (point.index, k) not in done]
        sj = sc.model_dump_json()
        for i in range(0, len(todo), CHUNK):
            tasks.append(
                Task(point.index, point.values, sj, plan_json, seed, tuple(todo[i : i + CHUNK]))
            )
    total = len(points) * replicates
    bar = _Progress(progress, total, initial=len(done))
    collected: list[dict[str, Any]] = []

    def finished(records: list[dict[str, Any]], n: int) -> None:
        if st is not None:
            st.add(records)
        else:
            collected.extend(records)
        bar.update(n)

    retried = 0
    try:
        if dask_address is not None:
            retried = _run_dask(tasks, dask_address, finished)
        elif workers > 1 and len(tasks) > 1:
            retried = _run_processes(tasks, workers, finished)
        else:
            for t in tasks:
                finished(run_task(t), len(t.replicates))
        all_records = st.records() if st is not None else collected
    finally:
        bar.close()
        if st is not None:
            st.close()
    frame = pd.DataFrame(all_records)
    if not frame.empty:
        frame["_order"] = frame.groupby(["grid", "replicate"]).cumcount()
        frame = frame.sort_values(["grid", "replicate", "_order"]).drop(columns="_order")
        frame = frame.reset_index(drop=True)
    return frame, retried


class _Progress:
    """A tqdm bar with ETA, a callback, or nothing."""

    def __init__(
        self, progress: bool | Callable[[int, int], None], total: int, initial: int
    ) -> None:
        self.callback = progress if callable(progress) else None
        self.total = total
        self.done = initial
        self.bar = None
        if progress is True:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="trial", desc="replicates")

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_processes(
    tasks: list[Task], workers: int, finished: Callable[[list[dict[str, Any]], int], None]
) -> int:
    """Local worker processes; a task whose worker died is retried on a new pool."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # fork shares the parent's fitted models; elsewhere spawn re-imports lupsim.
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    ctx = mp.get_context(method)
    pending = list(tasks)
    attempts: dict[int, int] = {}
    retried = 0
    while pending:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {pool.submit(run_task, t): i for i, t in enumerate(pending)}
            left = set(futures)
            broken = False
            while left:
                done, left = wait(left, return_when=FIRST_COMPLETED)
                for f in done:
                    try:
                        result = f.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    t = pending[futures[f]]
                    finished(result, len(t.replicates))
                    futures[f] = -1
                if broken:
                    break
            unfinished = [pending[i] for f, i in futures.items() if i >= 0]
        if not broken:
            return retried
        for t in unfinished:
            key = hash((t.grid, t.replicates))
            attempts[key] = attempts.get(key, 0) + 1
            if attempts[key] > MAX_RETRIES:
                raise LupsimError(
                    f"replicates {t.replicates[0]}-{t.replicates[-1]} of grid point {t.grid} "
                    f"crashed their worker {attempts[key]} times; giving up"
                )
        retried += len(unfinished)
        pending = unfinished
    return retried


def _run_dask(
    tasks: list[Task], address: str, finished: Callable[[list[dict[str, Any]], int], None]
) -> int:
    """A Dask distributed cluster (dask retries a task whose worker died)."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise LupsimError(
            "--dask needs dask.distributed; install it with pip install 'lupsim[dask]'"
        ) from None
    try:
        client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise LupsimError(
            f"cannot reach the Dask scheduler at {address!r} ({exc}); start one "
            "(dask scheduler) or leave out --dask"
        ) from None
    try:
        futures = client.map(run_task, tasks, retries=MAX_RETRIES, pure=False)
        index = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        done = as_completed(futures, with_results=True)  # type: ignore[no-untyped-call]
        for future, result in done:
            finished(result, len(index[future.key].replicates))
        retried = 0
    finally:
        client.close()  # type: ignore[no-untyped-call]
    return retried
