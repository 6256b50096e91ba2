"""All the figures (matplotlib on an Agg canvas, imported only by this module and those it imports).

Every function returns a :class:`matplotlib.figure.Figure` in the shared Okabe-Ito style, axes in real units.

Fits and plans (:mod:`~scalinglaws.report.fit_plots`): :func:`plot_loss_vs_compute` (alias
:func:`plot_fit`), :func:`plot_isoflop`, :func:`plot_residuals`, :func:`plot_parity`,
:func:`plot_compute_optimal`. Other capabilities, from arrays and tables
(:mod:`~scalinglaws.report.capability_plots`): :func:`plot_bottleneck_map`, :func:`plot_shape_optimum`,
:func:`plot_exponents`, :func:`plot_backtest_error`, :func:`plot_forecast_fan`,
:func:`plot_forecast_fans`.

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

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from scalinglaws.report._mpl import PlotError
from scalinglaws.report.capability_plots import (
    plot_backtest_error,
    plot_bottleneck_map,
    plot_exponents,
    plot_forecast_fan,
    plot_forecast_fans,
    plot_shape_optimum,
)
from scalinglaws.report.fit_plots import (
    plot_compute_optimal,
    plot_isoflop,
    plot_loss_vs_compute,
    plot_parity,
    plot_residuals,
)
from scalinglaws.report.style import PALETTE

__all__ = [
    "PALETTE",
    "PlotError",
    "plot_backtest_error",
    "plot_bottleneck_map",
    "plot_compute_optimal",
    "plot_exponents",
    "plot_fit",
    "plot_forecast_fan",
    "plot_forecast_fans",
    "plot_isoflop",
    "plot_loss_vs_compute",
    "plot_parity",
    "plot_residuals",
    "plot_shape_optimum",
]


def plot_fit(result: Any, data: Any, *, plans: Sequence[Any] = ()) -> Figure:
    """Loss against compute with the runs, the fitted frontier and its band, and the plans (the demo's
    ``fit.png``); see :func:`plot_loss_vs_compute`.
    """
    return plot_loss_vs_compute(result, data, plans=plans)
