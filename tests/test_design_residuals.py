"""Experiment design and comparison with fits whose noise model is linear (noise of a fixed size added to
the loss) or whose bootstrap is wild: intervals, suggestions, scoring, candidate laws and paired refits all
work in the fit's residual space."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.compare import compare
from scalinglaws.design import (
    DesignError,
    ExtrapolationError,
    calibrated_interval,
    candidate_laws,
    iso_cost_sweep,
    measure_extrapolation_error,
    score_design,
    suggest_runs,
)
from scalinglaws.design.score import simulate_losses
from scalinglaws.fit import fit
from scalinglaws.laws import get_law

LAW = get_law("chinchilla")
TRUTH = np.array([1.82, 482.0, 2085.0, 0.348, 0.366])
PILOT = iso_cost_sweep([1e15, 1e16, 1e17], sizes_per_budget=6, half_width=1.2).runs()
SIGMA = 0.02


def additive(seed: int, theta: np.ndarray = TRUTH) -> dict[str, np.ndarray]:
    X = {"params": PILOT["params"], "tokens": PILOT["tokens"]}
    y = simulate_losses(LAW, theta, X, SIGMA, np.random.default_rng(seed), space="linear")
    return {**X, "loss": y}


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    return additive(0)


@pytest.fixture(scope="module")
def linear(data):
    return fit(data, residuals="linear", loss="l2", bootstrap=200)


def test_simulated_noise_is_additive_in_linear_space() -> None:
    X = {"params": np.full(4000, 1e8), "tokens": np.full(4000, 2e9)}
    y = simulate_losses(LAW, TRUTH, X, 0.02, np.random.default_rng(1), space="linear")
    assert np.std(y - LAW.predict(X, TRUTH)) == pytest.approx(0.02, rel=0.05)


def test_calibrated_interval_works_in_the_fits_space(linear) -> None:
    X = {"params": [1e9, 3e10], "tokens": [2e10, 6e11]}
    plain = linear.predict_interval(X, level=0.8)
    assert np.allclose(calibrated_interval(linear, X, level=0.8, small_sample=False), plain, rtol=1e-3)
    lo, hi = calibrated_interval(linear, X, level=0.8, kind="new-run", small_sample=False)
    assert np.all(hi - lo >= 2 * 1.2816 * linear.noise["value"])  # noise in loss units
    with pytest.raises(DesignError, match="measured in log space, the fit's residuals are linear"):
        calibrated_interval(linear, X, extrapolation=ExtrapolationError(0.01, 1e17))
    far = calibrated_interval(linear, X, extrapolation=ExtrapolationError(0.01, 1e17, space="linear"))
    assert np.all(far[1] - far[0] > np.subtract(*calibrated_interval(linear, X)[::-1]))


def test_extrapolation_error_is_measured_in_the_fits_space(data) -> None:
    err = measure_extrapolation_error(data, residuals="linear", loss="l2", bootstrap=10)
    assert err.space == "linear" and err.n_points > 0 and err.per_decade >= 0.0
    assert measure_extrapolation_error(data, bootstrap=10).space == "log"


def test_suggestions_condition_on_losses_with_the_linear_noise(linear) -> None:
    plan = suggest_runs(linear, [1e20], n=3, candidate_budgets=[1e17, 1e18])
    assert plan.settings["residuals"] == "linear" and plan.settings["noise"] == linear.noise["value"]
    assert bool(plan.runs["remaining_variance"].is_monotonic_decreasing)
    assert "in linear loss" in plan.summary()


def test_candidate_laws_are_refitted_with_the_same_noise_model(data, linear) -> None:
    admitted, table = candidate_laws(linear, ["kaplan-floor"], data=data, tolerance=1e9)
    assert [f.law.name for f in admitted] == ["chinchilla", "kaplan-floor"]
    other = admitted[1]
    assert other.residual_space == "linear" and other.objective["kind"] == "l2"
    log_fit = fit(data, "kaplan-floor", loss="l2", bootstrap=10)
    with pytest.raises(DesignError, match="another objective"):
        candidate_laws(linear, [log_fit])


def test_score_design_simulates_and_refits_in_the_truths_space(linear) -> None:
    design = iso_cost_sweep([1e17, 1e18], sizes_per_budget=5)
    score = score_design(design, linear, target_compute=[1e20], simulations=4, bootstrap=20)
    assert score.settings["residuals"] == "linear" and score.settings["noise"] == linear.noise["value"]
    assert "in linear loss" in score.summary()
    with pytest.raises(DesignError, match="give noise= in log space"):
        score_design(design, linear, target_compute=[1e20], simulations=2, residuals="log")


def test_paired_refits_keep_each_fits_space_and_bootstrap() -> None:
    a, b = additive(1), additive(1, TRUTH * [1, 1, 1, 1.03, 1])  # B: a larger size exponent
    kw = {"residuals": "linear", "loss": "l2", "bootstrap": 200, "bootstrap_method": "wild"}
    fits = {"A": fit(a, **kw), "B": fit(b, **kw)}
    cmp = compare(fits, at={"params": [1e11], "tokens": [2e12]}, data={"A": a, "B": b})
    assert cmp.paired and "wild resamples" in cmp.pairing
    row = cmp.table.query("system == 'B'").iloc[0]
    assert row["diff"] < 0 and row["p_better"] > 0.9
    same = compare({"A": fits["A"], "B": fits["A"]}, at={"params": [1e11], "tokens": [2e12]},
                   data={"A": a, "B": a})
    assert np.allclose(same.table.query("system == 'B'")[["diff_lo", "diff_hi"]].to_numpy(), 0.0)
