"""The suggester: the analytically best run when one exponent is uncertain, replicate caps, checkpoints,
candidate laws and their discrimination, and one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import lambertw

from scalinglaws.data import load_data
from scalinglaws.design import DesignError, suggest_runs
from scalinglaws.fit import FitResult, fit
from scalinglaws.laws import Param, get_law, law_from_function

E, A, ALPHA, SD_ALPHA, NOISE = 1.0, 5.0, 0.3, 0.002, 0.002


def one_exponent_fit(n_draws: int = 4000) -> FitResult:
    """A fit of ``L = E + A x^-alpha`` (E, A known) whose draws leave only alpha uncertain."""
    law = law_from_function(
        "one-exponent",
        lambda X, alpha: E + A * X["x"] ** -alpha,
        [Param("alpha", 0.01, 2.0, grid=(0.1, 0.3, 0.5))],
        inputs=("x",),
    )
    draws = ALPHA + SD_ALPHA * np.random.default_rng(0).standard_normal((n_draws, 1))
    return FitResult(
        law=law,
        theta=np.array([ALPHA]),
        objective={"kind": "huber", "delta": 1e-3, "value": 0.0},
        settings={
            "residual_scale": {"value": NOISE, "source": "given", "dof": 10, "space": "log"},
            "n_clusters": 10,
            "target": "loss",
            "seed": 0,
        },
        data={"source": "<test>", "sha256": "test", "ranges": {"x": [1.0, 1e3]}, "convention": "6ND"},
        diagnostics=(),
        draws=draws,
        draws_converged=np.ones(n_draws, bool),
    )


def slope(x: np.ndarray) -> np.ndarray:
    """d log L / d alpha."""
    term = A * x**-ALPHA
    return -term * np.log(x) / (E + term)


def test_the_first_run_is_where_the_loss_is_most_sensitive_to_the_exponent() -> None:
    # with one uncertain parameter every target is learned through it, so the best run maximises
    # |d log L / d alpha| = u / (1 + (E/A) e^(alpha u)), u = ln x: u* = (1 + W(A / (E e))) / alpha
    x_star = np.exp((1.0 + lambertw(A / (E * np.e)).real) / ALPHA)
    result = one_exponent_fit()
    candidates = pd.DataFrame({"x": np.geomspace(1.0, 1e6, 601), "cost": 1.0})
    plan = suggest_runs(result, n=1, objective="loss-at", at={"x": [1e6]}, candidates=candidates)
    best = plan.runs["x"].iloc[0]
    # the optimum is flat (|g| within 0.1% over +-0.1 decades): check the location loosely, the value tightly
    assert abs(np.log10(best / x_star)) < 0.15
    assert abs(slope(np.array([best]))[0]) == pytest.approx(abs(slope(np.array([x_star]))[0]), rel=2e-3)
    # and the variance left is the Kalman update's: s^2 / (g^2 sd^2 + s^2)
    g2 = slope(np.array([best]))[0] ** 2 * SD_ALPHA**2
    assert plan.runs["remaining_variance"].iloc[0] == pytest.approx(NOISE**2 / (g2 + NOISE**2), rel=0.03)


def test_per_cost_prefers_the_cheaper_of_two_equally_informative_runs() -> None:
    result = one_exponent_fit()
    x = np.exp((1.0 + lambertw(A / (E * np.e)).real) / ALPHA)
    candidates = pd.DataFrame({"x": [x, x * 1.0001], "cost": [10.0, 1.0]})
    plan = suggest_runs(result, n=1, objective="loss-at", at={"x": [1e6]}, candidates=candidates)
    assert plan.runs["cost"].iloc[0] == 1.0


def test_replicates_are_capped() -> None:
    result = one_exponent_fit()
    candidates = pd.DataFrame({"x": np.geomspace(1.0, 1e6, 61), "cost": 1.0})
    plan = suggest_runs(
        result, n=6, objective="loss-at", at={"x": [1e6]}, candidates=candidates, max_replicates=2
    )
    assert plan.runs.groupby("x").size().max() <= 2
    assert plan.runs["remaining_variance"].is_monotonic_decreasing


@pytest.fixture(scope="module")
def chinchilla_fit():
    return fit(load_data("chinchilla"), "chinchilla", bootstrap=200, seed=0)


def test_n_star_suggestions_lie_on_the_candidate_budgets(chinchilla_fit) -> None:
    plan = suggest_runs(chinchilla_fit, [1e24], n=4, candidate_budgets=[1e21, 3e21])
    runs = plan.runs
    assert len(runs) == 4
    assert np.allclose(6 * runs["params"] * runs["tokens"], runs["budget"])
    assert set(runs["budget"]) <= {1e21, 3e21}
    t = plan.targets.iloc[0]
    assert t["unit"] == "decades" and t["sd_after"] < t["sd_before"]
    assert "suggested run" in plan.summary()


def test_checkpoints_add_information_at_no_cost(chinchilla_fit) -> None:
    kw = {"n": 3, "candidate_budgets": [1e21, 3e21]}
    plain = suggest_runs(chinchilla_fit, [1e24], **kw)
    ckpt = suggest_runs(chinchilla_fit, [1e24], checkpoints=True, **kw)
    assert ckpt.targets["sd_after"].iloc[0] <= plain.targets["sd_after"].iloc[0]
    first = ckpt.runs.iloc[0]
    assert first["checkpoints"] == pytest.approx([first["tokens"] * f for f in (0.125, 0.25, 0.5)])
    assert ckpt.runs["cost"].sum() == pytest.approx(plain.runs["cost"].sum(), rel=0.5)


def test_candidate_laws_within_tolerance_enter_and_are_told_apart(chinchilla_fit) -> None:
    data = load_data("chinchilla")
    plan = suggest_runs(
        chinchilla_fit,
        [1e24],
        n=4,
        candidate_budgets=[1e21, 3e21],
        laws=["skaling", "kaplan-floor"],
        data=data,
    )
    laws = plan.laws.set_index("law")
    assert laws.loc["skaling", "admitted"] and not laws.loc["kaplan-floor", "admitted"]
    assert laws.loc["chinchilla", "weight"] == pytest.approx(0.5)
    confusion = plan.runs["confusion"].to_numpy(float)
    assert confusion[0] < 1.0 and np.all(np.diff(confusion) <= 1e-12)
    assert plan.settings["laws"] == ["chinchilla", "skaling"]
    # with only the fitted law there is nothing to tell apart
    assert suggest_runs(chinchilla_fit, [1e24], n=1, candidate_budgets=[1e21]).runs["confusion"].isna().all()


def test_a_wrong_law_alone_is_confident_the_mixture_is_not(chinchilla_fit) -> None:
    alone = suggest_runs(chinchilla_fit, [1e24], n=2, candidate_budgets=[1e21])
    mixed = suggest_runs(chinchilla_fit, [1e24], n=2, candidate_budgets=[1e21], laws=["skaling", "shifted"])
    assert mixed.targets["sd_before"].iloc[0] > alone.targets["sd_before"].iloc[0]


def test_suggestions_from_a_fit_without_draws_are_a_one_line_error() -> None:
    N = np.repeat(np.geomspace(5e7, 5e9, 5), 3)
    D = np.tile([1e9, 1e10, 1e11], 5)
    y = get_law("chinchilla").predict({"params": N, "tokens": D}, np.array([1.7, 400.0, 1500.0, 0.34, 0.3]))
    result = fit({"params": N, "tokens": D, "loss": y}, bootstrap=0)
    with pytest.raises(DesignError, match="bootstrap draws") as info:
        suggest_runs(result, [1e24])
    assert "\n" not in str(info.value)


def test_bad_requests(chinchilla_fit) -> None:
    with pytest.raises(DesignError, match="needs target budgets"):
        suggest_runs(chinchilla_fit, [])
    with pytest.raises(DesignError, match="needs the planned configuration"):
        suggest_runs(chinchilla_fit, objective="loss-at")
    with pytest.raises(DesignError, match="objective must be"):
        suggest_runs(chinchilla_fit, [1e24], objective="n")
    with pytest.raises(DesignError, match="candidates need column"):
        suggest_runs(chinchilla_fit, [1e24], candidates=pd.DataFrame({"params": [1e9]}))


def test_laws_can_be_admitted_by_held_out_error(chinchilla_fit) -> None:
    plan = suggest_runs(
        chinchilla_fit,
        [1e24],
        n=2,
        candidate_budgets=[1e21],
        laws=["skaling", "kaplan-floor"],
        criterion="holdout",
        tolerance=0.5,
    )
    table = plan.laws.set_index("law")
    assert table["criterion_value"].gt(0).all()
    assert plan.settings["criterion"] == "holdout"
    best = table["criterion_value"].min()
    assert (
        (table["admitted"] == (table["criterion_value"] <= 1.5 * best)).loc[["skaling", "kaplan-floor"]].all()
    )
    with pytest.raises(DesignError, match="criterion must be"):
        suggest_runs(chinchilla_fit, [1e24], laws=["skaling"], criterion="aic")
