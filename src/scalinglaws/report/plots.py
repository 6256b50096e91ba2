"""Plots of fits and plans (matplotlib, Agg backend, imported here only).

Example:
    >>> import numpy as np
    >>> from scalinglaws.fit import fit
    >>> from scalinglaws.laws import get_law
    >>> N = np.repeat([1e8, 3e8, 1e9, 3e9], 4); D = np.tile([2e9, 6e9, 2e10, 6e10], 4)
    >>> y = get_law("chinchilla").predict({"params": N, "tokens": D}, np.array([1.7, 400, 1500, 0.34, 0.3]))
    >>> result = fit({"params": N, "tokens": D, "loss": y}, bootstrap=50)
    >>> fig = plot_fit(result, {"params": N, "tokens": D, "loss": y})
    >>> fig.axes[0].get_xlabel()
    'training compute C = 6ND (FLOPs)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from scalinglaws.fit.result import FitResult  # noqa: E402

#: Okabe-Ito colour-blind-safe palette.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def _columns(data: Any) -> Mapping[str, np.ndarray]:
    table = data.table if hasattr(data, "table") else data
    return {k: np.asarray(table[k], dtype=float) for k in ("params", "tokens", "loss") if k in table}


def plot_fit(result: FitResult, data: Any, *, plans: Sequence[Any] = ()) -> Figure:
    """Loss against compute: the runs coloured by size, the fitted compute-optimal frontier L*(C) with its
    bootstrap band, and each planned budget marked with its extrapolation distance.
    """
    from scalinglaws.plan import compute_optimal

    cols = _columns(data)
    flops = 6.0 * cols["params"] * cols["tokens"]
    fig, ax = plt.subplots(figsize=(7.5, 5.0), layout="constrained")
    sc = ax.scatter(flops, cols["loss"], c=np.log10(cols["params"]), cmap="viridis", s=14, alpha=0.85)
    fig.colorbar(sc, ax=ax, label="log10 params")

    c_max = max([flops.max(), *[p.compute for p in plans]]) * 3.0
    grid = np.geomspace(flops.min() / 2.0, c_max, 60)
    frontier = [compute_optimal(result, c) for c in grid]
    ax.plot(grid, [p.loss.value for p in frontier], color=PALETTE[3], lw=2, label="compute-optimal L*(C)")
    if frontier[0].loss.lo is not None:
        ax.fill_between(
            grid, [p.loss.lo for p in frontier], [p.loss.hi for p in frontier],
            color=PALETTE[3], alpha=0.2, lw=0, label=f"{frontier[0].level:.0%} bootstrap band",
        )
    for p in plans:
        distance = p.compute / flops.max()
        ax.errorbar(
            [p.compute], [p.loss.value],
            yerr=None if p.loss.lo is None else [[p.loss.value - p.loss.lo], [p.loss.hi - p.loss.value]],
            fmt="*", ms=14, color=PALETTE[0], capsize=4,
            label=f"plan C={p.compute:.2g}: N*={p.params.value:.3g}, {distance:.0f}x beyond the data",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute C = 6ND (FLOPs)")
    ax.set_ylabel("final loss")
    ax.set_title(f"{result.law.name} fit: {result.data['n_points']} runs, {result.data['source']}")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(True, which="both", alpha=0.25)
    return fig
