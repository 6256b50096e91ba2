"""Smooth Max-Bottleneck variant: sums of Poisson-count survivals over Zipf patterns.

Pattern ``k`` occurs ``c_k ~ Poisson(D p_k)`` times in ``D`` tokens. The soft coverage loss is the
mass of patterns never seen, ``sum_k p_k exp(-D p_k)``; :func:`expected_loss` is the mean loss of
the count-threshold learner of :mod:`scalinglaws.theory.frontier_sim` (capacity as a hard cut,
coverage and optimisation as one Poisson survival at the stricter count threshold). Sums over up to
infinitely many patterns cost ``O(1024)`` per run: the first ``1024`` terms exactly, the rest by
Euler-Maclaurin with a closed-form integral (incomplete gamma functions); the result is within about
``1e-9`` relative of the brute-force sum, or ``p_{k_T} / dL <= 1e-3`` when the threshold count
exceeds ``~1e7`` (a step sharper than one pattern, which the integral smooths).

Example:
    >>> round(float(expected_loss(1.5, 1e9, 1e6) / soft_coverage_loss(1.5, 1e6)), 9)  # N, T ample
    1.0
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from scalinglaws.theory.frontier import (
    _alpha,
    _n_patterns,
    _positive,
    _positive_int,
    _progress,
    capacity_frontier,
    normaliser,
    tail_mass,
)

__all__ = ["expected_loss", "soft_coverage_asymptotic", "soft_coverage_loss"]

#: Patterns summed term by term before the Euler-Maclaurin remainder.
_EXACT_TERMS = 1024


def _poisson_mass(
    alpha: float, z: float, rate: np.ndarray, count: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """``sum_{k=1}^{floor(upper)} p_k Q(count, rate p_k)``: mass of patterns seen fewer than
    ``count`` times when pattern ``k`` occurs Poisson(``rate p_k``) times (``Q`` = regularised upper
    gamma).

    The first ``_EXACT_TERMS`` patterns are summed exactly; the rest by Euler-Maclaurin with the
    closed form ``int_0^Y y**(s-1) Q(c, y) dy = (Y**s Q(c, Y) + poch(c, s) P(c + s, Y)) / s``
    with ``s = 1 - 1/alpha``.
    """
    rate, count, upper = (x.ravel() for x in np.broadcast_arrays(rate, count, np.floor(upper)))
    out = np.empty(rate.shape)
    k = np.arange(1, _EXACT_TERMS + 1, dtype=float)
    pk = k**-alpha / z
    for lo in range(0, rate.size, 2048):
        sl = slice(lo, lo + 2048)
        terms = pk * special.gammaincc(count[sl, None], rate[sl, None] * pk)
        out[sl] = np.where(k <= upper[sl, None], terms, 0.0).sum(axis=1)
    far = upper > _EXACT_TERMS
    if not far.any():
        return out
    r, c, u = rate[far], count[far], upper[far]
    s = 1.0 - 1.0 / alpha

    def primitive(y: np.ndarray) -> np.ndarray:
        return (
            y**s * special.gammaincc(c, y) + special.poch(c, s) * special.gammainc(c + s, y)
        ) / s

    def f_and_slope(x: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = x**-alpha / z
        y = r * p
        q = special.gammaincc(c, y)
        density = np.exp(special.xlogy(c, y) - y - special.gammaln(c))
        return p * q, -alpha * p / x * (q - density)

    a0 = _EXACT_TERMS + 1.0
    finite = np.isfinite(u)
    ub = np.where(finite, u, a0)
    y_hi = np.where(finite, r * ub**-alpha / z, 0.0)
    integral = (
        (r / z) ** (1.0 / alpha) / (alpha * r) * (primitive(r * a0**-alpha / z) - primitive(y_hi))
    )
    f0, d0 = f_and_slope(a0)
    fu, du = (np.where(finite, v, 0.0) for v in f_and_slope(ub))
    out[far] += integral + (f0 + fu) / 2.0 + (du - d0) / 12.0
    return out


def soft_coverage_loss(
    alpha: float, tokens: ArrayLike, n_patterns: int | None = None
) -> np.ndarray:
    """Soft coverage loss ``sum_k p_k exp(-D p_k)``: the mass of patterns never seen in ``D``
    samples (Poisson counts; accurate to about 1e-9 relative).

    Example:
        >>> round(float(soft_coverage_loss(2.0, 1e6)), 6)
        0.000691
    """
    a, kk = _alpha(alpha), _n_patterns(n_patterns)
    d = _positive("tokens", tokens)
    upper = np.inf if kk is None else float(kk)
    return _poisson_mass(a, normaliser(a, kk), d, np.ones_like(d), np.full_like(d, upper)).reshape(
        d.shape
    )


def soft_coverage_asymptotic(alpha: float, tokens: ArrayLike) -> np.ndarray:
    """Large-``D`` form of :func:`soft_coverage_loss` (infinite support):
    ``Gamma(1 - 1/alpha) / alpha * zeta(alpha)**(-1/alpha) * D**(-(alpha - 1)/alpha)``.

    Example:
        >>> d = [1, 10, 100]
        >>> (soft_coverage_asymptotic(1.5, d) / soft_coverage_loss(1.5, d)).round(6)
        array([1.10756 , 1.001235, 1.      ])
    """
    a = _alpha(alpha)
    d = _positive("tokens", tokens)
    return (
        special.gamma(1.0 - 1.0 / a) / a * special.zeta(a, 1.0) ** (-1.0 / a) * d ** (1.0 / a - 1.0)
    )


def expected_loss(
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
) -> np.ndarray:
    """Smooth Max-Bottleneck variant: the expected loss of the count-threshold learner.

    Pattern ``k`` occurs ``c_k ~ Poisson(D p_k)`` times and is learned iff ``k <= k_N`` and
    ``c_k >= c = max(min_count, threshold D / (lr T N**g))`` (coverage and optimisation read the
    same count, so their survivals combine into one Poisson survival at the stricter threshold):
    ``dL = tail(k_N) + sum_{k <= k_N} p_k Q(c, D p_k)``. ``c`` is kept real, which interpolates the
    simulator's integer thresholds smoothly; at integer ``c`` it is the simulator's mean loss when
    capacity does not bind. Limits: ``T, N`` ample gives :func:`soft_coverage_loss`; ``D -> inf`` at
    fixed ``lr T`` gives the hard optimisation tail.

    Example:
        >>> round(float(expected_loss(2.0, 1e9, 1e6)), 6)  # only coverage binds
        0.000691
        >>> round(float(expected_loss(2.0, 1e3, 1e12, steps=1e6)), 6)  # optimisation: hard limit
        0.00078
    """
    a, kk = _alpha(alpha), _n_patterns(n_patterns)
    m = _positive_int("min_count", min_count)
    kn = capacity_frontier(params, params_per_pattern=params_per_pattern)
    d = _positive("tokens", tokens)
    if steps is None:
        _positive("lr", lr)
        count = np.full(np.broadcast(kn, d, np.asarray(lr)).shape, float(m))
    else:
        progress = _progress(steps, lr, threshold, params, float(efficiency_exponent))
        count = np.maximum(m, d / progress)
    kn, d, count = np.broadcast_arrays(kn, d, count)
    upper = np.floor(kn if kk is None else np.minimum(kn, kk))
    mass = _poisson_mass(a, normaliser(a, kk), d, count, upper).reshape(d.shape)
    return tail_mass(a, upper, kk) + mass
