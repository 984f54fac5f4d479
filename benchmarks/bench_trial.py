"""Benchmark: one BLISS-52 trial (865 randomised, 52 weeks, all scoring) on one core.

Run: ``python benchmarks/bench_trial.py [--replicates R]``. Prints the median
time of ``simulate_trial`` (cohort fit excluded: once per population, cached),
of the week-52 SRI-4, and how the cost grows with the number of patients.
"""

from __future__ import annotations

import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from lupsim.analysis.endpoints import sri  # noqa: E402
from lupsim.scenario import load_scenario  # noqa: E402
from lupsim.trial import simulate_trial  # noqa: E402


def _times(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for k in range(repeat):
        t0 = time.perf_counter()
        fn(k)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replicates", type=int, default=50)
    args = parser.parse_args()
    scenario = load_scenario("bliss52")
    simulate_trial(scenario, 0)  # fit the cohort model, warm caches
    trial = _times(lambda k: simulate_trial(scenario, 1, replicate=k), args.replicates)
    print(
        f"BLISS-52 trial (865 patients): median {statistics.median(trial) * 1e3:.1f} ms "
        f"(min {min(trial) * 1e3:.1f}, max {max(trial) * 1e3:.1f}) over {args.replicates}"
    )
    ds = simulate_trial(scenario, 1)
    end = _times(lambda k: sri(ds), 50)
    print(f"SRI-4 at week 52: median {statistics.median(end) * 1e3:.2f} ms")
    design = scenario.design
    assert design is not None
    big = scenario.model_copy(update={"design": design.model_copy(update={"n_randomised": 10_000})})
    simulate_trial(big, 0)
    large = _times(lambda k: simulate_trial(big, 1, replicate=k), 5)
    ratio = statistics.median(large) / statistics.median(trial)
    print(
        f"10,000 patients: median {statistics.median(large) * 1e3:.0f} ms "
        f"({ratio:.1f}x the 865-patient trial)"
    )


if __name__ == "__main__":
    main()
