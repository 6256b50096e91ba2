"""Figures of a fit and its plans: loss vs compute, IsoFLOP curves, residuals by size, N*(C) and D*(C).

Each function takes a :class:`~scalinglaws.fit.FitResult` (and the runs, where it draws them) and returns a
:class:`matplotlib.figure.Figure`; nothing is shown or saved.

Example:
    >>> import numpy as np
    >>> from scalinglaws.fit import fit
    >>> from scalinglaws.laws import get_law
    >>> N = np.repeat([1e8, 3e8, 1e9, 3e9], 4); D = np.tile([2e9, 6e9, 2e10, 6e10], 4)
    >>> y = get_law("chinchilla").predict({"params": N, "tokens": D}, np.array([1.7, 400, 1500, 0.34, 0.3]))
    >>> runs = {"params": N, "tokens": D, "loss": y}
    >>> result = fit(runs, bootstrap=20)
    >>> plot_isoflop(result, runs).axes[0].get_xlabel()
    'parameters N'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from scalinglaws.report._mpl import (
    PlotError,
    band,
    factor_text,
    has_draws,
    log_axes,
    new_figure,
    require_nd,
    run_table,
    sci,
    styled,
)
from scalinglaws.report.curves import Prediction, default_budgets, frontier, isoflop_curve, largest_compute
from scalinglaws.report.style import MUTED, OKABE_ITO, PALETTE, SEQUENTIAL_CMAP

__all__ = ["plot_compute_optimal", "plot_isoflop", "plot_loss_vs_compute", "plot_parity", "plot_residuals"]

COMPUTE_LABEL = "training compute C = 6ND (FLOPs)"
#: Axis labels of the canonical input columns, in real units.
AXIS_LABELS = {"params": "parameters N", "tokens": "training tokens D", "flops": "training compute C (FLOPs)",
               "unique_tokens": "unique tokens", "step": "training step"}


def _yerr(value: float, lo: float | None, hi: float | None):
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    return [[max(value - lo, 0.0)], [max(hi - value, 0.0)]]


def _as_predictions(points: Sequence[Any]) -> list[Prediction]:
    return [p if isinstance(p, Prediction) else Prediction(*p) for p in points]


def _target_label(result: Any) -> str:
    target = result.settings.get("target", "loss")
    return "final loss" if target == "loss" else target


@styled
def plot_loss_vs_compute(
    result: Any,
    data: Any = None,
    *,
    plans: Sequence[Any] = (),
    predictions: Sequence[Any] = (),
    level: float | None = None,
) -> Figure:
    """Loss against training compute: the runs coloured by size, the fitted compute-optimal frontier L*(C)
    with its bootstrap band, the largest fitted run, and each plan (star) and prediction (diamond) marked
    with its interval and extrapolation distance.

    Args:
        result: a fit of a law in params and tokens.
        data: the runs (``Runs``, DataFrame or dict with params, tokens, loss), or None.
        plans: :class:`~scalinglaws.plan.ComputePlan` objects to mark.
        predictions: :class:`~scalinglaws.report.curves.Prediction` or ``(params, tokens[, label])``.
        level: central level of the band (default: the fit's).
    """
    require_nd(result, "loss vs compute")
    points = _as_predictions(predictions)
    frame = None if data is None else run_table(data)
    flops = None if frame is None else frame["flops"].to_numpy(float)
    c_max, _ = largest_compute(result, flops)
    ranges = result.data.get("ranges", {})
    c_min = float(flops.min()) if flops is not None else 6.0 * ranges["params"][0] * ranges["tokens"][0]
    c_hi = max([c_max, *[p.compute for p in plans], *[p.compute for p in points]]) * 3.0
    fig, ax = new_figure()
    if frame is not None:
        sc = ax.scatter(flops, frame["loss"], c=frame["params"], cmap=SEQUENTIAL_CMAP,
                        norm=LogNorm(), s=16, alpha=0.85, lw=0, label="fitted runs", zorder=3)
        fig.colorbar(sc, ax=ax, label="parameters N", pad=0.01)
    grid = np.geomspace(c_min / 2.0, c_hi, 48)
    curve = frontier(result, grid, level)
    ax.plot(grid, curve["loss"], color=OKABE_ITO["blue"], label="compute-optimal L*(C), fitted law", zorder=4)
    if has_draws(result):
        band(ax, grid, curve["loss_lo"], curve["loss_hi"], OKABE_ITO["blue"],
             f"{(level or result.level):.0%} bootstrap band")
    ax.axvline(c_max, color=MUTED, ls=":", lw=1.2, zorder=2)
    ax.annotate("largest fitted run", (c_max, 0.0), xycoords=("data", "axes fraction"), xytext=(-4, 4),
                textcoords="offset points", ha="right", va="bottom", fontsize=8, color=MUTED, rotation=90)
    for p in plans:
        ax.errorbar([p.compute], [p.loss.value], yerr=_yerr(p.loss.value, p.loss.lo, p.loss.hi), fmt="*",
                    ms=13, color=OKABE_ITO["vermillion"], capsize=4, zorder=7,
                    label=f"plan C = {sci(p.compute)} FLOPs")
        ax.annotate(f"L* = {p.loss.value:.3f}\n{factor_text(p.compute / c_max)}", (p.compute, p.loss.value),
                    xytext=(-6, 22), textcoords="offset points", ha="right", fontsize=8,
                    color=OKABE_ITO["vermillion"])
    for pt in points:
        value = float(result.predict(params=pt.params, tokens=pt.tokens)[0])
        lo = hi = None
        if has_draws(result):
            a, b = result.predict_interval(params=pt.params, tokens=pt.tokens, level=level)
            lo, hi = float(a[0]), float(b[0])
        name = pt.label or f"N = {sci(pt.params)}, D = {sci(pt.tokens)}"
        ax.errorbar([pt.compute], [value], yerr=_yerr(value, lo, hi), fmt="D", ms=7,
                    color=OKABE_ITO["orange"], mec="white", capsize=4, zorder=6, label=f"prediction: {name}")
        ax.annotate(factor_text(pt.compute / c_max), (pt.compute, value), xytext=(0, -18),
                    textcoords="offset points", ha="right", fontsize=8, color="#8A5A00")
    log_axes(ax)
    ax.set_xlim(grid[0], grid[-1])
    ax.set_xlabel(COMPUTE_LABEL)
    ax.set_ylabel(_target_label(result))
    n = result.data.get("n_points")
    ax.set_title(f"Loss vs compute: {result.law.name} law" + (f" fitted to {n} runs" if n else ""))
    ax.legend(loc="lower left")
    return fig


@styled
def plot_isoflop(
    result: Any,
    data: Any = None,
    *,
    budgets: Sequence[float] | None = None,
    tolerance: float = 0.06,
    level: float | None = None,
) -> Figure:
    """IsoFLOP curves: loss against model size at fixed compute budgets under the fitted law (with bands),
    the optimum of each, and the runs within ``tolerance`` decades of each budget in the same colour.

    Args:
        result: a fit of a law in params and tokens.
        data: the runs, or None.
        budgets: compute budgets in FLOPs (default: the budgets the runs cluster at, see
            :func:`~scalinglaws.report.curves.default_budgets`).
        tolerance: how close (in decades of compute) a run must be to a budget to be drawn with it.
        level: central level of the bands.
    """
    require_nd(result, "IsoFLOP curves")
    frame = None if data is None else run_table(data)
    if budgets is None:
        if frame is None:
            r = result.data["ranges"]
            lo, hi = 6 * r["params"][0] * r["tokens"][0], 6 * r["params"][1] * r["tokens"][1]
            budgets = default_budgets(np.geomspace(lo, hi, 5))
        else:
            budgets = default_budgets(frame["flops"].to_numpy(float), tolerance=tolerance)
    if len(budgets) == 0:
        raise PlotError("no IsoFLOP budgets to draw")
    fig, ax = new_figure()
    minima_n, minima_l = [], []
    y_top = []
    for i, c in enumerate(sorted(budgets)):
        colour = PALETTE[i % len(PALETTE)]
        opt = frontier(result, np.array([c]), level)
        centre = opt["params"][0] if np.isfinite(opt["params"][0]) else np.sqrt(c / 120.0)
        near = None
        if frame is not None:
            close = np.abs(np.log10(frame["flops"].to_numpy(float) / c)) <= tolerance
            near = frame[close]
        span = [centre / 10**1.2, centre * 10**1.2]
        if near is not None and len(near):
            span = [min(span[0], near["params"].min() / 1.3), max(span[1], near["params"].max() * 1.3)]
        n_grid = np.geomspace(*span, 80)
        loss, lo, hi = isoflop_curve(result, c, n_grid, level)
        ax.plot(n_grid, loss, color=colour, label=f"C = {sci(c, 2)} FLOPs")
        if lo is not None:
            band(ax, n_grid, lo, hi, colour, alpha=0.15)
        if near is not None and len(near):
            ax.scatter(near["params"], near["loss"], color=colour, s=20, edgecolor="white", lw=0.5, zorder=4)
            y_top.append(near["loss"].max())
        if np.isfinite(opt["params"][0]):
            minima_n.append(opt["params"][0])
            minima_l.append(opt["loss"][0])
        y_top.append(np.interp(np.log10(centre), np.log10(n_grid), loss) + 0.25)
    if minima_n:
        ax.plot(minima_n, minima_l, ls="--", color=MUTED, lw=1, marker="v", ms=6, mfc="white",
                label="optimum N*(C), fitted law", zorder=5)
    log_axes(ax)
    y_low = min(minima_l) - 0.05 if minima_l else None
    ax.set_ylim(y_low, max(y_top))
    ax.set_xlabel("parameters N")
    ax.set_ylabel(_target_label(result))
    if frame is not None:
        ax.scatter([], [], color=MUTED, s=20, label=f"runs within ×{10**tolerance:.3g}\nof a budget")
    ax.set_title("IsoFLOP curves: loss vs model size at fixed compute")
    fig.legend(loc="outside right upper")
    return fig


def _residuals(result: Any, frame: Any) -> tuple[np.ndarray, str]:
    X = {k: frame[k].to_numpy(float) for k in result.law.inputs}
    target = result.settings.get("target", "loss")
    y = frame[target].to_numpy(float)
    pred = result.predict(X)
    if result.residual_space == "log":
        return np.log(y) - np.log(pred), f"residual ln {target} − ln fitted"
    return y - pred, f"residual {target} − fitted"


@styled
def plot_residuals(result: Any, data: Any, *, by: str | None = None, bins: int = 12) -> Figure:
    """Residuals of the runs against model size (or ``by``), coloured by tokens per parameter, with the
    median in ``bins`` log-spaced size bins: a trend or a fan shows where the law misfits.

    Args:
        result: any fit.
        data: the fitted runs.
        by: the input on the x axis (default: ``params`` when the law uses it, else its first input).
        bins: number of bins of the median line.
    """
    target = result.settings.get("target", "loss")
    frame = run_table(data, (*result.law.inputs, target))
    by = by or ("params" if "params" in result.law.inputs else result.law.inputs[0])
    if by not in frame.columns:
        raise PlotError(f"the runs have no column {by!r} to plot residuals against")
    resid, label = _residuals(result, frame)
    x = frame[by].to_numpy(float)
    fig, ax = new_figure()
    if {"params", "tokens"} <= set(frame.columns):
        ratio = frame["tokens"].to_numpy(float) / frame["params"].to_numpy(float)
        sc = ax.scatter(x, resid, c=ratio, cmap=SEQUENTIAL_CMAP, norm=LogNorm(), s=16, lw=0, alpha=0.85,
                        zorder=3)
        fig.colorbar(sc, ax=ax, label="tokens per parameter D/N", pad=0.01)
    else:
        ax.scatter(x, resid, color=OKABE_ITO["blue"], s=16, lw=0, alpha=0.85, zorder=3)
    positive = bool(np.all(x > 0))
    edges = (np.geomspace if positive else np.linspace)(x.min(), x.max(), min(bins, np.unique(x).size) + 1)
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    filled = [b for b in range(len(edges) - 1) if np.any(which == b)]
    centres = [float(np.median(x[which == b])) for b in filled]
    medians = [float(np.median(resid[which == b])) for b in filled]
    ax.plot(centres, medians, marker="s", ms=5, color=OKABE_ITO["vermillion"], lw=1.4,
            label=f"median by {'size' if by == 'params' else by} ({len(filled)} bins)", zorder=4)
    ax.axhline(0.0, color="#52606D", lw=1)
    if positive:
        log_axes(ax)
    ax.set_xlabel(AXIS_LABELS.get(by, by))
    ax.set_ylabel(label)
    ax.set_title(f"Residuals by {'model size' if by == 'params' else by}")
    ax.legend(loc="upper right")
    return fig


@styled
def plot_parity(result: Any, data: Any) -> Figure:
    """Fitted against observed values of the runs, with the identity line (any law)."""
    target = result.settings.get("target", "loss")
    frame = run_table(data, (*result.law.inputs, target))
    y = frame[target].to_numpy(float)
    pred = result.predict({k: frame[k].to_numpy(float) for k in result.law.inputs})
    fig, ax = new_figure(size=(5.2, 4.6))
    ax.scatter(y, pred, s=16, lw=0, alpha=0.85, color=OKABE_ITO["blue"], zorder=3, label="runs")
    lims = [min(y.min(), pred.min()), max(y.max(), pred.max())]
    ax.plot(lims, lims, color=MUTED, lw=1, ls="--", label="fitted = observed")
    ax.set_xlabel(f"observed {target}")
    ax.set_ylabel(f"fitted {target}")
    ax.set_title(f"Fitted vs observed: {result.law.name} law")
    ax.legend(loc="upper left")
    return fig


@styled
def plot_compute_optimal(
    result: Any,
    data: Any = None,
    *,
    plans: Sequence[Any] = (),
    compute_range: tuple[float, float] | None = None,
    level: float | None = None,
) -> Figure:
    """The compute-optimal model size N*(C) and token count D*(C) with bootstrap bands (two panels), the
    fitted compute range shaded, the runs in grey, and each plan marked with its interval and
    extrapolation distance.

    Args:
        result: a fit of a law in params and tokens.
        data: the runs, or None.
        plans: :class:`~scalinglaws.plan.ComputePlan` objects to mark.
        compute_range: FLOPs range of the curves (default: the runs' lowest compute to 3x the largest
            plan, or 1000x the largest run without plans).
        level: central level of the bands.
    """
    require_nd(result, "N*(C) and D*(C)")
    frame = None if data is None else run_table(data)
    flops = None if frame is None else frame["flops"].to_numpy(float)
    c_max, _ = largest_compute(result, flops)
    c_min = float(flops.min()) if flops is not None else c_max / 1e3
    if compute_range is None:
        compute_range = (c_min, max([c_max * 1e3, *[3.0 * p.compute for p in plans]]))
    grid = np.geomspace(*compute_range, 60)
    curve = frontier(result, grid, level)
    fig, axes = new_figure(1, 2, size=(9.2, 4.0))
    for ax, key, label, colour in (
        (axes[0], "params", "N*, parameters", OKABE_ITO["blue"]),
        (axes[1], "tokens", "D*, training tokens", OKABE_ITO["green"]),
    ):
        ax.axvspan(c_min, c_max, color="#EEF0F3", lw=0, label="fitted compute range", zorder=0)
        if frame is not None:
            ax.scatter(flops, frame[key], s=8, color="#9AA5B1", lw=0, alpha=0.7, label="fitted runs",
                       zorder=2)
        ax.plot(grid, curve[key], color=colour, label=f"{label.split(',')[0]}(C), fitted law", zorder=4)
        if has_draws(result):
            band(ax, grid, curve[f"{key}_lo"], curve[f"{key}_hi"], colour,
                 f"{(level or result.level):.0%} bootstrap band")
        for p in plans:
            est = getattr(p, key)
            ax.errorbar([p.compute], [est.value], yerr=_yerr(est.value, est.lo, est.hi), fmt="*", ms=12,
                        color=OKABE_ITO["vermillion"], capsize=4, zorder=6)
            ax.annotate(f"{sci(est.value)}\n{factor_text(p.compute / c_max)}", (p.compute, est.value),
                        xytext=(-10, 10), textcoords="offset points", ha="right", fontsize=8,
                        color=OKABE_ITO["vermillion"])
        log_axes(ax, x=True, y=True)
        ax.set_xlim(grid[0], grid[-1])
        ax.set_xlabel(COMPUTE_LABEL)
        ax.set_ylabel(f"compute-optimal {label}")
        ax.legend(loc="upper left")
    axes[0].set_title("Compute-optimal model size N*(C)")
    axes[1].set_title("Compute-optimal training tokens D*(C)")
    return fig
