"""The Effective-Frontier law: exact recovery, Jacobian, planning (closed form vs numeric), simulated runs,
the bottleneck diagnosis, and the bundled Chinchilla runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws import datasets
from scalinglaws.errors import LawError, PlanError, ScalingLawsError
from scalinglaws.fit import FitResult, fit
from scalinglaws.laws import get_law
from scalinglaws.laws.frontier import DEFAULT_SHARPNESS, Frontier
from scalinglaws.plan import compute_optimal, frontier_optimal
from scalinglaws.theory.diagnose import diagnose
from scalinglaws.theory.frontier_sim import grid, simulate

N = np.repeat(np.geomspace(1e7, 1e10, 6), 6)
D = np.tile(np.geomspace(1e8, 1e12, 6), 6)
#: A factorial design for the steps variant, where each of the three frontiers binds for some runs.
N3, D3, T3 = (a.ravel() for a in np.meshgrid(np.geomspace(1e7, 1e10, 5), np.geomspace(1e8, 1e12, 5),
                                             np.geomspace(1e3, 1e6, 4), indexing="ij"))  # fmt: skip
TRUTH = np.array([1.7, 400.0, 1.35, 30.0])
TRUTH_STEPS = np.array([1.7, 400.0, 1.35, 30.0, 3e4])
FORMS = [{}, {"form": "max"}, {"sharpness": "0.5"}, {"sharpness": "4"}]


def inputs(steps: bool = False) -> dict[str, np.ndarray]:
    return {"params": N3, "tokens": D3, "step": T3} if steps else {"params": N, "tokens": D}


def noiseless(law: Frontier, theta: np.ndarray) -> dict[str, np.ndarray]:
    X = inputs(law.steps)
    return {**X, "loss": law.predict(X, theta)}


@pytest.fixture(scope="module")
def steps_fit() -> FitResult:
    """The smooth steps law fitted to its own noiseless values (shared: a 3-parameter grid search)."""
    data = noiseless(get_law("frontier", steps="true"), TRUTH_STEPS)
    return fit(data, "frontier", law_options={"steps": "true"})


# ----- the law ----------------------------------------------------------------------------------------------
def test_registered_with_fewer_parameters_than_chinchilla() -> None:
    law = get_law("frontier")
    assert isinstance(law, Frontier) and law.inputs == ("params", "tokens")
    assert law.param_names == ("E", "A", "alpha", "G")
    assert len(law.params) == len(get_law("chinchilla").params) - 1
    assert [p.name for p in law.params if p.linear] == ["E", "A"]
    assert get_law("frontier", steps="true").param_names == ("E", "A", "alpha", "G", "H")


@pytest.mark.parametrize(
    "options", [{"form": "soft"}, {"sharpness": "x"}, {"sharpness": "-1"}, {"steps": "?"}]
)
def test_bad_options_are_law_errors(options: dict[str, str]) -> None:
    with pytest.raises(LawError):
        get_law("frontier", **options)


def test_exponents_are_tied_to_alpha() -> None:
    law = get_law("frontier", form="max")
    theta = TRUTH.copy()
    a = theta[2]
    capacity_bound = {"params": np.array([1e6, 1e7]), "tokens": np.array([1e20, 1e20])}
    coverage_bound = {"params": np.array([1e15, 1e15]), "tokens": np.array([1e8, 1e9])}
    reducible = law.predict(capacity_bound, theta) - theta[0]
    assert np.log(reducible[0] / reducible[1]) / np.log(10) == pytest.approx(a - 1, rel=1e-12)
    reducible = law.predict(coverage_bound, theta) - theta[0]
    assert np.log(reducible[0] / reducible[1]) / np.log(10) == pytest.approx((a - 1) / a, rel=1e-12)


def test_smooth_form_lies_between_max_and_tends_to_it() -> None:
    X = inputs()
    hard = get_law("frontier", form="max").predict(X, TRUTH)
    soft = get_law("frontier").predict(X, TRUTH)
    sharp = get_law("frontier", sharpness="200").predict(X, TRUTH)
    assert np.all(soft >= hard - 1e-15)
    a = TRUTH[2]  # the soft minimum of two frontiers is at most 2^(1/q) below the hard one, q = s alpha
    bound = 2 ** ((a - 1) / (DEFAULT_SHARPNESS * a)) * (hard - TRUTH[0])
    assert np.all(soft - TRUTH[0] <= bound * (1 + 1e-12))
    assert np.allclose(sharp, hard, rtol=1e-3)


@pytest.mark.parametrize("options", [*FORMS, {"steps": "true"}, {"steps": "true", "form": "max"}])
def test_jacobian_matches_finite_differences(options: dict[str, str]) -> None:
    law = get_law("frontier", **options)
    theta = TRUTH_STEPS if law.steps else TRUTH
    X = inputs(law.steps)
    jac = law.jacobian(X, theta)
    for j in range(theta.size):
        h = 1e-6 * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        fd = (law.predict(X, up) - law.predict(X, down)) / (2 * h)
        noise = 1e-14 * np.abs(law.predict(X, theta)).max() / h  # round-off of the difference quotient
        assert np.allclose(jac[:, j], fd, rtol=1e-5, atol=noise), law.param_names[j]


@pytest.mark.parametrize("options", [{}, {"steps": "true"}])
def test_batched_theta_broadcasts_and_basis_reproduces_predict(options: dict[str, str]) -> None:
    law = get_law("frontier", **options)
    theta = TRUTH_STEPS if law.steps else TRUTH
    batch = np.stack([theta, theta * [1.0, 1.1, 1.02, 0.9, 1.0][: theta.size]])
    X = inputs(law.steps)
    pred, jac = law.predict(X, batch), law.jacobian(X, batch)
    n = X["params"].size
    assert pred.shape == (2, n) and jac.shape == (2, n, theta.size)
    for b in range(2):
        assert np.allclose(pred[b], law.predict(X, batch[b]))
        assert np.allclose(jac[b], law.jacobian(X, batch[b]))
    assert np.allclose(law.basis(X, batch) @ batch[:, :2, None], pred[..., None])


@pytest.mark.parametrize("options", [*FORMS, {"steps": "true", "form": "max"}])
def test_exact_recovery_from_noiseless_data(options: dict[str, str]) -> None:
    law = get_law("frontier", **options)
    theta = TRUTH_STEPS if law.steps else TRUTH
    result = fit(noiseless(law, theta), "frontier", law_options=options)
    assert result.converged
    assert np.allclose(result.theta, theta, rtol=1e-5), result.params
    assert result.objective["value"] < 1e-14


def test_exact_recovery_with_steps(steps_fit: FitResult) -> None:
    assert steps_fit.converged and steps_fit.law.inputs == ("params", "tokens", "step")
    assert np.allclose(steps_fit.theta, TRUTH_STEPS, rtol=1e-5), steps_fit.params


def test_artifact_keeps_the_law_options(tmp_path) -> None:
    options = {"form": "smooth", "sharpness": "0.8"}
    law = get_law("frontier", **options)
    result = fit(noiseless(law, TRUTH), "frontier", law_options=options)
    loaded = FitResult.load(result.save(tmp_path / "fit.json"))
    assert loaded.law.options == law.options and loaded.law.sharpness == 0.8 and not loaded.law.steps
    assert np.array_equal(loaded.predict(inputs()), result.predict(inputs()))
    assert np.allclose(result.theta, TRUTH, rtol=1e-5)


def test_steps_artifact_reloads_the_steps_law(steps_fit: FitResult, tmp_path) -> None:
    loaded = FitResult.load(steps_fit.save(tmp_path / "fit.json"))
    assert loaded.law.steps and loaded.law.options == steps_fit.law.options
    assert np.array_equal(loaded.predict(inputs(True)), steps_fit.predict(inputs(True)))


# ----- planning ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", FORMS)
@pytest.mark.parametrize("alpha", [1.15, 1.35, 2.0])
def test_closed_form_optimum_matches_numeric_search(options: dict[str, str], alpha: float) -> None:
    law = get_law("frontier", **options)
    theta = np.array([1.7, 400.0, alpha, 30.0])
    y = law.predict(inputs(), theta)
    result = fit({**inputs(), "loss": y}, "frontier", law_options=options)
    for compute in (1e19, 1e23, 1e26):
        closed = frontier_optimal(result, compute)
        numeric = frontier_optimal(result, compute, method="numeric")
        generic = compute_optimal(result, compute)  # the law's compute_optimum
        assert closed.method == "closed-form" and numeric.method == "numerical"
        assert numeric.params.value == pytest.approx(closed.params.value, rel=1e-6)
        assert generic.params.value == pytest.approx(closed.params.value, rel=1e-12)
        assert closed.loss.value <= numeric.loss.value + 1e-12
        assert closed.tokens.value * closed.params.value * 6 == pytest.approx(compute, rel=1e-12)


def test_hard_optimum_balances_the_frontiers_and_scales_as_predicted() -> None:
    law = get_law("frontier", form="max")
    compute = np.array([1e20, 1e24])
    n, d = law.compute_optimum(compute, TRUTH)
    k = law.bottlenecks({"params": n, "tokens": d}, TRUTH)
    assert np.allclose(k["log_k_capacity"], k["log_k_coverage"], rtol=1e-12)
    slope = np.log(n[1] / n[0]) / np.log(compute[1] / compute[0])
    assert slope == pytest.approx(1 / (TRUTH[2] + 1), rel=1e-12)
    smooth = get_law("frontier").compute_optimum(compute, TRUTH)[0]
    assert smooth / n == pytest.approx(TRUTH[2] ** (1 / (DEFAULT_SHARPNESS * (TRUTH[2] + 1))), rel=1e-12)


def test_steps_law_plans_with_batch_tokens(steps_fit: FitResult) -> None:
    result = steps_fit
    closed = frontier_optimal(result, 1e23, batch_tokens=2e6)
    numeric = frontier_optimal(result, 1e23, batch_tokens=2e6, method="numeric")
    assert numeric.params.value == pytest.approx(closed.params.value, rel=1e-6)
    with pytest.raises(PlanError, match="batch_tokens"):
        frontier_optimal(result, 1e23)
    with pytest.raises(PlanError, match="params and tokens"):
        compute_optimal(result, 1e23)


def test_plan_intervals_from_bootstrap_draws() -> None:
    rng = np.random.default_rng(1)
    data = noiseless(get_law("frontier"), TRUTH)
    data["loss"] = data["loss"] * np.exp(rng.normal(0, 0.005, N.size))
    result = fit(data, "frontier", bootstrap=50, seed=0)
    plan = frontier_optimal(result, 1e23)
    assert plan.level == 0.95 and plan.params.lo <= plan.params.value <= plan.params.hi
    assert plan.loss.lo <= plan.loss.value <= plan.loss.hi
    assert compute_optimal(result, 1e23).params.lo == pytest.approx(plan.params.lo, rel=1e-9)
    numeric = frontier_optimal(result, 1e23, method="numeric")
    assert numeric.params.lo == pytest.approx(plan.params.lo, rel=1e-5)


def test_plan_refuses_other_laws_and_bad_input() -> None:
    y = get_law("chinchilla").predict(inputs(), np.array([1.7, 400.0, 1500.0, 0.34, 0.3]))
    with pytest.raises(PlanError, match="frontier"):
        frontier_optimal(fit({**inputs(), "loss": y}, "chinchilla"), 1e23)
    result = fit(noiseless(get_law("frontier"), TRUTH), "frontier")
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(PlanError, match="compute"):
            frontier_optimal(result, bad)
    with pytest.raises(PlanError, match="method"):
        frontier_optimal(result, 1e23, method="guess")


# ----- simulated runs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("alpha", "tolerance"), [(1.2, 0.01), (1.5, 0.01), (2.0, 0.05)])
def test_fit_to_simulated_runs_recovers_alpha(alpha: float, tolerance: float) -> None:
    """Stated tolerance: 0.01 for alpha <= 1.5; 0.05 at alpha = 2, where coverage-bound runs learn only
    tens of patterns and the Monte-Carlo noise of the loss is larger (seeds 0-3 give 2.007-2.037)."""
    axes = grid(params=np.geomspace(1e2, 1e5, 7), tokens=np.geomspace(1e3, 1e9, 13))
    runs = simulate(alpha, **axes, n_patterns=10**6, irreducible=0.1, seed=0)
    result = fit(runs, "frontier")
    assert result.params["alpha"] == pytest.approx(alpha, abs=tolerance)


def test_fit_with_steps_to_simulated_runs_recovers_alpha() -> None:
    steps = np.rint(np.geomspace(10, 1e7, 5))
    axes = grid(params=np.geomspace(1e2, 1e5, 4), tokens=np.geomspace(1e3, 1e9, 5), steps=steps)
    runs = simulate(1.5, **axes, lr=10.0, n_patterns=10**6, irreducible=0.1, seed=0)
    result = fit(runs, "frontier", law_options={"steps": "true"})
    assert result.params["alpha"] == pytest.approx(1.5, abs=0.02)


# ----- diagnose ---------------------------------------------------------------------------------------------
def test_diagnose_names_the_known_bottleneck() -> None:
    law = get_law("frontier", form="max")
    result = fit(noiseless(law, TRUTH), "frontier", law_options={"form": "max"})
    balanced = 30.0 * 1e9 ** (1 / 1.35)
    runs = pd.DataFrame({"run": ["small-model", "few-tokens", "balanced"], "params": [1e7, 1e10, balanced],
                         "tokens": [1e12, 1e8, 1e9], "loss": [2.0, 2.0, 2.0]})  # fmt: skip
    table = diagnose(result, runs)
    assert table["active"].tolist()[:2] == ["capacity", "coverage"]
    assert table["run"].tolist() == runs["run"].tolist()
    assert np.allclose(table["share_capacity"] + table["share_coverage"], 1.0)
    k_d = 30.0 * runs["tokens"] ** (1 / 1.35)
    assert np.allclose(table["k_coverage"], k_d, rtol=1e-6)
    assert np.allclose(table["k_capacity"], runs["params"])
    assert np.allclose(table["k_star"], np.minimum(runs["params"], k_d), rtol=1e-6)
    assert table.loc[0, "ratio_capacity"] == 1.0 and table.loc[1, "ratio_coverage"] == 1.0
    assert table.loc[0, "slack"] == pytest.approx(k_d[0] / 1e7, rel=1e-6)
    assert table.loc[2, "slack"] == pytest.approx(1.0, abs=1e-6)
    assert table.loc[0, "balance_tokens"] == pytest.approx((1e7 / 30.0) ** 1.35, rel=1e-6)
    assert table["agreement"].isna().all()


def test_diagnose_agrees_with_the_simulator_away_from_the_balance() -> None:
    axes = grid(params=np.geomspace(1e2, 1e5, 7), tokens=np.geomspace(1e3, 1e9, 13))
    runs = simulate(1.5, **axes, n_patterns=10**6)
    result = fit(runs, "frontier", bootstrap=30)
    table = diagnose(result, runs)
    truth = runs.set_index("run")
    clear = truth["k_star"].to_numpy() * 3 < np.maximum(truth["k_capacity"], truth["k_coverage"]).to_numpy()
    assert clear.sum() > 50
    assert (table["active"].to_numpy()[clear] == truth["bottleneck"].to_numpy()[clear]).all()
    assert table["agreement"].between(0, 1).all() and (table["agreement"].to_numpy()[clear] > 0.9).all()


def test_diagnose_with_steps_and_its_errors(steps_fit: FitResult) -> None:
    result = steps_fit
    table = diagnose(result, {"params": [1e15], "tokens": [1e20], "step": [10]})
    assert table["active"].tolist() == ["optimisation"] and "share_optimisation" in table
    with pytest.raises(ScalingLawsError, match="'step'"):
        diagnose(result, {"params": [1e9], "tokens": [1e10]})
    with pytest.raises(ScalingLawsError, match="bad rows 2"):
        diagnose(result, {"params": [1e9, -1], "tokens": [1e10, 1e10], "step": [10, 10]})
    y = get_law("chinchilla").predict(inputs(), np.array([1.7, 400.0, 1500.0, 0.34, 0.3]))
    with pytest.raises(ScalingLawsError, match="frontier"):
        diagnose(fit({**inputs(), "loss": y}, "chinchilla"), inputs())


# ----- real data --------------------------------------------------------------------------------------------
def test_fits_the_bundled_chinchilla_runs() -> None:
    runs = datasets.load("chinchilla")
    result = fit(runs, "frontier")
    assert result.converged and 1.1 < result.params["alpha"] < 1.3
    chinchilla = fit(runs, "chinchilla")
    assert chinchilla.objective["value"] < result.objective["value"] < 5 * chinchilla.objective["value"]
    plan = compute_optimal(result, 5.76e23)
    assert plan.method == "closed-form" and 1e10 < plan.params.value < 2e11
    table = diagnose(result, runs)
    assert len(table) == 240 and set(table["active"]) == {"capacity", "coverage"}
