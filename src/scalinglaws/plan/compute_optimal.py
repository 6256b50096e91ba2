"""Compute-optimal allocation from a fitted law: N*(C), D*(C), L*(C), and the compute a target loss needs.

Every answer comes with an interval from the fit's bootstrap draws (each draw planned on its own), so the
uncertainty of the law propagates into the plan. Closed forms are used where the law has one (Chinchilla
under C = 6ND); otherwise the loss along the iso-compute curve is minimised numerically over log N. With a
cost law (:mod:`scalinglaws.cost`) the budget is in the law's unit and the loss is minimised numerically along
its iso-cost curve.

Example:
    >>> import numpy as np
    >>> from scalinglaws.fit import fit
    >>> from scalinglaws.laws import get_law
    >>> N = np.repeat([1e8, 3e8, 1e9, 3e9], 4); D = np.tile([2e9, 6e9, 2e10, 6e10], 4)
    >>> truth = np.array([1.7, 400.0, 1500.0, 0.34, 0.30])
    >>> y = get_law("chinchilla").predict({"params": N, "tokens": D}, truth)
    >>> plan = compute_optimal(fit({"params": N, "tokens": D, "loss": y}), 1e22)
    >>> f"{plan.params.value:.3g}"
    '1.37e+09'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq

from scalinglaws.cost import CostLaw
from scalinglaws.errors import PlanError
from scalinglaws.fit.result import FitResult
from scalinglaws.laws.base import Law

__all__ = [
    "ComputePlan",
    "Estimate",
    "LossTarget",
    "compute_for_loss",
    "compute_optimal",
    "estimate_of",
    "optimum",
]

#: Half-width in decades of the numerical search for N* around sqrt(C/6).
SEARCH_DECADES = 8.0


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point value with a central interval (``lo``/``hi`` are None without bootstrap draws)."""

    value: float
    lo: float | None = None
    hi: float | None = None

    def __str__(self) -> str:
        if self.lo is None:
            return f"{self.value:.4g}"
        return f"{self.value:.4g} [{self.lo:.4g}, {self.hi:.4g}]"


@dataclass(frozen=True, slots=True)
class ComputePlan:
    """The compute-optimal run for one budget."""

    compute: float
    params: Estimate
    tokens: Estimate
    loss: Estimate
    tokens_per_param: Estimate
    level: float | None
    method: str
    convention: str
    draws_without_optimum: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class LossTarget:
    """The smallest compute whose compute-optimal run reaches ``target`` loss."""

    target: float
    compute: Estimate
    params: Estimate
    tokens: Estimate
    level: float | None
    draws_unreachable: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _require_nd_law(result: FitResult, cost: CostLaw | None = None) -> None:
    if set(result.law.inputs) != {"params", "tokens"}:
        raise PlanError(
            f"compute-optimal planning needs a law of params and tokens; {result.law.name!r} takes "
            f"{list(result.law.inputs)}"
        )
    if cost is not None and not isinstance(cost, CostLaw):
        raise PlanError(f"cost must be a CostLaw (scalinglaws.cost), not {type(cost).__name__}")
    convention = result.data.get("convention", "6ND")
    if cost is None and convention != "6ND":
        raise PlanError(
            f"the fit's data use the {convention!r} FLOP convention; planning here assumes C = 6ND"
        )


def optimum(
    result: FitResult | Law, compute: float, theta: np.ndarray, cost: CostLaw | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(N*, D*, interior)`` of each row of ``theta (B, p)`` at one budget (FLOPs, or ``cost``'s unit).

    ``result`` is a fit or a law of params and tokens (only the law is used). The law's closed form serves
    where it has one and no cost law is given; otherwise the loss is minimised over ``log N`` along the
    iso-cost curve (+-``SEARCH_DECADES`` around its centre, refined by a parabola). ``interior`` is False
    where the minimum sits on the search's edge (no optimum within reach).

    Example:
        >>> from scalinglaws.laws import get_law
        >>> theta = np.array([[1.8172, 482.01, 2085.43, 0.3478, 0.3658]])
        >>> n, d, ok = optimum(get_law("chinchilla"), 5.76e23, theta)
        >>> f"{n[0]:.3g}", f"{d[0]:.3g}", bool(ok[0])
        ('7.22e+10', '1.33e+12', True)
    """
    law = result if isinstance(result, Law) else result.law
    closed = None if cost is not None else law.compute_optimum(np.array(compute), theta)
    if closed is not None:
        n_opt, d_opt = (np.broadcast_to(np.ravel(a), (theta.shape[0],)) for a in closed)
        return n_opt, d_opt, np.isfinite(n_opt) & (n_opt > 0)
    if cost is None:
        center = 0.5 * np.log10(compute / 6.0)

        def tokens_for(n: np.ndarray) -> np.ndarray:
            return compute / (6.0 * n)
    else:
        center = np.log10(cost.square(compute))

        def tokens_for(n: np.ndarray) -> np.ndarray:
            return cost.tokens_for(n, compute)

    log_n = np.linspace(center - SEARCH_DECADES, center + SEARCH_DECADES, 801)
    n = 10.0**log_n
    losses = law.predict({"params": n, "tokens": tokens_for(n)}, theta)
    losses = np.where(np.isfinite(losses), losses, np.inf)
    idx = np.argmin(losses, axis=-1)
    interior = (idx > 0) & (idx < log_n.size - 1)
    # parabolic refinement through the three grid points around the minimum
    i = np.clip(idx, 1, log_n.size - 2)
    rows = np.arange(losses.shape[0])
    l0, l1, l2 = losses[rows, i - 1], losses[rows, i], losses[rows, i + 1]
    denom = l0 - 2 * l1 + l2
    h = log_n[1] - log_n[0]
    shift = np.where(denom > 0, 0.5 * h * (l0 - l2) / np.where(denom > 0, denom, 1.0), 0.0)
    n_opt = 10.0 ** (log_n[i] + np.clip(shift, -h, h))
    return n_opt, tokens_for(n_opt), interior


def estimate_of(point: float, draws: np.ndarray | None, level: float | None) -> Estimate:
    """``point`` with the central ``level`` percentile interval of the finite ``draws`` (none without draws).

    Example:
        >>> estimate_of(2.0, np.array([1.0, 2.0, 3.0, np.nan]), 0.5)
        Estimate(value=2.0, lo=1.5, hi=2.5)
    """
    if draws is None or level is None:
        return Estimate(float(point))
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return Estimate(float(point))
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.percentile(finite, [tail, 100.0 - tail])
    return Estimate(float(point), float(lo), float(hi))


def compute_optimal(
    result: FitResult, compute: float, *, level: float | None = None, cost: CostLaw | None = None
) -> ComputePlan:
    """The loss-minimising (N, D) with 6 N D (or ``cost(N, D)``) = ``compute`` under the fitted law.

    Args:
        result: a fit of a law in params and tokens.
        compute: training FLOPs; with ``cost``, the budget in the cost law's unit.
        level: central level of the intervals (default: the fit's); intervals need bootstrap draws.
        cost: a cost law (:mod:`scalinglaws.cost`): the optimum is then found numerically along the curve
            ``cost(N, D) = compute``, for the point fit and each bootstrap draw. None: C = 6ND.
    """
    _require_nd_law(result, cost)
    if not np.isfinite(compute) or compute <= 0:
        raise PlanError(f"compute must be a positive number of FLOPs, got {compute}")
    has_draws = result.draws is not None and len(result.draws) > 0
    level = (level or result.level) if has_draws else None
    n_opt, d_opt, interior = optimum(result, compute, result.theta[None], cost)
    if not interior[0]:
        unit = "FLOPs" if cost is None else cost.unit
        raise PlanError(f"the fitted law has no interior optimum at C = {compute:.3g} {unit}")
    point_loss = result.law.predict({"params": n_opt, "tokens": d_opt}, result.theta)[0]
    draw_n = draw_d = draw_l = None
    missing = 0
    if has_draws:
        dn, dd, ok = optimum(result, compute, result.draws, cost)
        missing = int(np.sum(~ok))
        draw_n, draw_d = np.where(ok, dn, np.nan), np.where(ok, dd, np.nan)
        draw_l = _per_draw_loss(result, draw_n, draw_d)
    return ComputePlan(
        compute=float(compute),
        params=estimate_of(n_opt[0], draw_n, level),
        tokens=estimate_of(d_opt[0], draw_d, level),
        loss=estimate_of(point_loss, draw_l, level),
        tokens_per_param=estimate_of(
            d_opt[0] / n_opt[0], None if draw_n is None else draw_d / draw_n, level
        ),
        level=level,
        method="closed-form"
        if cost is None and result.law.compute_optimum(np.array(compute), result.theta)
        else "numerical",
        convention="6ND" if cost is None else cost.label,
        draws_without_optimum=missing,
    )


def _per_draw_loss(result: FitResult, n: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Loss of each draw at its own optimum: inputs shaped (B, 1) broadcast row by row."""
    ok = np.isfinite(n)
    X = {"params": np.where(ok, n, 1.0)[:, None], "tokens": np.where(ok, d, 1.0)[:, None]}
    return np.where(ok, result.law.predict(X, result.draws)[:, 0], np.nan)


def _compute_for(result: FitResult, theta: np.ndarray, target: float) -> float:
    """Smallest C with L*(C) <= target for one parameter vector (NaN if unreachable)."""

    def gap(log_c: float) -> float:
        n, d, _ = optimum(result, 10.0**log_c, theta[None])
        return float(result.law.predict({"params": n, "tokens": d}, theta)[0]) - target

    lo, hi = 6.0, 40.0
    g_lo, g_hi = gap(lo), gap(hi)
    if g_hi > 0:
        return float("nan")
    if g_lo <= 0:
        return 10.0**lo
    return 10.0 ** brentq(gap, lo, hi, xtol=1e-10)


def compute_for_loss(result: FitResult, target: float, *, level: float | None = None) -> LossTarget:
    """The compute (and its optimal N, D) at which the compute-optimal run reaches ``target`` loss."""
    _require_nd_law(result)
    point = _compute_for(result, result.theta, target)
    if not np.isfinite(point):
        floor = result.params.get("E")
        why = f" (the fitted irreducible loss E is {floor:.4g})" if floor is not None else ""
        raise PlanError(f"target loss {target} is not reachable under the fitted law{why}")
    n_opt, d_opt, _ = optimum(result, point, result.theta[None])
    has_draws = result.draws is not None and len(result.draws) > 0
    level = (level or result.level) if has_draws else None
    draw_c = draw_n = draw_d = None
    unreachable = 0
    if has_draws:
        draw_c = np.array([_compute_for(result, t, target) for t in result.draws])
        unreachable = int(np.sum(~np.isfinite(draw_c)))
        draw_n = np.full_like(draw_c, np.nan)
        draw_d = np.full_like(draw_c, np.nan)
        for b in np.flatnonzero(np.isfinite(draw_c)):
            n_b, d_b, _ = optimum(result, draw_c[b], result.draws[b][None])
            draw_n[b], draw_d[b] = n_b[0], d_b[0]
    return LossTarget(
        target=float(target),
        compute=estimate_of(point, draw_c, level),
        params=estimate_of(n_opt[0], draw_n, level),
        tokens=estimate_of(d_opt[0], draw_d, level),
        level=level,
        draws_unreachable=unreachable,
    )
