"""Figures for the theory, shape, exponent, backtest and forecast capabilities, from plain arrays and tables.

These take arrays, mappings or DataFrames (not result objects), so they work on whatever the capability
modules return: the Effective-Frontier bottleneck map, the shape optimum (loss vs aspect ratio), measured
vs claimed exponents, backtest error vs extrapolation distance, and the forecast fan (one, or a grid).

Example:
    >>> import pandas as pd
    >>> table = pd.DataFrame({"method": ["a", "a", "b", "b"], "distance": [2, 8, 2, 8],
    ...                       "error": [0.01, 0.03, 0.02, 0.02]})
    >>> plot_backtest_error(table).axes[0].get_ylabel()
    'absolute error'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from scalinglaws.report._mpl import PlotError, band, log_axes, new_figure, si_ticks, styled
from scalinglaws.report.style import BOTTLENECK_COLOURS, MUTED, OKABE_ITO, PALETTE

__all__ = [
    "plot_backtest_error",
    "plot_bottleneck_map",
    "plot_exponents",
    "plot_forecast_fan",
    "plot_forecast_fans",
    "plot_shape_optimum",
]

_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _frame(table: Any, needed: Sequence[str], what: str) -> pd.DataFrame:
    if isinstance(table, Mapping):
        table = pd.DataFrame(dict(table))
    if not isinstance(table, pd.DataFrame):
        raise PlotError(f"{what} needs a DataFrame or a mapping of columns, got {type(table).__name__}")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise PlotError(f"{what} needs column(s) {missing}; the table has {list(table.columns)}")
    if len(table) == 0:
        raise PlotError(f"{what}: the table is empty")
    return table


def _array(name: str, values: Any, size: int | None = None) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0 or (size is not None and arr.size != size):
        raise PlotError(f"{name} must have {size or 'at least 1'} value(s), got {arr.size}")
    return arr


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges (geometric midpoints) around sorted positive centres."""
    logc = np.log10(centres)
    step = np.diff(logc)
    mids = np.concatenate([[logc[0] - step[0] / 2], logc[:-1] + step / 2, [logc[-1] + step[-1] / 2]])
    return 10.0**mids


@styled
def plot_bottleneck_map(
    source: Callable[[np.ndarray, np.ndarray], Any] | pd.DataFrame | Mapping[str, Any],
    *,
    params: tuple[float, float] = (1e6, 1e12),
    tokens: tuple[float, float] = (1e8, 1e14),
    resolution: int = 120,
    path: tuple[Any, Any] | None = None,
    path_label: str = "compute-optimal allocation",
    title: str = "Which bottleneck limits the loss (Effective Frontiers)",
) -> Figure:
    """A map over model size x training tokens of the dominant loss term (capacity, coverage, optimisation).

    Args:
        source: ``f(params, tokens) -> names`` evaluated on a ``resolution`` x ``resolution`` log grid over
            ``params`` x ``tokens``; or a table with columns ``params``, ``tokens``, ``bottleneck`` (a full
            grid is drawn as a map, other tables as points).
        params, tokens: ranges of the grid for a function.
        resolution: grid points per axis for a function.
        path: optional ``(params, tokens)`` arrays drawn as a line, e.g. the compute-optimal allocation.
        path_label: legend text of ``path``.
        title: the axes title.

    Example:
        >>> f = lambda n, d: np.where(n < d / 20, "capacity", "coverage")
        >>> fig = plot_bottleneck_map(f, resolution=20)
        >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        ['capacity', 'coverage']
    """
    if callable(source):
        n = np.geomspace(*params, resolution)
        d = np.geomspace(*tokens, resolution)
        names = np.asarray(source(n[None, :], d[:, None]), dtype=object)
        names = np.broadcast_to(names, (d.size, n.size))
        grid = (n, d, names)
        points = None
    else:
        frame = _frame(source, ("params", "tokens", "bottleneck"), "the bottleneck map")
        n, d = np.unique(frame["params"].to_numpy(float)), np.unique(frame["tokens"].to_numpy(float))
        full = n.size > 1 and d.size > 1 and n.size * d.size == len(frame)
        if full:
            pivot = frame.pivot(index="tokens", columns="params", values="bottleneck")
            grid, points = (n, d, pivot.loc[d, n].to_numpy(dtype=object)), None
        else:
            grid, points = None, frame
    found = np.unique(np.asarray(grid[2] if grid else points["bottleneck"], dtype=str))
    order = [k for k in BOTTLENECK_COLOURS if k in found] + sorted(set(found) - set(BOTTLENECK_COLOURS))
    extra = iter(PALETTE[3:])
    colours = {k: BOTTLENECK_COLOURS.get(k) or next(extra, MUTED) for k in order}
    fig, ax = new_figure(size=(6.4, 4.8))
    if grid is not None:
        n, d, names = grid
        codes = np.vectorize(order.index, otypes=[float])(np.asarray(names, dtype=str))
        ax.pcolormesh(_edges(n), _edges(d), codes, cmap=ListedColormap([colours[k] for k in order]),
                      vmin=-0.5, vmax=len(order) - 0.5, shading="flat", rasterized=False)
        ax.grid(False)
        handles = [Patch(color=colours[k], label=k) for k in order]
    else:
        handles = []
        for i, k in enumerate(order):
            sel = points[points["bottleneck"].astype(str) == k]
            handles.append(ax.scatter(sel["params"], sel["tokens"], color=colours[k], s=30,
                                      marker=_MARKERS[i % len(_MARKERS)], label=k, zorder=3))
    if path is not None:
        px = _array("path params", path[0])
        (line,) = ax.plot(px, _array("path tokens", path[1], px.size), color=OKABE_ITO["black"], lw=1.8,
                          ls="--", label=path_label)
        handles.append(line)
    log_axes(ax, x=True, y=True)
    if grid is not None:
        ax.grid(False, which="both")
    ax.set_xlabel("parameters N")
    ax.set_ylabel("training tokens D")
    ax.set_title(title)
    ax.legend(handles=handles, loc="upper left", frameon=True, framealpha=0.9)
    return fig


@styled
def plot_shape_optimum(
    aspect: Any,
    loss: Any,
    *,
    lo: Any = None,
    hi: Any = None,
    optimum: float | None = None,
    observed: tuple[Any, Any] | None = None,
    band_label: str = "interval",
    xlabel: str = "aspect ratio (width / depth)",
    ylabel: str = "predicted loss",
    title: str = "Loss vs model shape at fixed size",
) -> Figure:
    """Loss against aspect ratio (log axis) with an optional band, the optimum marked and observed runs.

    Example:
        >>> a = np.geomspace(8, 512, 30)
        >>> fig = plot_shape_optimum(a, 2 + 0.01 * np.log(a / 64) ** 2, optimum=64)
        >>> fig.axes[0].get_xlabel()
        'aspect ratio (width / depth)'
    """
    x = _array("aspect", aspect)
    y = _array("loss", loss, x.size)
    if np.any(x <= 0):
        raise PlotError("aspect ratios must be positive")
    order = np.argsort(x)
    fig, ax = new_figure(size=(6.4, 4.2))
    ax.plot(x[order], y[order], color=OKABE_ITO["blue"], label=ylabel)
    if lo is not None and hi is not None:
        band(ax, x[order], _array("lo", lo, x.size)[order], _array("hi", hi, x.size)[order],
             OKABE_ITO["blue"], band_label)
    if observed is not None:
        ox = _array("observed aspect", observed[0])
        oy = _array("observed loss", observed[1], ox.size)
        ax.scatter(ox, oy, color=OKABE_ITO["orange"], s=24, zorder=4, label="observed runs")
    if optimum is not None:
        ax.axvline(optimum, color=OKABE_ITO["vermillion"], ls="--", lw=1.2,
                   label=f"optimum {optimum:.3g}")
    log_axes(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="upper center")
    return fig


@styled
def plot_exponents(table: Any, *, title: str = "Measured exponents vs claimed values") -> Figure:
    """Point-and-interval chart of measured exponents (``name, value[, lo, hi][, claimed]``), one row each,
    with the claimed value of each marked as an open diamond.

    Example:
        >>> fig = plot_exponents({"name": ["alpha", "beta"], "value": [0.34, 0.28], "lo": [0.3, 0.25],
        ...                       "hi": [0.38, 0.31], "claimed": [0.34, 0.28]})
        >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
        ['alpha', 'beta']
    """
    frame = _frame(table, ("name", "value"), "the exponent chart").reset_index(drop=True)
    rows = np.arange(len(frame))[::-1]
    fig, ax = new_figure(size=(6.4, 1.2 + 0.45 * len(frame)))
    value = frame["value"].to_numpy(float)
    xerr = None
    if {"lo", "hi"} <= set(frame.columns):
        lo, hi = frame["lo"].to_numpy(float), frame["hi"].to_numpy(float)
        xerr = np.vstack([np.clip(value - lo, 0, None), np.clip(hi - value, 0, None)])
        xerr = np.where(np.isfinite(xerr), xerr, 0.0)
    ax.errorbar(value, rows, xerr=xerr, fmt="o", color=OKABE_ITO["blue"], capsize=3, ms=6,
                label="measured" + (" with interval" if xerr is not None else ""), zorder=3)
    if "claimed" in frame.columns:
        claimed = frame["claimed"].to_numpy(float)
        ok = np.isfinite(claimed)
        ax.scatter(claimed[ok], rows[ok], marker="D", s=46, facecolor="none",
                   edgecolor=OKABE_ITO["vermillion"], lw=1.6, label="claimed", zorder=4)
    ax.set_yticks(rows, frame["name"].astype(str).tolist())
    ax.set_ylim(-0.7, len(frame) - 0.3)
    ax.grid(False, axis="y")
    ax.set_xlabel("exponent")
    ax.set_title(title)
    ax.legend(loc="lower right", ncols=2)
    return fig


@styled
def plot_backtest_error(
    table: Any,
    *,
    error_label: str = "absolute error",
    distance_label: str = "extrapolation distance (× largest training compute)",
    log_error: bool = False,
    title: str = "Backtest: error vs extrapolation distance",
) -> Figure:
    """Median error of each method against extrapolation distance (columns ``method, distance, error``),
    with the interquartile band where a distance has several backtests.
    """
    frame = _frame(table, ("method", "distance", "error"), "the backtest chart")
    fig, ax = new_figure(size=(6.6, 4.2))
    for i, (method, group) in enumerate(frame.groupby("method", sort=True)):
        stats = group.groupby("distance")["error"].quantile([0.25, 0.5, 0.75]).unstack()
        colour = PALETTE[i % len(PALETTE)]
        dist = stats.index.to_numpy(float)
        ax.plot(dist, stats[0.5], marker=_MARKERS[i % len(_MARKERS)], color=colour, label=str(method),
                zorder=3)
        if group.groupby("distance").size().max() > 1:
            band(ax, dist, stats[0.25], stats[0.75], colour, alpha=0.15)
    log_axes(ax, x=True, y=log_error)
    ticks = np.unique(frame["distance"].to_numpy(float))
    if ticks.size <= 8:
        from matplotlib.ticker import NullFormatter

        ax.set_xticks(ticks, [f"{t:g}×" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(distance_label)
    ax.set_ylabel(error_label)
    ax.set_title(title)
    ax.legend(loc="upper left", title="method")
    return fig


Pair = tuple[Any, Any] | None


def _fan(ax: Any, observed_x: Any, observed_y: Any, forecast_x: Any, median: Any, band50: Pair, band80: Pair,
         truth: Pair) -> float:
    """Draw one forecast fan into ``ax``; returns the last observed x."""
    ox = _array("observed_x", observed_x)
    oy = _array("observed_y", observed_y, ox.size)
    fx = _array("forecast_x", forecast_x)
    med = _array("median", median, fx.size)
    for bands, alpha, label in ((band80, 0.18, "80% band"), (band50, 0.35, "50% band")):
        if bands is not None:
            low = _array(f"{label} low", bands[0], fx.size)
            high = _array(f"{label} high", bands[1], fx.size)
            band(ax, fx, low, high, OKABE_ITO["blue"], label, alpha=alpha)
    ax.plot(fx, med, color=OKABE_ITO["blue"], label="median forecast", zorder=3)
    ax.plot(ox, oy, color=OKABE_ITO["black"], marker="o", ms=4, lw=1.2, label="observed", zorder=4)
    if truth is not None:
        tx = _array("truth x", truth[0])
        ty = _array("truth y", truth[1], tx.size)
        if np.isfinite(ty).any():
            ax.plot(tx, ty, color=OKABE_ITO["vermillion"], ls="none", marker="x", ms=6, mew=1.6,
                    label="truth (held out)", zorder=5)
    ax.axvline(ox.max(), color=MUTED, ls=":", lw=1.2)
    return float(ox.max())


@styled
def plot_forecast_fan(
    observed_x: Any,
    observed_y: Any,
    forecast_x: Any,
    median: Any,
    *,
    band50: tuple[Any, Any] | None = None,
    band80: tuple[Any, Any] | None = None,
    truth: tuple[Any, Any] | None = None,
    xlabel: str = "training tokens",
    ylabel: str = "accuracy",
    log_x: bool = False,
    title: str = "Forecast",
) -> Figure:
    """A forecast fan: the observed checkpoints, the median forecast, its 50% and 80% bands and, when
    backtesting, the true later checkpoints.

    Example:
        >>> x = np.arange(1, 6.0); f = np.arange(6, 11.0)
        >>> fig = plot_forecast_fan(x, 0.3 + 0.02 * x, f, 0.3 + 0.02 * f, band50=(0.29 + 0.02 * f,
        ...                         0.31 + 0.02 * f), band80=(0.28 + 0.02 * f, 0.32 + 0.02 * f))
        >>> fig.axes[0].get_ylabel()
        'accuracy'
    """
    fig, ax = new_figure(size=(6.8, 4.2))
    last = _fan(ax, observed_x, observed_y, forecast_x, median, band50, band80, truth)
    ax.annotate("forecast from here", (last, 0.02), xycoords=("data", "axes fraction"), xytext=(4, 0),
                textcoords="offset points", fontsize=8, color=MUTED)
    _token_axis(ax, log_x)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(loc="best")
    return fig


@styled
def plot_forecast_fans(
    panels: Sequence[Mapping[str, Any]],
    *,
    ncols: int = 4,
    xlabel: str = "training tokens",
    ylabel: str = "score",
    log_x: bool = False,
    title: str | None = None,
) -> Figure:
    """Small multiples of forecast fans, one panel per mapping (keys ``title``, ``observed_x``,
    ``observed_y``, ``forecast_x``, ``median`` and optionally ``band50``, ``band80``, ``truth``, as for
    :func:`plot_forecast_fan`), with one legend for all.

    Example:
        >>> x = np.geomspace(1e9, 1e10, 5); f = np.geomspace(2e10, 5e10, 3)
        >>> panel = {"observed_x": x, "observed_y": 0.3 + 0 * x, "forecast_x": f, "median": 0.31 + 0 * f}
        >>> fig = plot_forecast_fans([panel | {"title": "piqa"}, panel | {"title": "sciq"}])
        >>> [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
        ['piqa', 'sciq']
    """
    if not panels:
        raise PlotError("the forecast grid needs at least one panel")
    ncols = max(1, min(ncols, len(panels)))
    nrows = -(-len(panels) // ncols)
    fig, grid = new_figure(nrows, ncols, size=(2.45 * ncols + 0.6, 2.2 * nrows + 0.9))
    axes = np.atleast_1d(np.asarray(grid, dtype=object)).ravel()
    for ax, p in zip(axes, panels, strict=False):
        _fan(ax, p["observed_x"], p["observed_y"], p["forecast_x"], p["median"], p.get("band50"),
             p.get("band80"), p.get("truth"))
        _token_axis(ax, log_x, ticks=4)
        ax.set_title(str(p.get("title", "")), fontsize=9)
        ax.tick_params(labelsize=7.5)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    handles: dict[str, Any] = {}
    for ax in axes[: len(panels)]:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
    fig.legend(handles.values(), handles.keys(), loc="outside upper center", ncols=len(handles))
    fig.supxlabel(xlabel, fontsize=9)
    fig.supylabel(ylabel, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10.5, fontweight="bold", x=0.01, ha="left")
    return fig


def _token_axis(ax: Any, log_x: bool, ticks: int | None = None) -> None:
    """Log or SI-labelled linear x axis of token counts (with at most about ``ticks`` ticks if given)."""
    if log_x:
        log_axes(ax)
        return
    lo, hi = ax.get_xlim()
    if max(abs(lo), abs(hi)) >= 1e4:
        si_ticks(ax.xaxis)
    if ticks:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(ticks))
