"""Compute-optimal allocation under the Max-Bottleneck principle, from a fit of the ``frontier`` law.

Under ``C = 6 N D`` the loss falls as the effective frontier ``k* = softmin(k_N, k_D[, k_T])`` grows; on an
iso-compute line ``k_N = N`` rises and ``k_D = G D^(1/alpha)`` falls, so the optimum balances the frontiers.
The closed form is :meth:`scalinglaws.laws.frontier.Frontier.balanced_params`:
``N* = (G^alpha alpha^(1/s) C / 6)^(1/(alpha + 1))`` (``s`` the sharpness; no ``alpha^(1/s)`` factor for the
hard max), hence ``N* ~ C^(1/(alpha+1))``, ``D* ~ C^(alpha/(alpha+1))``. For a law with the optimisation
frontier, one pass at ``batch_tokens`` per step (``T = D / batch_tokens``) makes ``k_T`` grow like
``k_D``; the two merge into one frontier and the same closed form holds. ``method="numeric"`` minimises the
fitted loss along the iso-compute line instead (a dense log grid, then golden-section search), for checks.

The plain two-input law also supplies the closed form through ``Law.compute_optimum``, so
:func:`scalinglaws.plan.compute_optimal` gives the same answer; :func:`frontier_optimal` adds the steps
variant and the numeric check. Intervals come from the fit's bootstrap draws, each planned on its own.

Example:
    >>> import numpy as np
    >>> from scalinglaws.fit import fit
    >>> from scalinglaws.laws import get_law
    >>> N = np.repeat([1e8, 3e8, 1e9, 3e9], 4); D = np.tile([2e9, 6e9, 2e10, 6e10], 4)
    >>> truth = np.array([1.7, 400.0, 1.35, 30.0])
    >>> y = get_law("frontier").predict({"params": N, "tokens": D}, truth)
    >>> result = fit({"params": N, "tokens": D, "loss": y}, "frontier")
    >>> closed, numeric = (frontier_optimal(result, 1e22, method=m) for m in ("closed-form", "numeric"))
    >>> f"{closed.params.value:.4g} {numeric.params.value:.4g} {closed.method}"
    '8.161e+09 8.161e+09 closed-form'
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from scalinglaws.errors import PlanError
from scalinglaws.fit.result import FitResult
from scalinglaws.laws.frontier import Frontier
from scalinglaws.plan.compute_optimal import SEARCH_DECADES, ComputePlan, estimate_of

__all__ = ["frontier_optimal"]

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def _law_of(result: FitResult) -> Frontier:
    law = result.law
    if not isinstance(law, Frontier):
        raise PlanError(
            f"frontier_optimal needs a fit of the 'frontier' law; this fit is {law.name!r} "
            "(use scalinglaws.plan.compute_optimal)"
        )
    convention = result.data.get("convention", "6ND")
    if convention != "6ND":
        raise PlanError(
            f"the fit's data use the {convention!r} FLOP convention; planning here assumes C = 6ND"
        )
    return law


def _inputs(
    law: Frontier, n: np.ndarray, compute: float, batch_tokens: float | None
) -> dict[str, np.ndarray]:
    d = compute / (6.0 * n)
    X = {"params": n, "tokens": d}
    if law.steps:
        X["step"] = d / batch_tokens
    return X


def _numeric(
    law: Frontier, compute: float, theta: np.ndarray, batch_tokens: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """``(N*, interior)`` per row of ``theta (B, p)``: grid over log N, then golden-section search."""
    center = 0.5 * np.log10(compute / 6.0)
    log_n = np.linspace(center - SEARCH_DECADES, center + SEARCH_DECADES, 801)
    reducible = np.array(theta, dtype=float, copy=True)
    reducible[:, 0] = 0.0  # E is constant along the line: leaving it out keeps the search's precision

    def loss(u: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            out = np.log(law.predict(_inputs(law, 10.0**u, compute, batch_tokens), reducible))
        return np.where(np.isfinite(out), out, np.inf)

    grid_loss = loss(np.broadcast_to(log_n, (theta.shape[0], log_n.size)))
    idx = np.argmin(grid_loss, axis=-1)
    interior = (idx > 0) & (idx < log_n.size - 1)
    i = np.clip(idx, 1, log_n.size - 2)
    lo, hi = log_n[i - 1], log_n[i + 1]
    x1, x2 = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    f1, f2 = loss(x1[:, None])[:, 0], loss(x2[:, None])[:, 0]
    for _ in range(80):  # the bracket shrinks to 2 h 0.618^80, far below double precision
        left = f1 <= f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x2n = np.where(left, x1, lo + _GOLDEN * (hi - lo))
        x1n = np.where(left, hi - _GOLDEN * (hi - lo), x2)
        new = loss(np.where(left, x1n, x2n)[:, None])[:, 0]
        f2, f1 = np.where(left, f1, new), np.where(left, new, f2)
        x1, x2 = x1n, x2n
    return 10.0 ** (0.5 * (lo + hi)), interior


def _optimum(
    law: Frontier, compute: float, theta: np.ndarray, batch_tokens: float | None, method: str
) -> tuple[np.ndarray, np.ndarray]:
    if method == "closed-form":
        with np.errstate(all="ignore"):
            n = np.ravel(law.balanced_params(np.array(compute), theta, batch_tokens))
        return n, np.isfinite(n) & (n > 0)
    return _numeric(law, compute, theta, batch_tokens)


def frontier_optimal(
    result: FitResult,
    compute: float,
    *,
    level: float | None = None,
    batch_tokens: float | None = None,
    method: Literal["closed-form", "numeric"] = "closed-form",
) -> ComputePlan:
    """The loss-minimising ``(N, D)`` with ``6 N D = compute`` under a fitted ``frontier`` law.

    Args:
        result: a fit of the ``frontier`` law.
        compute: training FLOPs.
        level: central level of the intervals (default: the fit's); intervals need bootstrap draws.
        batch_tokens: tokens per optimisation step, needed when the law has the optimisation frontier
            (one pass: ``T = D / batch_tokens``).
        method: ``"closed-form"`` (balanced frontiers) or ``"numeric"`` (search along the iso-compute line).
    """
    law = _law_of(result)
    if not np.isfinite(compute) or compute <= 0:
        raise PlanError(f"compute must be a positive number of FLOPs, got {compute}")
    if method not in ("closed-form", "numeric"):
        raise PlanError(f"method must be 'closed-form' or 'numeric', got {method!r}")
    if law.steps:
        if batch_tokens is None:
            raise PlanError("this frontier law has an optimisation frontier: give batch_tokens (per step)")
        if not (np.isfinite(batch_tokens) and batch_tokens > 0):
            raise PlanError(f"batch_tokens must be a positive number, got {batch_tokens}")
    has_draws = result.draws is not None and len(result.draws) > 0
    level = (level or result.level) if has_draws else None
    n_opt, ok = _optimum(law, compute, result.theta[None], batch_tokens, method)
    if not ok[0]:
        raise PlanError(f"the fitted law has no interior optimum at C = {compute:.3g} FLOPs")
    d_opt = compute / (6.0 * n_opt)
    point_loss = float(law.predict(_inputs(law, n_opt, compute, batch_tokens), result.theta)[0])
    draw_n = draw_d = draw_l = None
    missing = 0
    if has_draws:
        dn, ok = _optimum(law, compute, result.draws, batch_tokens, method)
        missing = int(np.sum(~ok))
        draw_n = np.where(ok, dn, np.nan)
        draw_d = compute / (6.0 * draw_n)
        safe = np.where(ok, draw_n, 1.0)[:, None]
        with np.errstate(all="ignore"):
            draw_l = law.predict(_inputs(law, safe, compute, batch_tokens), result.draws)[:, 0]
        draw_l = np.where(ok, draw_l, np.nan)
    return ComputePlan(
        compute=float(compute),
        params=estimate_of(n_opt[0], draw_n, level),
        tokens=estimate_of(d_opt[0], draw_d, level),
        loss=estimate_of(point_loss, draw_l, level),
        tokens_per_param=estimate_of(d_opt[0] / n_opt[0], None if draw_n is None else draw_d / draw_n, level),
        level=level,
        method="closed-form" if method == "closed-form" else "numerical",
        convention="6ND",
        draws_without_optimum=missing,
    )
