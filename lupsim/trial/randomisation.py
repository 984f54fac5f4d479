"""Stratified permuted-block randomisation.

Each stratum has its own allocation list, built from blocks; each block holds
the arms in exactly the allocation ratio, in random order, and (with several
block sizes) has a randomly chosen size. Patients of a stratum take the list in
the order they are randomised. Each stratum's list comes from its own stream,
so the allocation sequence of one stratum does not depend on how many patients
other strata received.

Examples
--------
>>> import numpy as np
>>> strata = np.array([0, 0, 1, 0, 1, 1, 0, 0])
>>> arms = allocate(strata, (1, 1), (2, 4), seed=np.random.SeedSequence(1))
>>> sorted(np.bincount(arms[strata == 0], minlength=2).tolist())
[2, 3]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from lupsim.random import stream

__all__ = ["allocate", "block_list", "stratum_codes"]


def stratum_codes(flags: NDArray[np.bool_]) -> NDArray[np.int32]:
    """Stratum of each patient from (n, k) yes/no factors: sum of 2**j.

    Examples
    --------
    >>> import numpy as np
    >>> stratum_codes(np.array([[True, False], [True, True]])).tolist()
    [1, 3]
    """
    if flags.ndim != 2:
        raise ValueError("flags must be (patients, factors)")
    weights = (1 << np.arange(flags.shape[1])).astype(np.int32)
    return (flags.astype(np.int32) @ weights).astype(np.int32)


def block_list(
    n: int, allocation: tuple[int, ...], block_sizes: tuple[int, ...], rng: np.random.Generator
) -> tuple[NDArray[np.int8], NDArray[np.int32]]:
    """An allocation list of at least ``n`` entries made of permuted blocks.

    Returns the arm of each entry and the block number of each entry.
    """
    base = np.repeat(np.arange(len(allocation), dtype=np.int8), allocation)
    total = base.size
    arms: list[NDArray[np.int8]] = []
    blocks: list[NDArray[np.int32]] = []
    made = 0
    b = 0
    while made < n:
        size = (
            int(block_sizes[int(rng.integers(len(block_sizes)))])
            if len(block_sizes) > 1
            else (int(block_sizes[0]))
        )
        block = np.tile(base, size // total)
        arms.append(rng.permutation(block))
        blocks.append(np.full(size, b, dtype=np.int32))
        made += size
        b += 1
    return np.concatenate(arms), np.concatenate(blocks)


def allocate(
    strata: NDArray[np.int32],
    allocation: tuple[int, ...],
    block_sizes: tuple[int, ...],
    seed: np.random.SeedSequence,
) -> NDArray[np.int8]:
    """Arm index of each patient, patients given in randomisation order.

    Parameters
    ----------
    strata
        Stratum code of each patient, in the order they are randomised.
    allocation
        Ratio per arm.
    block_sizes
        Permitted block sizes (multiples of ``sum(allocation)``).
    seed
        The replicate's SeedSequence; stratum ``s`` uses the stream
        ``("randomisation", s)``.
    """
    arms = np.empty(strata.size, dtype=np.int8)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        seq, _ = block_list(
            idx.size, allocation, block_sizes, stream(seed, "randomisation", int(s))
        )
        arms[idx] = seq[: idx.size]
    return arms
