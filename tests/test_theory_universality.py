"""Mechanism toys of the universality paper (scalinglaws.theory.universality).

Tolerances were measured, not assumed. At the test sizes below the exponents were: width 0.86-1.05
(seeds 0-4), time with SGD 0.34-0.36 (seeds 0-3, constant and cosine schedules), time with Adam 0.54
(seed 0), depth 0.51-0.63 (seeds 0-3). The depth toy does not reproduce the claimed 1 (it gives
~0.6), and Adam does not give the claimed 1/3: both are pinned as measured, and the claims are
strict xfails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws.errors import ScalingLawsError
from scalinglaws.theory.schedules import ArraySchedule, Cosine, dynamic_time
from scalinglaws.theory.universality import (
    ToyError,
    ToyResult,
    peaked_time_toy,
    residual_depth_toy,
    superposition_toy,
)
from scalinglaws.theory.universality.depth import residual_backward, residual_forward
from scalinglaws.theory.universality.superposition import _active, _forward, _loss_and_grads

SCHEMA = ["run", "family", "params", "tokens", "flops", "loss"]


@pytest.fixture(scope="module")
def width_result() -> ToyResult:
    return superposition_toy((4, 8, 16, 32), n_features=256, steps=1000)


@pytest.fixture(scope="module")
def time_result() -> ToyResult:
    return peaked_time_toy(steps=2000)


@pytest.fixture(scope="module")
def depth_result() -> ToyResult:
    return residual_depth_toy((1, 2, 4), steps=1500)


def _check_table(res: ToyResult, extra: list[str]) -> None:
    table = res.table
    assert list(table.columns[:6]) == SCHEMA
    assert set(extra) <= set(table.columns)
    keys = ["run", "step"] if table["run"].nunique() == 1 else ["run"]
    assert not table.duplicated(keys).any()
    assert np.all(np.isfinite(table["loss"])) and np.all(table["loss"] > 0)
    np.testing.assert_allclose(table["flops"], 6.0 * table["params"] * table["tokens"])
    lo, hi = res.interval
    assert lo <= res.exponent <= hi


def test_width_exponent_matches_claim(width_result: ToyResult) -> None:
    _check_table(width_result, ["width", "step", "seed"])
    assert width_result.variable == "width" and width_result.claimed == 1.0
    assert np.all(np.diff(width_result.table["loss"]) < 0)
    assert abs(width_result.exponent - 1.0) < 0.25


def test_time_exponent_matches_claim(time_result: ToyResult) -> None:
    _check_table(time_result, ["step", "tau", "lr", "seed"])
    table = time_result.table
    assert time_result.variable == "tau" and time_result.claimed == pytest.approx(1 / 3)
    np.testing.assert_allclose(table["tau"], 10.0 * table["step"])  # constant lr 10
    assert abs(time_result.exponent - 1 / 3) < 0.05


def test_time_exponent_in_dynamic_time_with_a_schedule() -> None:
    sched = Cosine(warmup=0.01, floor=0.1)
    res = peaked_time_toy(steps=2000, schedule=sched)
    tau = dynamic_time(sched, 2000, 10.0)
    np.testing.assert_array_equal(res.table["tau"], tau[res.table["step"]])
    assert abs(res.exponent - 1 / 3) < 0.05


@pytest.fixture(scope="module")
def adam_result() -> ToyResult:
    return peaked_time_toy(steps=2000, optimizer="adam")


def test_time_with_adam_as_measured(adam_result: ToyResult) -> None:
    assert 0.45 < adam_result.exponent < 0.65  # measured 0.54, not the claimed 1/3


@pytest.mark.xfail(strict=True, reason="with Adam the time toy gives ~0.55-0.6, not 1/3")
def test_time_with_adam_matches_claim(adam_result: ToyResult) -> None:
    assert abs(adam_result.exponent - adam_result.claimed) < 0.05


def test_depth_exponent_as_measured(depth_result: ToyResult) -> None:
    _check_table(depth_result, ["width", "depth", "step", "seed"])
    assert depth_result.variable == "depth" and depth_result.claimed == 1.0
    assert np.all(np.diff(depth_result.table["loss"]) < 0)
    assert 0.4 < depth_result.exponent < 0.8  # measured ~0.6, not the claimed 1


@pytest.mark.xfail(strict=True, reason="depth toy gives ~0.6 at CPU scale, not the claimed 1")
def test_depth_exponent_matches_claim(depth_result: ToyResult) -> None:
    assert abs(depth_result.exponent - depth_result.claimed) < 0.2


@pytest.mark.parametrize(
    "toy",
    [
        lambda seed: superposition_toy(
            (2, 4, 8), n_features=32, steps=30, batch=16, eval_samples=64, seed=seed
        ),
        lambda seed: peaked_time_toy(steps=50, fit_from=5, eval_samples=64, seed=seed),
        lambda seed: residual_depth_toy(
            (1, 2, 3), width=4, hidden=8, teacher_depth=4, steps=20, pool=64, seed=seed
        ),
    ],
)
def test_deterministic(toy) -> None:
    first, second, other = toy(3), toy(3), toy(4)
    pd.testing.assert_frame_equal(first.table, second.table, check_exact=True)
    assert first.exponent == second.exponent and first.interval == second.interval
    assert not first.table["loss"].equals(other.table["loss"])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: superposition_toy((0, 4, 8)), "widths"),
        (lambda: superposition_toy((-4, 4, 8)), "widths"),
        (lambda: superposition_toy((4, 8)), "at least 3"),
        (lambda: superposition_toy((4, 4, 8, 16)), "repeated"),
        (lambda: superposition_toy((4, 8, 2.5)), "widths"),
        (lambda: superposition_toy((4, 8, 64), n_features=32), "exceed n_features"),
        (lambda: superposition_toy(n_features=0), "n_features"),
        (lambda: superposition_toy(steps=0), "steps"),
        (lambda: superposition_toy(lr=-1.0), "lr"),
        (lambda: superposition_toy(weight_decay=float("nan")), "weight_decay"),
        (lambda: peaked_time_toy(temperature=0.0), "temperature"),
        (lambda: peaked_time_toy(steps=-1), "steps"),
        (lambda: peaked_time_toy(batch=0), "batch"),
        (lambda: peaked_time_toy(optimizer="lion"), "optimizer"),
        (lambda: peaked_time_toy(lr=0.0), "lr"),
        (lambda: peaked_time_toy(n_classes=1), "n_classes"),
        (lambda: peaked_time_toy(steps=50, fit_from=60), "fewer than 3 checkpoints"),
        (
            lambda: peaked_time_toy(steps=20, fit_from=1, schedule=ArraySchedule([0.0] * 5 + [1.0] * 15)),
            "dynamic time is 0",
        ),
        (lambda: residual_depth_toy((0, 1, 2)), "depths"),
        (lambda: residual_depth_toy((-1, 1, 2)), "depths"),
        (lambda: residual_depth_toy((1, 2)), "at least 3"),
        (lambda: residual_depth_toy(width=0), "width"),
        (lambda: residual_depth_toy(teacher_depth=-3), "teacher_depth"),
        (lambda: residual_depth_toy(temperature=-1.0), "temperature"),
        (lambda: residual_depth_toy(hidden=True), "hidden"),
    ],
)
def test_bad_input(call, match: str) -> None:
    with pytest.raises(ToyError, match=match):
        call()
    assert issubclass(ToyError, ScalingLawsError) and issubclass(ToyError, ValueError)


def test_residual_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(1)
    params = [rng.normal(size=(3, 5, 7)), 0.3 * rng.normal(size=(3, 7, 5)), rng.normal(size=(5, 6))]
    x = rng.normal(size=(4, 5))
    target = rng.normal(size=(4, 6))

    def loss() -> float:
        return float(np.sum(residual_forward(*params, x) * target))

    cache: list = []
    residual_forward(*params, x, cache)
    grads = residual_backward(*params, target, cache)
    for p, g in zip(params, grads, strict=True):
        num = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + 1e-6
            up = loss()
            p[i] = old - 1e-6
            num[i] = (up - loss()) / 2e-6
            p[i] = old
        np.testing.assert_allclose(g, num, atol=1e-6)


def test_superposition_loss_and_gradients() -> None:
    rng = np.random.default_rng(2)
    n, m, batch = 12, 3, 6
    w, b = rng.normal(size=(n, m)), 0.1 * rng.normal(size=n)
    rows, cols = _active(rng, np.full(n, 0.3), batch)
    vals = rng.uniform(0, 2, rows.size)
    x = np.zeros((batch, n))
    x[rows, cols] = vals
    dense = np.mean(np.sum((np.maximum(x @ w @ w.T + b, 0) - x) ** 2, axis=1))
    loss, gw, gb = _loss_and_grads(w, b, rows, cols, vals, batch)
    assert loss == pytest.approx(dense, rel=1e-12)
    for p, g in ((w, gw), (b, gb)):
        num = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + 1e-6
            up = _forward(w, b, rows, cols, vals, batch)[0]
            p[i] = old - 1e-6
            num[i] = (up - _forward(w, b, rows, cols, vals, batch)[0]) / 2e-6
            p[i] = old
        np.testing.assert_allclose(g, num, atol=1e-5)


def test_feature_sampler_is_exact_bernoulli() -> None:
    rng = np.random.default_rng(3)
    p = np.array([0.5, 0.2, 0.05])
    counts = np.zeros(3)
    both = 0
    for _ in range(200):
        rows, cols = _active(rng, p, 100)
        assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) == rows.size
        counts += np.bincount(cols, minlength=3)
        both += len(set(rows[cols == 0].tolist()) & set(rows[cols == 1].tolist()))
    np.testing.assert_allclose(counts / 20000, p, rtol=0.05)
    assert both / 20000 == pytest.approx(0.5 * 0.2, rel=0.1)  # features are independent
