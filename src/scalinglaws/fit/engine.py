"""The fitting engine: dense search over the nonlinear parameters with the linear ones solved exactly
(variable projection), then bounded refinement of every parameter on the exact objective.

Two refiners share the :class:`~scalinglaws.fit.objective.Problem`:

* :func:`refine_lbfgsb`: scipy's L-BFGS-B with the analytic gradient, for the point fit;
* :func:`refine_batch`: a vectorised Levenberg-Marquardt whose curvature is the Gauss-Newton curvature of
  the Huber loss (points inside delta), damped by the IRLS curvature (all points, down-weighted beyond
  delta); it refits many weightings (or resampled targets) of the data at once: the multi-start
  refinement and the bootstrap.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from scalinglaws.errors import FitError
from scalinglaws.fit.objective import Problem

__all__ = ["Refined", "grid_thetas", "initial_search", "refine_batch", "refine_lbfgsb", "select_starts"]

#: Largest number of grid points the initial search evaluates at once (memory stays ~100 MB).
GRID_CHUNK = 4096


@dataclass(frozen=True, slots=True)
class Refined:
    """Outcome of one local refinement."""

    theta: np.ndarray
    value: float
    converged: bool
    iterations: int
    message: str


def grid_thetas(problem: Problem) -> np.ndarray:
    """Cartesian product of the nonlinear parameters' grids, linear entries zero: ``(G, p)``."""
    law = problem.law
    nonlin = law.nonlinear_index
    grids = [law.params[i].grid for i in nonlin]
    combos = list(itertools.product(*grids))  # one empty combination when every parameter is linear
    points = np.array(combos, dtype=float).reshape(len(combos), len(nonlin))
    thetas = np.zeros((points.shape[0], len(law.params)))
    thetas[:, nonlin] = points
    return thetas


def initial_search(problem: Problem, thetas: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Score every grid point with its linear parameters solved exactly; returns (thetas, objective)."""
    thetas = grid_thetas(problem) if thetas is None else thetas
    law = problem.law
    out_t, out_v = [], []
    for start in range(0, thetas.shape[0], GRID_CHUNK):
        chunk = thetas[start : start + GRID_CHUNK]
        with np.errstate(all="ignore"):
            if len(law.linear_index):
                chunk = law.solve_linear(problem.X, problem.y, chunk, problem.weights, problem.space)
            values = problem.value(chunk)
        values[~np.all(np.isfinite(chunk), axis=1)] = np.inf
        out_t.append(chunk)
        out_v.append(values)
    return np.concatenate(out_t), np.concatenate(out_v)


def select_starts(thetas: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` best finite grid points, skipping near-duplicates of points already chosen."""
    order = np.argsort(values, kind="stable")
    order = order[np.isfinite(values[order])]
    if order.size == 0:
        raise FitError("the objective is not finite at any grid point: check the data and the law")
    chosen: list[int] = []
    for i in order:
        if all(not np.allclose(thetas[i], thetas[j], rtol=1e-6, atol=1e-12) for j in chosen):
            chosen.append(i)
        if len(chosen) == n:
            break
    return thetas[chosen]


def refine_lbfgsb(problem: Problem, theta0: np.ndarray, *, max_iter: int = 2000) -> Refined:
    """Bounded quasi-Newton refinement of all parameters from ``theta0`` on the exact objective."""
    u0 = problem.clip_u(problem.to_u(theta0))
    bounds = [
        (None if not np.isfinite(lo) else lo, None if not np.isfinite(hi) else hi)
        for lo, hi in zip(problem.u_lower, problem.u_upper, strict=True)
    ]
    with np.errstate(all="ignore"):
        res = minimize(
            problem.value_and_grad_u,
            u0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 20},
        )
    message = res.message if isinstance(res.message, str) else res.message.decode()
    # L-BFGS-B stops on "abnormal line search" at a kink of the Huber loss: that is a solution, the
    # gradient there is as small as the kink allows. Treat it as converged when the gradient is small.
    small_grad = bool(np.max(np.abs(res.jac)) < 1e-6) if np.all(np.isfinite(res.jac)) else False
    return Refined(
        theta=problem.to_theta(res.x),
        value=float(res.fun),
        converged=bool(res.success) or small_grad,
        iterations=int(res.nit),
        message=message,
    )


def refine_batch(
    problem: Problem,
    theta0: np.ndarray,
    weights: np.ndarray,
    *,
    obs: np.ndarray | None = None,
    max_iter: int = 200,
    rtol: float = 1e-10,
) -> tuple[np.ndarray, ...]:
    """Refit ``B`` weightings of the data at once, each from its row of ``theta0``.

    ``obs`` (``(B, n)``, in the problem's residual space, :meth:`Problem.to_obs`) gives each row its own
    targets (the wild bootstrap); by default every row fits the problem's data. Levenberg-Marquardt steps
    (Huber Gauss-Newton curvature, IRLS damping), with a damping per row that grows on rejected steps and
    shrinks on accepted ones, within bounds. Returns ``(thetas, values, converged, iterations)``.
    """
    obj = problem.objective
    u = problem.clip_u(problem.to_u(np.array(theta0, dtype=float)))
    n_rows, p = u.shape
    damping = np.full(n_rows, 1e-3)
    values = problem.value(problem.to_theta(u), weights, obs)
    done = np.zeros(n_rows, dtype=bool)
    stall = np.zeros(n_rows, dtype=int)
    iterations = np.zeros(n_rows, dtype=int)
    eye = np.eye(p)
    for _ in range(max_iter):
        active = ~done
        if not active.any():
            break
        iterations[active] += 1
        ua, wa = u[active], weights[active]
        oa = None if obs is None else obs[active]
        theta = problem.to_theta(ua)
        with np.errstate(all="ignore"):
            pred = problem.law.predict(problem.X, theta)
            r = problem.residuals_from(pred, oa)
            jac = problem.jacobian_u(theta, pred)
            jt = jac.transpose(0, 2, 1)
            grad = (jt @ (wa * obj.psi(r))[..., None])[..., 0]
            # Gauss-Newton curvature of the robust loss (points inside the Huber zone), damped by
            # the IRLS curvature (every point, down-weighted beyond delta) so that steps stay safe.
            hess = jt @ (jac * (wa * obj.curvature(r))[..., None])
            irls = jt @ (jac * (wa * obj.irls_weight(r))[..., None])
            diag = np.einsum("bpp->bp", irls)
            lhs = hess + damping[active, None, None] * (diag[:, :, None] * eye + 1e-12 * eye)
            try:
                step = -np.linalg.solve(lhs, grad[..., None])[..., 0]
            except np.linalg.LinAlgError:
                step = -np.einsum("bpq,bq->bp", np.linalg.pinv(lhs), grad)
            cand = problem.clip_u(ua + step)
            cand_values = problem.value(problem.to_theta(cand), wa, oa)
        old = values[active]
        accept = np.isfinite(cand_values) & (cand_values <= old)
        idx = np.flatnonzero(active)
        u[idx[accept]] = cand[accept]
        values[idx[accept]] = cand_values[accept]
        damping[idx] = np.where(accept, damping[idx] / 3.0, damping[idx] * 4.0)
        small = (old - np.where(accept, cand_values, old)) <= rtol * np.maximum(np.abs(old), 1e-300)
        stall[idx] = np.where(small, stall[idx] + 1, 0)
        done[idx] = (stall[idx] >= 3) & (damping[idx] < 1e3) | (damping[idx] > 1e12)
    converged = done & (damping < 1e12)
    return problem.to_theta(u), values, converged, iterations
