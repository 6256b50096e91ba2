"""Backtest methods: the baselines by hand, the law adapters, the method registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws.backtest import (
    BacktestError,
    LawMethod,
    Setting,
    available_methods,
    get_method,
    register_method,
)
from scalinglaws.backtest.baselines import LastValue, Line3, LogLogLine, SigmoidTokens, fit_bounded_sigmoid
from scalinglaws.laws import available_laws, get_law

EVALS = Setting(kind="evals", target="value", keys=("run", "task"), series=("task",), trajectory=True)
RUNS = Setting(kind="runs", target="loss", keys=("run",), series=(), trajectory=False)


def trajectory(run: str, task: str, tokens, values) -> pd.DataFrame:
    return pd.DataFrame({"run": run, "task": task, "tokens": np.asarray(tokens, float), "value": values})


def test_last_value_and_line3_extend_each_trajectory() -> None:
    train = pd.concat(
        [
            trajectory("m", "piqa", [1e9, 2e9, 4e9, 8e9], [0.50, 0.90, 0.55, 0.60]),
            trajectory("n", "piqa", [1e9, 2e9], [0.40, 0.45]),
        ]
    )
    test = pd.concat([trajectory("m", "piqa", [3.2e10], np.nan), trajectory("n", "piqa", [8e9], np.nan)])
    assert LastValue().fit(train, EVALS).predict(test).mean.tolist() == [0.60, 0.45]
    # line through (log 2e9, .9), (log 4e9, .55), (log 8e9, .6): slope -0.15 per ln 2, mean .6833 at log 4e9;
    # at 3.2e10 = 4e9 * 2^3: .6833 - 3 * .15; run n has two points: slope .05 per ln 2, at 8e9: .45 + 2 * .05
    assert Line3().fit(train, EVALS).predict(test).mean == pytest.approx([0.68333 - 0.45, 0.55], abs=1e-5)


def test_last_value_across_runs_is_the_best_training_value_of_the_series() -> None:
    runs = pd.DataFrame(
        {
            "run": list("abc"),
            "params": 1e8,
            "tokens": 1e9,
            "flops": [1e18, 2e18, 3e18],
            "loss": [3.0, 2.5, 2.7],
        }
    )
    assert LastValue().fit(runs, RUNS).predict(runs.iloc[:1]).mean.tolist() == [2.5]
    evals = pd.concat(
        [
            trajectory("a", "piqa", [1e9], [0.6]),
            trajectory("b", "piqa", [1e9], [0.7]),
            trajectory("a", "sciq", [1e9], [0.8]),
        ]
    )
    cross = Setting(kind="evals", target="value", keys=("run", "task"), series=("task",), trajectory=False)
    test = pd.concat([trajectory("c", "sciq", [1e9], np.nan), trajectory("c", "piqa", [1e9], np.nan)])
    assert LastValue().fit(evals, cross).predict(test).mean.tolist() == [0.8, 0.7]
    with pytest.raises(BacktestError, match="no training rows for arc"):
        LastValue().fit(evals, cross).predict(trajectory("c", "arc", [1e9], np.nan))


def test_loglog_line_is_exact_on_a_power_law() -> None:
    flops = np.array([1e18, 1e19, 1e20, 1e21])
    runs = pd.DataFrame({"run": list("abcd"), "flops": flops, "loss": 50.0 * flops**-0.05})
    pred = LogLogLine().fit(runs.iloc[:3], RUNS).predict(runs.iloc[3:]).mean
    assert pred == pytest.approx(runs["loss"].iloc[3:].to_numpy(), rel=1e-10)
    assert LogLogLine().check(EVALS, []) == "a line in log loss: runs tables (losses) only"


def test_bounded_sigmoid_recovers_a_clean_trajectory_and_respects_its_bounds() -> None:
    x = np.linspace(14.0, 22.0, 10)
    floor, plateau, k, mid = fit_bounded_sigmoid(x, 0.25 + 0.45 / (1 + np.exp(-1.2 * (x - 19.0))))
    assert (floor, plateau, k, mid) == pytest.approx((0.25, 0.70, 1.2, 19.0), abs=1e-4)
    # a flat trajectory with a late jump must not run away above 1 nor put its midpoint in the future
    y = np.r_[np.full(9, 0.3), 0.9]
    floor, plateau, k, mid = fit_bounded_sigmoid(x, y)
    assert 0.0 <= floor <= plateau <= 1.0 and mid <= x[-1] + 1e-12
    train = trajectory("m", "piqa", np.exp(x), y)
    future = SigmoidTokens().fit(train, EVALS).predict(trajectory("m", "piqa", np.exp([24.0, 30.0]), np.nan))
    assert np.all(future.mean <= 1.0)


def test_sigmoid_tokens_needs_scores_and_a_trajectory() -> None:
    assert SigmoidTokens().check(RUNS, []) == "a sigmoid for scores in [0, 1]: evals tables only"
    cross = Setting(kind="evals", target="value", keys=("run", "task"), series=("task",), trajectory=False)
    assert "needs a time split" in SigmoidTokens().check(cross, [])
    assert "needs a time split" in Line3().check(cross, [])
    percent = trajectory("m", "piqa", [1e9, 2e9, 4e9], [50.0, 60.0, 70.0])
    with pytest.raises(BacktestError, match=r"needs scores in \[0, 1\]"):
        SigmoidTokens().fit(percent, EVALS).predict(trajectory("m", "piqa", [8e9], np.nan))


def simulated_runs(noise: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    N, D = np.meshgrid([1e8, 2e8, 4e8, 8e8, 1.6e9], [2e9, 4e9, 8e9, 1.6e10, 3.2e10])
    N, D = N.ravel(), D.ravel()
    theta = np.array([1.8, 400.0, 1500.0, 0.34, 0.3])
    loss = get_law("chinchilla").predict({"params": N, "tokens": D}, theta)
    return pd.DataFrame(
        {
            "run": [f"r{i}" for i in range(N.size)],
            "params": N,
            "tokens": D,
            "flops": 6 * N * D,
            "loss": loss * np.exp(noise * rng.standard_normal(N.size)),
        }
    )


def test_law_method_fits_on_train_and_gives_seeded_ordered_quantiles() -> None:
    runs = simulated_runs(noise=0.0)
    train, test = runs[runs["flops"] < 1e20], runs[runs["flops"] >= 1e20]
    exact = LawMethod("chinchilla", bootstrap=0).fit(train, RUNS).predict(test)
    assert exact.mean == pytest.approx(test["loss"].to_numpy(), rel=1e-6) and not exact.quantiles
    noisy = simulated_runs(noise=0.01)
    train, test = noisy[noisy["flops"] < 1e20], noisy[noisy["flops"] >= 1e20]
    levels = (0.1, 0.25, 0.75, 0.9)
    a = LawMethod("chinchilla", bootstrap=50).fit(train, RUNS, seed=3).predict(test, levels)
    b = LawMethod("chinchilla", bootstrap=50).fit(train, RUNS, seed=3).predict(test, levels)
    assert all(np.array_equal(a.quantiles[q], b.quantiles[q]) for q in levels)
    q = np.stack([a.quantiles[level] for level in levels])
    assert np.all(np.diff(q, axis=0) >= 0)


def test_law_methods_say_why_they_do_not_apply() -> None:
    runs_cols = ["run", "family", "params", "tokens", "flops", "loss"]
    evals_cols = ["run", "family", "params", "step", "tokens", "task", "metric", "value", "stderr"]
    assert LawMethod("chinchilla").check(RUNS, runs_cols) is None
    missing = "needs column(s) unique_tokens, absent from the table"
    assert LawMethod("repetition").check(RUNS, runs_cols) == missing
    assert "is the quantity to predict" in LawMethod("sigmoid").check(RUNS, runs_cols)
    assert LawMethod("sigmoid").check(EVALS, evals_cols) == "needs column(s) loss, absent from the table"
    assert LawMethod("chinchilla").check(EVALS, evals_cols) == "a loss law: an evals table holds scores"


def test_registry_offers_every_law_and_the_baselines() -> None:
    names = available_methods()
    assert names[:5] == [
        "last-value",
        "line3",
        "logistic-loss",
        "logistic-loss-forecast",
        "logistic-loss-others",
    ]
    assert set(available_laws()) <= set(names)
    assert isinstance(get_method("kaplan", bootstrap=10), LawMethod)
    with pytest.raises(BacktestError, match="unknown method 'nope'; available: last-value"):
        get_method("nope")
    with pytest.raises(BacktestError, match="already registered"):
        register_method(LastValue)
