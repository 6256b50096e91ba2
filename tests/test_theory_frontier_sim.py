"""Effective-Frontier simulator: schema, determinism, law of the learner, recovered exponents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import curve_fit

from scalinglaws.errors import ScalingLawsError
from scalinglaws.theory.frontier import (
    TheoryError,
    loss_exponents,
    normaliser,
    pattern_probabilities,
)
from scalinglaws.theory.frontier_allocation import optimal_allocation
from scalinglaws.theory.frontier_sim import SimulationTooLargeError, grid, simulate
from scalinglaws.theory.frontier_smooth import expected_loss

ALPHAS = (1.2, 1.5, 2.0)
K = 10**6


def fit_exponent(x: np.ndarray, y: np.ndarray) -> float:
    """Exponent b of y = A x^-b + c, least squares on relative (log-space) residuals."""
    b0 = -np.polyfit(np.log(x), np.log(y), 1)[0]
    (_, b, _), _ = curve_fit(
        lambda x, a, b, c: a * x**-b + c,
        x,
        y,
        p0=(y[0] * x[0] ** b0, b0, 0.0),
        sigma=y,
        maxfev=20000,
    )
    return float(b)


def brute_force(alpha: float, n: float, d: float, t: float | None, k: int, reps: int) -> np.ndarray:
    """The learner drawn naively: a Poisson count per pattern, top-N by count, random ties."""
    p = pattern_probabilities(alpha, k)
    rng = np.random.default_rng(12345)
    c_min = 1.0 if t is None else max(1.0, np.ceil(d / t))
    out = np.empty(reps)
    for r in range(reps):
        counts = rng.poisson(d * p)
        learned = counts >= c_min
        if learned.sum() > n:
            key = np.where(learned, counts + rng.random(k), -1.0)
            learned = np.zeros(k, dtype=bool)
            learned[np.argsort(-key)[: int(n)]] = True
        out[r] = p[~learned].sum()
    return out


def test_schema_and_columns() -> None:
    runs = simulate(
        1.5,
        **grid(params=[10, 1e3], tokens=[1e4, 1e6], steps=[1e3]),
        n_patterns=10**4,
        irreducible=1.7,
        lr=0.5,
    )
    assert list(runs.columns) == [
        "run",
        "family",
        "params",
        "tokens",
        "flops",
        "loss",
        "step",
        "lr",
        "bottleneck",
        "k_capacity",
        "k_coverage",
        "k_optimisation",
        "k_star",
        "delta_loss",
        "n_learned",
    ]
    assert runs.run.is_unique and (runs.family == "frontier-sim").all()
    assert np.allclose(runs.flops, 6 * runs.params * runs.tokens)
    assert np.allclose(runs.loss, 1.7 + runs.delta_loss)
    assert (runs.step == 1e3).all() and (runs.lr == 0.5).all()
    assert runs.delta_loss.between(0, 1).all() and (runs.n_learned <= runs.params).all()
    assert set(runs.bottleneck) <= {"capacity", "coverage", "optimisation", "none"}
    ks = runs[["k_capacity", "k_coverage", "k_optimisation"]].to_numpy()
    assert np.array_equal(runs.k_star, ks.min(axis=1))
    converged = simulate(1.5, [10, 1e3], 1e4, n_patterns=10**4)
    assert converged.step.isna().all() and np.isinf(converged.k_optimisation).all()


def test_grid_is_the_cartesian_product() -> None:
    g = grid(params=[1, 2], tokens=[10, 20, 30], steps=[5], lr=[0.1, 0.2])
    assert set(g) == {"params", "tokens", "steps", "lr"} and all(v.size == 12 for v in g.values())
    combos = set(zip(*(g[k] for k in ("params", "tokens", "steps", "lr")), strict=True))
    assert len(combos) == 12
    assert set(grid(params=[1], tokens=[2])) == {"params", "tokens"}


def test_deterministic_and_independent_of_batching() -> None:
    kw = dict(n_patterns=10**5, seed=7)
    n = np.array([30, 300, 3000, 3e4])
    d = np.array([1e3, 1e5, 1e7, 1e9])
    a = simulate(1.5, n, d, **kw)
    pd.testing.assert_frame_equal(a, simulate(1.5, n, d, **kw))
    # run i draws from its own seed: appending runs leaves the first rows unchanged
    b = simulate(1.5, np.append(n, [5, 7]), np.append(d, [1e2, 1e3]), **kw)
    pd.testing.assert_frame_equal(a, b.iloc[:4])
    c = simulate(1.5, n, d, n_patterns=10**5, seed=8)
    assert not np.array_equal(a.delta_loss, c.delta_loss)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_learner_law_matches_brute_force(alpha: float) -> None:
    """Mean and spread of the loss agree with naive per-pattern sampling in every regime."""
    k, reps = 2000, 1200
    cases = [
        (100, 1e3, None),  # capacity and coverage balanced: small counts, many ties at the cut
        (40, 1e6, None),  # capacity, sharp cut
        (1000, 1e5, None),  # capacity with moderate counts: far patterns can reach the cut
        (3000, 3e4, None),  # coverage only
        (300, 1e6, 3e3),  # optimisation threshold count 334
    ]
    for n, d, t in cases:
        sim = simulate(alpha, np.full(reps, n), d, t, n_patterns=k, seed=3).delta_loss.to_numpy()
        ref = brute_force(alpha, n, d, t, k, reps)
        se = np.sqrt((sim.var() + ref.var()) / reps) + 1e-15
        assert abs(sim.mean() - ref.mean()) < 4 * se, (n, d, t)
        if ref.std() > 0:
            assert sim.std() / ref.std() == pytest.approx(1.0, abs=0.15), (n, d, t)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_mean_loss_is_the_expected_loss_when_capacity_is_ample(alpha: float) -> None:
    reps, k = 300, 30_000
    for d, t in [(1e3, None), (1e6, None), (1e6, 1e6 / 7), (1e9, 1e9 / 3000)]:
        sim = simulate(alpha, np.full(reps, 1e9), d, t, n_patterns=k, seed=5).delta_loss
        exp = float(expected_loss(alpha, 1e9, d, t, n_patterns=k))
        assert abs(sim.mean() - exp) < 4 * sim.std() / np.sqrt(reps) + 1e-12 * exp, (d, t)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_recovers_single_bottleneck_exponents(alpha: float) -> None:
    """Vary one resource over 3 decades of frontier (k* from 100 to 1e5 << K), the others ample."""
    z, ex = normaliser(alpha, K), loss_exponents(alpha)
    k = np.geomspace(100, 1e5, 13)
    capacity = simulate(alpha, k, 1e15, n_patterns=K).delta_loss.to_numpy()
    assert fit_exponent(k, capacity) == pytest.approx(ex["capacity"], abs=0.02)
    reps = 4
    d = z * k**alpha  # coverage frontier k (D p_k = 1); T ample, N = K
    coverage = simulate(alpha, K, np.repeat(d, reps), n_patterns=K).delta_loss.to_numpy()
    assert fit_exponent(d, coverage.reshape(-1, reps).mean(axis=1)) == pytest.approx(
        ex["coverage"], abs=0.02
    )
    t = z * k**alpha  # optimisation frontier k (lr T p_k = 1); D = 1e15 ample, N = K
    optimisation = simulate(alpha, K, 1e15, steps=t, n_patterns=K).delta_loss.to_numpy()
    assert fit_exponent(t, optimisation) == pytest.approx(ex["optimisation"], abs=0.02)


def argmin_log(log_n: np.ndarray, loss: np.ndarray) -> float:
    """Minimum of a parabola through the 7 points around the smallest simulated loss (log-log)."""
    i = int(np.argmin(loss))
    lo, hi = max(i - 3, 0), min(i + 4, loss.size)
    c2, c1, _ = np.polyfit(log_n[lo:hi], np.log(loss[lo:hi]), 2)
    return -c1 / (2 * c2)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_simulated_compute_optimal_params_follow_predicted_exponent(alpha: float) -> None:
    """Scan N along iso-compute lines C = 6 N D (T ample); argmin N ~ C^(1/(alpha+1))."""
    z = normaliser(alpha, K)
    c = 6 * z * np.geomspace(300, 3e4, 7) ** (alpha + 1)  # analytic N* from 300 to 3e4
    plan = optimal_allocation(alpha, c, n_patterns=K)
    rel = np.geomspace(0.1, 10, 25)
    n = plan.params[:, None] * rel
    runs = simulate(alpha, n.ravel(), (c[:, None] / (6 * n)).ravel(), n_patterns=K, seed=2)
    loss = runs.delta_loss.to_numpy().reshape(n.shape)
    best = [argmin_log(np.log(n[i]), loss[i]) for i in range(c.size)]
    slope = np.polyfit(np.log(c), best, 1)[0]
    assert slope == pytest.approx(1 / (alpha + 1), abs=0.03)
    assert plan.params_exponent == pytest.approx(1 / (alpha + 1))


@pytest.mark.parametrize("alpha, g", [(1.2, 0.5), (1.5, 0.5), (2.0, 0.5), (1.2, 0.8)])
def test_simulated_capacity_optimisation_equilibrium(alpha: float, g: float) -> None:
    """One pass (D = B T), progress ~ lr T N^g: argmin N ~ C^(1/(alpha+1-g)).

    (1.2, 0.8) gives 0.714, a Kaplan-like exponent (docs: Kaplan vs Chinchilla)."""
    b = 1e5  # tokens per step; coverage stays slack while N^g < b
    kw = dict(partner="optimisation", batch_tokens=b, efficiency_exponent=g, n_patterns=K)
    unit = optimal_allocation(alpha, 1.0, **kw).params
    c = (np.geomspace(100, 1e4, 6) / unit) ** (alpha + 1 - g)  # analytic N* from 100 to 1e4
    plan = optimal_allocation(alpha, c, **kw)
    n = plan.params[:, None] * np.geomspace(0.1, 10, 25)
    d = c[:, None] / (6 * n)
    runs = simulate(
        alpha,
        n.ravel(),
        d.ravel(),
        steps=(d / b).ravel(),
        efficiency_exponent=g,
        n_patterns=K,
        seed=4,
    )
    loss = runs.delta_loss.to_numpy().reshape(n.shape)
    best = [argmin_log(np.log(n[i]), loss[i]) for i in range(c.size)]
    assert np.polyfit(np.log(c), best, 1)[0] == pytest.approx(1 / (alpha + 1 - g), abs=0.03)


def test_zero_capacity_learns_nothing() -> None:
    runs = simulate(2.0, [0.5, 1.0], 1e6, n_patterns=100)
    assert runs.delta_loss[0] == pytest.approx(1.0) and runs.n_learned.tolist() == [0, 1]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(alpha=1.0), TheoryError, "alpha must be a finite Zipf exponent > 1"),
        (dict(params=[10, -1]), TheoryError, "params must be finite and > 0"),
        (dict(tokens=0), TheoryError, "tokens must be finite and > 0"),
        (dict(steps=[10, np.nan]), TheoryError, "steps must be finite and > 0"),
        (dict(steps=10, lr=0), TheoryError, "lr must be finite and > 0"),
        (dict(lr=-1.0), TheoryError, "lr must be finite and > 0"),
        (dict(n_patterns=1e4), TheoryError, "n_patterns must be a positive integer, got 10000.0"),
        (dict(n_patterns="100"), TheoryError, "n_patterns must be a positive integer"),
        (dict(seed=-1), TheoryError, "seed must be a non-negative integer"),
        (dict(min_count=0), TheoryError, "min_count must be a positive integer"),
        (dict(irreducible=np.nan), TheoryError, "irreducible must be finite"),
        (
            dict(steps=10, efficiency_exponent=np.inf),
            TheoryError,
            "efficiency_exponent must be finite",
        ),
        (
            dict(max_bytes=10**5),
            SimulationTooLargeError,
            r"needs about 0\.7 MiB, above max_bytes=0\.1 MiB",
        ),
        (
            dict(n_patterns=10**9),
            SimulationTooLargeError,
            r"1000000000 patterns needs about 67\.06 GiB",
        ),
    ],
)
def test_bad_inputs(kwargs: dict, error: type, match: str) -> None:
    args = dict(alpha=1.5, params=[10, 100], tokens=1e4, n_patterns=10**4) | kwargs
    with pytest.raises(error, match=match) as info:
        simulate(**args)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ScalingLawsError) and isinstance(info.value, ValueError)
