"""``fit()``: one call from a runs table to a fitted law with intervals and diagnostics.

Example:
    >>> import numpy as np
    >>> from scalinglaws.laws import get_law
    >>> rng = np.random.default_rng(0)
    >>> N = np.repeat([1e8, 3e8, 1e9, 3e9], 4); D = np.tile([2e9, 6e9, 2e10, 6e10], 4)
    >>> truth = np.array([1.7, 400.0, 1500.0, 0.34, 0.30])
    >>> y = get_law("chinchilla").predict({"params": N, "tokens": D}, truth)
    >>> result = fit({"params": N, "tokens": D, "loss": y}, "chinchilla")
    >>> {k: round(v, 4) for k, v in result.params.items()}
    {'E': 1.7, 'A': 400.0, 'B': 1500.0, 'alpha': 0.34, 'beta': 0.3}

Noise of a fixed size (not relative to the loss) is fitted best with residuals in linear space:

    >>> noisy = y + 0.01 * rng.standard_normal(y.size)
    >>> linear = fit({"params": N, "tokens": D, "loss": noisy}, "chinchilla", residuals="linear", loss="l2")
    >>> linear.residual_space, linear.noise["space"]
    ('linear', 'linear')
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from scalinglaws.errors import FitError
from scalinglaws.fit import diagnostics as diag
from scalinglaws.fit.bootstrap import (
    BootstrapMethod,
    cluster_ids,
    cluster_weights,
    wild_multipliers,
    wild_targets,
)
from scalinglaws.fit.engine import (
    Refined,
    grid_thetas,
    initial_search,
    refine_batch,
    refine_lbfgsb,
    select_starts,
)
from scalinglaws.fit.objective import Objective, Problem, ResidualSpace
from scalinglaws.fit.result import FitResult, residual_scale
from scalinglaws.laws import get_law
from scalinglaws.laws.base import Law

__all__ = ["DEFAULT_DELTA", "Method", "arrays_of", "fit", "frame_of", "hash_arrays"]

Method = Literal["varpro", "multistart"]

#: Default Huber threshold, in log loss (relative); in linear space, times the median target.
DEFAULT_DELTA = 1e-3


def frame_of(data: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table to fit and what is known of its provenance (source, exclusions, convention, sha256).

    ``data`` is a validated runs table (its final checkpoint per run), a DataFrame or a dict of arrays.

    Example:
        >>> frame, meta = frame_of({"params": [1e8, 1e9], "loss": [3.1, 2.7]})
        >>> frame.shape, meta["source"]
        ((2, 2), '<in-memory>')
    """
    if hasattr(data, "table") and hasattr(data, "source"):  # a validated Runs / Evals table
        runs = data.final() if hasattr(data, "final") else data
        excluded = getattr(data, "excluded", None)
        exclusions = []
        if excluded is not None and len(excluded):
            keep = [c for c in ("run", "params", "tokens", "loss", "reason") if c in excluded.columns]
            exclusions = excluded[keep].to_dict(orient="records")
        meta = {
            "source": data.source,
            "convention": getattr(data, "convention", "6ND"),
            "exclusions": exclusions,
            "sha256": data.data_hash() if hasattr(data, "data_hash") else None,
        }
        return runs.table, meta
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, Mapping):
        frame = pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in data.items()})
    else:
        raise FitError(f"cannot fit data of type {type(data).__name__}: pass a Runs table, DataFrame or dict")
    return frame, {"source": "<in-memory>", "convention": "6ND", "exclusions": [], "sha256": None}


def arrays_of(
    frame: pd.DataFrame, law: Law, target: str, source: str, space: ResidualSpace | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The law's input columns and the target of ``frame`` as float arrays, checked.

    Inputs must be finite and positive, and so must the target when residuals are in log ``space``
    (default: the law's own); :class:`~scalinglaws.errors.FitError` names the bad rows.

    Example:
        >>> from scalinglaws.laws import get_law
        >>> frame = pd.DataFrame({"flops": [1e18, 1e19], "loss": [3.0, 2.8]})
        >>> X, y = arrays_of(frame, get_law("power"), "loss", "<doc>")
        >>> sorted(X), y.tolist()
        (['flops'], [3.0, 2.8])
    """
    missing = [c for c in (*law.inputs, target) if c not in frame.columns]
    if missing:
        raise FitError(
            f"{source}: law {law.name!r} needs column(s) {missing}; the data has {list(frame.columns)}"
        )
    X = {}
    for c in (*law.inputs, target):
        values = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
        must_be_positive = c != target or (space or law.target) == "log"
        bad = np.flatnonzero(~np.isfinite(values) | ((values <= 0) if must_be_positive else False))
        if bad.size:
            rows = ", ".join(str(i + 1) for i in bad[:10])
            raise FitError(f"{source}: column {c!r} needs finite positive values; bad rows {rows}")
        X[c] = values
    y = X.pop(target)
    return X, y


def hash_arrays(X: Mapping[str, np.ndarray], y: np.ndarray) -> str:
    """SHA-256 of the inputs (by name) and the target, as little-endian float64: the data's identity
    when no file hash is known.

    Example:
        >>> len(hash_arrays({"flops": np.array([1e18])}, np.array([3.0])))
        64
    """
    h = hashlib.sha256()
    for k in sorted(X):
        h.update(k.encode())
        h.update(np.ascontiguousarray(X[k], dtype="<f8").tobytes())
    h.update(np.ascontiguousarray(y, dtype="<f8").tobytes())
    return h.hexdigest()


def _classic_starts(problem: Problem) -> np.ndarray:
    """Every combination of a few values per parameter, like Hoffmann et al.'s start grid (amplitudes from
    e^-1 to e^25, five values of each exponent)."""
    law = problem.law
    axes = []
    for p in law.params:
        if p.linear:
            axes.append(np.exp([-1.0, 0.0, 1.0, 5.0, 15.0, 25.0]) if p.log_scale else np.linspace(0, 1, 3))
        else:
            axes.append(np.array(p.grid)[:: max(1, len(p.grid) // 5)])
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=-1)


def fit(
    data: Any,
    law: str | Law = "chinchilla",
    *,
    target: str = "loss",
    loss: Literal["huber", "l2"] = "huber",
    delta: float | None = None,
    residuals: ResidualSpace | None = None,
    method: Method = "varpro",
    n_starts: int = 5,
    bootstrap: int = 0,
    bootstrap_method: BootstrapMethod = "cluster",
    seed: int = 0,
    cluster_by: str | None = None,
    level: float = 0.95,
    law_options: Mapping[str, str] | None = None,
) -> FitResult:
    """Fit ``law`` to ``data`` robustly, with optional bootstrap intervals over clusters of points.

    Args:
        data: a validated runs table (``scalinglaws.data``), a DataFrame or a dict of arrays; runs tables
            contribute their final checkpoint per run, their exclusions and their FLOP convention.
        law: a registered law name or a :class:`~scalinglaws.laws.Law`.
        target: the column to predict (``loss``; an accuracy column for metric laws).
        loss: ``"huber"`` (robust) or ``"l2"`` (least squares), on the residuals in ``residuals`` space.
        delta: the Huber threshold, in residual units (default ``DEFAULT_DELTA`` = 1e-3 in the law's own
            space; for linear residuals of a loss law, 1e-3 times the median loss: the same relative
            threshold at a typical loss). The value used is recorded in ``objective["delta"]``.
        residuals: the noise model. ``"log"``: residual ``log(pred) - log(y)``, noise relative to the loss
            (the default for loss laws, robust across losses of different sizes); ``"linear"``:
            ``pred - y``, noise of a fixed size (the default for metric laws; the efficient fit when the
            noise added to a loss does not scale with it). None: the law's own
            (:attr:`~scalinglaws.laws.Law.target`). Recorded in ``objective["residuals"]``.
        method: ``"varpro"`` (dense grid over the nonlinear parameters with the linear ones solved exactly,
            then refinement of the best ``n_starts``) or ``"multistart"`` (refine from every point of a
            coarse grid over all parameters, the classic approach: slower, for cross-checks).
        n_starts: how many distinct grid points are refined.
        bootstrap: number of bootstrap resamples (0: none).
        bootstrap_method: ``"cluster"`` (resample clusters with replacement) or ``"wild"`` (keep every
            point, multiply each cluster's residuals by a random weight: the design stays as run); see
            :mod:`scalinglaws.fit.bootstrap`.
        seed: seed of the bootstrap (the fit itself is deterministic).
        cluster_by: column whose (approximately) equal values form one bootstrap cluster (default:
            ``params`` when the law uses it, else the law's first input; a configuration id groups the
            runs of one configuration).
        level: default central level of reported intervals.
        law_options: constructor options of the law (such as ``x="params"`` for ``power``).
    """
    law_obj = law if isinstance(law, Law) else get_law(law, **(law_options or {}))
    space: ResidualSpace = residuals or law_obj.target
    if space not in ("log", "linear"):
        raise FitError(f"unknown residual space {residuals!r}; use 'log' or 'linear'")
    if bootstrap_method not in ("cluster", "wild"):
        raise FitError(f"unknown bootstrap method {bootstrap_method!r}; use 'cluster' or 'wild'")
    if bootstrap < 0:
        raise FitError("bootstrap must be >= 0")
    frame, meta = frame_of(data)
    X, y = arrays_of(frame, law_obj, target, meta["source"], space)
    if delta is None:
        scaled = space == "linear" and law_obj.target == "log"
        delta = DEFAULT_DELTA * float(np.median(np.abs(y))) if scaled else DEFAULT_DELTA
    objective = Objective(loss, delta)
    problem = Problem(law_obj, X, y, objective, space=space)

    if method == "varpro":
        thetas, values = initial_search(problem)
        starts = select_starts(thetas, values, n_starts)
    elif method == "multistart":
        starts = _classic_starts(problem)
    else:
        raise FitError(f"unknown method {method!r}; use 'varpro' or 'multistart'")

    refined = _refine_starts(problem, starts)
    best = min(refined, key=lambda r: (not np.isfinite(r.value), r.value))
    if not np.isfinite(best.value):
        raise FitError(f"{meta['source']}: no start reached a finite objective for law {law_obj.name!r}")

    cluster_col = cluster_by or ("params" if "params" in X else law_obj.inputs[0])
    if cluster_col not in frame.columns:
        raise FitError(f"{meta['source']}: cluster column {cluster_col!r} is not in the data")
    clusters = cluster_ids(pd.to_numeric(frame[cluster_col]).to_numpy(dtype=float))
    n_clusters = int(clusters.max()) + 1

    fitted_residuals = problem.residuals(best.theta)
    findings = [
        *diag.check_convergence(best),
        *diag.check_bounds(law_obj, best.theta),
        *diag.check_multistart(law_obj, refined),
        *diag.check_identifiable(law_obj, X, n_clusters),
        *diag.check_residuals(law_obj, X, fitted_residuals),
    ]

    draws = draws_ok = None
    if bootstrap:
        warm = np.repeat(best.theta[None], bootstrap, 0)
        if bootstrap_method == "wild":
            v = wild_multipliers(clusters, bootstrap, seed=seed)
            obs = wild_targets(problem, best.theta, clusters, v)
            draws, _, draws_ok, _ = refine_batch(problem, warm, np.ones_like(v), obs=obs)
        else:
            weights = cluster_weights(clusters, bootstrap, seed=seed)
            draws, _, draws_ok, _ = refine_batch(problem, warm, weights)
        failed = int(np.sum(~draws_ok))
        if failed:
            findings.append(
                diag.Diagnostic(
                    "bootstrap_not_converged",
                    "warning" if failed < 0.05 * bootstrap else "error",
                    f"{failed} of {bootstrap} bootstrap refits did not converge",
                )
            )

    return FitResult(
        law=law_obj,
        theta=best.theta,
        objective={"kind": loss, "delta": delta, "value": best.value, "residuals": space},
        settings={
            "method": method,
            "n_starts": len(starts),
            "grid_points": int(len(grid_thetas(problem))) if method == "varpro" else len(starts),
            "bootstrap": bootstrap,
            "bootstrap_method": bootstrap_method,
            "seed": seed,
            "cluster_by": cluster_col,
            "n_clusters": n_clusters,
            "level": level,
            "target": target,
            "residual_scale": residual_scale(law_obj, X, fitted_residuals, space),
        },
        data={
            "source": meta["source"],
            "sha256": meta["sha256"] or hash_arrays(X, y),
            "n_points": int(y.size),
            "n_excluded": len(meta["exclusions"]),
            "exclusions": meta["exclusions"],
            "convention": meta["convention"],
            "ranges": {k: [float(v.min()), float(v.max())] for k, v in X.items()},
            "target_range": [float(y.min()), float(y.max())],
        },
        diagnostics=tuple(findings),
        draws=draws,
        draws_converged=draws_ok,
        starts=tuple(
            {"theta": r.theta.tolist(), "value": r.value, "converged": r.converged} for r in refined
        ),
    )


def _refine_starts(problem: Problem, starts: np.ndarray) -> list[Refined]:
    """Refine every start at once (vectorised), then polish the best with L-BFGS-B and keep the better."""
    ones = np.ones((len(starts), problem.y.size))
    thetas, values, ok, iters = refine_batch(problem, starts, ones)
    refined = [
        Refined(t, float(v), bool(c), int(i), "batched Levenberg-Marquardt on the Huber objective")
        for t, v, c, i in zip(thetas, values, ok, iters, strict=True)
    ]
    idx = int(np.argmin(np.where(np.isfinite(values), values, np.inf)))
    best = refined[idx]
    if np.isfinite(best.value):
        polished = refine_lbfgsb(problem, best.theta)
        if polished.value <= best.value:
            refined[idx] = Refined(
                polished.theta, polished.value, best.converged or polished.converged,
                best.iterations + polished.iterations, f"{best.message}, polished by L-BFGS-B",
            )
    return refined
