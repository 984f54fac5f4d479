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
from functools import lru_cache

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


#: Blocks drawn per batch; a stratum's batches come one after the other from
#: its stream, so its allocation list is the same sequence however long it gets.
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
    arms, sizes = _permuted_blocks(n, allocation, block_sizes, rng)
    # Only the blocks needed to cover n entries (the last may be incomplete).
    keep = int(np.searchsorted(np.cumsum(sizes), n)) + 1
    blocks = np.repeat(np.arange(keep, dtype=np.int32), sizes[:keep])
    return arms[: blocks.size], blocks


def _permuted_blocks(
    n: int,
    allocation: tuple[int, ...],
    block_sizes: tuple[int, ...],
    rng: np.random.Generator | Callable[[int], np.random.Generator],
) -> tuple[NDArray[np.int8], NDArray[np.int64]]:
    """Whole batches of permuted blocks covering at least ``n`` entries: the
    arms, and the size of each block (see :func:`block_list`)."""
    rng_for_batch = rng if callable(rng) else (lambda _j: rng)
    template, allowed, one_size = _layout(allocation, block_sizes)
    widest = template.size
    arms: list[NDArray[np.int8]] = []
    sizes_all: list[NDArray[np.int64]] = []
    made = 0
    j = 0
    while made < n:
        g = rng_for_batch(j)
        if one_size is None:
            sizes = allowed[g.integers(allowed.size, size=BLOCKS_PER_BATCH)]
        else:
            sizes = one_size
        keys = g.random((BLOCKS_PER_BATCH, widest))
        if one_size is None:
            inside = np.arange(widest)[None, :] < sizes[:, None]
            keys[~inside] = np.inf
            order = np.argsort(keys, axis=1, kind="stable")
            arms.append(template[order][inside])
            made += int(sizes.sum())
        else:  # every block is the widest: nothing to mask
            arms.append(template[np.argsort(keys, axis=1, kind="stable")].ravel())
            made += BLOCKS_PER_BATCH * widest
        sizes_all.append(sizes)
        j += 1
    return np.concatenate(arms), np.concatenate(sizes_all)


@lru_cache(maxsize=64)
def _layout(
    allocation: tuple[int, ...], block_sizes: tuple[int, ...]
) -> tuple[NDArray[np.int8], NDArray[np.int64], NDArray[np.int64] | None]:
    """The widest block's template, the permitted sizes, and (with a single
    permitted size) the sizes of a batch of blocks. Read-only."""
    base = np.repeat(np.arange(len(allocation), dtype=np.int8), allocation)
    allowed = np.asarray(block_sizes, dtype=np.int64)
    # The first s entries of this template are a block of size s in exactly
    # the allocation ratio (every size is a multiple of the total).
    template = np.tile(base, int(allowed.max()) // base.size)
    one_size = np.full(BLOCKS_PER_BATCH, allowed[0]) if allowed.size == 1 else None
    for a in (template, allowed, one_size):
        if a is not None:
            a.setflags(write=False)
    return template, allowed, one_size


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
        The replicate's SeedSequence; stratum ``s`` draws its batches of
        blocks from the stream ``("randomisation", s)``.
    """
    arms = np.empty(strata.size, dtype=np.int8)
    # Patients of each stratum, in randomisation order: runs of a stable sort.
    by_stratum = np.argsort(strata, kind="stable")
    ordered = strata[by_stratum]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts = np.diff(np.append(starts, strata.size))
    for s, start, count in zip(
        ordered[starts].tolist(), starts.tolist(), counts.tolist(), strict=True
    ):
        # The stratum's allocation list (block_list without the block numbers).
        seq, _ = _permuted_blocks(count, allocation, block_sizes, stream(seed, "randomisation", s))
        arms[by_stratum[start : start + count]] = seq[:count]
    return arms
