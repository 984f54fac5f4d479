"""Benchmark: cohort generation speed on one core.

Run: ``python benchmarks/bench_cohort.py``. Prints the median wall time of
generating cohorts (fit excluded: it is done once per population and cached),
and the one-off fit time. Pins BLAS to one thread so the figure is one core's.
"""

from __future__ import annotations

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
os.environ.setdefault("LUPSIM_NO_CACHE", "1")

import statistics  # noqa: E402
import time  # noqa: E402

from lupsim.cohort import Population, calibrate, generate_cohort  # noqa: E402
from lupsim.scenario import load_scenario  # noqa: E402


def _median_time(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    bliss = load_scenario("bliss52")
    t0 = time.perf_counter()
    calibrate(bliss.population, bliss.eligibility)
    fit = time.perf_counter() - t0
    generic = Population()
    generate_cohort(generic, 10, seed=0)  # warm-up (and the trivial fit)

    rows = [
        ("100,000 patients, no screening", lambda: generate_cohort(generic, 100_000, seed=1)),
        (
            "865 BLISS-52 patients, screened",
            lambda: generate_cohort(bliss.population, 865, 1, eligibility=bliss.eligibility),
        ),
        (
            "100,000 BLISS-52 patients, screened",
            lambda: generate_cohort(bliss.population, 100_000, 1, eligibility=bliss.eligibility),
        ),
    ]
    print(f"BLISS-52 fit (once per population, cached): {fit:.2f} s")
    for label, fn in rows:
        print(f"{label:40s} median {_median_time(fn) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
