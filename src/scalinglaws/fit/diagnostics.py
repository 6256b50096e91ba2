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


def check_residuals(law: Law, X: dict[str, np.ndarray], residuals: np.ndarray) -> list[Diagnostic]:
    """A monotone trend of the residuals along an input means the law's shape misses the data's."""
    out = []
    for name in law.inputs:
        x = X[name]
        if np.unique(x).size < 4:
            continue
        rho, p_value = stats.spearmanr(np.log(np.abs(x) + 1e-300), residuals)
        if np.isfinite(p_value) and p_value < 0.01 and abs(rho) > 0.2:
            out.append(
                Diagnostic(
                    "residual_trend",
                    "warning",
                    f"residuals trend with log {name} (Spearman rho {rho:+.2f}, p {p_value:.1g}): "
                    "the law may extrapolate badly along it",
                )
            )
    return out
