"""Benchmark: the general-population (catchment) mode.

Run: ``python benchmarks/bench_catchment.py``. Prints the minimum of three
timings of generating the prevalent SLE patients of a catchment of 100,000,
1,000,000 and 10,000,000 inhabitants (the one-off history fit excluded), so
that the growth with the number of inhabitants shows there is no loop over
people.
"""

from __future__ import annotations

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import time  # noqa: E402

from lupsim.cohort import CatchmentSpec, generate_catchment  # noqa: E402
from lupsim.cohort.catchment import history_fit  # noqa: E402


def main() -> None:
    history_fit()  # the one-off fit, cached for the process
    for inhabitants in (100_000, 1_000_000, 10_000_000):
        spec = CatchmentSpec(inhabitants=inhabitants)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            c = generate_catchment(spec, seed=2)
            times.append(time.perf_counter() - t0)
        print(
            f"{inhabitants:>11,} inhabitants: {c.n_prevalent:>6,} prevalent patients, "
            f"min {min(times) * 1e3:.1f} ms"
        )


if __name__ == "__main__":
    main()
