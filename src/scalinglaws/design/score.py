"""Score a planned design before running it: simulate it many times from a law and see what it would tell.

For each simulation the design's runs are drawn from the true law (a fit's point estimate, or a law and
parameters you state) with the data's run-to-run noise (normal in the fit's residual space: log loss by
default, loss units for ``residuals="linear"``; the fit's :attr:`~scalinglaws.fit.FitResult.noise` unless
given), the law is refitted the way the truth was fitted (loss, residual space, bootstrap method), and
the quantities you care about are read off the refit: the compute-optimal ``N*``, ``D*`` and ``L*`` at target
budgets, and the loss at planned configurations. Over the simulations each gets its bias, RMSE, the coverage
of its interval and the interval's median width. Compare designs under the same truth, noise and seed.

``truth_from="draws"`` takes each simulation's truth from a different bootstrap draw of the fit (errors are
measured against that simulation's own truth): the expected error over what the fit still allows, rather
than at its point estimate.

Example:
    >>> from scalinglaws.design import iso_cost_sweep
    >>> design = iso_cost_sweep([1e17, 1e18, 1e19], sizes_per_budget=5, half_width=1.0)
    >>> truth = ("chinchilla", {"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.348, "beta": 0.366})
    >>> score = score_design(design, truth, noise=0.01, target_compute=[1e22], simulations=8,
    ...                      bootstrap=40, seed=0)
    >>> score.table[["quantity", "unit"]].values.tolist()
    [['N*', 'decades'], ['D*', 'decades'], ['L*', 'loss']]
    >>> bool(score.table["rmse"].iloc[0] < 0.3)
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.cost import CostLaw
from scalinglaws.design.layout import Design, DesignError
from scalinglaws.errors import ScalingLawsError
from scalinglaws.fit.result import FitResult
from scalinglaws.laws import get_law
from scalinglaws.laws.base import Law

__all__ = ["DesignScore", "resolve_truth", "score_design", "simulate_losses", "true_optimum"]


def simulate_losses(
    law: Law,
    theta: np.ndarray,
    X: Mapping[str, np.ndarray],
    noise: float,
    rng: np.random.Generator,
    space: str | None = None,
) -> np.ndarray:
    """Observed targets of runs at ``X``: the law's value times ``exp(noise z)`` (log ``space``) or plus
    ``noise z`` (linear ``space``), ``z`` standard normal, one draw per run; ``space`` defaults to the
    law's own (log for losses, linear for metrics).

    Example:
        >>> law = get_law("power", x="params")
        >>> y = simulate_losses(law, np.array([1.0, 10.0, 0.3]), {"params": np.array([1e6, 1e8])}, 0.0,
        ...                     np.random.default_rng(0))
        >>> np.round(y, 4).tolist()
        [1.1585, 1.0398]
    """
    mean = law.predict(X, theta)
    z = rng.standard_normal(mean.shape)
    return mean * np.exp(noise * z) if (space or law.target) == "log" else mean + noise * z


def true_optimum(
    law: Law, theta: np.ndarray, compute: float, cost: CostLaw | None = None
) -> tuple[float, ...]:
    """``(N*, D*, L*)`` of one parameter vector at one budget (NaN where it has no interior optimum).

    Example:
        >>> theta = np.array([1.8172, 482.01, 2085.43, 0.3478, 0.3658])
        >>> [f"{v:.3g}" for v in true_optimum(get_law("chinchilla"), theta, 5.76e23)]
        ['7.22e+10', '1.33e+12', '1.97']
    """
    from scalinglaws.plan.compute_optimal import optimum

    n, d, ok = optimum(law, compute, np.asarray(theta, float)[None], cost)
    if not ok[0]:
        return (math.nan, math.nan, math.nan)
    loss = float(law.predict({"params": n, "tokens": d}, np.asarray(theta, float))[0])
    return float(n[0]), float(d[0]), loss


def resolve_truth(truth: Any, noise: float | None) -> tuple[Law, np.ndarray, float, FitResult | None]:
    """``(law, theta, noise, fit)`` from a :class:`FitResult` or a ``(law, params)`` pair."""
    if isinstance(truth, FitResult):
        if noise is None:
            recorded = truth.noise
            if recorded is None or not np.isfinite(recorded.get("value", np.nan)):
                raise DesignError(
                    f"the fit records no run-to-run noise: give noise= (sd of {truth.residual_space} loss)"
                )
            noise = float(recorded["value"])
        return truth.law, np.asarray(truth.theta, float), float(noise), truth
    if isinstance(truth, Sequence) and len(truth) == 2 and not isinstance(truth, str):
        law = truth[0] if isinstance(truth[0], Law) else get_law(str(truth[0]))
        params = truth[1]
        if isinstance(params, Mapping):
            missing = [p for p in law.param_names if p not in params]
            if missing:
                raise DesignError(f"the truth lacks parameter(s) {missing} of law {law.name!r}")
            theta = np.array([float(params[p]) for p in law.param_names])
        else:
            theta = np.asarray(params, dtype=float)
            if theta.shape != (len(law.params),):
                raise DesignError(f"law {law.name!r} has {len(law.params)} parameters, got {theta.shape}")
        if noise is None:
            raise DesignError("a stated truth needs noise= (the run-to-run sd of log loss)")
        return law, theta, float(noise), None
    raise DesignError("truth must be a FitResult or a (law, params) pair")


def design_inputs(design: Any, law: Law) -> dict[str, np.ndarray]:
    """One array per law input, one entry per run (configurations repeated ``runs`` times)."""
    if isinstance(design, Design):
        frame = design.table
    elif isinstance(design, pd.DataFrame):
        frame = design
    elif isinstance(design, Mapping):
        frame = pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in design.items()})
    else:
        raise DesignError(f"a design must be a Design, a DataFrame or a dict, not {type(design).__name__}")
    missing = [c for c in law.inputs if c not in frame.columns]
    if missing:
        raise DesignError(f"law {law.name!r} needs design column(s) {missing}; it has {list(frame.columns)}")
    reps = frame["runs"].to_numpy(int) if "runs" in frame.columns else np.ones(len(frame), int)
    return {c: np.repeat(frame[c].to_numpy(float), reps) for c in law.inputs}


@dataclass(frozen=True)
class DesignScore:
    """What a design would tell, by simulation.

    Attributes:
        table: one row per quantity: ``quantity`` (``N*``, ``D*``, ``L*`` or ``loss``), ``where`` (the
            budget or the configuration), ``unit`` (``decades`` for sizes: errors of log10; ``loss``),
            ``truth`` (at the point truth), ``bias``, ``rmse``, ``coverage`` (of the central ``level``
            interval), ``width`` (its median width), ``n_ok`` (simulations that gave a value).
        settings: simulations, noise, bootstrap, level, seed, laws, design size and cost.
    """

    table: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"settings": self.settings, "scores": self.table.to_dict(orient="records")}

    def summary(self) -> str:
        s = self.settings
        lines = [
            f"design of {s['n_runs']} runs (cost {s['total_cost']:.3g}) simulated {s['simulations']} times "
            f"from {s['truth_law']} (noise {s['noise']:.3g} in {s['residuals']} loss), refitted as "
            f"{s['fit_law']} with "
            f"{s['bootstrap']} bootstrap resamples; {s['level']:.0%} intervals:"
        ]
        for r in self.table.itertuples():
            lines.append(
                f"  {r.quantity:<5} at {r.where:<24} truth {r.truth:<10.4g} bias {r.bias:+.3g}  rmse "
                f"{r.rmse:.3g}  coverage {r.coverage:.0%}  width {r.width:.3g} {r.unit}  ({r.n_ok} ok)"
            )
        return "\n".join(lines)


def _where(at: Mapping[str, np.ndarray], i: int) -> str:
    return ", ".join(f"{k}={float(v[i]):.3g}" for k, v in at.items())


def score_design(
    design: Any,
    truth: Any,
    *,
    target_compute: Sequence[float] = (),
    at: Mapping[str, Any] | None = None,
    noise: float | None = None,
    simulations: int = 50,
    bootstrap: int = 100,
    level: float = 0.9,
    seed: int = 0,
    fit_law: str | Law | None = None,
    cost: CostLaw | None = None,
    truth_from: str = "point",
    residuals: str | None = None,
) -> DesignScore:
    """Simulate ``design`` from ``truth`` ``simulations`` times, refit, and score what it would tell.

    Args:
        design: a :class:`~scalinglaws.design.Design`, or a table/dict with the law's inputs (and ``runs``).
        truth: a :class:`~scalinglaws.fit.FitResult` (its law, point estimate and noise) or a pair
            ``(law, params)`` (a name or Law, and a dict or vector of parameters).
        target_compute: budgets at which ``N*``, ``D*`` and ``L*`` are scored (laws of params and tokens).
        at: configurations (inputs of the law) at which the predicted loss is scored.
        noise: run-to-run sd of the loss in ``residuals`` space (default: the fit's recorded noise).
        simulations: simulated experiments.
        bootstrap: cluster-bootstrap resamples per refit (intervals; 0: errors only).
        level: central level of the scored intervals.
        seed: seed of the simulations (simulation ``i`` uses ``seed + i``).
        fit_law: the law refitted to the simulated runs (default: the truth's law); a different one
            measures what a misspecified fit would make of the design.
        cost: a cost law for the budgets (None: C = 6ND).
        truth_from: ``"point"`` (the truth's parameters) or ``"draws"`` (a different bootstrap draw of the
            truth fit per simulation).
        residuals: the noise model: ``"log"`` (noise relative to the loss) or ``"linear"`` (of a fixed
            size), for the simulated noise and the refits' residuals (default: the truth fit's residual
            space, or a stated law's own). Refits of a fitted truth also use its loss and bootstrap method.
    """
    from scalinglaws.fit import fit
    from scalinglaws.plan import compute_optimal

    law, theta, noise_sd, truth_fit = resolve_truth(truth, noise)
    if truth_from not in ("point", "draws"):
        raise DesignError(f"truth_from must be 'point' or 'draws', not {truth_from!r}")
    if truth_from == "draws" and (truth_fit is None or truth_fit.draws is None):
        raise DesignError("truth_from='draws' needs a fit with bootstrap draws")
    if simulations < 1:
        raise DesignError(f"simulations must be at least 1, got {simulations}")
    space = residuals or (truth_fit.residual_space if truth_fit is not None else law.target)
    if space not in ("log", "linear"):
        raise DesignError(f"residuals must be 'log' or 'linear', not {space!r}")
    refit_options: dict[str, Any] = {"residuals": space}
    if truth_fit is not None:
        if noise is None and space != truth_fit.residual_space:
            raise DesignError(
                f"the fit's noise is in {truth_fit.residual_space} space; give noise= in {space} space"
            )
        refit_options["loss"] = truth_fit.objective["kind"]
        refit_options["bootstrap_method"] = truth_fit.settings.get("bootstrap_method", "cluster")
    budgets = [float(c) for c in np.atleast_1d(target_compute)]
    at_arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in (at or {}).items()}
    if not budgets and not at_arrays:
        raise DesignError("nothing to score: give target_compute (budgets) and/or at (configurations)")
    refit_law = law if fit_law is None else (fit_law if isinstance(fit_law, Law) else get_law(fit_law))
    if budgets and not {"params", "tokens"} <= set(refit_law.inputs):
        raise DesignError(f"N*, D*, L* need a law of params and tokens; {refit_law.name!r} is not")
    if at_arrays:
        law.check_inputs(at_arrays)
    X = design_inputs(design, law)
    n_runs = int(next(iter(X.values())).size)
    total_cost = (
        float(np.sum(6.0 * X["params"] * X["tokens"])) if {"params", "tokens"} <= set(X) else float("nan")
    )
    if isinstance(design, Design):
        total_cost = design.total_cost

    n_at = len(next(iter(at_arrays.values()))) if at_arrays else 0
    keys = [
        (q, f"C={c:.3g}", "decades" if q != "L*" else "loss") for c in budgets for q in ("N*", "D*", "L*")
    ]
    keys += [("loss", _where(at_arrays, i), "loss") for i in range(n_at)]
    est = np.full((simulations, len(keys), 4), np.nan)  # estimate, lo, hi, truth
    draws_pool = None
    if truth_from == "draws":
        ok = truth_fit.draws_converged & np.all(np.isfinite(truth_fit.draws), axis=1)
        draws_pool = truth_fit.draws[ok]
    point_truth = _truth_values(law, theta, budgets, at_arrays, cost)
    for s in range(simulations):
        rng = np.random.default_rng([seed, s])
        theta_s = theta if draws_pool is None else draws_pool[rng.integers(len(draws_pool))]
        y = simulate_losses(law, theta_s, X, noise_sd, rng, space)
        true_s = point_truth if draws_pool is None else _truth_values(law, theta_s, budgets, at_arrays, cost)
        est[s, :, 3] = true_s
        try:
            refit = fit(
                {**X, "loss": y}, refit_law, bootstrap=bootstrap, seed=seed + s, level=level, **refit_options
            )
        except ScalingLawsError:
            continue
        col = 0
        for c in budgets:
            try:
                plan = compute_optimal(refit, c, level=level, cost=cost)
            except ScalingLawsError:
                col += 3
                continue
            for e, log in ((plan.params, True), (plan.tokens, True), (plan.loss, False)):
                vals = (e.value, e.lo, e.hi)
                vals = tuple(np.nan if v is None else v for v in vals)
                est[s, col, :3] = np.log10(vals) if log else vals
                col += 1
        if n_at:
            pred = refit.predict(at_arrays)
            est[s, col:, 0] = pred
            if bootstrap:
                lo, hi = refit.predict_interval(at_arrays, level=level)
                est[s, col:, 1], est[s, col:, 2] = lo, hi
    rows = []
    for j, (q, where, unit) in enumerate(keys):
        e, lo, hi, t = est[:, j, 0], est[:, j, 1], est[:, j, 2], est[:, j, 3]
        log = unit == "decades"
        t_cmp = np.log10(t) if log else t
        err = e - t_cmp
        ok = np.isfinite(err)
        cov_ok = ok & np.isfinite(lo) & np.isfinite(hi)
        rows.append(
            {
                "quantity": q,
                "where": where,
                "unit": unit,
                "truth": float(point_truth[j]),
                "bias": float(np.mean(err[ok])) if ok.any() else np.nan,
                "rmse": float(np.sqrt(np.mean(err[ok] ** 2))) if ok.any() else np.nan,
                "coverage": float(np.mean((lo[cov_ok] <= t_cmp[cov_ok]) & (t_cmp[cov_ok] <= hi[cov_ok])))
                if cov_ok.any()
                else np.nan,
                "width": float(np.median(hi[cov_ok] - lo[cov_ok])) if cov_ok.any() else np.nan,
                "n_ok": int(ok.sum()),
            }
        )
    settings = {
        "simulations": simulations,
        "noise": noise_sd,
        "residuals": space,
        "bootstrap": bootstrap,
        "level": level,
        "seed": seed,
        "truth_law": law.name,
        "fit_law": refit_law.name,
        "truth_from": truth_from,
        "truth_params": dict(zip(law.param_names, map(float, theta), strict=True)),
        "n_runs": n_runs,
        "total_cost": total_cost,
        "cost": cost.label if cost is not None else "6ND",
    }
    return DesignScore(pd.DataFrame(rows), settings)


def _truth_values(
    law: Law, theta: np.ndarray, budgets: Sequence[float], at: Mapping[str, np.ndarray], cost: CostLaw | None
) -> np.ndarray:
    out = []
    for c in budgets:
        out.extend(true_optimum(law, theta, c, cost))
    if at:
        out.extend(law.predict(at, theta).tolist())
    return np.array(out, dtype=float)
