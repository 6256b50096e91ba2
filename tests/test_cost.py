"""Cost laws: declared and fitted, robust recovery, errors, and planning along iso-cost curves."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import compute
from scalinglaws.cost import CostError, available_cost_laws, cost_law, fit_cost
from scalinglaws.errors import PlanError
from scalinglaws.fit import fit
from scalinglaws.laws import get_law
from scalinglaws.plan import compute_optimal

N = np.repeat(np.geomspace(5e7, 8e9, 8), 6)
D = np.tile(np.geomspace(1e9, 3e11, 6), 8)
TRUTH = np.array([1.7, 400.0, 1500.0, 0.34, 0.30])


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    clean = get_law("chinchilla").predict({"params": N, "tokens": D}, TRUTH)
    y = clean * np.exp(0.01 * rng.normal(size=N.size))
    return fit({"params": N, "tokens": D, "loss": y}, bootstrap=100)


def test_declared_laws_follow_the_flop_conventions() -> None:
    assert set(available_cost_laws()) == {"6ND", "power", "per-example", "attention"}
    np.testing.assert_allclose(cost_law("6ND").cost(N, D), compute.flops(N, D), rtol=1e-12)
    np.testing.assert_allclose(cost_law("power", k=6, a=1, b=1).cost(N, D), 6 * N * D, rtol=1e-12)
    shape = {"width": 2048.0, "depth": 24.0, "seq_len": 4096.0}
    att = cost_law("attention", k=1.0, seq_len=4096, aspect=128)
    np.testing.assert_allclose(att.cost(1.4e9, 2.8e10, **shape), compute.flops(1.4e9, 2.8e10, "6ND-attention",
                                                                               **shape), rtol=1e-12)
    # without the shape, the aspect ratio sets it: N = 12 l m^2, m = aspect l
    depth = (1.4e9 / (12 * 128**2)) ** (1 / 3)
    expected = compute.flops(1.4e9, 2.8e10, "6ND-attention", width=128 * depth, depth=depth, seq_len=4096)
    assert float(att.cost(1.4e9, 2.8e10)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["6ND", "power", "per-example", "attention"])
def test_tokens_for_inverts_the_cost(name: str) -> None:
    params = {"power": {"k": 5.0, "a": 1.1, "b": 0.9}, "per-example": {"k": 6.0, "a": 1.0, "c": 3e8},
              "attention": {"k": 2e-18, "seq_len": 2048, "aspect": 100}, "6ND": {}}[name]
    law = cost_law(name, **params)
    d = law.tokens_for(N, 1e21)
    np.testing.assert_allclose(law.cost(N, d), 1e21, rtol=1e-10)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cost_law("power", k=6.0, a=1.0), "cost law 'power' is missing parameter\\(s\\) b"),
        (lambda: cost_law("per-example", k=6.0, a=1.0, c=1.0, z=2.0), "has no parameter\\(s\\) z"),
        (lambda: cost_law("12ND"), "unknown cost law '12ND'; available: 6ND"),
        (lambda: cost_law("power", k=-1.0, a=1.0, b=1.0), "must be finite and positive"),
        (lambda: fit_cost({"params": N, "tokens": D}, "power"), "needs column\\(s\\) \\['flops'\\]"),
        (lambda: fit_cost({"params": N, "tokens": D, "flops": 6 * N * D}, "6ND"), "no free parameter"),
        (lambda: fit_cost({"params": N, "tokens": D, "flops": 6 * N * D}, "attention"), "aspect"),
    ],
)
def test_bad_cost_laws_are_one_line_errors(call, message: str) -> None:
    with pytest.raises(CostError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


def test_power_cost_fit_recovers_and_resists_outliers() -> None:
    y = 5.5 * N**1.05 * D**0.97
    law = fit_cost({"params": N, "tokens": D, "flops": y}, "power")
    np.testing.assert_allclose(list(law.params.values()), [5.5, 1.05, 0.97], rtol=1e-6)
    rng = np.random.default_rng(1)
    noisy = y * np.exp(0.01 * rng.normal(size=y.size))
    noisy[::9] *= 3.0  # a few runs logged their cost wrong (restarts, shared nodes)
    robust = fit_cost({"params": N, "tokens": D, "flops": noisy}, "power")
    assert robust.params["a"] == pytest.approx(1.05, abs=0.01)
    assert robust.params["b"] == pytest.approx(0.97, abs=0.01)
    np.testing.assert_allclose(robust.cost(N, D), y, rtol=0.02)  # log k trades off with the exponents
    assert robust.fit["residual_scale"] < 0.02


def test_per_example_and_attention_fits_recover_gpu_hours() -> None:
    hours = D * (2e-12 * N**1.0 + 4e-4) / 3600
    law = fit_cost({"params": N, "tokens": D, "gpu_hours": hours}, "per-example", target="gpu_hours")
    np.testing.assert_allclose(list(law.params.values()), [2e-12 / 3600, 1.0, 4e-4 / 3600], rtol=1e-6)
    assert law.unit == "gpu_hours"
    width = np.round((N / (12 * 96.0**2)) ** (1 / 3)) * 96
    depth = np.round(N / (12 * width**2)) + 1
    flops = compute.flops(N, D, "6ND-attention", width=width, depth=depth, seq_len=4096)
    data = {"params": N, "tokens": D, "width": width, "depth": depth, "seq_len": np.full_like(N, 4096),
            "gpu_hours": flops / (989e12 * 0.4 * 3600)}
    att = fit_cost(data, "attention", target="gpu_hours")
    assert att.params["k"] == pytest.approx(1 / (989e12 * 0.4 * 3600), rel=1e-8)
    assert att.params["seq_len"] == 4096
    assert att.params["aspect"] == pytest.approx(np.median(width / depth))


def test_fixed_parameters_are_held() -> None:
    y = 6.5 * N * D
    law = fit_cost({"params": N, "tokens": D, "flops": y}, "power", a=1.0, b=1.0)
    assert law.params == {"k": pytest.approx(6.5, rel=1e-9), "a": 1.0, "b": 1.0}
    assert law.fit["fixed"] == ["a", "b"]


def test_planning_with_6nd_cost_matches_the_default(result) -> None:
    default = compute_optimal(result, 1e22)
    costed = compute_optimal(result, 1e22, cost=cost_law("6ND"))
    assert costed.method == "numerical" and costed.convention.startswith("6ND")
    assert costed.params.value == pytest.approx(default.params.value, rel=1e-4)
    assert costed.params.lo == pytest.approx(default.params.lo, rel=1e-3)
    assert costed.params.hi == pytest.approx(default.params.hi, rel=1e-3)
    assert costed.loss.value == pytest.approx(default.loss.value, rel=1e-9)


def test_planning_along_an_iso_cost_curve_with_overhead(result) -> None:
    cost = cost_law("per-example", k=6.0, a=1.0, c=6e9, unit="FLOPs")
    plan = compute_optimal(result, 1e22, cost=cost)
    n = np.geomspace(1e7, 1e12, 200_001)
    losses = result.law.predict({"params": n, "tokens": cost.tokens_for(n, 1e22)}, result.theta)
    assert plan.params.value == pytest.approx(n[np.argmin(losses)], rel=1e-4)
    assert float(cost.cost(plan.params.value, plan.tokens.value)) == pytest.approx(1e22)
    # a per-token overhead makes tokens dearer: the optimum moves to a larger model on fewer tokens
    default = compute_optimal(result, 1e22)
    assert plan.params.value > default.params.value and plan.tokens.value < default.tokens.value
    assert plan.params.lo < plan.params.value < plan.params.hi
    assert "per-example" in plan.convention


def test_planning_rejects_a_non_cost_law(result) -> None:
    with pytest.raises(PlanError, match="cost must be a CostLaw"):
        compute_optimal(result, 1e22, cost="6ND")
