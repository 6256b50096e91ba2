"""Effective-Frontier pattern model (arXiv 2602.02593): Zipf patterns, tail masses and bottlenecks.

Learning is modelled as covering atomic patterns ``k = 1, 2, ...`` whose frequencies follow Zipf's
law, ``p_k = k**-alpha / Z`` with ``alpha > 1`` and ``Z`` the Riemann zeta ``zeta(alpha)`` (infinite
support) or the partial sum ``H_{K,alpha} = zeta(alpha) - zeta(alpha, K + 1)`` (``K`` patterns). The
reducible loss is ``dL = sum_k p_k q_k`` with ``q_k`` the per-pattern loss (1 unlearned, 0 learned).
Each resource fixes an *effective frontier* ``k*``: the patterns before it are learned, the tail
after it is not, so ``dL`` is the tail mass beyond ``k*``. Frontiers (all in pattern-rank units;
``Z`` as above):

* capacity: ``k_N = N / params_per_pattern``                         -> ``dL ~ N**-(alpha - 1)``
* coverage: ``D p_k >= m`` (``min_count``), ``k_D = (D / (m Z))**(1/alpha)``
  -> ``dL ~ D**-((alpha - 1)/alpha)``
* optimisation: ``lr T N**g p_k >= threshold``, ``k_T = (lr T N**g / (threshold Z))**(1/alpha)``
  -> ``dL ~ T**-((alpha - 1)/alpha)`` (``g`` = ``efficiency_exponent``, 0 by default)

The Max-Bottleneck loss uses ``k* = min(k_N, k_D, k_T)``, hence ``dL = max`` of the three tails. The
smooth variant (:mod:`scalinglaws.theory.frontier_smooth`) is the mean loss of the count-threshold
learner that :mod:`scalinglaws.theory.frontier_sim` simulates; compute-optimal allocation lives in
:mod:`scalinglaws.theory.frontier_allocation`. Derivations: ``docs/theory/effective-frontier.md``.
Every function is vectorised over its array arguments (numpy broadcasting) and free of pandas.

Example:
    >>> round(float(tail_mass(2.0, 10)), 6)
    0.057854
    >>> f = frontiers(1.5, params=1e3, tokens=1e6, steps=1e4)
    >>> f.active[()], round(float(f.star), 1)
    ('optimisation', 244.7)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from scalinglaws.errors import ScalingLawsError

__all__ = [
    "BOTTLENECKS",
    "Frontiers",
    "TheoryError",
    "capacity_frontier",
    "coverage_frontier",
    "frontiers",
    "loss_exponents",
    "max_bottleneck_loss",
    "normaliser",
    "optimisation_frontier",
    "pattern_probabilities",
    "reducible_loss",
    "tail_mass",
    "tail_mass_asymptotic",
]

#: Names of the three bottlenecks, in the order used by :class:`Frontiers`.
BOTTLENECKS = ("capacity", "coverage", "optimisation")


class TheoryError(ScalingLawsError, ValueError):
    """An input to the pattern model or the simulator is out of its domain."""


def _alpha(alpha: float) -> float:
    a = float(alpha)
    if not np.isfinite(a) or a <= 1.0:
        raise TheoryError(f"alpha must be a finite Zipf exponent > 1, got {alpha!r}")
    return a


def _positive(name: str, value: ArrayLike) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        first, count = float(arr[bad].flat[0]), int(bad.sum())
        raise TheoryError(f"{name} must be finite and > 0; got {first!r} ({count} bad value(s))")
    return arr


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise TheoryError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _n_patterns(n_patterns: object) -> int | None:
    return None if n_patterns is None else _positive_int("n_patterns", n_patterns)


def normaliser(alpha: float, n_patterns: int | None = None) -> float:
    """Zipf normaliser ``Z``: ``zeta(alpha)``, or ``sum_{k<=K} k**-alpha`` for ``K`` patterns.

    Example:
        >>> round(normaliser(2.0), 6), normaliser(2.0, 1)
        (1.644934, 1.0)
    """
    a, k = _alpha(alpha), _n_patterns(n_patterns)
    z = special.zeta(a, 1.0)
    return float(z if k is None else z - special.zeta(a, k + 1.0))


def pattern_probabilities(alpha: float, n_patterns: int) -> np.ndarray:
    """Frequencies ``p_k = k**-alpha / Z`` of patterns ``k = 1..K`` (array index ``k - 1``).

    Example:
        >>> pattern_probabilities(2.0, 2).round(4).tolist()
        [0.8, 0.2]
    """
    k = _positive_int("n_patterns", n_patterns)
    return np.arange(1, k + 1, dtype=float) ** -_alpha(alpha) / normaliser(alpha, k)


def reducible_loss(alpha: float, q: ArrayLike, n_patterns: int | None = None) -> np.ndarray:
    """``dL = sum_k p_k q_k`` for per-pattern losses ``q`` of patterns ``1..q.shape[-1]``.

    Patterns beyond ``M = q.shape[-1]`` count as unlearned (``q_k = 1``); ``q`` may be batched.

    Example:
        >>> round(float(reducible_loss(2.0, [0, 0, 0.5], n_patterns=4)), 4)
        0.0829
    """
    qs = np.asarray(q, dtype=float)
    if qs.ndim == 0 or not (np.isfinite(qs) & (qs >= 0)).all():
        raise TheoryError("q must be an array of finite per-pattern losses >= 0 (one per pattern)")
    m, k = qs.shape[-1], _n_patterns(n_patterns)
    if k is not None and m > k:
        raise TheoryError(f"q has {m} patterns but n_patterns is {k}")
    p = np.arange(1, m + 1, dtype=float) ** -_alpha(alpha) / normaliser(alpha, k)
    return qs @ p + tail_mass(alpha, m, k)


def tail_mass(
    alpha: float, k_star: ArrayLike, n_patterns: int | None = None, *, continuous: bool = False
) -> np.ndarray:
    """Exact tail mass ``sum_{k > k*} p_k`` (Hurwitz zeta), over ``K`` or infinitely many patterns.

    ``k*`` may be real: by default patterns ``k <= floor(k*)`` are learned (a step function of
    ``k*``); ``continuous=True`` evaluates ``zeta(alpha, k* + 1)`` at real ``k*``, a smooth
    interpolation for fits.

    Example:
        >>> tail_mass(2.0, [0, 2, 3], n_patterns=3).round(4).tolist()
        [1.0, 0.0816, 0.0]
    """
    a, kk = _alpha(alpha), _n_patterns(n_patterns)
    k = np.asarray(k_star, dtype=float)
    if not (k >= 0).all():
        raise TheoryError("k_star must be >= 0 (a pattern rank)")
    j = k if continuous else np.floor(k)
    if kk is None:
        out = special.zeta(a, j + 1.0)
    else:
        j = np.minimum(j, kk)
        out = special.zeta(a, j + 1.0) - special.zeta(a, kk + 1.0)
    return np.maximum(out, 0.0) / normaliser(a, kk)


def tail_mass_asymptotic(
    alpha: float, k_star: ArrayLike, n_patterns: int | None = None
) -> np.ndarray:
    """Integral form of the tail, ``(k***(1-alpha) - K**(1-alpha)) / ((alpha - 1) Z)``.

    ``K = inf`` (the default) drops the second term.

    Its ratio to :func:`tail_mass` is ``1 + O(1/k*)``.

    Example:
        >>> round(float(tail_mass_asymptotic(2.0, 1e4) / tail_mass(2.0, 1e4)), 5)
        1.00005
    """
    a, kk = _alpha(alpha), _n_patterns(n_patterns)
    k = _positive("k_star", k_star)
    cut = 0.0 if kk is None else kk ** (1.0 - a)
    return np.maximum(k ** (1.0 - a) - cut, 0.0) / ((a - 1.0) * normaliser(a, kk))


def capacity_frontier(params: ArrayLike, *, params_per_pattern: float = 1.0) -> np.ndarray:
    """Capacity frontier ``k_N = N / params_per_pattern``: the number of patterns a model can store.

    Example:
        >>> capacity_frontier([100, 1000], params_per_pattern=10).tolist()
        [10.0, 100.0]
    """
    return _positive("params", params) / float(_positive("params_per_pattern", params_per_pattern))


def coverage_frontier(
    alpha: float, tokens: ArrayLike, *, min_count: int = 1, n_patterns: int | None = None
) -> np.ndarray:
    """Coverage frontier, the last rank with ``D p_k >= m``: ``k_D = (D / (m Z))**(1/alpha)``.

    Example:
        >>> round(float(coverage_frontier(2.0, 1644.934)), 3)
        31.623
    """
    a = _alpha(alpha)
    m = _positive_int("min_count", min_count)
    return (_positive("tokens", tokens) / (m * normaliser(a, n_patterns))) ** (1.0 / a)


def optimisation_frontier(
    alpha: float,
    steps: ArrayLike,
    lr: ArrayLike = 1.0,
    *,
    threshold: float = 1.0,
    params: ArrayLike | None = None,
    efficiency_exponent: float = 0.0,
    n_patterns: int | None = None,
) -> np.ndarray:
    """Optimisation frontier, the last rank with ``lr T N**g p_k >= threshold``.

    ``g`` is the ``efficiency_exponent`` (progress per step scales as ``N**g``).

    ``k_T = (lr T N**g / (threshold Z))**(1/alpha)``; the default ``g = 0`` needs no ``params``.

    Example:
        >>> round(float(optimisation_frontier(2.0, 1644.934, lr=1.0)), 3)
        31.623
    """
    a = _alpha(alpha)
    z = normaliser(a, n_patterns)
    return (_progress(steps, lr, threshold, params, efficiency_exponent) / z) ** (1.0 / a)


def _progress(
    steps: ArrayLike, lr: ArrayLike, threshold: float, params: ArrayLike | None, g: float
) -> np.ndarray:
    """Optimisation progress in units of the learning threshold: ``lr T N**g / threshold``."""
    if not np.isfinite(g):
        raise TheoryError(f"efficiency_exponent must be finite, got {g!r}")
    progress = _positive("steps", steps) * _positive("lr", lr)
    if g != 0.0:
        if params is None:
            raise TheoryError(
                "a non-zero efficiency_exponent needs params (progress scales as N**g)"
            )
        progress = progress * _positive("params", params) ** g
    return progress / float(_positive("threshold", threshold))


def loss_exponents(alpha: float) -> dict[str, float]:
    """Loss exponents of each bottleneck alone: ``dL ~ resource**-exponent``.

    Example:
        >>> loss_exponents(2.0)
        {'capacity': 1.0, 'coverage': 0.5, 'optimisation': 0.5}
    """
    a = _alpha(alpha)
    return {"capacity": a - 1.0, "coverage": (a - 1.0) / a, "optimisation": (a - 1.0) / a}


@dataclass(frozen=True, slots=True)
class Frontiers:
    """Frontiers of a set of runs (arrays of one broadcast shape) and the active bottleneck.

    Attributes:
        capacity, coverage, optimisation: ``k_N``, ``k_D``, ``k_T`` (``inf`` where a resource
            is ample).
        star: ``k* = min(k_N, k_D, k_T)``.
        active: name of the smallest frontier, or ``"none"`` where ``k*`` reaches the support size
        ``K``.
    """

    capacity: np.ndarray
    coverage: np.ndarray
    optimisation: np.ndarray
    star: np.ndarray
    active: np.ndarray

    @property
    def ratios(self) -> dict[str, np.ndarray]:
        """Each frontier divided by ``k*`` (1 for the active bottleneck)."""
        return {name: getattr(self, name) / self.star for name in BOTTLENECKS}


def frontiers(
    alpha: float,
    params: ArrayLike,
    tokens: ArrayLike,
    steps: ArrayLike | None = None,
    lr: ArrayLike = 1.0,
    *,
    params_per_pattern: float = 1.0,
    min_count: int = 1,
    threshold: float = 1.0,
    efficiency_exponent: float = 0.0,
    n_patterns: int | None = None,
) -> Frontiers:
    """Capacity, coverage and optimisation frontiers, ``k*`` and the active bottleneck of each run.

    ``steps=None`` means training to convergence: the optimisation frontier is infinite.

    Example:
        >>> f = frontiers(2.0, params=[10, 1000], tokens=1e6)
        >>> f.active.tolist(), f.ratios["coverage"].round(2).tolist()
        (['capacity', 'coverage'], [77.97, 1.0])
    """
    kn = capacity_frontier(params, params_per_pattern=params_per_pattern)
    kd = coverage_frontier(alpha, tokens, min_count=min_count, n_patterns=n_patterns)
    if steps is None:
        kt = np.full(np.broadcast(kn, kd, np.asarray(lr)).shape, np.inf)
        _positive("lr", lr)
    else:
        kt = optimisation_frontier(
            alpha,
            steps,
            lr,
            threshold=threshold,
            params=params,
            efficiency_exponent=efficiency_exponent,
            n_patterns=n_patterns,
        )
    kn, kd, kt = np.broadcast_arrays(kn, kd, kt)
    stack = np.stack([kn, kd, kt])
    star = np.asarray(stack.min(axis=0))
    active = np.empty(star.shape, dtype=object)
    active[...] = np.asarray(BOTTLENECKS, dtype=object)[stack.argmin(axis=0)]
    k = _n_patterns(n_patterns)
    if k is not None:
        active[star >= k] = "none"
    return Frontiers(kn.copy(), kd.copy(), kt.copy(), star, active)


def max_bottleneck_loss(
    alpha: float,
    params: ArrayLike,
    tokens: ArrayLike,
    steps: ArrayLike | None = None,
    lr: ArrayLike = 1.0,
    *,
    params_per_pattern: float = 1.0,
    min_count: int = 1,
    threshold: float = 1.0,
    efficiency_exponent: float = 0.0,
    n_patterns: int | None = None,
    continuous: bool = False,
) -> np.ndarray:
    """Max-Bottleneck reducible loss ``tail(min(k_N, k_D, k_T)) = max`` of the three single tails.

    Example:
        >>> round(float(max_bottleneck_loss(2.0, 1e3, 1e6)), 6)  # k* = k_D = 779.7
        0.00078
    """
    f = frontiers(
        alpha,
        params,
        tokens,
        steps,
        lr,
        params_per_pattern=params_per_pattern,
        min_count=min_count,
        threshold=threshold,
        efficiency_exponent=efficiency_exponent,
        n_patterns=n_patterns,
    )
    return tail_mass(alpha, f.star, n_patterns, continuous=continuous)
