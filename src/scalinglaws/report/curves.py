"""The numbers behind the fit and plan figures (no matplotlib): the compute-optimal frontier with its band,
IsoFLOP curves, default IsoFLOP budgets, the fitted compute range and predictions at chosen points.

Example:
    >>> import numpy as np
    >>> default_budgets(np.array([0.98e19, 1.02e19, 1e19, 0.99e19, 3e19, 3.1e19, 2.9e19, 3e19, 5e20]))
    [1e+19, 3e+19]
    >>> Prediction(7e10, 1.4e12).compute
    5.88e+23
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.errors import PlanError, ScalingLawsError

__all__ = [
    "PlotError",
    "Prediction",
    "default_budgets",
    "frontier",
    "isoflop_curve",
    "largest_compute",
    "predict_point",
    "run_table",
]

class PlotError(ScalingLawsError, ValueError):
    """Inputs a plot cannot draw (missing columns, empty arrays, a law without the needed inputs)."""


def run_table(data: Any, needed: tuple[str, ...] = ("params", "tokens", "loss")) -> pd.DataFrame:
    """The runs to draw as a DataFrame: a validated ``Runs`` table (its final checkpoints, as fitted), a
    DataFrame or a mapping of arrays; ``flops`` is filled with 6ND when absent.

    Example:
        >>> list(run_table({"params": [1e8], "tokens": [2e9], "loss": [3.0]})["flops"])
        [1.2e+18]
    """
    if hasattr(data, "table"):
        data = data.final() if hasattr(data, "final") else data
        frame = data.table
    elif isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, Mapping):
        frame = pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in data.items()})
    else:
        raise PlotError(f"cannot plot runs of type {type(data).__name__}: pass Runs, a DataFrame or a dict")
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise PlotError(f"the runs lack column(s) {missing}; they have {list(frame.columns)}")
    if len(frame) == 0:
        raise PlotError("no runs to plot")
    frame = frame.copy()
    if "flops" not in frame.columns and {"params", "tokens"} <= set(frame.columns):
        frame["flops"] = 6.0 * frame["params"].astype(float) * frame["tokens"].astype(float)
    return frame


#: Candidate IsoFLOP budgets: 1, 3 and 6 times each power of ten.
_NICE = (1.0, 3.0, 6.0)


@dataclass(frozen=True, slots=True)
class Prediction:
    """A point to predict and mark: a model of ``params`` parameters trained on ``tokens`` tokens."""

    params: float
    tokens: float
    label: str = ""

    @property
    def compute(self) -> float:
        """Training FLOPs under C = 6ND."""
        return 6.0 * self.params * self.tokens


def largest_compute(result: Any, flops: np.ndarray | None = None) -> tuple[float, str]:
    """The largest training compute of the fitted runs and how it was found.

    With the runs' FLOPs at hand it is their maximum; from the artifact alone it is the upper bound
    ``6 * largest N * largest D`` (the artifact stores input ranges, not the runs).
    """
    if flops is not None and len(flops):
        return float(np.max(flops)), "largest fitted run"
    ranges = result.data.get("ranges", {})
    if "params" in ranges and "tokens" in ranges:
        return 6.0 * ranges["params"][1] * ranges["tokens"][1], "6 x largest N x largest D (no runs given)"
    raise PlanError("the fit records no params/tokens ranges: give the runs to measure extrapolation")


def frontier(result: Any, computes: np.ndarray, level: float | None = None) -> dict[str, np.ndarray]:
    """N*(C), D*(C), L*(C) and their bootstrap bands (keys ``params``, ``params_lo``, ... ``loss_hi``)
    over ``computes``; NaN where the law has no interior optimum.
    """
    from scalinglaws.plan import compute_optimal

    keys = ("params", "tokens", "loss")
    out = {f"{k}{s}": np.full(len(computes), np.nan) for k in keys for s in ("", "_lo", "_hi")}
    for i, c in enumerate(np.asarray(computes, dtype=float)):
        try:
            plan = compute_optimal(result, float(c), level=level)
        except PlanError:
            continue
        for k in keys:
            est = getattr(plan, k)
            out[k][i] = est.value
            out[f"{k}_lo"][i] = np.nan if est.lo is None else est.lo
            out[f"{k}_hi"][i] = np.nan if est.hi is None else est.hi
    return out


def isoflop_curve(
    result: Any, compute: float, params: np.ndarray, level: float | None = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Loss of models of ``params`` parameters trained with ``compute`` FLOPs (D = C / 6N): the fitted
    value and, with bootstrap draws, the central band of the expected loss.
    """
    params = np.asarray(params, dtype=float)
    X = {"params": params, "tokens": compute / (6.0 * params)}
    loss = result.predict(X)
    if result.draws is None or len(result.draws) == 0:
        return loss, None, None
    lo, hi = result.predict_interval(X, level=level)
    return loss, lo, hi


def default_budgets(flops: np.ndarray, max_budgets: int = 6, tolerance: float = 0.06) -> list[float]:
    """IsoFLOP budgets to draw for runs of these FLOPs: the "nice" budgets (1, 3, 6 x 10^k) that at least
    four runs sit at (within ``tolerance`` decades), else evenly spaced nice budgets over the range.
    """
    log_c = np.log10(np.asarray(flops, dtype=float))
    lo, hi = int(np.floor(log_c.min())), int(np.ceil(log_c.max()))
    candidates = [m * 10.0**e for e in range(lo, hi + 1) for m in _NICE]
    populated = [c for c in candidates if np.sum(np.abs(log_c - np.log10(c)) <= tolerance) >= 4]
    if len(populated) < 2:
        inside = [c for c in candidates if log_c.min() <= np.log10(c) <= log_c.max()] or candidates
        populated = inside
    if len(populated) > max_budgets:
        keep = np.unique(np.round(np.linspace(0, len(populated) - 1, max_budgets)).astype(int))
        populated = [populated[i] for i in keep]
    return [float(f"{c:.1g}") for c in populated]


def predict_point(result: Any, point: Prediction, c_max: float, level: float | None = None) -> dict[str, Any]:
    """The expected loss at ``point`` with its interval and how far it extrapolates (JSON-ready).

    ``beyond`` holds ``value / largest fitted value`` of params, tokens and compute.
    """
    loss = float(result.predict(params=point.params, tokens=point.tokens)[0])
    lo = hi = None
    if result.draws is not None and len(result.draws) > 0:
        a, b = result.predict_interval(params=point.params, tokens=point.tokens, level=level)
        lo, hi = float(a[0]), float(b[0])
    ranges = result.data.get("ranges", {})
    beyond = {k: getattr(point, k) / ranges[k][1] for k in ("params", "tokens") if k in ranges}
    beyond["compute"] = point.compute / c_max
    return {
        "label": point.label,
        "params": point.params,
        "tokens": point.tokens,
        "compute": point.compute,
        "loss": loss,
        "lo": lo,
        "hi": hi,
        "level": (level or result.level) if lo is not None else None,
        "beyond": beyond,
    }
