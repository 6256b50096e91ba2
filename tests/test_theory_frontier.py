"""Effective-Frontier model: tails, frontiers, Max-Bottleneck, smooth variant, allocation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from scalinglaws.errors import ScalingLawsError
from scalinglaws.theory.frontier import (
    TheoryError,
    capacity_frontier,
    coverage_frontier,
    frontiers,
    loss_exponents,
    max_bottleneck_loss,
    normaliser,
    optimisation_frontier,
    pattern_probabilities,
    reducible_loss,
    tail_mass,
    tail_mass_asymptotic,
)
from scalinglaws.theory.frontier_allocation import optimal_allocation
from scalinglaws.theory.frontier_smooth import (
    expected_loss,
    soft_coverage_asymptotic,
    soft_coverage_loss,
)

ALPHAS = (1.2, 1.5, 2.0)
K = 200_000


def brute_survival(alpha: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    """p_1..p_K normalised by a plain sum, and surv[j] = sum_{i > j} p_i."""
    p = np.arange(1, k + 1, dtype=float) ** -alpha
    p /= p.sum()
    return p, np.concatenate([np.cumsum(p[::-1])[::-1], [0.0]])


@pytest.mark.parametrize("alpha", ALPHAS)
def test_normaliser_and_probabilities_match_plain_sums(alpha: float) -> None:
    ks = np.arange(1, K + 1, dtype=float) ** -alpha
    assert normaliser(alpha, K) == pytest.approx(ks.sum(), rel=1e-12)
    assert normaliser(alpha) == pytest.approx(special.zeta(alpha), rel=1e-15)
    assert pattern_probabilities(alpha, K).sum() == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_tail_mass_matches_brute_force_finite_support(alpha: float) -> None:
    _, surv = brute_survival(alpha, K)
    for k in (0, 1, 2, 17, 1000, 54321, K - 1, K, K + 10):
        assert tail_mass(alpha, k, K) == pytest.approx(surv[min(k, K)], rel=1e-9, abs=1e-300)
    # real k*: patterns k <= floor(k*) are learned; continuous=True interpolates between integers
    assert tail_mass(alpha, 17.9, K) == pytest.approx(surv[17], rel=1e-12)
    smooth = tail_mass(alpha, [17.0, 17.5, 18.0], K, continuous=True)
    assert smooth[0] == pytest.approx(surv[17], rel=1e-12) and smooth[2] == pytest.approx(
        surv[18], rel=1e-12
    )
    assert surv[18] < smooth[1] < surv[17]


@pytest.mark.parametrize("alpha", ALPHAS)
def test_tail_mass_infinite_support_differences_match_partial_sums(alpha: float) -> None:
    j = np.arange(1, K + 1, dtype=float)
    partial = np.cumsum(j**-alpha) / special.zeta(alpha)  # sum_{i <= k} p_i, infinite-support p
    for k in (10, 1000, 100_000):
        got = tail_mass(alpha, k) - tail_mass(alpha, K)
        assert got == pytest.approx(partial[K - 1] - partial[k - 1], rel=1e-9)
    assert tail_mass(alpha, 0) == pytest.approx(1.0, rel=1e-14)
    assert tail_mass(alpha, np.inf) == 0.0


@pytest.mark.parametrize("alpha", ALPHAS)
def test_asymptotic_tail_converges_at_rate_one_over_k(alpha: float) -> None:
    k = np.array([1e2, 1e3, 1e4, 1e5])
    ratio = tail_mass_asymptotic(alpha, k) / tail_mass(alpha, k)
    assert np.all(np.diff(np.abs(ratio - 1)) < 0)
    # Euler-Maclaurin: ratio = 1 + (alpha - 1) / (2 k) + O(k^-2)
    assert k[-1] * (ratio[-1] - 1) == pytest.approx((alpha - 1) / 2, rel=1e-3)
    # the closed form k^(1-alpha) / ((alpha-1) zeta(alpha))
    assert tail_mass_asymptotic(alpha, 1e3) == pytest.approx(
        1e3 ** (1 - alpha) / ((alpha - 1) * special.zeta(alpha)), rel=1e-14
    )
    # finite support: the integral of the truncated tail
    kk = 10**6
    exact = tail_mass(alpha, 1e4, kk)
    assert tail_mass_asymptotic(alpha, 1e4, kk) == pytest.approx(exact, rel=1e-3)


def test_reducible_loss_is_the_frequency_weighted_sum() -> None:
    p, surv = brute_survival(1.5, 50)
    q = np.random.default_rng(0).random((3, 20))
    got = reducible_loss(1.5, q, n_patterns=50)
    assert got == pytest.approx(q @ p[:20] + surv[20], rel=1e-12)
    assert reducible_loss(1.5, np.ones(50), 50) == pytest.approx(1.0, rel=1e-12)
    assert reducible_loss(1.5, np.zeros(7)) == pytest.approx(tail_mass(1.5, 7), rel=1e-14)


def test_frontier_formulas() -> None:
    z = special.zeta(1.5)
    assert capacity_frontier(1e6, params_per_pattern=20.0) == pytest.approx(5e4)
    assert coverage_frontier(1.5, 1e6, min_count=4) == pytest.approx((1e6 / (4 * z)) ** (1 / 1.5))
    kt = optimisation_frontier(1.5, 1e4, 3e-3, threshold=0.5, params=1e6, efficiency_exponent=0.25)
    assert kt == pytest.approx((1e4 * 3e-3 * 1e6**0.25 / (0.5 * z)) ** (1 / 1.5))
    # hard thresholds: the last pattern at the frontier meets it, the next does not
    d, m = 1e7, 3
    kd = int(coverage_frontier(2.0, d, min_count=m, n_patterns=K))
    p = pattern_probabilities(2.0, K)
    assert d * p[kd - 1] >= m > d * p[kd]


def test_frontiers_report_active_bottleneck_and_ratios() -> None:
    f = frontiers(1.5, params=[10, 1e4, 1e6], tokens=1e6, steps=[1e6, 1e7, 1e2], n_patterns=10**5)
    assert f.active.tolist() == ["capacity", "coverage", "optimisation"]
    for i, name in enumerate(["capacity", "coverage", "optimisation"]):
        assert f.ratios[name][i] == pytest.approx(1.0)
        assert all(f.ratios[other][i] >= 1.0 for other in f.ratios)
    assert np.array_equal(f.star, np.minimum(np.minimum(f.capacity, f.coverage), f.optimisation))
    g = frontiers(2.0, 1e9, 1e15, n_patterns=1000)  # everything ample: support exhausted
    assert g.active[()] == "none" and np.isinf(g.optimisation)


def test_max_bottleneck_loss_is_max_of_single_tails() -> None:
    rng = np.random.default_rng(1)
    n, d, t = 10 ** rng.uniform(1, 6, (3, 500))
    for alpha in ALPHAS:
        got = max_bottleneck_loss(alpha, n, d, t, lr=0.5, min_count=2, n_patterns=K)
        tails = [
            tail_mass(alpha, capacity_frontier(n), K),
            tail_mass(alpha, coverage_frontier(alpha, d, min_count=2, n_patterns=K), K),
            tail_mass(alpha, optimisation_frontier(alpha, t, 0.5, n_patterns=K), K),
        ]
        assert np.array_equal(got, np.maximum.reduce(tails))


@pytest.mark.parametrize("alpha", ALPHAS)
def test_single_bottleneck_loss_exponents(alpha: float) -> None:
    ex = loss_exponents(alpha)
    x = np.array([1e10, 1e12])

    def slope(y: np.ndarray) -> float:
        return float(-np.diff(np.log(y))[0] / np.diff(np.log(x))[0])

    assert slope(max_bottleneck_loss(alpha, x, 1e300, continuous=True)) == pytest.approx(
        ex["capacity"], abs=1e-3
    )
    assert slope(max_bottleneck_loss(alpha, 1e300, x, continuous=True)) == pytest.approx(
        ex["coverage"], abs=1e-3
    )
    loss_t = max_bottleneck_loss(alpha, 1e300, 1e300, steps=x, continuous=True)
    assert slope(loss_t) == pytest.approx(ex["optimisation"], abs=1e-3)
    assert slope(soft_coverage_loss(alpha, x)) == pytest.approx(ex["coverage"], abs=1e-6)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_soft_coverage_matches_brute_force_and_asymptote(alpha: float) -> None:
    p, _ = brute_survival(alpha, K)
    d = np.array([1.0, 50.0, 3e3, 1e6, 1e9])
    brute = np.array([(p * np.exp(-x * p)).sum() for x in d])
    assert soft_coverage_loss(alpha, d, K) == pytest.approx(brute, rel=1e-9)
    big = np.array([1e3, 1e5, 1e7])
    assert soft_coverage_asymptotic(alpha, big) == pytest.approx(
        soft_coverage_loss(alpha, big), rel=1e-5
    )


@pytest.mark.parametrize("alpha", ALPHAS)
def test_expected_loss_matches_brute_force(alpha: float) -> None:
    p, surv = brute_survival(alpha, K)
    ranks = np.arange(1, K + 1)
    cases = [(5e2, 1e5, 1e5 / 3), (3e3, 1e9, 1e9 / 40), (1e5, 1e8, None), (3e5, 1e11, 1e11 / 5e3)]
    for n, d, t in cases:
        c = 1.0 if t is None else max(1.0, d / t)
        brute = (
            surv[int(min(n, K))] + np.where(ranks <= n, p * special.gammaincc(c, d * p), 0).sum()
        )
        assert expected_loss(alpha, n, d, t, n_patterns=K) == pytest.approx(brute, rel=1e-9)


def test_expected_loss_limits() -> None:
    d = np.array([1e4, 1e6, 1e8])
    # N and T ample: soft coverage
    assert expected_loss(1.5, 1e12, d, n_patterns=K) == pytest.approx(
        soft_coverage_loss(1.5, d, K), rel=1e-9
    )
    # D -> inf at fixed lr T: the hard optimisation tail; exact below 1024 patterns, beyond it the
    # Euler-Maclaurin integral smooths the step into the continuous interpolation
    hard = max_bottleneck_loss(1.5, 1e12, 1e18, steps=1e3)
    assert expected_loss(1.5, 1e12, 1e18, steps=1e3) == pytest.approx(hard, rel=1e-12)
    smooth = max_bottleneck_loss(1.5, 1e12, 1e18, steps=1e6, continuous=True)
    assert expected_loss(1.5, 1e12, 1e18, steps=1e6) == pytest.approx(smooth, rel=1e-4)
    # capacity binding with ample data and steps: the hard capacity tail
    assert expected_loss(2.0, 100, 1e15, n_patterns=K) == pytest.approx(
        tail_mass(2.0, 100, K), rel=1e-12
    )


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("partner", ["coverage", "optimisation"])
def test_optimal_allocation_analytic_matches_numeric(alpha: float, partner: str) -> None:
    c = np.geomspace(1e10, 1e22, 7)
    kw = dict(
        partner=partner,
        params_per_pattern=3.0,
        min_count=2,
        lr=0.1,
        batch_tokens=512.0,
        threshold=2.0,
        efficiency_exponent=0.3,
    )
    exact = optimal_allocation(alpha, c, **kw)
    check = optimal_allocation(alpha, c, method="numeric", **kw)
    assert check.params == pytest.approx(exact.params, rel=1e-6)
    assert exact.params * exact.tokens * 6 == pytest.approx(c, rel=1e-12)
    # the frontiers balance at the optimum, and the exponents are the log-log slopes
    kn = exact.params / 3.0
    if partner == "coverage":
        kr = coverage_frontier(alpha, exact.tokens, min_count=2)
        assert exact.params_exponent == pytest.approx(1 / (alpha + 1))
    else:
        kr = optimisation_frontier(
            alpha, exact.steps, 0.1, threshold=2.0, params=exact.params, efficiency_exponent=0.3
        )
        assert exact.params_exponent == pytest.approx(1 / (alpha + 1 - 0.3))
    assert kr == pytest.approx(kn, rel=1e-9)
    slope = np.polyfit(np.log(c), np.log(exact.params), 1)[0]
    assert slope == pytest.approx(exact.params_exponent, abs=1e-9)
    loss_slope = -np.polyfit(np.log(c), np.log(exact.delta_loss), 1)[0]
    assert loss_slope == pytest.approx(exact.loss_exponent, abs=0.01)


def test_kaplan_exponent_needs_compute_driven_optimisation() -> None:
    # no efficiency gain: every pair gives N* ~ C^(1/(alpha+1)) < 1/2
    for alpha in ALPHAS:
        for partner in ("coverage", "optimisation"):
            assert optimal_allocation(alpha, 1e20, partner=partner).params_exponent < 0.5
    # progress per step ~ N^g with g = alpha - 0.37 gives Kaplan's 0.73 (docs: Kaplan vs Chinchilla)
    alpha = 1.34
    plan = optimal_allocation(alpha, 1e20, partner="optimisation", efficiency_exponent=alpha - 0.37)
    assert plan.params_exponent == pytest.approx(1 / 1.37)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_expected_loss_optimum_has_the_same_exponent(alpha: float) -> None:
    c = np.geomspace(1e14, 1e24, 5)
    plan = optimal_allocation(alpha, c, method="expected")
    slope = np.polyfit(np.log(c), np.log(plan.params), 1)[0]
    assert slope == pytest.approx(1 / (alpha + 1), abs=0.005)
    hard = optimal_allocation(alpha, c)
    assert np.all(plan.delta_loss < tail_mass(alpha, hard.k_star) * 3)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tail_mass(1.0, 5), "alpha must be a finite Zipf exponent > 1"),
        (lambda: tail_mass(float("nan"), 5), "alpha"),
        (lambda: tail_mass(2.0, -1), "k_star must be >= 0"),
        (lambda: tail_mass(2.0, 5, n_patterns=1e6), "n_patterns must be a positive integer"),
        (lambda: tail_mass(2.0, 5, n_patterns=True), "n_patterns must be a positive integer"),
        (lambda: tail_mass(2.0, 5, n_patterns=0), "n_patterns must be a positive integer"),
        (
            lambda: capacity_frontier([10, 0]),
            r"params must be finite and > 0; got 0.0 \(1 bad value",
        ),
        (lambda: coverage_frontier(2.0, -5), "tokens must be finite and > 0"),
        (lambda: coverage_frontier(2.0, 5, min_count=1.5), "min_count must be a positive integer"),
        (lambda: optimisation_frontier(2.0, 0), "steps must be finite and > 0"),
        (lambda: optimisation_frontier(2.0, 10, lr=-1), "lr must be finite and > 0"),
        (lambda: optimisation_frontier(2.0, 10, efficiency_exponent=0.5), "needs params"),
        (lambda: max_bottleneck_loss(2.0, 10, 10, lr=0), "lr must be finite and > 0"),
        (lambda: reducible_loss(2.0, [0.5, -1]), "q must be an array of finite per-pattern losses"),
        (
            lambda: reducible_loss(2.0, [0, 0, 0], n_patterns=2),
            "q has 3 patterns but n_patterns is 2",
        ),
        (lambda: optimal_allocation(2.0, 1e20, partner="data"), "partner must be"),
        (lambda: optimal_allocation(2.0, 1e20, method="magic"), "method must be"),
        (
            lambda: optimal_allocation(2.0, 1e20, partner="optimisation", efficiency_exponent=1.0),
            "< 1",
        ),
        (
            lambda: optimal_allocation(2.0, 1e20, partner="optimisation", method="expected"),
            "coverage",
        ),
        (lambda: optimal_allocation(2.0, 0.0), "compute must be finite and > 0"),
    ],
)
def test_bad_inputs_raise_one_line_errors(call, match: str) -> None:
    with pytest.raises(TheoryError, match=match) as info:
        call()
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ScalingLawsError) and isinstance(info.value, ValueError)
