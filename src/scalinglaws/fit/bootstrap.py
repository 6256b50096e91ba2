"""Bootstrap over clusters of points: resample whole clusters, or flip the signs of their residuals.

Points that share a model size (or a configuration) are not independent evidence about the law (they share
the model's idiosyncrasies), so both schemes treat a cluster as the unit:

* **cluster** (:func:`cluster_weights`, the default): draw clusters with replacement and keep all points
  of a drawn cluster. A resample is a weight per point (how many times its cluster was drawn).
* **wild** (:func:`wild_multipliers`, Cameron, Gelbach & Miller 2008): keep every point, and refit to the
  fitted values plus the residuals times one random multiplier per cluster, ``y* = fit + v_g e_g`` (in the
  fit's residual space). The multipliers are Webb's (2023) six-point weights (mean 0, variance 1, six
  values, so that a handful of clusters still gives many distinct resamples). The residuals ``e_g`` are
  leverage-corrected (:func:`leverage_corrected`, Bell & McCaffrey's CR2, as MacKinnon, Nielsen & Webb
  2023 recommend for few clusters): a fit pulls the law towards every cluster, most towards the clusters
  at the edges of the design, so raw residuals understate the noise there, where extrapolations rest.
  The design stays as it was run: no resample drops configurations, so with few clusters the draws do not
  grow the heavy tails of resamples that happen to lose the extreme sizes. It assumes each cluster's noise
  is symmetric, and it describes the uncertainty of the law *given* the configurations that were run.

Either way all resamples are refitted as one vectorised problem (:func:`scalinglaws.fit.engine.refine_batch`),
warm-started at the point estimate.

Example:
    >>> import numpy as np
    >>> cluster_ids(np.array([1e8, 1.00001e8, 2e8, 4e8, 4e8])).tolist()
    [0, 0, 1, 2, 2]
    >>> w = cluster_weights(np.array([0, 0, 1, 2]), 3, seed=0)
    >>> w.shape, bool(np.all(w[:, 0] == w[:, 1]))
    ((3, 4), True)
    >>> v = wild_multipliers(np.array([0, 0, 1, 2]), 3, seed=0)
    >>> v.shape, bool(np.all(v[:, 0] == v[:, 1])), bool(np.all(np.isin(np.abs(v), np.abs(WEBB_WEIGHTS))))
    ((3, 4), True, True)
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from scalinglaws.fit.objective import Problem

__all__ = [
    "BootstrapMethod",
    "WEBB_WEIGHTS",
    "cluster_ids",
    "cluster_weights",
    "leverage_corrected",
    "wild_multipliers",
    "wild_targets",
]

#: ``"cluster"``: resample clusters with replacement; ``"wild"``: flip the clusters' residuals.
BootstrapMethod = Literal["cluster", "wild"]

#: Webb's six-point distribution: +-sqrt(1/2), +-1, +-sqrt(3/2), each with probability 1/6.
WEBB_WEIGHTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])

#: A cluster's leverage is capped here, so that one the law passes through exactly is scaled at most 10x.
MAX_LEVERAGE = 0.99


def cluster_ids(values: np.ndarray, rtol: float = 1e-3) -> np.ndarray:
    """Group values that agree within ``rtol`` (relative): digitised or rounded sizes of one model.

    Sorted values start a new cluster wherever the relative gap to the previous value exceeds ``rtol``.
    """
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    gaps = np.diff(sorted_vals) > rtol * np.abs(sorted_vals[1:])
    ids_sorted = np.concatenate([[0], np.cumsum(gaps)])
    ids = np.empty_like(ids_sorted)
    ids[order] = ids_sorted
    return ids.astype(int)


def cluster_weights(ids: np.ndarray, n_draws: int, *, seed: int = 0) -> np.ndarray:
    """``(n_draws, n)`` resampling weights: each draw picks as many clusters as exist, with replacement."""
    ids = np.asarray(ids)
    n_clusters = int(ids.max()) + 1
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n_draws)
    return counts[:, ids].astype(float)


def wild_multipliers(ids: np.ndarray, n_draws: int, *, seed: int = 0) -> np.ndarray:
    """``(n_draws, n)`` wild-bootstrap multipliers: one Webb six-point weight per cluster and draw."""
    ids = np.asarray(ids)
    rng = np.random.default_rng(seed)
    per_cluster = rng.choice(WEBB_WEIGHTS, size=(n_draws, int(ids.max()) + 1))
    return per_cluster[:, ids]


def leverage_corrected(
    residuals: np.ndarray, jacobian: np.ndarray, ids: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """Residuals with each cluster's block multiplied by ``(I - H_gg)^(-1/2)`` (CR2, Bell & McCaffrey 2002).

    ``H = W^(1/2) J (J' W J)^+ J' W^(1/2)`` is the hat matrix of the linearised fit (``jacobian`` of the
    residuals at the optimum, ``weights`` the objective's curvature per point: 1 for least squares, 0 for
    points beyond the Huber threshold, which the fit does not absorb), ``H_gg`` its block for cluster ``g``.
    For a linear least-squares fit with homoscedastic noise the corrected residuals have the noise's
    variance; a cluster's leverage is capped at ``MAX_LEVERAGE``.

    Example:
        >>> x = np.array([0.0, 1.0, 2.0, 3.0])
        >>> J = np.column_stack([np.ones(4), x])  # a straight line: the ends have the most leverage
        >>> r = np.array([1.0, -1.0, -1.0, 1.0])
        >>> np.round(leverage_corrected(r, J, np.arange(4)), 3).tolist()
        [1.826, -1.195, -1.195, 1.826]
    """
    w = np.ones_like(residuals) if weights is None else np.asarray(weights, dtype=float)
    jw = jacobian * np.sqrt(w)[:, None]
    u, s, _ = np.linalg.svd(jw, full_matrices=False)
    basis = u[:, s > 1e-10 * max(float(s.max(initial=0.0)), 1e-300)]  # H = basis @ basis.T
    out = np.array(residuals, dtype=float, copy=True)
    for g in np.unique(ids):
        idx = np.flatnonzero(ids == g)
        block = basis[idx] @ basis[idx].T
        lev, vec = np.linalg.eigh(block)
        scale = 1.0 / np.sqrt(1.0 - np.clip(lev, 0.0, MAX_LEVERAGE))
        out[idx] = vec @ (scale * (vec.T @ out[idx]))
    return out


def wild_targets(problem: Problem, theta: np.ndarray, ids: np.ndarray, multipliers: np.ndarray) -> np.ndarray:
    """``(B, n)`` wild-bootstrap targets in ``problem``'s residual space: the fit at ``theta`` plus each
    cluster's leverage-corrected residuals times its multiplier (``multipliers``, ``(B, n)``)."""
    r = problem.residuals(theta)  # fit - observation
    curvature = problem.weights * problem.objective.curvature(r)
    e = -leverage_corrected(r, problem.jacobian_u(theta), ids, curvature)
    return problem.obs + r + multipliers * e
