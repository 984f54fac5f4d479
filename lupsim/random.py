"""Named random streams built from one seed.

One root :class:`numpy.random.SeedSequence` per run. Replicate ``k`` uses child
``k`` (``SeedSequence(seed).spawn(k + 1)[k]`` is the same sequence), and inside a
replicate each purpose (``"enrolment"``, ``"randomisation"``, ``"baseline"``,
``"disease"``, ``"dropout"`` ...) has its own stream, keyed by a stable hash of
its name rather than by the order in which streams are created. Changing how
many numbers one purpose draws therefore never shifts another purpose's
numbers: changing the dropout model leaves enrolment and randomisation alone,
and scenarios compared on the same seed share common random numbers.

Examples
--------
>>> a = stream(1, "disease").random(3)
>>> b = stream(1, "disease").random(3)
>>> bool((a == b).all())
True
>>> bool((stream(1, "disease").random() == stream(1, "dropout").random()))
False
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["purpose_key", "replicate_seed", "stream"]


def purpose_key(name: str) -> int:
    """Stable 32-bit key of a purpose name (CRC-32, identical on every platform).

    Examples
    --------
    >>> purpose_key("disease") == purpose_key("disease")
    True
    """
    return zlib.crc32(name.encode("utf-8"))


def replicate_seed(seed: int, replicate: int | None = None) -> np.random.SeedSequence:
    """The SeedSequence of one replicate: child ``replicate`` of the root.

    ``replicate=None`` is the root itself (a single run).

    Examples
    --------
    >>> root = np.random.SeedSequence(7)
    >>> replicate_seed(7, 2).spawn_key == root.spawn(3)[2].spawn_key
    True
    """
    if replicate is None:
        return np.random.SeedSequence(seed)
    return np.random.SeedSequence(seed, spawn_key=(int(replicate),))


def stream(
    seed: int | np.random.SeedSequence,
    name: str,
    *extra: int,
) -> np.random.Generator:
    """A Generator for one purpose, from a seed or a replicate's SeedSequence.

    ``extra`` integers extend the key (e.g. a chunk number), giving further
    independent streams of the same purpose.

    Examples
    --------
    >>> g = stream(2024, "baseline", 0)
    >>> isinstance(g, np.random.Generator)
    True
    """
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    key = (*ss.spawn_key, purpose_key(name), *map(int, extra))
    child = np.random.SeedSequence(ss.entropy, spawn_key=key, pool_size=ss.pool_size)
    return np.random.Generator(np.random.PCG64(child))
