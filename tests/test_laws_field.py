"""The field's law families: registry, analytic Jacobians, exact recovery, and the limits each reduces to."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.errors import PlanError
from scalinglaws.fit import fit
from scalinglaws.laws import Law, available_laws, get_law
from scalinglaws.plan import compute_optimal

GRID_N = np.repeat([5e7, 1.5e8, 4e8, 1e9, 3e9, 8e9], 6)
GRID_D = np.tile([1e9, 3e9, 1e10, 3e10, 1e11, 3e11], 6)
ND = {"params": GRID_N, "tokens": GRID_D}
X1 = {"flops": np.geomspace(1e15, 1e24, 36)}

CASES = {
    "multiplicative": (ND, [1.7, 2e4, 0.2, 0.3]),
    "shifted": (ND, [1.7, 400.0, 1500.0, 0.34, 0.30, 1e8, 3e9]),
    "kaplan-floor": (ND, [1.6, 30.0, 0.8, 300.0, 0.15]),
    "skaling": (ND, [1.7, 30.0, 0.34, 5.0, 0.3, 0.6]),
    "bounded-rational": (X1, [1.8, 10.0, 1e18, 0.3]),
    "broken": (X1, [1.5, 100.0, 0.1, 0.3, 1e19, 0.5]),
}


def test_registry_lists_the_field_laws_with_notes() -> None:
    assert set(CASES) <= set(available_laws())
    for name in CASES:
        law = get_law(name)
        assert law.note and law.description
        assert len(law.linear_index) == 2 or name == "shifted"


@pytest.mark.parametrize("name", sorted(CASES))
def test_analytic_jacobian_matches_finite_differences(name: str) -> None:
    law = get_law(name)
    X, theta = CASES[name]
    theta = np.asarray(theta, dtype=float)
    analytic = law.jacobian(X, theta)
    numeric = Law.jacobian(law, X, theta)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-9 * np.abs(analytic).max())


@pytest.mark.parametrize("name", sorted(CASES))
def test_batched_prediction_jacobian_and_basis(name: str) -> None:
    law = get_law(name)
    X, theta = CASES[name]
    batch = np.array([theta, np.asarray(theta) * 1.01])
    out = law.predict(X, batch)
    np.testing.assert_allclose(out[1], law.predict(X, batch[1]))
    assert law.jacobian(X, batch).shape == (2, out.shape[1], len(theta))
    # variable projection: predict == basis @ linear parameters
    lin = law.linear_index
    np.testing.assert_allclose(np.einsum("gnk,gk->gn", law.basis(X, batch), batch[:, lin]), out, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_recovery_noiseless(name: str) -> None:
    law = get_law(name)
    X, theta = CASES[name]
    y = law.predict(X, np.asarray(theta, dtype=float))
    result = fit({**X, "loss": y}, law, loss="l2", cluster_by=law.inputs[0])
    np.testing.assert_allclose(result.theta, theta, rtol=1e-6)
    assert result.converged


@pytest.mark.parametrize("name", sorted(CASES))
def test_robust_fit_on_250_noisy_points_stays_close(name: str) -> None:
    law = get_law(name)
    _, theta = CASES[name]
    rng = np.random.default_rng(0)
    if law.inputs == ("params", "tokens"):
        X = {"params": np.exp(rng.uniform(np.log(5e7), np.log(1e10), 250)),
             "tokens": np.exp(rng.uniform(np.log(1e9), np.log(5e11), 250))}
    else:
        X = {"flops": np.geomspace(1e15, 1e24, 250)}
    clean = law.predict(X, np.asarray(theta, dtype=float))
    result = fit({**X, "loss": clean * np.exp(0.005 * rng.normal(size=250))}, law, cluster_by=law.inputs[0])
    rel = np.abs(result.predict(X) / clean - 1)
    assert rel.max() < 0.01


def test_reductions_to_known_laws() -> None:
    chin = np.array([1.7, 400.0, 1500.0, 0.34, 0.30])
    expected = get_law("chinchilla").predict(ND, chin)
    # shifted with negligible shifts is Chinchilla
    shifted = get_law("shifted").predict(ND, np.array([*chin, 1.0, 1.0]))
    np.testing.assert_allclose(shifted, expected, rtol=1e-7)
    # Skaling at k = 1 is Chinchilla with B = R A
    skaling = get_law("skaling").predict(ND, np.array([1.7, 400.0, 0.34, 1500.0 / 400.0, 0.30, 1.0]))
    np.testing.assert_allclose(skaling, expected, rtol=1e-12)
    # kaplan-floor with E = 0 is Kaplan's eq. 1.5
    nc, dc, a_n, a_d = 8.8e13, 5.4e13, 0.076, 0.095
    kaplan = get_law("kaplan").predict(ND, np.array([nc, dc, a_n, a_d]))
    rho = a_n / a_d
    floor = get_law("kaplan-floor").predict(ND, np.array([0.0, nc**a_n, rho, dc / nc**rho, a_d]))
    np.testing.assert_allclose(floor, kaplan, rtol=1e-10)


def test_bounded_rational_limits_and_midpoint() -> None:
    law = get_law("bounded-rational", x="params")
    assert law.inputs == ("params",)
    theta = np.array([1.8, 10.0, 1e9, 0.5])
    out = law.predict({"params": np.array([1e-3, 1e9, 1e25])}, theta)
    np.testing.assert_allclose(out, [10.0, 5.9, 1.8], rtol=1e-5)


def test_broken_power_law_slopes_before_and_after_the_break() -> None:
    law = get_law("broken")
    theta = np.array([0.0, 100.0, 0.1, 0.3, 1e19, 0.5])
    x = np.array([1e12, 1e13, 1e25, 1e26])
    y = law.predict({"flops": x}, theta)
    slopes = -np.diff(np.log(y))[[0, 2]] / np.log(10.0)
    np.testing.assert_allclose(slopes, [0.1, 0.4], atol=1e-3)


def test_planning_with_field_laws() -> None:
    law = get_law("skaling")
    theta = np.array([1.7, 30.0, 0.34, 5.0, 0.3, 0.6])
    result = fit({**ND, "loss": law.predict(ND, theta)}, law, loss="l2")
    plan = compute_optimal(result, 1e22)
    n = np.geomspace(1e8, 1e12, 100_001)
    losses = law.predict({"params": n, "tokens": 1e22 / (6 * n)}, theta)
    assert plan.params.value == pytest.approx(n[np.argmin(losses)], rel=1e-3)
    mult = get_law("multiplicative")
    result = fit({**ND, "loss": mult.predict(ND, np.array(CASES["multiplicative"][1]))}, mult, loss="l2")
    with pytest.raises(PlanError, match="no interior optimum"):
        compute_optimal(result, 1e22)
