"""Serial, local processes and Dask give identical power records; a crashed
worker's replicates are re-run, never lost; an interrupted run resumes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import lupsim.runner as runner
from lupsim.analysis.power import run_power
from lupsim.scenario import load_scenario

BLISS = load_scenario("bliss52")


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return run_power(BLISS, [600], replicates=30, seed=21).records


def test_local_processes_equal_serial(serial: pd.DataFrame) -> None:
    parallel = run_power(BLISS, [600], replicates=30, seed=21, workers=2).records
    pd.testing.assert_frame_equal(serial, parallel)


def test_dask_local_cluster_equals_serial(serial: pd.DataFrame) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        on_dask = run_power(
            BLISS, [600], replicates=30, seed=21, dask_address=cluster.scheduler_address
        ).records
    pd.testing.assert_frame_equal(serial, on_dask)


def test_replicate_k_is_the_same_alone_or_in_a_run(serial: pd.DataFrame) -> None:
    from lupsim.analysis.plan import AnalysisPlan
    from lupsim.analysis.power import GridPoint, analyse_replicate

    plan = BLISS.analysis or AnalysisPlan()
    from lupsim.analysis.power import apply_grid_point

    point = GridPoint(0, {"n_total": 600})
    alone = analyse_replicate(apply_grid_point(BLISS, point), plan, 21, 17, point)
    in_run = serial[serial["replicate"] == 17].to_dict("records")
    assert [r["z"] for r in alone] == [r["z"] for r in in_run]


_REAL_RUN_TASK = runner.run_task


def _crash_once(task):  # type: ignore[no-untyped-def]
    """Kill the worker process the first time it meets the first task."""
    marker = Path(os.environ["LUPSIM_TEST_CRASH_MARKER"])
    if task.replicates[0] == 0 and not marker.exists():
        marker.write_text("x")
        os._exit(3)  # the worker process dies
    return _REAL_RUN_TASK(task)


def test_a_crashed_worker_is_retried_and_reported(
    serial: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "crashed"
    monkeypatch.setenv("LUPSIM_TEST_CRASH_MARKER", str(marker))
    # Forked workers inherit the patched module attribute.
    monkeypatch.setattr(runner, "run_task", _crash_once)
    res = run_power(BLISS, [600], replicates=30, seed=21, workers=2)
    assert marker.exists()
    assert res.retried >= 1
    pd.testing.assert_frame_equal(serial, res.records)


def test_store_keeps_every_replicate_and_refuses_reuse(tmp_path: Path) -> None:
    store = tmp_path / "store"
    res = run_power(BLISS, [600], replicates=10, seed=22, store=str(store))
    rows = (
        sqlite3.connect(store / "replicates.sqlite")
        .execute("SELECT COUNT(DISTINCT replicate) FROM rows")
        .fetchone()[0]
    )
    assert rows == 10
    with pytest.raises(Exception, match="already holds a run"):
        run_power(BLISS, [600], replicates=10, seed=22, store=str(store))
    with pytest.raises(Exception, match="different run"):
        run_power(BLISS, [600], replicates=10, seed=23, store=str(store), resume=True)
    again = run_power(BLISS, [600], replicates=10, seed=22, store=str(store), resume=True)
    pd.testing.assert_frame_equal(res.records, again.records)


def test_killed_run_resumes_to_the_same_numbers(tmp_path: Path) -> None:
    """Kill a stored run part-way (SIGKILL), resume it, and get exactly the
    numbers of an uninterrupted run: nothing lost, nothing repeated."""
    store = tmp_path / "store"
    args = [
        sys.executable,
        "-m",
        "lupsim",
        "power",
        "bliss52",
        "--n",
        "500",
        "--replicates",
        "150",
        "--seed",
        "24",
        "--format",
        "json",
    ]
    proc = subprocess.Popen(
        [*args, "--store", str(store)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    db = store / "replicates.sqlite"
    deadline = time.time() + 120
    done = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                done = (
                    sqlite3.connect(db)
                    .execute("SELECT COUNT(DISTINCT replicate) FROM rows")
                    .fetchone()[0]
                )
            except sqlite3.Error:
                continue
            if done >= 25:
                break
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < done < 150
    resumed = subprocess.run(
        [*args, "--store", str(store), "--resume"], capture_output=True, text=True, check=True
    )
    fresh = subprocess.run(args, capture_output=True, text=True, check=True)
    assert json.loads(resumed.stdout) == json.loads(fresh.stdout)
    count = sqlite3.connect(db).execute("SELECT COUNT(*) FROM rows").fetchone()[0]
    assert count == 150 * 2  # two comparisons per replicate, none twice
