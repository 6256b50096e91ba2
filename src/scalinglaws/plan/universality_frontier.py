"""The compute-optimal frontier at the optimal shape, from a fit of the universality law, beside Chinchilla's.

At the optimal shape the width and depth terms add up to ``c_N N^-alpha_N`` (``alpha_N = 1/3`` for the
universality exponents; :func:`~scalinglaws.laws.universality.shape_power_law`), so under ``C = 6 N D`` with
``N = 12 m^2 l`` the loss is Chinchilla's law with ``A = c_N``, ``B = c_D``, ``alpha = alpha_N``,
``beta = a_D``. For the universality class (exponents 1, 1, 1/3):

* ``D*/N* = (c_D / c_N)^3``: the tokens per parameter are set by the coefficients alone, for every budget;
* ``N* = (C/6)^(1/2) (c_N/c_D)^(3/2)``, ``D* = (C/6)^(1/2) (c_D/c_N)^(3/2)``;
* ``L* = L0 + 2 (c_N c_D)^(1/2) (C/6)^(-1/6)``: the reducible loss falls as ``C^(-1/6)``;
* the optimal aspect ratio ``m/l = c_m / (2 c_l)`` is the same at every budget.

:func:`shape_optimal` plans one budget (a :class:`ShapePlan`: a :class:`~scalinglaws.plan.ComputePlan` with
the width, depth and aspect ratio added); :func:`frontier_relations` gives the relations above with intervals;
:func:`compare_frontiers` plans the same budgets with a Chinchilla-law fit beside it. Parameter counts here
are non-embedding (``12 m^2 l``), as in the paper; Chinchilla's published counts include embeddings.

Example:
    >>> import numpy as np
    >>> from scalinglaws.fit import fit
    >>> m = np.repeat([512.0, 1024, 2048], 9); l = np.tile(np.repeat([8.0, 16, 32], 3), 3)
    >>> D = np.tile([1e9, 1e10, 1e11], 9)
    >>> y = 1.7 + 300 / m + 2.0 / l + 500 / D ** (1 / 3)
    >>> result = fit({"width": m, "depth": l, "tokens": D, "loss": y}, "universality")
    >>> plan = shape_optimal(result, 1e22)
    >>> round(plan.width.value), round(plan.depth.value, 1)
    (4433, 59.1)
    >>> f"{plan.params.value:.3g} params, {plan.tokens.value:.3g} tokens"
    '1.39e+10 params, 1.2e+11 tokens'
    >>> rel = frontier_relations(result)
    >>> r = rel
    >>> round(r.tokens_per_param.value, 2), round(r.loss_exponent.value, 4), round(r.aspect_ratio.value, 1)
    (8.57, 0.1667, 75.0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from scalinglaws.errors import PlanError
from scalinglaws.fit.result import FitResult
from scalinglaws.laws.universality import PARAMS_PER_LAYER, TERMS, Universality, shape_power_law
from scalinglaws.plan.compute_optimal import ComputePlan, Estimate, compute_optimal, estimate_of
from scalinglaws.plan.shape import _Coefs, _law_of, _rows, aspect_ratio_range, snap_shape

__all__ = [
    "FrontierRelations",
    "ShapePlan",
    "compare_frontiers",
    "describe_comparison",
    "frontier_relations",
    "shape_optimal",
]

#: Convention label of the shape plans: C = 6 N D with the non-embedding count N = 12 m^2 l.
CONVENTION = "6ND, N = 12 m^2 l"


@dataclass(frozen=True, slots=True)
class ShapePlan(ComputePlan):
    """A :class:`~scalinglaws.plan.ComputePlan` at the optimal (or snapped) shape.

    Attributes (beyond ComputePlan's ``params``, ``tokens``, ``loss``, ``tokens_per_param``):
        width, depth, aspect_ratio: the shape, with intervals from the bootstrap draws (exact when snapped).
        aspect_range: the aspect ratios within ``tolerance`` (5%) of the reducible loss at this size.
        heads: attention heads of a snapped shape.
        snapped: whether the shape was snapped to practical sizes.
    """

    width: Estimate | None = None
    depth: Estimate | None = None
    aspect_ratio: Estimate | None = None
    aspect_range: tuple[float, float] | None = None
    tolerance: float = 0.05
    heads: int | None = None
    snapped: bool = False

    def describe(self) -> str:
        """A few lines for people."""
        band = f" ({self.level:.0%} intervals)" if self.level else ""
        lines = [f"compute-optimal shape for C = {self.compute:.3g} FLOPs ({self.convention}){band}:"]
        heads = f"  ({self.heads} heads)" if self.heads else ""
        what = "snapped" if self.snapped else "optimal"
        lines += [
            f"  width            {self.width}{heads}",
            f"  depth            {self.depth}",
            f"  aspect ratio     {self.aspect_ratio}  ({what})",
        ]
        if self.aspect_range is not None:
            lo, hi = self.aspect_range
            lines.append(
                f"  m/l within {self.tolerance:.0%}   {lo:.3g} to {hi:.3g} (of the reducible loss at this N)"
            )
        lines += [
            f"  params           {self.params}",
            f"  tokens           {self.tokens}",
            f"  tokens/param     {self.tokens_per_param}",
            f"  loss             {self.loss}",
        ]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class FrontierRelations:
    """The frontier's relations with intervals (see the module docstring).

    Attributes:
        c_N, alpha_N: the shape-optimal size term ``c_N N^-alpha_N``.
        c_D, a_D: the data term ``c_D D^-a_D``.
        tokens_per_param: ``D*/N*``: constant when ``alpha_N = a_D`` (the universality class), else at ``C``.
        params_exponent, tokens_exponent: ``N* ~ C^a``, ``D* ~ C^b`` (1/2 and 1/2 in the class).
        loss_exponent: ``L* - L0 ~ C^-gamma``, ``gamma = alpha_N a_D / (alpha_N + a_D)`` (1/6 in the class).
        aspect_ratio: the optimal ``m/l``, at ``params`` (the same at every size when ``a_m = a_l``).
        compute, params: where the size-dependent quantities were evaluated.
    """

    c_N: Estimate
    alpha_N: Estimate
    c_D: Estimate
    a_D: Estimate
    tokens_per_param: Estimate
    params_exponent: Estimate
    tokens_exponent: Estimate
    loss_exponent: Estimate
    aspect_ratio: Estimate
    compute: float
    params: float
    level: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _frontier_law(result: FitResult) -> Universality:
    law = _law_of(result)
    if law.terms != TERMS or law.time != "tokens":
        raise PlanError(
            "the compute frontier needs a universality law with width, depth and time-on-tokens terms "
            f"(this one has terms {','.join(law.terms)} on {law.time})"
        )
    convention = result.data.get("convention", "6ND")
    if convention != "6ND":
        raise PlanError(
            f"the fit's data use the {convention!r} FLOP convention; planning here assumes C = 6ND"
        )
    return law


def _check_compute(compute: float) -> float:
    if (
        isinstance(compute, bool)
        or not isinstance(compute, int | float | np.number)
        or not (np.isfinite(compute) and compute > 0)
    ):
        raise PlanError(f"compute must be a positive number of FLOPs, got {compute!r}")
    return float(compute)


def _optimal_runs(law: Universality, theta: np.ndarray, compute: float) -> tuple[np.ndarray, ...]:
    """``(width, depth, N, D, loss)`` per row of ``theta (R, p)`` at one budget."""
    closed = law.compute_optimum(np.array(compute), theta)
    co = _Coefs(law, theta)
    if closed is not None:
        n = np.ravel(closed[0])
        s = shape_power_law(co.c_m, co.a_m, co.c_l, co.a_l)
        m = s["k"] * n ** s["p"]
        ell = n / (PARAMS_PER_LAYER * m * m)
    else:  # depth offset: minimise over (log m, log(l - offset)) per row, from the offset-free solution
        m, ell = np.empty(len(theta)), np.empty(len(theta))
        for r, row in enumerate(theta):
            c = _Coefs(law, row[None])
            s = shape_power_law(c.c_m, c.a_m, c.c_l, c.a_l)
            g = (s["alpha_N"] * s["c_N"] / (c.time[1] * c.time[0])) ** (1.0 / (s["alpha_N"] + c.time[1]))
            n0 = g * (compute / 6.0) ** (c.time[1] / (s["alpha_N"] + c.time[1]))
            m0 = s["k"] * n0 ** s["p"]
            l0 = n0 / (PARAMS_PER_LAYER * m0 * m0)

            def total(u: np.ndarray, c: _Coefs = c) -> float:
                mm, dd = math.exp(u[0]), math.exp(u[1])
                ll = dd + c.offset
                tokens = compute / (6.0 * PARAMS_PER_LAYER * mm * mm * ll)
                return float(
                    c.shape_loss(np.array([mm]), np.array([ll]))[0] + c.time[0][0] * tokens ** -c.time[1][0]
                )

            res = minimize(total, np.array([np.log(m0[0]), np.log(l0[0])]), method="Nelder-Mead",
                           options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000})  # fmt: skip
            m[r], ell[r] = math.exp(res.x[0]), math.exp(res.x[1]) + law.depth_offset
        n = PARAMS_PER_LAYER * m * m * ell
    d = compute / (6.0 * n)
    loss = co.floor + co.shape_loss(m, ell) + co.time[0] * d ** -co.time[1]
    return m, ell, n, d, loss


def shape_optimal(
    result: FitResult,
    compute: float,
    *,
    level: float | None = None,
    tolerance: float = 0.05,
    width_multiple: int | None = None,
    head_dim: int | None = None,
    heads: int | None = None,
) -> ShapePlan:
    """The compute-optimal run at the optimal shape: width, depth, params, tokens and loss with intervals.

    Args:
        result: a fit of the universality law with width, depth and time-on-tokens terms.
        compute: training FLOPs (``C = 6 N D``, ``N = 12 m^2 l``).
        level: central level of the intervals (default: the fit's); intervals need bootstrap draws.
        tolerance: the loss tolerance of the reported range of aspect ratios (fraction of the reducible loss).
        width_multiple, head_dim, heads: snap to a practical shape (width a multiple of ``width_multiple``,
            and of ``head_dim`` or divisible by ``heads``; integer depth), the one with the least loss at this
            compute (:func:`~scalinglaws.plan.shape.snap_shape`); tokens are what the budget leaves.
    """
    law = _frontier_law(result)
    compute = _check_compute(compute)
    theta, has = _rows(result)
    level = (level or result.level) if has else None
    m, ell, n, d, loss = _optimal_runs(law, theta, compute)
    if not np.isfinite(n[0]):
        raise PlanError(f"the fitted law has no interior optimum at C = {compute:.3g} FLOPs")
    ok = np.isfinite(n) & (n > 0)

    def est(values: np.ndarray) -> Estimate:
        return estimate_of(float(values[0]), np.where(ok, values, np.nan)[1:] if has else None, level)

    lo, hi = aspect_ratio_range(result, float(n[0]), tolerance=tolerance, level=level)
    method = (
        "closed-form" if law.compute_optimum(np.array(compute), result.theta) is not None else "numerical"
    )
    snapping = width_multiple is not None or head_dim is not None or heads is not None
    if not snapping:
        return ShapePlan(
            compute=compute, params=est(n), tokens=est(d), loss=est(loss), tokens_per_param=est(d / n),
            level=level, method=method, convention=CONVENTION, draws_without_optimum=int(np.sum(~ok[1:])),
            width=est(m), depth=est(ell), aspect_ratio=est(m / ell), aspect_range=(lo.value, hi.value),
            tolerance=tolerance,
        )  # fmt: skip
    shape = snap_shape(
        result, compute=compute, multiple=width_multiple or 1, head_dim=head_dim, heads=heads, level=level
    )
    n_s = shape.params
    d_s = compute / (6.0 * n_s)
    co = _Coefs(law, theta)
    loss_s = co.floor + co.shape_loss(
        np.full(len(theta), shape.width.value), np.full(len(theta), shape.depth.value)
    )
    loss_s = loss_s + co.time[0] * d_s ** -co.time[1]
    return ShapePlan(
        compute=compute, params=Estimate(n_s), tokens=Estimate(d_s), loss=est(loss_s),
        tokens_per_param=Estimate(d_s / n_s), level=level, method="snapped", convention=CONVENTION,
        draws_without_optimum=0, width=shape.width, depth=shape.depth, aspect_ratio=shape.aspect_ratio,
        aspect_range=(lo.value, hi.value), tolerance=tolerance, heads=shape.heads, snapped=True,
    )  # fmt: skip


def frontier_relations(
    result: FitResult, *, compute: float = 1e22, params: float = 1e9, level: float | None = None
) -> FrontierRelations:
    """``c_N``, ``alpha_N``, ``D*/N*``, the exponents of ``N*``, ``D*`` and ``L* - L0`` in ``C``, and the
    optimal aspect ratio, with intervals from the draws. ``D*/N*`` is evaluated at ``compute`` and the aspect
    ratio at ``params`` (both are constants in the universality class)."""
    law = _frontier_law(result)
    compute = _check_compute(compute)
    theta, has = _rows(result)
    level = (level or result.level) if has else None
    co = _Coefs(law, theta)
    s = shape_power_law(co.c_m, co.a_m, co.c_l, co.a_l)
    alpha, (c_d, beta) = s["alpha_N"], co.time
    m, ell, n, d, _ = _optimal_runs(law, theta, compute)
    m_p = s["k"] * params ** s["p"]
    l_p = params / (PARAMS_PER_LAYER * m_p * m_p)
    if law.depth_offset:  # the aspect ratio at ``params`` needs the numerical shape optimum
        from scalinglaws.plan.shape import optimal_shape

        shape = optimal_shape(result, params, level=level)
        aspect = shape.aspect_ratio
    else:
        aspect = estimate_of(float((m_p / l_p)[0]), (m_p / l_p)[1:] if has else None, level)

    def est(values: np.ndarray) -> Estimate:
        values = np.broadcast_to(values, (len(theta),))
        return estimate_of(float(values[0]), values[1:] if has else None, level)

    return FrontierRelations(
        c_N=est(s["c_N"]), alpha_N=est(alpha), c_D=est(c_d), a_D=est(beta), tokens_per_param=est(d / n),
        params_exponent=est(beta / (alpha + beta)), tokens_exponent=est(alpha / (alpha + beta)),
        loss_exponent=est(alpha * beta / (alpha + beta)), aspect_ratio=aspect, compute=compute,
        params=float(params), level=level,
    )  # fmt: skip


def compare_frontiers(
    universality: FitResult, chinchilla: FitResult, computes: Any, *, level: float | None = None
) -> list[dict[str, Any]]:
    """Plan each budget with both fits: one row per budget with the shape plan and the Chinchilla-law plan.

    Returns ``[{"compute", "universality": ShapePlan, "chinchilla": ComputePlan}, ...]``; print it with
    :func:`describe_comparison`.
    """
    rows = []
    for c in np.atleast_1d(np.asarray(computes, dtype=float)):
        rows.append(
            {
                "compute": float(c),
                "universality": shape_optimal(universality, float(c), level=level),
                "chinchilla": compute_optimal(chinchilla, float(c), level=level),
            }
        )
    return rows


def describe_comparison(rows: list[dict[str, Any]]) -> str:
    """The rows of :func:`compare_frontiers` as a table for people."""
    head = f"{'C (FLOPs)':>10}  {'law':<12} {'params':>26} {'tokens':>26} {'D/N':>7} {'loss':>24}  shape"
    lines = [head, "-" * len(head)]
    for row in rows:
        for name in ("universality", "chinchilla"):
            p = row[name]
            shape = (
                f"{p.width.value:.0f} x {p.depth.value:.1f} (m/l {p.aspect_ratio.value:.0f})"
                if name == ("universality")
                else ""
            )
            lines.append(
                f"{row['compute']:>10.3g}  {name:<12} {_short(p.params):>26} {_short(p.tokens):>26} "
                f"{p.tokens_per_param.value:>7.1f} {_short(p.loss, 4):>24}  {shape}"
            )
    lines.append(
        "params: universality counts 12 m^2 l (non-embedding); chinchilla counts what its data count"
    )
    return "\n".join(lines)


def _short(e: Estimate, digits: int = 3) -> str:
    if e.lo is None:
        return f"{e.value:.{digits}g}"
    return f"{e.value:.{digits}g} [{e.lo:.{digits}g}, {e.hi:.{digits}g}]"
