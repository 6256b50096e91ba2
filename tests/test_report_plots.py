"""Every plot function on small inputs: a figure comes back, its axes are labelled, drawing warns nothing."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from scalinglaws.fit import fit
from scalinglaws.laws import get_law
from scalinglaws.plan import compute_optimal
from scalinglaws.report import Prediction

plots = pytest.importorskip("scalinglaws.report.plots", reason="matplotlib (the plot extra) is not installed")

TRUTH = np.array([1.7, 400.0, 1500.0, 0.34, 0.30])


@pytest.fixture(scope="module")
def runs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    N = np.repeat([1e8, 2e8, 4e8, 1e9, 2e9, 4e9], 5)
    D = np.tile([2e9, 5e9, 1e10, 3e10, 8e10], 6)
    noise = np.exp(rng.normal(0, 0.005, N.size))
    y = get_law("chinchilla").predict({"params": N, "tokens": D}, TRUTH) * noise
    return {"params": N, "tokens": D, "loss": y}


@pytest.fixture(scope="module")
def result(runs):
    return fit(runs, "chinchilla", bootstrap=40, seed=0)


def _draw(make):
    """Build and render a figure with every warning an error; return the figure."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = make()
        fig.canvas.draw()
    return fig


def _assert_labelled(fig) -> None:
    main = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert main, "no axes"
    for ax in main:
        assert ax.get_xlabel().strip(), f"axes {ax.get_title('left')!r} has no x label"
        assert ax.get_ylabel().strip(), f"axes {ax.get_title('left')!r} has no y label"
        assert ax.get_title("left").strip(), "axes without a title"


def test_loss_vs_compute_marks_plans_and_predictions(result, runs) -> None:
    plan = compute_optimal(result, 1e22)
    fig = _draw(lambda: plots.plot_loss_vs_compute(result, runs, plans=[plan],
                                                   predictions=[Prediction(7e10, 1.4e12, "70B")]))
    _assert_labelled(fig)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "FLOPs" in ax.get_xlabel()
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "beyond the data" in texts and "largest fitted run" in texts
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("bootstrap band" in t for t in legend) and any("70B" in t for t in legend)


def test_plot_fit_keeps_the_demo_signature(result, runs) -> None:
    fig = _draw(lambda: plots.plot_fit(result, runs, plans=[compute_optimal(result, 1e21)]))
    assert fig.axes[0].get_xlabel() == "training compute C = 6ND (FLOPs)"


def test_loss_vs_compute_without_runs_and_without_draws(runs) -> None:
    bare = fit(runs, "chinchilla")
    fig = _draw(lambda: plots.plot_loss_vs_compute(bare))
    _assert_labelled(fig)


def test_isoflop_curves_draw_the_nearby_runs(result, runs) -> None:
    fig = _draw(lambda: plots.plot_isoflop(result, runs, budgets=[1.2e19, 2.4e20]))
    _assert_labelled(fig)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "parameters N"
    assert len(ax.collections) >= 2  # points near a budget, bands
    assert len(fig.legends) == 1 and "FLOPs" in fig.legends[0].get_texts()[0].get_text()


def test_residuals_by_size(result, runs) -> None:
    fig = _draw(lambda: plots.plot_residuals(result, runs))
    _assert_labelled(fig)
    assert "ln" in fig.axes[0].get_ylabel()
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)


def test_parity_for_any_law() -> None:
    x = np.geomspace(1e18, 1e22, 12)
    y = 1.8 + 30 * x**-0.08
    res = fit({"flops": x, "loss": y}, "power", law_options={"x": "flops"})
    fig = _draw(lambda: plots.plot_parity(res, {"flops": x, "loss": y}))
    _assert_labelled(fig)
    fig = _draw(lambda: plots.plot_residuals(res, {"flops": x, "loss": y}))
    assert fig.axes[0].get_xlabel() == "training compute C (FLOPs)"


def test_compute_optimal_two_panels(result, runs) -> None:
    plan = compute_optimal(result, 1e23)
    fig = _draw(lambda: plots.plot_compute_optimal(result, runs, plans=[plan]))
    _assert_labelled(fig)
    assert [ax.get_yscale() for ax in fig.axes] == ["log", "log"]
    assert "N*" in fig.axes[0].get_ylabel() and "D*" in fig.axes[1].get_ylabel()


def test_plots_that_need_params_and_tokens_say_so() -> None:
    x = np.geomspace(1e18, 1e22, 12)
    res = fit({"flops": x, "loss": 1.8 + 30 * x**-0.08}, "power", law_options={"x": "flops"})
    with pytest.raises(plots.PlotError, match="params and tokens"):
        plots.plot_isoflop(res)


def test_bottleneck_map_from_a_function_and_from_tables() -> None:
    from scalinglaws.theory.frontier import frontiers

    fig = _draw(lambda: plots.plot_bottleneck_map(
        lambda n, d: frontiers(1.5, n, d).active, params=(1e3, 1e9), tokens=(1e4, 1e10), resolution=16,
        path=([1e3, 1e9], [2e4, 2e10])))
    _assert_labelled(fig)
    names = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert names[:2] == ["capacity", "coverage"]
    n, d = np.meshgrid([1e6, 1e8, 1e10], [1e8, 1e10])
    grid = pd.DataFrame({"params": n.ravel(), "tokens": d.ravel()})
    grid["bottleneck"] = frontiers(1.5, grid.params, grid.tokens).active
    _assert_labelled(_draw(lambda: plots.plot_bottleneck_map(grid)))
    _assert_labelled(_draw(lambda: plots.plot_bottleneck_map(grid.iloc[:-1])))  # not a full grid: points
    with pytest.raises(plots.PlotError, match="bottleneck"):
        plots.plot_bottleneck_map(grid.drop(columns="bottleneck"))


def test_shape_optimum() -> None:
    a = np.geomspace(4, 1024, 25)
    loss = 2 + 0.01 * np.log(a / 64) ** 2
    fig = _draw(lambda: plots.plot_shape_optimum(a, loss, lo=loss - 0.01, hi=loss + 0.01, optimum=64,
                                                 observed=([16, 256], [2.03, 2.02])))
    _assert_labelled(fig)
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(plots.PlotError, match="loss"):
        plots.plot_shape_optimum(a, loss[:-1])


def test_exponents_against_claims() -> None:
    table = pd.DataFrame({"name": ["width", "depth", "time"], "value": [0.97, 1.04, 0.35],
                          "lo": [0.9, 0.95, 0.3], "hi": [1.05, 1.12, 0.4], "claimed": [1.0, 1.0, 1 / 3]})
    fig = _draw(lambda: plots.plot_exponents(table))
    assert fig.axes[0].get_xlabel() == "exponent"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["width", "depth", "time"]
    _draw(lambda: plots.plot_exponents({"name": ["alpha"], "value": [0.3]}))  # no interval, no claim


def test_backtest_error_vs_distance() -> None:
    rng = np.random.default_rng(1)
    table = pd.DataFrame([(m, d, abs(rng.normal(0, 0.01 * d**0.5))) for m in ("chinchilla", "kaplan")
                          for d in (2, 4, 8, 16) for _ in range(3)], columns=["method", "distance", "error"])
    fig = _draw(lambda: plots.plot_backtest_error(table))
    _assert_labelled(fig)
    assert fig.axes[0].get_xscale() == "log"
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["chinchilla", "kaplan"]
    with pytest.raises(plots.PlotError, match="empty"):
        plots.plot_backtest_error(table.iloc[:0])


def test_forecast_fan_with_truth() -> None:
    x = np.arange(1, 9) * 1e10
    f = np.arange(9, 15) * 1e10
    med = 0.4 + 0.02 * np.log(f / 1e10)
    fig = _draw(lambda: plots.plot_forecast_fan(x, 0.4 + 0.02 * np.log(x / 1e10), f, med,
                                                band50=(med - 0.01, med + 0.01),
                                                band80=(med - 0.02, med + 0.02), truth=(f, med + 0.003)))
    _assert_labelled(fig)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert {"80% band", "50% band", "median forecast", "observed", "truth (held out)"} <= set(legend)
    assert fig.axes[0].xaxis.get_major_formatter()(1.5e11, 0) == "150B"
    with pytest.raises(plots.PlotError, match="median"):
        plots.plot_forecast_fan(x, x, f, med[:-1])


def test_forecast_fans_grid_with_one_legend() -> None:
    x = np.geomspace(1e9, 5e10, 6)
    f = np.linspace(7e10, 3e11, 5)
    med = 50 + np.log(f / 1e9)
    panel = {"observed_x": x, "observed_y": 45 + np.log(x / 1e9), "forecast_x": f, "median": med,
             "band50": (med - 1, med + 1), "band80": (med - 2, med + 2), "truth": (f, med + 0.5)}
    fig = _draw(lambda: plots.plot_forecast_fans([panel | {"title": f"task {i}"} for i in range(5)],
                                                 ylabel="score (%)"))
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 8 and [ax.get_title("left") for ax in shown] == [f"task {i}" for i in range(5)]
    (legend,) = fig.legends
    assert {t.get_text() for t in legend.get_texts()} == {"80% band", "50% band", "median forecast",
                                                          "observed", "truth (held out)"}
    assert fig.get_supxlabel() == "training tokens" and fig.get_supylabel() == "score (%)"
    assert shown[0].xaxis.get_major_formatter()(1.5e11, 0) == "150B"
    assert plots.plot_forecast_fans([panel], log_x=True).axes[0].get_xscale() == "log"
    with pytest.raises(plots.PlotError, match="at least one panel"):
        plots.plot_forecast_fans([])


def test_importing_the_report_package_does_not_import_matplotlib() -> None:
    code = "import sys, scalinglaws, scalinglaws.report; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
