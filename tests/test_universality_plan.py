"""Shape planning and the frontier at the optimal shape, checked against brute-force searches."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.errors import PlanError
from scalinglaws.fit import fit
from scalinglaws.laws import get_law
from scalinglaws.plan import (
    ComputePlan,
    ShapePlan,
    aspect_ratio_range,
    compare_frontiers,
    describe_comparison,
    frontier_relations,
    optimal_shape,
    shape_optimal,
    shape_penalty,
    snap_shape,
)

RNG = np.random.default_rng(3)
M = RNG.choice([384.0, 512, 768, 1024, 1536, 2048, 3072], 60)
L = RNG.choice([6.0, 8, 12, 16, 24, 32, 48], 60)
D = 10 ** RNG.uniform(8.5, 11.5, 60)
X = {"width": M, "depth": L, "tokens": D}
FIXED = np.array([1.75, 350.0, 3.0, 900.0])
FREE = np.array([1.75, 250.0, 6.0, 600.0, 0.95, 1.2, 0.3])


def fitted(theta: np.ndarray, bootstrap: int = 0, **options: str):
    law = get_law("universality", **options)
    y = law.predict(X, theta)
    if bootstrap:  # a little noise so that the bootstrap draws differ
        y = y * np.exp(0.003 * np.random.default_rng(0).standard_normal(y.size))
    return fit({**X, "loss": y}, law, bootstrap=bootstrap)


@pytest.fixture(scope="module")
def fixed():
    return fitted(FIXED)


@pytest.fixture(scope="module")
def free():
    return fitted(FREE, exponents="free")


def shape_terms(theta: np.ndarray, m: np.ndarray, ell: np.ndarray, offset: float = 0.0) -> np.ndarray:
    a_m, a_l = (theta[4], theta[5]) if theta.size == 7 else (1.0, 1.0)
    return theta[1] / m**a_m + theta[2] / (ell - offset) ** a_l


def brute_shape(theta: np.ndarray, n: float, emb: float = 0.0) -> tuple[float, float]:
    m = np.geomspace(10, 1e6, 400_001)
    ell = (n - emb * m) / (12 * m * m)
    ok = ell > 0
    i = np.argmin(np.where(ok, shape_terms(theta, m, np.where(ok, ell, 1.0)), np.inf))
    return float(m[i]), float(ell[i])


@pytest.mark.parametrize("which", ["fixed", "free"])
@pytest.mark.parametrize("n", [1e8, 1e10, 1e12])
def test_optimal_shape_matches_brute_force(which: str, n: float, request) -> None:
    result = request.getfixturevalue(which)
    s = optimal_shape(result, n)
    m, ell = brute_shape(result.theta, n)
    assert s.method == "closed-form"
    assert s.width.value == pytest.approx(m, rel=1e-4)
    assert s.depth.value == pytest.approx(ell, rel=1e-4)
    if which == "fixed":
        assert s.aspect_ratio.value == pytest.approx(FIXED[1] / (2 * FIXED[2]), rel=1e-6)


def test_numerical_shape_with_embeddings_matches_brute_force(free) -> None:
    s = optimal_shape(free, 3e8, vocab=50_000, tied=False)
    m, ell = brute_shape(free.theta, 3e8, emb=100_000)
    assert s.method == "numerical"
    assert s.width.value == pytest.approx(m, rel=1e-4) and s.depth.value == pytest.approx(ell, rel=1e-4)


def test_penalty_and_aspect_range(fixed) -> None:
    n = 1e10
    r_opt = FIXED[1] / (2 * FIXED[2])
    assert shape_penalty(fixed, n, aspect_ratio=r_opt).value == pytest.approx(0.0, abs=1e-12)
    # brute force at aspect ratio 2 r*: m^3 = r N / 12
    m = (2 * r_opt * n / 12) ** (1 / 3)
    best = shape_terms(FIXED, *brute_shape(FIXED, n))
    gap = shape_terms(FIXED, m, m / (2 * r_opt)) - best
    assert shape_penalty(fixed, n, aspect_ratio=2 * r_opt, relative_to="absolute").value == pytest.approx(
        gap, rel=1e-6
    )
    assert shape_penalty(fixed, n, aspect_ratio=2 * r_opt, relative_to="shape").value == pytest.approx(
        gap / best, rel=1e-6
    )
    # at the compute-optimal frontier the data term equals the shape term (exponents 1/3 and 1/3)
    assert shape_penalty(fixed, n, aspect_ratio=2 * r_opt).value == pytest.approx(gap / (2 * best), rel=1e-6)
    lo, hi = aspect_ratio_range(fixed, n, tolerance=0.05)
    # universal in the class: (1 + x/2) / (1.5 x^(1/3)) = 1.1 at x = r / r*
    for end in (lo.value, hi.value):
        x = end / r_opt
        assert (1 + x / 2) / (1.5 * x ** (1 / 3)) == pytest.approx(1.1, rel=1e-7)
    assert lo.value / r_opt == pytest.approx(0.3712, abs=1e-3) and hi.value / r_opt == pytest.approx(
        2.447, abs=1e-3
    )


def test_penalty_of_an_explicit_shape(free) -> None:
    s = optimal_shape(free, 1e9)
    assert shape_penalty(free, 1e9, width=s.width.value, depth=s.depth.value).value == pytest.approx(
        0, abs=1e-9
    )
    assert shape_penalty(free, 1e9, width=1024, depth=80).value > 0.01


def test_snapped_shape_is_the_best_practical_one(fixed) -> None:
    n = 2e9
    s = snap_shape(fixed, n, multiple=128, head_dim=64)
    m, ell = int(s.width.value), int(s.depth.value)
    assert m % 128 == 0 and s.heads == m // 64 and s.params == 12 * m * m * ell <= n
    widths = np.arange(128, 20_000, 128.0)[:, None]
    depths = np.arange(1, 400, dtype=float)[None, :]
    cost = np.where(12 * widths**2 * depths <= n, shape_terms(FIXED, widths, depths), np.inf)
    assert s.shape_loss.value == pytest.approx(cost.min(), rel=1e-12)
    s16 = snap_shape(fixed, n, multiple=64, heads=24)
    assert int(s16.width.value) % 64 == 0 and int(s16.width.value) % 24 == 0 and s16.heads == 24


def frontier_brute(theta: np.ndarray, c: float, offset: float = 0.0) -> tuple[float, float, float]:
    """Minimise the law over (log m, log l) on a grid refined three times around the best point."""
    lm, ll = np.log(2000.0), np.log(40.0)
    span = 6.0
    for _ in range(5):
        gm = np.linspace(lm - span, lm + span, 801)[:, None]
        gl = np.linspace(ll - span, ll + span, 801)[None, :]
        m, ell = np.exp(gm), np.exp(gl) + offset
        n = 12 * m * m * ell
        a_d = theta[6] if theta.size == 7 else 1 / 3
        loss = theta[0] + shape_terms(theta, m, ell, offset) + theta[3] * (c / (6 * n)) ** -a_d
        i, j = np.unravel_index(np.argmin(loss), loss.shape)
        lm, ll = float(gm[i, 0]), float(gl[0, j])
        span /= 20
    m, ell = np.exp(lm), np.exp(ll) + offset
    return m, ell, float(loss[i, j])


@pytest.mark.parametrize("which", ["fixed", "free"])
def test_frontier_matches_brute_force(which: str, request) -> None:
    result = request.getfixturevalue(which)
    for c in (1e20, 1e23):
        plan = shape_optimal(result, c)
        m, ell, loss = frontier_brute(result.theta, c)
        assert isinstance(plan, ComputePlan) and isinstance(plan, ShapePlan)
        assert plan.width.value == pytest.approx(m, rel=1e-4) and plan.depth.value == pytest.approx(
            ell, rel=1e-4
        )
        assert plan.loss.value == pytest.approx(loss, rel=1e-10)
        assert plan.params.value * plan.tokens.value * 6 == pytest.approx(c)


def test_frontier_relations_of_the_class(fixed) -> None:
    c_m, c_l, c_d = FIXED[1:]
    c_n = 1.5 * 24 ** (1 / 3) * c_m ** (2 / 3) * c_l ** (1 / 3)
    rel = frontier_relations(fixed)
    assert rel.c_N.value == pytest.approx(c_n, rel=1e-6)
    assert rel.tokens_per_param.value == pytest.approx((c_d / c_n) ** 3, rel=1e-6)
    assert (rel.params_exponent.value, rel.tokens_exponent.value) == pytest.approx((0.5, 0.5))
    assert rel.loss_exponent.value == pytest.approx(1 / 6)
    plans = [shape_optimal(fixed, c) for c in (1e20, 1e22, 1e24)]
    for p in plans:
        assert p.tokens_per_param.value == pytest.approx((c_d / c_n) ** 3, rel=1e-6)
        assert p.params.value == pytest.approx((p.compute / 6) ** 0.5 * (c_n / c_d) ** 1.5, rel=1e-6)
        assert p.loss.value - FIXED[0] == pytest.approx(2 * (c_n * c_d) ** 0.5 * (p.compute / 6) ** (-1 / 6))
        assert p.aspect_ratio.value == pytest.approx(c_m / (2 * c_l), rel=1e-6)
    # L* - L0 ~ C^(-1/6): a factor 100 in compute divides the reducible loss by 100^(1/6)
    ratio = (plans[0].loss.value - FIXED[0]) / (plans[1].loss.value - FIXED[0])
    assert ratio == pytest.approx(100 ** (1 / 6), rel=1e-9)


def test_numerical_frontier_with_a_depth_offset() -> None:
    result = fitted(FREE, exponents="free", depth_offset="2")
    plan = shape_optimal(result, 1e22)
    m, ell, loss = frontier_brute(result.theta, 1e22, offset=2.0)
    assert plan.method == "numerical"
    assert plan.loss.value == pytest.approx(loss, rel=1e-9)
    assert plan.width.value == pytest.approx(m, rel=2e-3) and plan.depth.value == pytest.approx(ell, rel=2e-3)


def test_intervals_from_the_draws_and_the_comparison() -> None:
    result = fitted(FIXED, bootstrap=40)
    plan = shape_optimal(result, 1e22)
    for e in (plan.width, plan.depth, plan.params, plan.tokens, plan.loss, plan.aspect_ratio):
        assert e.lo <= e.value <= e.hi and e.lo < e.hi
    snapped = shape_optimal(result, 1e22, width_multiple=128, head_dim=128)
    assert snapped.snapped and snapped.width.value % 128 == 0 and snapped.loss.lo is not None
    assert snapped.loss.value >= plan.loss.value
    n = 12 * M**2 * L
    chin = fit({"params": n, "tokens": D, "loss": get_law("universality").predict(X, FIXED)}, "chinchilla")
    rows = compare_frontiers(result, chin, [1e21, 1e23])
    assert [r["compute"] for r in rows] == [1e21, 1e23]
    text = describe_comparison(rows)
    assert "universality" in text and "chinchilla" in text


def test_bad_planning_input(fixed) -> None:
    chin = fit({"params": 12 * M**2 * L, "tokens": D, "loss": get_law("universality").predict(X, FIXED)})
    with pytest.raises(PlanError, match="needs a fit of the 'universality' law"):
        optimal_shape(chin, 1e9)
    with pytest.raises(PlanError, match="parameter budget must be a positive number"):
        optimal_shape(fixed, -1e9)
    with pytest.raises(PlanError, match="compute must be a positive number of FLOPs"):
        shape_optimal(fixed, 0.0)
    with pytest.raises(PlanError, match="width and depth must be positive"):
        shape_penalty(fixed, 1e9, width=0, depth=10)
    with pytest.raises(PlanError, match="relative_to must be one of"):
        aspect_ratio_range(fixed, 1e9, relative_to="total")
    with pytest.raises(PlanError, match="multiple must be a positive integer"):
        snap_shape(fixed, 1e9, multiple=0)
    width_only = fitted(FIXED[[0, 1, 3]], terms="width,time")
    with pytest.raises(PlanError, match="with width and depth terms"):
        optimal_shape(width_only, 1e9)
