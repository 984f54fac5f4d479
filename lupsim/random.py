"""Named random streams built from one seed.

One root :class:`numpy.random.SeedSequence` per run. Replicate ``k`` uses child
``k`` (``SeedSequence(seed).spawn(k + 1)[k]`` is the same sequence), and inside a
replicate each purpose (``"enrolment"``, ``"randomisation"``, ``"baseline"``,
``"disease"``, ``"dropout"`` ...) has its own stream, keyed by a stable hash of
its name rather than by the order in which streams are created. Changing how
many numbers one purpose draws therefore never shifts another purpose's
numbers: changing the dropout model leaves enrolment and randomisation alone,
and scenarios compared on the same seed share common random numbers.

The module also draws the kinds of numbers the simulation needs most, faster
than the Generator's own methods where a coarser number does as well:
:func:`raw16` (16-bit integers, four per 64-bit draw; ``raw16(rng, n) <
bernoulli_thresholds(p)`` are Bernoulli draws of probability ``p``),
:func:`logistic16`, :func:`normals` (Box-Muller) and :func:`coarse_normals`.
They take a Generator built by :func:`stream` and consume its bit generator
in order, like any of its methods.

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

import math
import zlib

import numpy as np
from numpy.typing import NDArray
from scipy import special

__all__ = [
    "bernoulli_thresholds",
    "bernoulli_thresholds16",
    "coarse_normals",
    "logistic16",
    "normals",
    "purpose_key",
    "raw16",
    "replicate_seed",
    "stream",
]


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
    # SFC64: a chaotic generator of high statistical quality (it passes
    # PractRand and BigCrush) that draws raw 64-bit numbers about a third
    # faster than PCG64; simulating a trial draws a few hundred thousand.
    return np.random.Generator(np.random.SFC64(child))


#: 2 ** 16: the cells of a 16-bit uniform.
_CELLS = 65536.0


def raw16(rng: np.random.Generator, size: int) -> NDArray[np.uint16]:
    """``size`` integers uniform on 0-65535: four per 64-bit draw of ``rng``.

    ``k / 65536`` is a uniform on [0, 1) of 16-bit resolution; 1/65536 is far
    finer than any probability a simulation compares it with, and it costs a
    fifth of ``rng.random``.

    Examples
    --------
    >>> k = raw16(np.random.default_rng(1), 5)
    >>> k.dtype, k.shape
    (dtype('uint16'), (5,))
    """
    return rng.bit_generator.random_raw((size + 3) // 4).view(np.uint16)[:size]


def bernoulli_thresholds(p: NDArray[np.float64] | float) -> NDArray[np.int32]:
    """Whole numbers ``t`` with ``k < t`` exactly when ``k / 65536 < p``, for the
    16-bit integers ``k`` of :func:`raw16`: ``ceil(65536 p)``.

    Examples
    --------
    >>> bernoulli_thresholds(np.array([0.0, 0.5, 1.0])).tolist()
    [0, 32768, 65536]
    """
    return np.ceil(np.asarray(p, dtype=np.float64) * _CELLS).astype(np.int32)


def bernoulli_thresholds16(p: NDArray[np.float64] | float) -> NDArray[np.uint16]:
    """:func:`bernoulli_thresholds` as uint16, the type of :func:`raw16`'s
    integers, so that the comparison runs on like types (no casting loop).

    Every probability must round below 1 (at most 65535/65536).

    Examples
    --------
    >>> bernoulli_thresholds16(np.array([0.0, 0.5])).tolist()
    [0, 32768]
    """
    t = bernoulli_thresholds(p)
    if t.size and t.max() > 65535:
        raise ValueError(
            f"probability {float(np.max(p))!r} rounds to 1 on the 1/65536 grid; "
            "uint16 thresholds need probabilities of at most 65535/65536"
        )
    return t.astype(np.uint16)


#: Standard logistic quantiles at the midpoints of the 65,536 cells of a 16-bit
#: uniform: a 16-bit draw looked up here is a logistic draw cut at 11.8. Float32:
#: a table that stays in cache, and a variate compared with a float64 bound
#: is exactly representable there.
_LOGISTIC_QUANTILES = special.logit((np.arange(65536) + 0.5) / _CELLS).astype(np.float32)


def logistic16(rng: np.random.Generator, shape: int | tuple[int, ...]) -> NDArray[np.float32]:
    """Standard logistic variates by inverse CDF of 16-bit uniforms (a table).

    ``l < x`` is then a Bernoulli draw of probability ``expit(x)`` to within
    1/65536 (the Bernoulli draws of a latent-variable model); about a tenth
    of the cost of ``rng.logistic``.

    Examples
    --------
    >>> l = logistic16(np.random.default_rng(1), (2, 3))
    >>> l.shape, bool((abs(l) < 12).all())
    ((2, 3), True)
    """
    shape = (shape,) if isinstance(shape, int) else shape
    return _LOGISTIC_QUANTILES.take(raw16(rng, math.prod(shape))).reshape(shape)


def normals(rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.float32]:
    """Standard normals (float32), by the Box-Muller transform of uniforms.

    Each pair of normals comes from a radius ``sqrt(-2 log(1 - u))`` (a 53-bit
    uniform: the tail reaches 8.5 SD) and an angle (a float32 uniform), as
    ``r cos`` and ``r sin``, which are independent standard normals. Done on
    whole arrays, this costs half of ``rng.standard_normal``, whose ziggurat
    draws one number at a time.

    Examples
    --------
    >>> z = normals(np.random.default_rng(1), (2, 3))
    >>> z.dtype, z.shape
    (dtype('float32'), (2, 3))
    """
    size = math.prod(shape)
    pairs = (size + 1) // 2
    # In place: the same operations, without temporaries.
    r = rng.random(pairs)
    np.negative(r, out=r)
    np.log1p(r, out=r)
    r *= -2.0
    radius = np.sqrt(r, out=r).astype(np.float32)
    angle = rng.random(pairs, dtype=np.float32)
    angle *= np.float32(2.0 * np.pi)
    out = np.empty(2 * pairs, dtype=np.float32)
    np.cos(angle, out=out[:pairs])
    out[:pairs] *= radius
    np.sin(angle, out=out[pairs:])
    out[pairs:] *= radius
    return out[:size].reshape(shape)


#: Standard normal quantiles at the midpoints of the 65,536 cells of a 16-bit
#: uniform: a 16-bit draw looked up here is a normal draw cut at 4.3 SD.
_NORMAL_QUANTILES = special.ndtri((np.arange(65536) + 0.5) / _CELLS).astype(np.float32)


def coarse_normals(rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.float32]:
    """Standard normals (float32) by inverse CDF of 16-bit uniforms (a table).

    A quarter of the cost of :func:`normals`; the tails are cut at 4.3 SD,
    which is enough for measurement error, where nothing turns on a
    1-in-100,000 value.

    Examples
    --------
    >>> z = coarse_normals(np.random.default_rng(1), (4,))
    >>> bool((abs(z) < 4.4).all())
    True
    """
    size = math.prod(shape)
    return _NORMAL_QUANTILES.take(raw16(rng, size)).reshape(shape)
