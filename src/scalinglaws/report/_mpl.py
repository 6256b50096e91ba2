"""Shared matplotlib plumbing of the plot modules: styled figures (Agg canvas, no pyplot state), bands,
log axes and the run-table adapter.

Figures are :class:`matplotlib.figure.Figure` objects on an Agg canvas, created without ``pyplot``: no global
figure registry, no backend switch for the caller, nothing to close.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from scalinglaws.report.curves import PlotError, run_table
from scalinglaws.report.style import rc

__all__ = ["PlotError", "band", "factor_text", "has_draws", "log_axes", "new_figure",
           "require_nd", "run_table", "sci", "si_ticks", "styled"]

P = ParamSpec("P")
R = TypeVar("R")


def styled(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a plot function under the shared style (settings read when artists are created)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.rc_context(rc()):
            return fn(*args, **kwargs)

    return wrapper


def new_figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] = (7.2, 4.4), **kw: Any):
    """A constrained-layout figure with an Agg canvas and its axes (a single Axes when 1 x 1)."""
    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True, **kw)
    return fig, axes


def band(ax: Axes, x: Any, lo: Any, hi: Any, colour: str, label: str | None = None, alpha: float = 0.2):
    """Shade ``lo..hi`` over ``x`` where both are finite."""
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.any():
        ax.fill_between(np.asarray(x, dtype=float), lo, hi, where=ok, color=colour, alpha=alpha, lw=0,
                        label=label)


def require_nd(result: Any, what: str) -> None:
    """Raise :class:`PlotError` unless the fitted law is a law of params and tokens."""
    if set(result.law.inputs) != {"params", "tokens"}:
        raise PlotError(f"{what} needs a law of params and tokens; {result.law.name!r} takes "
                        f"{list(result.law.inputs)}")


def has_draws(result: Any) -> bool:
    return result.draws is not None and len(result.draws) > 0


def log_axes(ax: Axes, x: bool = True, y: bool = False) -> None:
    if x:
        ax.set_xscale("log")
    if y:
        ax.set_yscale("log")
    ax.grid(True, which="major")
    ax.grid(True, which="minor", alpha=0.35, lw=0.5)


def si_ticks(axis: Any) -> None:
    """Label a linear axis of large counts with SI suffixes (``150B`` for 1.5e11).

    Example:
        >>> from matplotlib.figure import Figure
        >>> ax = Figure().subplots(); si_ticks(ax.xaxis)
        >>> ax.xaxis.get_major_formatter()(1.5e11, 0), ax.xaxis.get_major_formatter()(2500, 0)
        ('150B', '2.5K')
    """
    from matplotlib.ticker import FuncFormatter

    def fmt(v: float, _pos: Any) -> str:
        for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(v) >= scale:
                return f"{v / scale:.4g}{suffix}"
        return f"{v:.4g}"

    axis.set_major_formatter(FuncFormatter(fmt))


def factor_text(f: float) -> str:
    """Extrapolation factor in words: ``'58x beyond'`` or ``'inside'`` the fitted range.

    Example:
        >>> factor_text(57.6), factor_text(0.5)
        ('58× beyond the data', 'inside the data')
    """
    if f <= 1.0:
        return "inside the data"
    return f"{f:.2g}× beyond the data" if f < 100 else f"{f:.0f}× beyond the data"


def sci(x: float, digits: int = 3) -> str:
    r"""A number as matplotlib mathtext, ``3.21e10 -> $3.21\times10^{10}$``; numbers near 1 stay plain.

    Example:
        >>> sci(3.21e10), sci(2.5), sci(1e19, 1), sci(6e18, 1)
        ('$3.21\\times10^{10}$', '2.5', '$10^{19}$', '$6\\times10^{18}$')
    """
    if not np.isfinite(x) or x == 0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:.{digits}g}"
    exp = int(np.floor(np.log10(abs(x))))
    mant = float(f"{x / 10.0**exp:.{digits}g}")
    if abs(mant) >= 10:
        mant, exp = mant / 10, exp + 1
    if mant == 1:
        return f"$10^{{{exp}}}$"
    return f"${mant:.{digits}g}\\times10^{{{exp}}}$"
