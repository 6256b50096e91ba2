"""Diagnostics as data: what a user should know about a fit before trusting it.

Each check returns :class:`Diagnostic` records (a code, a severity and a sentence) instead of raising or
printing, so the CLI, the report and the artifact all show the same findings.

Example:
    >>> Diagnostic("bound_hit", "warning", "E is at its lower bound 0").severity
    'warning'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from scipy import stats

from scalinglaws.fit.engine import Refined
from scalinglaws.laws.base import Law

__all__ = ["Diagnostic", "check_bounds", "check_identifiable", "check_multistart", "check_residuals"]

Severity = Literal["info", "warning", "error"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: ``code`` is stable for programs, ``message`` is for people."""

    code: str
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def check_convergence(best: Refined) -> list[Diagnostic]:
    """Did the refinement of the best start converge?"""
    if best.converged:
        return [Diagnostic("converged", "info", f"converged in {best.iterations} iterations")]
    return [
        Diagnostic(
            "not_converged",
            "error",
            f"the fit did not converge ({best.message}); the parameters are the best found, not an optimum",
        )
    ]


def check_bounds(law: Law, theta: np.ndarray, rtol: float = 1e-6) -> list[Diagnostic]:
    """Parameters sitting on a bound: the optimum may lie outside the allowed range."""
    out = []
    for p, v in zip(law.params, theta, strict=True):
        for side, bound in (("lower", p.lower), ("upper", p.upper)):
            if np.isfinite(bound) and abs(v - bound) <= rtol * max(1.0, abs(bound)):
                out.append(
                    Diagnostic("bound_hit", "warning", f"{p.name} = {v:.6g} is at its {side} bound {bound:g}")
                )
    return out


def check_multistart(
    law: Law, results: Sequence[Refined], rel_objective: float = 1e-6, rel_param: float = 0.01
) -> list[Diagnostic]:
    """Compare the refinements from different starts.

    Starts that reach the best objective (within ``rel_objective``) but different parameters (beyond
    ``rel_param``) reveal a flat valley: those parameters are not identified by the data. Starts that stop
    at a clearly worse objective reveal other local minima (harmless, reported as info).
    """
    finite = [r for r in results if np.isfinite(r.value)]
    if len(finite) < 2:
        return []
    best = min(finite, key=lambda r: r.value)
    tol = rel_objective * max(abs(best.value), 1e-300)
    tied = [r for r in finite if r.value - best.value <= tol]
    out = []
    if len(tied) >= 2:
        stack = np.array([r.theta for r in tied])
        spread = (stack.max(axis=0) - stack.min(axis=0)) / np.maximum(np.abs(best.theta), 1e-12)
        loose = [law.param_names[i] for i in np.flatnonzero(spread > rel_param)]
        if loose:
            out.append(
                Diagnostic(
                    "multistart_disagreement",
                    "warning",
                    f"{len(tied)} starts reach the same objective with different {', '.join(loose)} "
                    f"(spread up to {spread.max():.1%}): a flat valley, poorly identified parameters",
                )
            )
    worse = len(finite) - len(tied)
    if worse:
        out.append(
            Diagnostic(
                "local_minima",
                "info",
                f"{worse} of {len(finite)} starts stopped at a worse local minimum; the best is reported",
            )
        )
    return out


def check_identifiable(law: Law, X: dict[str, np.ndarray], n_clusters: int) -> list[Diagnostic]:
    """Too few distinct values of an input, or of model sizes, to pin down the law's parameters."""
    out = []
    n_params = len(law.params)
    for name in law.inputs:
        distinct = np.unique(np.round(np.log(np.abs(X[name]) + 1e-300), 6)).size
        if distinct < 3:
            out.append(
                Diagnostic(
                    "too_few_sizes",
                    "error" if distinct < 2 else "warning",
                    f"only {distinct} distinct value(s) of {name!r}: its exponent is not identifiable",
                )
            )
    n_points = min(X[name].size for name in law.inputs) if law.inputs else 0
    if n_points <= n_params:
        out.append(
            Diagnostic(
                "underdetermined",
                "error",
                f"{n_points} points for {n_params} parameters: the fit is underdetermined",
            )
        )
    if n_clusters < 5:
        out.append(
            Diagnostic(
                "few_clusters",
                "warning",
                f"only {n_clusters} distinct model sizes: bootstrap intervals over sizes are unreliable",
            )
        )
    return out


def _runs_test_p(logx: np.ndarray, residuals: np.ndarray) -> float:
    """One-sided Wald-Wolfowitz p-value for too few sign runs of the residuals ordered along ``logx``
    (residuals at equal x averaged first). Too few runs = long stretches above or below the law."""
    keys, inverse = np.unique(np.round(logx, 9), return_inverse=True)
    means = np.bincount(inverse, weights=residuals) / np.bincount(inverse)
    signs = np.sign(means[np.abs(means) > 0])
    n1, n2 = int(np.sum(signs > 0)), int(np.sum(signs < 0))
    n = n1 + n2
    if n1 < 2 or n2 < 2 or keys.size < 10:
        return 1.0
    runs = 1 + int(np.sum(signs[1:] != signs[:-1]))
    mean = 2.0 * n1 * n2 / n + 1.0
    var = 2.0 * n1 * n2 * (2.0 * n1 * n2 - n) / (n * n * (n - 1.0))
    return float(stats.norm.cdf((runs - mean) / np.sqrt(var))) if var > 0 else 1.0


def check_residuals(law: Law, X: dict[str, np.ndarray], residuals: np.ndarray) -> list[Diagnostic]:
    """Residuals that vary systematically along an input mean the law's shape misses the data's there,
    and extrapolations along that input inherit the miss.

    Two tests per input, each flagged at p < 0.001: a quadratic in standardised log x against a constant
    (F-test, with R^2 > 0.1: trends and bends), and the runs test on the residual signs ordered by x
    (S-shapes and breaks that a quadratic misses).
    """
    out: list[Diagnostic] = []
    if np.ptp(residuals) <= 1e-12 * max(1.0, float(np.max(np.abs(residuals)))):
        return out  # an exact fit has no trend to find
    n = residuals.size
    for name in law.inputs:
        logx = np.log(np.abs(X[name]) + 1e-300)
        if np.unique(np.round(logx, 9)).size < 6 or n < 8:
            continue
        z = (logx - logx.mean()) / logx.std()
        design = np.column_stack([np.ones(n), z, z * z])
        coef, *_ = np.linalg.lstsq(design, residuals, rcond=None)
        ss1 = float(np.sum((residuals - design @ coef) ** 2))
        ss0 = float(np.sum((residuals - residuals.mean()) ** 2))
        r2 = 1.0 - ss1 / ss0 if ss0 > 0 else 0.0
        f_stat = (ss0 - ss1) / 2.0 / max(ss1 / (n - 3), 1e-300)
        p_trend = float(stats.f.sf(f_stat, 2, n - 3))
        p_runs = _runs_test_p(logx, residuals)
        found = []
        if p_trend < 1e-3 and r2 > 0.1:
            found.append(f"a quadratic trend in log {name} explains R^2 {r2:.2f} (p {p_trend:.1g})")
        if p_runs < 1e-3:
            found.append(f"too few sign runs along {name} (p {p_runs:.1g})")
        if found:
            out.append(
                Diagnostic(
                    "residual_trend",
                    "warning",
                    f"residuals vary systematically with {name}: {'; '.join(found)}. The law's shape "
                    f"misses the data's, and may extrapolate badly along {name}",
                )
            )
    return out
