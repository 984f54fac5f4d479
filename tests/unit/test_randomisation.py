"""Stratified permuted-block randomisation: exact ratios in every complete block,
bounded imbalance, per-stratum streams, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lupsim.trial.randomisation import allocate, block_list, stratum_codes

ALLOCATIONS = [(1, 1), (2, 1), (1, 2), (1, 1, 1), (3, 2), (2, 1, 1), (1, 1, 1, 1)]


@st.composite
def schemes(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """An allocation ratio and permitted block sizes (multiples of its total)."""
    allocation = draw(st.sampled_from(ALLOCATIONS))
    total = sum(allocation)
    multiples = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3, unique=True))
    return allocation, tuple(m * total for m in multiples)


strata_lists = st.lists(st.integers(0, 5), min_size=1, max_size=250)
seeds = st.integers(0, 2**32 - 1)


def _per_stratum(strata: np.ndarray, arms: np.ndarray) -> dict[int, np.ndarray]:
    return {int(s): arms[strata == s] for s in np.unique(strata)}


# -- block_list ------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(scheme=schemes(), n=st.integers(1, 300), seed=seeds)
def test_every_block_holds_the_allocation_ratio_exactly(
    scheme: tuple[tuple[int, ...], tuple[int, ...]], n: int, seed: int
) -> None:
    allocation, sizes = scheme
    arms, blocks = block_list(n, allocation, sizes, np.random.default_rng(seed))
    assert arms.size == blocks.size >= n
    # Blocks are numbered 0, 1, 2, ... in order.
    assert blocks[0] == 0
    assert set(np.diff(blocks).tolist()) <= {0, 1}
    total = sum(allocation)
    for b in np.unique(blocks):
        block = arms[blocks == b]
        assert block.size in sizes
        counts = np.bincount(block, minlength=len(allocation))
        assert counts.tolist() == [r * block.size // total for r in allocation]


def test_block_list_hand_case() -> None:
    arms, blocks = block_list(5, (1, 1), (4,), np.random.default_rng(0))
    assert blocks[:8].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert np.bincount(arms[:4]).tolist() == [2, 2]
    assert np.bincount(arms[4:8]).tolist() == [2, 2]


def test_several_block_sizes_are_all_used() -> None:
    _, blocks = block_list(3000, (1, 1), (2, 4, 6), np.random.default_rng(5))
    sizes = set(np.bincount(blocks).tolist())
    assert sizes == {2, 4, 6}


def test_blocks_are_permuted_not_fixed() -> None:
    arms, _ = block_list(400, (1, 1), (4,), np.random.default_rng(3))
    patterns = {tuple(arms[i : i + 4].tolist()) for i in range(0, 400, 4)}
    # All six orders of AABB appear in 100 blocks.
    assert len(patterns) == 6


# -- allocate ----------------------------------------------------------------------


def _parses_as_permuted_blocks(
    seq: np.ndarray, allocation: tuple[int, ...], sizes: tuple[int, ...]
) -> bool:
    """Whether ``seq`` is complete blocks (each of a permitted size, in exactly the
    allocation ratio) followed by the start of one more block."""
    total = sum(allocation)
    ratio = np.asarray(allocation)
    k = len(allocation)
    onehot = (seq[:, None] == np.arange(k)[None, :]).astype(int)
    running = np.vstack([np.zeros((1, k), dtype=int), np.cumsum(onehot, axis=0)])
    reachable = np.zeros(seq.size + 1, dtype=bool)  # seq[:i] is whole blocks
    reachable[0] = True
    for i in range(seq.size + 1):
        if not reachable[i]:
            continue
        for b in sizes:
            if i + b <= seq.size:
                counts = running[i + b] - running[i]
                if (counts == ratio * b // total).all():
                    reachable[i + b] = True
    for i in np.flatnonzero(reachable):
        rest = running[-1] - running[i]
        m = seq.size - i
        if any(m < b and (rest <= ratio * b // total).all() for b in sizes) or m == 0:
            return True
    return False


def test_the_block_parser_rejects_what_is_not_permuted_blocks() -> None:
    assert _parses_as_permuted_blocks(np.array([0, 1, 1, 0, 0]), (1, 1), (2,))
    assert not _parses_as_permuted_blocks(np.array([0, 0, 1, 1]), (1, 1), (2,))
    assert _parses_as_permuted_blocks(np.array([0, 0, 1, 1]), (1, 1), (2, 4))
    assert not _parses_as_permuted_blocks(np.array([0, 0, 0]), (1, 1), (2, 4))
    assert _parses_as_permuted_blocks(np.array([0, 0, 1]), (2, 1), (3,))
    assert not _parses_as_permuted_blocks(np.array([1, 1]), (2, 1), (3,))
    assert _parses_as_permuted_blocks(np.array([1, 1]), (2, 1), (3, 6))


@settings(max_examples=150, deadline=None)
@given(scheme=schemes(), strata=strata_lists, seed=seeds)
def test_each_stratum_is_a_list_of_permuted_blocks(
    scheme: tuple[tuple[int, ...], tuple[int, ...]], strata: list[int], seed: int
) -> None:
    """Every stratum's sequence is complete blocks of permitted sizes, each in
    exactly the allocation ratio, then the start of one more block."""
    allocation, sizes = scheme
    s = np.asarray(strata, dtype=np.int32)
    arms = allocate(s, allocation, sizes, np.random.SeedSequence(seed))
    assert arms.shape == s.shape
    for seq in _per_stratum(s, arms).values():
        assert _parses_as_permuted_blocks(seq, allocation, sizes)


@settings(max_examples=150, deadline=None)
@given(
    allocation=st.sampled_from(ALLOCATIONS),
    multiple=st.integers(1, 3),
    strata=strata_lists,
    seed=seeds,
)
def test_complete_chunks_of_one_block_size_match_the_ratio(
    allocation: tuple[int, ...], multiple: int, strata: list[int], seed: int
) -> None:
    total = sum(allocation)
    size = multiple * total
    s = np.asarray(strata, dtype=np.int32)
    arms = allocate(s, allocation, (size,), np.random.SeedSequence(seed))
    for seq in _per_stratum(s, arms).values():
        for start in range(0, seq.size - size + 1, size):
            counts = np.bincount(seq[start : start + size], minlength=len(allocation))
            assert counts.tolist() == [r * multiple for r in allocation]


@settings(max_examples=150, deadline=None)
@given(scheme=schemes(), strata=strata_lists, seed=seeds)
def test_imbalance_never_exceeds_one_incomplete_block(
    scheme: tuple[tuple[int, ...], tuple[int, ...]], strata: list[int], seed: int
) -> None:
    """After m patients of a stratum, arm a (share p) has m*p +/- b*p*(1-p) patients,
    b the largest block: the most that one incomplete block can be off."""
    allocation, sizes = scheme
    s = np.asarray(strata, dtype=np.int32)
    arms = allocate(s, allocation, sizes, np.random.SeedSequence(seed))
    p = np.asarray(allocation) / sum(allocation)
    bound = max(sizes) * p * (1 - p) + 1e-9
    for seq in _per_stratum(s, arms).values():
        onehot = seq[:, None] == np.arange(len(allocation))[None, :]
        running = np.cumsum(onehot, axis=0)
        m = np.arange(1, seq.size + 1)[:, None]
        assert (np.abs(running - m * p[None, :]) <= bound[None, :]).all()


def test_imbalance_bound_is_reached_for_one_to_one() -> None:
    # Blocks of 4 at 1:1: after 2 patients a stratum can be 2:0, never 3:0.
    s = np.zeros(4000, dtype=np.int32)
    arms = allocate(s, (1, 1), (4,), np.random.SeedSequence(11))
    diff = np.cumsum(np.where(arms == 0, 1, -1))
    assert np.abs(diff).max() == 2
    assert (diff[3::4] == 0).all()


@settings(max_examples=100, deadline=None)
@given(
    scheme=schemes(),
    strata=strata_lists,
    extra=st.lists(st.tuples(st.integers(0, 10**6), st.integers(6, 9)), max_size=60),
    more_same=st.integers(0, 30),
    seed=seeds,
)
def test_a_strata_sequence_ignores_the_other_strata(
    scheme: tuple[tuple[int, ...], tuple[int, ...]],
    strata: list[int],
    extra: list[tuple[int, int]],
    more_same: int,
    seed: int,
) -> None:
    """Patients of other strata, inserted anywhere, leave a stratum's sequence
    alone; more patients of the same stratum extend it."""
    allocation, sizes = scheme
    ss = np.random.SeedSequence(seed)
    base = np.asarray(strata, dtype=np.int32)
    arms = allocate(base, allocation, sizes, ss)
    grown = list(strata)
    for pos, code in extra:  # codes 6-9 are not in `strata` (0-5)
        grown.insert(pos % (len(grown) + 1), code)
    grown += [strata[0]] * more_same
    g = np.asarray(grown, dtype=np.int32)
    arms_g = allocate(g, allocation, sizes, ss)
    for code, seq in _per_stratum(base, arms).items():
        seq_g = arms_g[g == code]
        assert seq_g[: seq.size].tolist() == seq.tolist()


def test_strata_order_of_first_appearance_does_not_matter() -> None:
    ss = np.random.SeedSequence(4)
    a = allocate(np.array([1] * 10 + [0] * 10, dtype=np.int32), (1, 1), (4,), ss)
    b = allocate(np.array([0] * 10 + [1] * 10, dtype=np.int32), (1, 1), (4,), ss)
    assert a[:10].tolist() == b[10:].tolist()
    assert a[10:].tolist() == b[:10].tolist()


@settings(max_examples=50, deadline=None)
@given(scheme=schemes(), strata=strata_lists, seed=seeds)
def test_same_seed_sequence_same_allocation(
    scheme: tuple[tuple[int, ...], tuple[int, ...]], strata: list[int], seed: int
) -> None:
    allocation, sizes = scheme
    s = np.asarray(strata, dtype=np.int32)
    a = allocate(s, allocation, sizes, np.random.SeedSequence(seed))
    b = allocate(s, allocation, sizes, np.random.SeedSequence(seed))
    assert a.tolist() == b.tolist()


def test_different_seeds_and_replicates_give_different_lists() -> None:
    s = np.zeros(200, dtype=np.int32)
    a = allocate(s, (1, 1), (4,), np.random.SeedSequence(1))
    b = allocate(s, (1, 1), (4,), np.random.SeedSequence(2))
    c = allocate(s, (1, 1), (4,), np.random.SeedSequence(1, spawn_key=(3,)))
    assert a.tolist() != b.tolist()
    assert a.tolist() != c.tolist()


def test_different_strata_get_different_lists() -> None:
    s = np.repeat(np.array([0, 1], dtype=np.int32), 200)
    arms = allocate(s, (1, 1), (4,), np.random.SeedSequence(8))
    assert arms[:200].tolist() != arms[200:].tolist()


def test_allocate_returns_arm_indices() -> None:
    s = np.array([0, 3, 3, 1, 0, 2], dtype=np.int32)
    arms = allocate(s, (1, 1, 1), (3, 6), np.random.SeedSequence(0))
    assert arms.dtype == np.int8
    assert set(arms.tolist()) <= {0, 1, 2}


# -- stratum_codes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "codes"),
    [
        ([[False, False]], [0]),
        ([[True, False]], [1]),
        ([[False, True]], [2]),
        ([[True, True]], [3]),
        ([[True, False, True], [False, True, True], [False, False, False]], [5, 6, 0]),
        ([[True], [False]], [1, 0]),
    ],
)
def test_stratum_codes_hand_cases(flags: list[list[bool]], codes: list[int]) -> None:
    out = stratum_codes(np.asarray(flags, dtype=bool))
    assert out.tolist() == codes
    assert out.dtype == np.int32


def test_no_stratification_factor_is_one_stratum() -> None:
    assert stratum_codes(np.zeros((4, 0), dtype=bool)).tolist() == [0, 0, 0, 0]


def test_stratum_codes_need_a_matrix() -> None:
    with pytest.raises(ValueError, match="patients, factors"):
        stratum_codes(np.array([True, False]))


@given(k=st.integers(1, 6))
def test_every_combination_of_factors_is_its_own_stratum(k: int) -> None:
    combos = np.array([[(i >> j) & 1 for j in range(k)] for i in range(2**k)], dtype=bool)
    codes = stratum_codes(combos)
    assert sorted(codes.tolist()) == list(range(2**k))
