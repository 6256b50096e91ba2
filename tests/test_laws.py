"""Law library: registry, analytic Jacobians, exact recovery of every law on noiseless data."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.errors import LawError
from scalinglaws.fit import fit
from scalinglaws.laws import Param, available_laws, get_law, law_from_function, register_law

GRID_N = np.repeat([5e7, 1.5e8, 4e8, 1e9, 3e9, 8e9], 6)
GRID_D = np.tile([1e9, 3e9, 1e10, 3e10, 1e11, 3e11], 6)

CASES = {
    "chinchilla": ({"params": GRID_N, "tokens": GRID_D}, [1.7, 400.0, 1500.0, 0.34, 0.30]),
    "power": ({"flops": np.geomspace(1e17, 1e22, 25)}, [1.8, 3.0e3, 0.17]),
    "kaplan": ({"params": GRID_N, "tokens": GRID_D}, [8.8e13, 5.4e13, 0.076, 0.095]),
    "repetition": (
        {"params": GRID_N, "tokens": GRID_D, "unique_tokens": np.minimum(GRID_D, 2e10)},
        [1.7, 400.0, 1500.0, 0.34, 0.30, 12.0],
    ),
    "sigmoid": ({"loss": np.geomspace(1.8, 6.0, 30)}, [0.6, 0.25, 6.0, 1.2]),
}


def test_registry_lists_the_foundation_laws() -> None:
    assert {"chinchilla", "power", "kaplan", "repetition", "sigmoid"} <= set(available_laws())


def test_unknown_law_is_a_clear_error() -> None:
    with pytest.raises(LawError, match="unknown law 'chinchila'.*available: "):
        get_law("chinchila")


@pytest.mark.parametrize("name", sorted(CASES))
def test_analytic_jacobian_matches_finite_differences(name: str) -> None:
    law = get_law(name)
    X, theta = CASES[name]
    theta = np.asarray(theta, dtype=float)
    analytic = law.jacobian(X, theta)
    numeric = type(law).__mro__[-2].jacobian(law, X, theta)  # the base class's central differences
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-9 * np.abs(analytic).max())


@pytest.mark.parametrize("name", sorted(CASES))
def test_batched_prediction_matches_rows(name: str) -> None:
    law = get_law(name)
    X, theta = CASES[name]
    batch = np.array([theta, np.asarray(theta) * 1.01])
    out = law.predict(X, batch)
    np.testing.assert_allclose(out[1], law.predict(X, batch[1]))
    assert law.jacobian(X, batch).shape == (2, out.shape[1], len(theta))


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_recovery_noiseless(name: str) -> None:
    law = get_law(name)
    X, theta = CASES[name]
    y = law.predict(X, np.asarray(theta, dtype=float))
    target = "loss" if law.target == "log" else "accuracy"
    data = {**X, target: y} if name != "sigmoid" else {"loss": X["loss"], "accuracy": y}
    result = fit(data, law, target=target, loss="l2")
    np.testing.assert_allclose(result.theta, theta, rtol=1e-6)
    assert result.converged


def test_user_defined_law_registers_and_recovers() -> None:
    law = law_from_function(
        "exp-saturation",
        lambda X, E, A, k: E + A * np.exp(-k * X["steps"]),
        [Param("E", 0, 10, linear=True), Param("A", 0, 10, linear=True),
         Param("k", 1e-6, 1.0, grid=tuple(np.geomspace(1e-5, 0.5, 30)))],
        inputs=("steps",),
    )
    register_law(lambda: law, name="exp-saturation-test")
    with pytest.raises(LawError, match="already registered"):
        register_law(lambda: law, name="exp-saturation-test")
    steps = np.linspace(1, 5000, 40)
    y = 2.0 + 3.0 * np.exp(-1.3e-3 * steps)
    result = fit({"steps": steps, "loss": y}, "exp-saturation-test", loss="l2", cluster_by="steps")
    np.testing.assert_allclose(result.theta, [2.0, 3.0, 1.3e-3], rtol=1e-6)


def test_param_spec_is_validated() -> None:
    with pytest.raises(LawError, match="needs a grid"):
        Param("alpha", 0.0, 1.0)
    with pytest.raises(LawError, match="lower bound must be below"):
        Param("E", 1.0, 0.0, linear=True)


NOISY = {
    "power": ("flops", 0.01),
    "kaplan": ("params", 0.01),
    "repetition": ("params", 0.01),
    "sigmoid": ("loss", 0.01),
}


@pytest.mark.parametrize("name", sorted(NOISY))
def test_noisy_recovery_inside_bootstrap_intervals_in_most_seeds(name: str) -> None:
    law = get_law(name)
    X, theta = CASES[name]
    cluster, sigma = NOISY[name]
    clean = law.predict(X, np.asarray(theta, dtype=float))
    target = "loss" if law.target == "log" else "accuracy"
    hits, seeds = np.zeros(len(theta)), range(6)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        noise = rng.normal(size=clean.size) * sigma
        y = clean * np.exp(noise) if law.target == "log" else clean + noise
        data = {**X, target: y} if name != "sigmoid" else {"loss": X["loss"], "accuracy": y}
        result = fit(data, law, target=target, bootstrap=100, seed=seed, cluster_by=cluster)
        ints = result.intervals(0.95)
        hits += [ints[n][0] <= t <= ints[n][1] for n, t in zip(law.param_names, theta, strict=True)]
    assert np.all(hits >= 4), dict(zip(law.param_names, hits, strict=True))
