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

from collections.abc import Callable

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


#: Blocks drawn per batch; batch ``j`` of a stratum has its own stream, so a
#: stratum's allocation list is the same sequence however long it gets.
BLOCKS_PER_BATCH = 32


def block_list(
    n: int,
    allocation: tuple[int, ...],
    block_sizes: tuple[int, ...],
    rng: np.random.Generator | Callable[[int], np.random.Generator],
) -> tuple[NDArray[np.int8], NDArray[np.int32]]:
    """An allocation list of at least ``n`` entries made of permuted blocks.

    Returns the arm of each entry and the block number of each entry. Blocks
    come in batches of :data:`BLOCKS_PER_BATCH`, batch ``j`` from ``rng(j)``
    when ``rng`` is a callable (or all from one Generator). Within a batch
    every block is drawn at once, each row of a random key matrix sorting one
    block. A longer list therefore extends a shorter one.

    Examples
    --------
    >>> import numpy as np
    >>> arms, blocks = block_list(7, (1, 1), (2, 4), lambda j: np.random.default_rng(j))
    >>> all(np.bincount(arms[blocks == b], minlength=2).tolist()[0]
    ...     == np.bincount(arms[blocks == b], minlength=2).tolist()[1] for b in np.unique(blocks))
    True
    """
    rng_for_batch = rng if callable(rng) else (lambda _j: rng)
    base = np.repeat(np.arange(len(allocation), dtype=np.int8), allocation)
    total = base.size
    allowed = np.asarray(block_sizes, dtype=np.int64)
    arms: list[NDArray[np.int8]] = []
    sizes_all: list[NDArray[np.int64]] = []
    made = 0
    j = 0
    while made < n:
        g = rng_for_batch(j)
        if allowed.size > 1:
            sizes = allowed[g.integers(allowed.size, size=BLOCKS_PER_BATCH)]
        else:
            sizes = np.full(BLOCKS_PER_BATCH, allowed[0])
        widest = int(allowed.max())
        # The first s entries of this template are a block of size s in exactly
        # the allocation ratio (every size is a multiple of the total).
        template = np.tile(base, widest // total)
        keys = g.random((BLOCKS_PER_BATCH, widest))
        inside = np.arange(widest)[None, :] < sizes[:, None]
        keys[~inside] = np.inf
        order = np.argsort(keys, axis=1, kind="stable")
        arms.append(template[order][inside].astype(np.int8))
        sizes_all.append(sizes)
        made += int(sizes.sum())
        j += 1
    sizes_cat = np.concatenate(sizes_all)
    # Only the blocks needed to cover n entries (the last may be incomplete).
    keep = int(np.searchsorted(np.cumsum(sizes_cat), n)) + 1
    sizes_cat = sizes_cat[:keep]
    blocks = np.repeat(np.arange(keep, dtype=np.int32), sizes_cat)
    return np.concatenate(arms)[: blocks.size], blocks


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
        The replicate's SeedSequence; stratum ``s`` uses the streams
        ``("randomisation", s, j)`` for its batches of blocks ``j``.
    """
    arms = np.empty(strata.size, dtype=np.int8)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        seq, _ = block_list(
            idx.size, allocation, block_sizes, stream(seed, "randomisation", int(s))
        )
        arms[idx] = seq[: idx.size]
    return arms
