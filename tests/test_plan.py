"""Planning: closed form against numerical search, the inverse, intervals from draws, errors."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.errors import PlanError
from scalinglaws.fit import fit
from scalinglaws.laws import get_law
from scalinglaws.plan import compute_for_loss, compute_optimal

TRUTH = np.array([1.7, 400.0, 1500.0, 0.34, 0.30])
N = np.repeat(np.geomspace(5e7, 8e9, 8), 6)
D = np.tile(np.geomspace(1e9, 3e11, 6), 8)


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    clean = get_law("chinchilla").predict({"params": N, "tokens": D}, TRUTH)
    y = clean * np.exp(0.01 * rng.normal(size=N.size))
    return fit({"params": N, "tokens": D, "loss": y}, bootstrap=200)


def test_closed_form_matches_brute_force_search(result) -> None:
    plan = compute_optimal(result, 1e23)
    n = np.geomspace(1e8, 1e13, 200_001)
    losses = result.law.predict({"params": n, "tokens": 1e23 / (6 * n)}, result.theta)
    assert plan.params.value == pytest.approx(n[np.argmin(losses)], rel=1e-4)
    assert plan.loss.value == pytest.approx(losses.min(), rel=1e-9)
    assert plan.tokens.value * plan.params.value * 6 == pytest.approx(1e23)


def test_numerical_path_matches_closed_form(result, monkeypatch) -> None:
    closed = compute_optimal(result, 1e22)
    monkeypatch.setattr(type(result.law), "compute_optimum", lambda self, c, t: None)
    numeric = compute_optimal(result, 1e22)
    assert numeric.method == "numerical"
    assert numeric.params.value == pytest.approx(closed.params.value, rel=1e-4)
    assert numeric.params.lo == pytest.approx(closed.params.lo, rel=1e-3)


def test_intervals_bracket_the_point(result) -> None:
    plan = compute_optimal(result, 5.76e23)
    for est in (plan.params, plan.tokens, plan.loss, plan.tokens_per_param):
        assert est.lo < est.value < est.hi
    assert plan.level == 0.95


def test_inverse_reaches_the_target(result) -> None:
    target = compute_for_loss(result, 2.0)
    again = compute_optimal(result, target.compute.value)
    assert again.loss.value == pytest.approx(2.0, rel=1e-8)
    assert target.compute.lo < target.compute.value < target.compute.hi


def test_target_below_the_floor_is_an_error(result) -> None:
    with pytest.raises(PlanError, match="not reachable.*irreducible loss E"):
        compute_for_loss(result, 1.0)


def test_bad_compute_and_wrong_law(result) -> None:
    with pytest.raises(PlanError, match="positive number of FLOPs"):
        compute_optimal(result, -1.0)
    power = fit({"flops": 6 * N * D, "loss": 2 + 1e3 * (6 * N * D) ** -0.15}, "power", cluster_by="flops")
    with pytest.raises(PlanError, match="needs a law of params and tokens"):
        compute_optimal(power, 1e22)
