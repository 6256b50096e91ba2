"""Compute-optimal allocation under the Max-Bottleneck loss: balance capacity against a partner.

``dL = tail(min(k_N, k_R))`` is monotone in the smaller frontier, so on an iso-compute line the loss
is minimised where the two frontiers cross (Max-Bottleneck principle). Closed forms, a numeric check
and the optimum of the smooth variant; derivations in ``docs/theory/effective-frontier.md``.

Example:
    >>> plan = optimal_allocation(2.0, 1e15)
    >>> plan.params_exponent, plan.tokens_exponent, round(plan.loss_exponent, 4)
    (0.3333333333333333, 0.6666666666666667, 0.3333)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize

from scalinglaws.theory.frontier import (
    TheoryError,
    _alpha,
    _n_patterns,
    _positive,
    _positive_int,
    normaliser,
    tail_mass,
)
from scalinglaws.theory.frontier_smooth import expected_loss

__all__ = ["Allocation", "optimal_allocation"]


@dataclass(frozen=True, slots=True)
class Allocation:
    """Compute-optimal allocation under the Max-Bottleneck loss (arrays over ``compute``).

    Attributes:
        partner: the bottleneck balanced against capacity (``"coverage"`` or ``"optimisation"``).
        compute, params, tokens, steps: ``C``, ``N*``, ``D* = C / (f N*)`` and
            ``T* = D* / batch_tokens``
            (``steps`` is NaN for the coverage partner, where training runs to convergence).
        k_star, delta_loss: the balanced frontier and its reducible loss.
        params_exponent, tokens_exponent, loss_exponent: ``a, b, c`` in ``N* ~ C**a``,
            ``D* ~ C**b``, ``dL* ~ C**-c``
            (infinite support; the hard balance of the two frontiers).
    """

    partner: str
    compute: np.ndarray
    params: np.ndarray
    tokens: np.ndarray
    steps: np.ndarray
    k_star: np.ndarray
    delta_loss: np.ndarray
    params_exponent: float
    tokens_exponent: float
    loss_exponent: float


def optimal_allocation(
    alpha: float,
    compute: ArrayLike,
    *,
    partner: str = "coverage",
    method: str = "analytic",
    params_per_pattern: float = 1.0,
    min_count: int = 1,
    threshold: float = 1.0,
    lr: float = 1.0,
    batch_tokens: float = 1.0,
    efficiency_exponent: float = 0.0,
    flops_per_param_token: float = 6.0,
    n_patterns: int | None = None,
) -> Allocation:
    """Compute-optimal ``N*, D*`` for ``C = f N D`` (``f = flops_per_param_token``).

    Max-Bottleneck: ``dL = tail(min(k_N, k_R))`` is minimised where capacity and the partner
    frontier balance, ``k_N = k_R``. With ``c = params_per_pattern``, ``m = min_count``:

    * ``partner="coverage"`` (``T`` ample): ``N* = (c**alpha C / (f m Z))**(1/(alpha+1))``;
    * ``partner="optimisation"`` (data ample, one pass, ``D = B T`` with ``B = batch_tokens``):
      ``N* = (c**alpha lr C / (f B threshold Z))**(1/(alpha+1-g))``, which needs ``g < 1``.
    ``method="numeric"`` maximises ``min(k_N, k_R)`` over ``log N`` (a check of the closed form);
    ``method="expected"`` minimises the smooth :func:`expected_loss` (coverage partner only).

    Example:
        >>> plan = optimal_allocation(1.5, [1e12, 1e15])
        >>> plan.params.round(0).tolist(), plan.params_exponent
        ([20986.0, 332602.0], 0.4)
    """
    a, kk = _alpha(alpha), _n_patterns(n_patterns)
    c = _positive("compute", compute)
    cn = float(_positive("params_per_pattern", params_per_pattern))
    f = float(_positive("flops_per_param_token", flops_per_param_token))
    z = normaliser(a, kk)
    g = float(efficiency_exponent)
    if partner == "coverage":
        m = _positive_int("min_count", min_count)
        power, scale = a + 1.0, cn**a / (f * m * z)

        def partner_frontier(n: np.ndarray, cc: np.ndarray) -> np.ndarray:
            return (cc / (f * n * m * z)) ** (1.0 / a)
    elif partner == "optimisation":
        if not g < 1.0:
            raise TheoryError(
                f"efficiency_exponent must be < 1 for a capacity/optimisation balance, got {g}"
            )
        if method == "expected":
            raise TheoryError("method='expected' models the coverage partner only")
        rate = float(_positive("lr", lr)) / (
            float(_positive("batch_tokens", batch_tokens))
            * float(_positive("threshold", threshold))
            * z
        )
        power, scale = a + 1.0 - g, cn**a * rate / f

        def partner_frontier(n: np.ndarray, cc: np.ndarray) -> np.ndarray:
            return (rate * cc / (f * n) * n**g) ** (1.0 / a)
    else:
        raise TheoryError(f"partner must be 'coverage' or 'optimisation', got {partner!r}")
    params = (scale * c) ** (1.0 / power)
    if method == "numeric":
        params = _balance_numeric(c, params, cn, partner_frontier)
    elif method == "expected":
        params = _expected_optimum(a, c, params, f, cn, m, kk)
    elif method != "analytic":
        raise TheoryError(f"method must be 'analytic', 'numeric' or 'expected', got {method!r}")
    tokens = c / (f * params)
    k_star = np.minimum(params / cn, partner_frontier(params, c))
    if method == "expected":
        loss = expected_loss(
            a, params, tokens, params_per_pattern=cn, min_count=min_count, n_patterns=kk
        )
    else:
        loss = tail_mass(a, k_star, kk, continuous=True)
    steps = tokens / float(batch_tokens) if partner == "optimisation" else np.full_like(c, np.nan)
    return Allocation(
        partner,
        c,
        params,
        tokens,
        steps,
        k_star,
        loss,
        1.0 / power,
        1.0 - 1.0 / power,
        (a - 1.0) / power,
    )


def _expected_optimum(
    alpha: float,
    compute: np.ndarray,
    guess: np.ndarray,
    f: float,
    cn: float,
    m: int,
    n_patterns: int | None,
) -> np.ndarray:
    """Minimise :func:`expected_loss` on each iso-compute line: two rounds of log-grid search."""
    out = np.empty(compute.shape)
    for i in np.ndindex(compute.shape):
        centre, width = np.log(guess[i]), np.log(100.0)
        for _ in range(2):
            n = np.exp(np.linspace(centre - width, centre + width, 201))
            loss = expected_loss(
                alpha,
                n,
                compute[i] / (f * n),
                params_per_pattern=cn,
                min_count=m,
                n_patterns=n_patterns,
            )
            centre, width = np.log(n[np.argmin(loss)]), 2.0 * width / 200.0
        out[i] = np.exp(centre)
    return out


def _balance_numeric(
    compute: np.ndarray,
    guess: np.ndarray,
    cn: float,
    partner_frontier: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """Maximise ``min(k_N, k_R)`` over ``log N`` on each iso-compute line (bounded Brent search)."""
    out = np.empty(compute.shape)
    for i in np.ndindex(compute.shape):
        res = optimize.minimize_scalar(
            lambda u, cc=compute[i]: -min(np.exp(u) / cn, float(partner_frontier(np.exp(u), cc))),
            bounds=(np.log(guess[i]) - 5.0, np.log(guess[i]) + 5.0),
            method="bounded",
            options={"xatol": 1e-10},
        )
        out[i] = np.exp(res.x)
    return out
