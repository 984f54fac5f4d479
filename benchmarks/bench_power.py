"""Benchmark: power runs of BLISS-52 (simulate, endpoints, adjusted logistic analysis).

Run: ``python benchmarks/bench_power.py [--replicates R]``. Prints the median
time of one full replicate on one core and the wall time of R replicates at one
sample size with 1 and 2 worker processes, and the peak memory growth.
"""

from __future__ import annotations

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from lupsim.analysis.plan import AnalysisPlan  # noqa: E402
from lupsim.analysis.power import GridPoint, analyse_replicate, run_power  # noqa: E402
from lupsim.scenario import load_scenario  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicates", type=int, default=1000)
    args = parser.parse_args()
    bliss = load_scenario("bliss52")
    plan = bliss.analysis or AnalysisPlan()
    point = GridPoint(0, {"n_total": 865})
    analyse_replicate(bliss, plan, 1, 0, point)  # fit the cohort model, warm caches
    times = []
    for k in range(60):
        t0 = time.perf_counter()
        analyse_replicate(bliss, plan, 1, k, point)
        times.append(time.perf_counter() - t0)
    print(
        f"one replicate (simulate + endpoints + adjusted logistic, both comparisons): "
        f"median {statistics.median(times) * 1e3:.1f} ms, min {min(times) * 1e3:.1f} ms"
    )
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for workers in (1, 2):
        t0 = time.perf_counter()
        run_power(bliss, [865], replicates=args.replicates, seed=2, workers=workers)
        print(
            f"{args.replicates} replicates, {workers} worker(s): {time.perf_counter() - t0:.1f} s"
        )
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory growth over the runs: {(rss1 - rss0) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
