"""Lay out a sweep before running it: model sizes along iso-cost curves at a few budgets.

Every run on one iso-cost curve costs the same, so how far a sweep reaches either side of the optimum is
free; wide sweeps reach the lopsided corners (a large model on little data, a small one on a lot) that
separate the law's two terms, and protect against a centre guessed wrong. Along each curve the runs form an
isoFLOP profile (Chinchilla Approach 2, :func:`scalinglaws.plan.isoflop_analysis`); across curves they form
a grid, rotated in ``(log N, log D)``, that a joint law is fitted to (Approach 3).

A sweep is centred on a guess (tokens per parameter at the optimum, about 20 for Chinchilla-style language
models), on explicit sizes (one per budget), or on a fit (its compute-optimal ``N*`` at each budget).

Example:
    >>> design = iso_cost_sweep([1e18, 1e19], sizes_per_budget=3, half_width=1.0, centre=20.0)
    >>> [f"{n:.3g}" for n in design.table["params"]]
    ['9.13e+06', '9.13e+07', '9.13e+08', '2.89e+07', '2.89e+08', '2.89e+09']
    >>> [f"{d / n:.3g}" for n, d in zip(design.table["params"], design.table["tokens"])][:3]
    ['2e+03', '20', '0.2']
    >>> f"{design.total_cost:.3g}", design.n_runs
    ('3.3e+19', 6)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from scalinglaws.cost import CostLaw
from scalinglaws.errors import ScalingLawsError

__all__ = ["Design", "DesignError", "cost_of", "iso_cost_sweep", "tokens_for"]


class DesignError(ScalingLawsError, ValueError):
    """A design, a scoring or a suggestion request that cannot be carried out as asked."""


def tokens_for(params: Any, budget: Any, cost: CostLaw | None = None) -> np.ndarray:
    """Tokens that spend ``budget`` on a model of ``params`` parameters (C = 6ND, or ``cost``'s law).

    Example:
        >>> float(tokens_for(1e9, 6e19))
        10000000000.0
    """
    n, c = np.asarray(params, dtype=float), np.asarray(budget, dtype=float)
    return c / (6.0 * n) if cost is None else cost.tokens_for(n, c)


def cost_of(params: Any, tokens: Any, cost: CostLaw | None = None) -> np.ndarray:
    """Cost of one run (FLOPs under C = 6ND, or ``cost``'s unit).

    Example:
        >>> float(cost_of(1e9, 1e10))
        6e+19
    """
    n, d = np.asarray(params, dtype=float), np.asarray(tokens, dtype=float)
    return 6.0 * n * d if cost is None else cost.cost(n, d)


def _size_for_ratio(budget: float, ratio: float, cost: CostLaw | None) -> float:
    """The model size whose iso-cost run has ``ratio`` tokens per parameter."""
    if cost is None:
        return float(np.sqrt(budget / (6.0 * ratio)))

    def gap(log_n: float) -> float:
        return float(np.log(tokens_for(np.exp(log_n), budget, cost))) - np.log(ratio) - log_n

    try:
        return float(np.exp(brentq(gap, np.log(1e-3), np.log(1e30), xtol=1e-12)))
    except ValueError:
        raise DesignError(f"no model size spends {budget:g} on {ratio:g} tokens per parameter") from None


def _centres(budgets: np.ndarray, centre: Any, cost: CostLaw | None) -> tuple[np.ndarray, str]:
    from scalinglaws.fit.result import FitResult

    if isinstance(centre, FitResult):
        from scalinglaws.plan import compute_optimal

        sizes = np.array([compute_optimal(centre, float(b), cost=cost).params.value for b in budgets])
        return sizes, f"the compute-optimal N* of a {centre.law.name} fit"
    if np.ndim(centre) == 0:
        ratio = float(centre)
        if not ratio > 0:
            raise DesignError(f"the centre (tokens per parameter) must be positive, got {ratio:g}")
        return np.array([_size_for_ratio(float(b), ratio, cost) for b in budgets]), f"{ratio:g} tokens/param"
    sizes = np.asarray(centre, dtype=float)
    if sizes.shape != budgets.shape or not np.all(sizes > 0):
        raise DesignError(f"give one positive centre size per budget ({budgets.size}), got {sizes.tolist()}")
    return sizes, "explicit sizes"


@dataclass(frozen=True)
class Design:
    """A planned set of runs: one row per configuration, ``runs`` independent runs of each.

    Attributes:
        table: columns ``budget``, ``params``, ``tokens``, ``runs``, ``cost`` (of one run).
        cost_label: the cost law the budgets are in (``6ND: C = 6 N D [FLOPs]`` by default).
        notes: how the design was made (centre, widths), one sentence each.
    """

    table: pd.DataFrame
    cost_label: str = "6ND: C = 6 N D [FLOPs]"
    notes: tuple[str, ...] = field(default=())

    @property
    def n_runs(self) -> int:
        return int(self.table["runs"].sum())

    @property
    def total_cost(self) -> float:
        return float((self.table["runs"] * self.table["cost"]).sum())

    def runs(self) -> pd.DataFrame:
        """One row per run (configurations repeated ``runs`` times), with a ``replicate`` index."""
        reps = self.table["runs"].to_numpy(int)
        out = self.table.loc[self.table.index.repeat(reps)].drop(columns="runs").reset_index(drop=True)
        out["replicate"] = np.concatenate([np.arange(r) for r in reps]) if reps.size else []
        return out

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, *, cost: CostLaw | None = None, source: str = "<design>"
    ) -> Design:
        """A design from a table with ``params`` and ``tokens`` (optionally ``runs``, ``budget``)."""
        missing = [c for c in ("params", "tokens") if c not in frame.columns]
        if missing:
            raise DesignError(f"{source}: a design needs column(s) {missing}; it has {list(frame.columns)}")
        out = pd.DataFrame({c: pd.to_numeric(frame[c], errors="coerce") for c in ("params", "tokens")})
        out["runs"] = pd.to_numeric(frame["runs"], errors="coerce") if "runs" in frame.columns else 1
        values = out.to_numpy(float)
        bad = np.flatnonzero(~np.all(np.isfinite(values) & (values > 0), axis=1))
        if bad.size:
            rows = ", ".join(str(i + 1) for i in bad[:10])
            raise DesignError(f"{source}: rows {rows} need positive numbers in params, tokens and runs")
        out["runs"] = out["runs"].round().astype(int)
        out["cost"] = cost_of(out["params"], out["tokens"], cost)
        out["budget"] = pd.to_numeric(frame["budget"]) if "budget" in frame.columns else out["cost"]
        label = cost.label if cost is not None else cls.cost_label
        return cls(out[["budget", "params", "tokens", "runs", "cost"]], label, (f"read from {source}",))

    @classmethod
    def read(cls, path: str | Path, *, cost: CostLaw | None = None) -> Design:
        """Read a design from CSV (or anything :func:`pandas.read_csv` reads)."""
        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError) as exc:
            raise DesignError(f"{path}: cannot read a design table ({exc})") from None
        return cls.from_frame(frame, cost=cost, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        return {
            "cost": self.cost_label,
            "n_runs": self.n_runs,
            "total_cost": self.total_cost,
            "notes": list(self.notes),
            "configurations": self.table.to_dict(orient="records"),
        }

    def summary(self) -> str:
        lines = [
            f"design: {len(self.table)} configurations, {self.n_runs} runs, total cost "
            f"{self.total_cost:.3g} ({self.cost_label})"
        ]
        lines += [f"  {n}" for n in self.notes]
        for budget, group in self.table.groupby("budget", sort=True):
            sizes = ", ".join(
                f"{n:.3g}" + (f" x{r}" if r > 1 else "")
                for n, r in zip(group["params"], group["runs"], strict=True)
            )
            lines.append(f"  budget {budget:.3g}: params {sizes}")
        return "\n".join(lines)


def iso_cost_sweep(
    budgets: Sequence[float],
    *,
    sizes_per_budget: int = 5,
    half_width: float | tuple[float, float] = 1.0,
    centre: Any = 20.0,
    centre_replicates: int = 1,
    cost: CostLaw | None = None,
) -> Design:
    """Sweeps of model size along the iso-cost curve of each budget, centred on a guess or a fit.

    Args:
        budgets: the budgets (FLOPs, or ``cost``'s unit).
        sizes_per_budget: model sizes per sweep (5 is the least a profile can be judged on).
        half_width: decades of model size either side of the centre; a pair gives the widths at the
            smallest and the largest budget (interpolated in log budget between them).
        centre: tokens per parameter at the optimum (a number), one model size per budget (a sequence), or
            a :class:`~scalinglaws.fit.FitResult` (its compute-optimal ``N*`` at each budget).
        centre_replicates: independent runs at the size nearest each sweep's centre (replicates measure
            run-to-run noise directly); one run elsewhere.
        cost: a cost law (:mod:`scalinglaws.cost`); None: C = 6ND.
    """
    b = np.sort(np.asarray([float(x) for x in budgets]))
    if b.size == 0 or not np.all(np.isfinite(b) & (b > 0)):
        raise DesignError(f"budgets must be positive numbers, got {list(budgets)}")
    if sizes_per_budget < 1:
        raise DesignError(f"sizes per budget must be at least 1, got {sizes_per_budget}")
    if centre_replicates < 1:
        raise DesignError(f"centre replicates must be at least 1, got {centre_replicates}")
    lo_w, hi_w = (half_width, half_width) if np.ndim(half_width) == 0 else tuple(half_width)
    if min(lo_w, hi_w) < 0:
        raise DesignError(f"half widths must be >= 0 decades, got {half_width}")
    centres, how = _centres(b, centre, cost)
    position = (np.log(b) - np.log(b[0])) / (np.log(b[-1]) - np.log(b[0])) if b.size > 1 else np.zeros(1)
    widths = lo_w + (hi_w - lo_w) * position
    rows: list[Mapping[str, float]] = []
    for budget, middle, width in zip(b, centres, widths, strict=True):
        offsets = np.linspace(-width, width, sizes_per_budget) if sizes_per_budget > 1 else np.zeros(1)
        nearest = int(np.argmin(np.abs(offsets)))
        for i, offset in enumerate(offsets):
            n = float(middle * 10.0**offset)
            d = float(tokens_for(n, budget, cost))
            rows.append(
                {
                    "budget": float(budget),
                    "params": n,
                    "tokens": d,
                    "runs": int(centre_replicates if i == nearest else 1),
                    "cost": float(cost_of(n, d, cost)),
                }
            )
    table = pd.DataFrame(rows)
    notes = (
        f"centred on {how}",
        f"+-{lo_w:g}"
        + (f" to +-{hi_w:g}" if hi_w != lo_w else "")
        + f" decades of model size, {sizes_per_budget} sizes per budget",
    )
    return Design(table, cost.label if cost is not None else Design.cost_label, notes)
