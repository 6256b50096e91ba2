"""Fitting engine: noisy recovery within bootstrap intervals, determinism, artifacts, diagnostics, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalinglaws.errors import ArtifactError, FitError
from scalinglaws.fit import FitResult, fit
from scalinglaws.fit.bootstrap import cluster_ids, cluster_weights
from scalinglaws.laws import get_law

TRUTH = np.array([1.7, 400.0, 1500.0, 0.34, 0.30])
N = np.repeat(np.geomspace(5e7, 8e9, 8), 6)
D = np.tile(np.geomspace(1e9, 3e11, 6), 8)


def noisy(seed: int, sigma: float = 0.01) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    clean = get_law("chinchilla").predict({"params": N, "tokens": D}, TRUTH)
    y = clean * np.exp(sigma * rng.normal(size=N.size))
    return {"params": N, "tokens": D, "loss": y}


def test_noisy_recovery_inside_bootstrap_intervals_in_most_seeds() -> None:
    inside = np.zeros(len(TRUTH))
    seeds = range(10)
    for seed in seeds:
        result = fit(noisy(seed), "chinchilla", bootstrap=200, seed=seed)
        ints = result.intervals(0.95)
        inside += [ints[n][0] <= t <= ints[n][1] for n, t in zip(result.law.param_names, TRUTH, strict=True)]
    assert np.all(inside >= 7), inside


def test_fit_is_deterministic_and_bootstrap_is_seeded() -> None:
    a = fit(noisy(1), bootstrap=50, seed=3)
    b = fit(noisy(1), bootstrap=50, seed=3)
    c = fit(noisy(1), bootstrap=50, seed=4)
    assert np.array_equal(a.theta, b.theta) and np.array_equal(a.draws, b.draws)
    assert not np.array_equal(a.draws, c.draws)


def test_artifact_round_trip_predicts_identically(tmp_path) -> None:
    result = fit(noisy(2), bootstrap=100, seed=0)
    path = result.save(tmp_path / "fit.json")
    again = FitResult.load(path)
    assert np.array_equal(again.theta, result.theta)
    assert np.array_equal(again.draws, result.draws)
    q = {"params": [7e10, 1e9], "tokens": [1.4e12, 2e10]}
    assert np.array_equal(again.predict(**q), result.predict(**q))
    assert all(np.array_equal(a, b) for a, b in zip(again.predict_interval(**q), result.predict_interval(**q),
                                                       strict=True))
    doc = json.loads(path.read_text())
    assert doc["format"] == "scalinglaws.fit/1"
    keys = {"law", "params", "intervals", "objective", "settings", "data", "diagnostics", "versions"}
    assert keys <= set(doc)
    assert len(doc["data"]["sha256"]) == 64


def test_artifact_errors(tmp_path) -> None:
    with pytest.raises(ArtifactError, match="no such fit file"):
        FitResult.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ArtifactError, match="not a readable JSON"):
        FitResult.load(bad)
    other = tmp_path / "other.json"
    other.write_text('{"format": "something-else"}')
    with pytest.raises(ArtifactError, match="not a scalinglaws.fit/1 artifact"):
        FitResult.load(other)


def test_cluster_bootstrap_resamples_whole_sizes() -> None:
    ids = cluster_ids(N * (1 + 1e-6 * np.arange(N.size)))  # digitisation noise inside a size
    assert ids.max() + 1 == 8
    w = cluster_weights(ids, 20, seed=0)
    for size in range(8):
        members = w[:, ids == size]
        assert np.all(members == members[:, :1])
    assert np.all(w.sum(axis=1) == N.size)


def test_too_few_sizes_is_diagnosed() -> None:
    data = {"params": np.repeat([1e8, 1e9], 6), "tokens": np.tile(np.geomspace(1e9, 1e11, 6), 2)}
    data["loss"] = get_law("chinchilla").predict(data, TRUTH)
    codes = {d.code for d in fit(data).diagnostics}
    assert "too_few_sizes" in codes and "few_clusters" in codes


def test_bound_hit_is_diagnosed() -> None:
    data = {"params": N, "tokens": D, "loss": 3.0 + 0.0 * N}  # flat: no size or data dependence
    codes = {d.code for d in fit(data).diagnostics}
    assert "bound_hit" in codes


def test_residual_trend_flags_a_misspecified_law() -> None:
    X = {"flops": np.geomspace(1e17, 1e23, 40)}
    bent = 1.5 + 50.0 * X["flops"] ** -0.1 * (1.0 + X["flops"] / 1e20) ** -0.15  # a broken power law
    codes = {d.code for d in fit({**X, "loss": bent}, "power", cluster_by="flops").diagnostics}
    assert "residual_trend" in codes
    clean = 1.5 + 50.0 * X["flops"] ** -0.1 * np.exp(0.01 * np.random.default_rng(0).normal(size=40))
    codes = {d.code for d in fit({**X, "loss": clean}, "power", cluster_by="flops").diagnostics}
    assert "residual_trend" not in codes


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"params": N, "loss": N}, r"needs column\(s\) \['tokens'\]"),
        ({"params": -N, "tokens": D, "loss": D}, r"'params' needs finite positive values; bad rows 1, 2"),
        ({"params": N, "tokens": D, "loss": np.where(np.arange(N.size) == 4, np.nan, 3.0)}, "bad rows 5"),
    ],
)
def test_bad_input_is_a_clear_error(data, message) -> None:
    with pytest.raises(FitError, match=message):
        fit(data)


def test_multistart_method_agrees_with_varpro() -> None:
    data = noisy(5)
    vp = fit(data)
    ms = fit(data, method="multistart")
    assert ms.objective["value"] == pytest.approx(vp.objective["value"], rel=1e-6, abs=1e-10)


def test_reproduces_the_chinchilla_optimum_on_bundled_data() -> None:
    from scalinglaws import datasets

    runs = datasets.load("chinchilla")
    assert len(runs.table) == 240 and len(runs.excluded) == 5
    result = fit(runs, "chinchilla")
    assert abs(result.objective["value"] - 0.00101827) < 1e-7
    besiroglu = {"E": 1.8172, "A": 482.01, "B": 2085.43, "alpha": 0.3478, "beta": 0.3658}
    for name, tol in {"E": 0.01, "alpha": 0.01, "beta": 0.01, "A": 0.05, "B": 0.05}.items():
        assert result.params[name] == pytest.approx(besiroglu[name], rel=tol), name
    assert result.data["n_excluded"] == 5 and result.data["convention"] == "6ND"


# ----- residual space (noise model) and the wild bootstrap ------------------------------------------------


def additive(seed: int, sigma: float = 0.01) -> dict[str, np.ndarray]:
    """Gaussian noise of a fixed size added to the loss (not relative to it)."""
    clean = get_law("chinchilla").predict({"params": N, "tokens": D}, TRUTH)
    return {"params": N, "tokens": D, "loss": clean + sigma * np.random.default_rng(seed).normal(size=N.size)}


def test_default_residuals_are_log_and_unchanged_on_bundled_chinchilla() -> None:
    from scalinglaws import datasets

    runs = datasets.load("chinchilla")
    default, log = fit(runs, "chinchilla"), fit(runs, "chinchilla", residuals="log")
    assert default.objective["value"] == pytest.approx(0.0010182740, abs=5e-11)
    assert default.residual_space == "log" and default.objective["delta"] == 1e-3
    assert np.array_equal(default.theta, log.theta) and default.objective == log.objective
    assert default.noise["space"] == "log"


@pytest.mark.parametrize("loss", ["l2", "huber"])
def test_linear_residuals_recover_the_law_exactly(loss) -> None:
    clean = get_law("chinchilla").predict({"params": N, "tokens": D}, TRUTH)
    result = fit({"params": N, "tokens": D, "loss": clean}, residuals="linear", loss=loss)
    np.testing.assert_allclose(result.theta, TRUTH, rtol=1e-6)
    assert result.objective["value"] < 1e-18 and result.residual_space == "linear"
    assert result.objective["delta"] == pytest.approx(1e-3 * np.median(clean))  # 1e-3 of a typical loss


def test_linear_least_squares_is_the_least_squares_fit_of_the_loss() -> None:
    from scipy.optimize import least_squares

    data = additive(4)
    result = fit(data, residuals="linear", loss="l2")
    law = get_law("chinchilla")
    ref = least_squares(lambda t: law.predict(data, t) - data["loss"], TRUTH, x_scale=TRUTH, xtol=1e-15,
                        ftol=1e-15, gtol=1e-15)
    assert result.objective["value"] == pytest.approx(ref.cost, rel=1e-9)
    np.testing.assert_allclose(result.theta, ref.x, rtol=1e-5)
    # ... and the log-space fit of the same data is a different (less efficient here) estimate
    assert not np.allclose(fit(data, loss="l2").theta, result.theta, rtol=1e-4)


def test_linear_residuals_accept_non_positive_targets_and_reject_unknown_spaces() -> None:
    data = additive(1)
    data["loss"] = data["loss"] - 2.5  # shifted: some losses negative (a centred metric, say)
    with pytest.raises(FitError, match="needs finite positive values"):
        fit(data)
    assert fit(data, residuals="linear", loss="l2").converged
    with pytest.raises(FitError, match="unknown residual space 'cubic'"):
        fit(additive(1), residuals="cubic")
    with pytest.raises(FitError, match="unknown bootstrap method 'pairs'"):
        fit(additive(1), bootstrap=10, bootstrap_method="pairs")


def test_wild_bootstrap_keeps_every_point_and_flips_whole_clusters() -> None:
    from scalinglaws.fit.bootstrap import wild_multipliers

    ids = cluster_ids(N)
    v = wild_multipliers(ids, 2000, seed=0)
    for size in range(8):
        members = v[:, ids == size]
        assert np.all(members == members[:, :1])
    assert np.mean(v) == pytest.approx(0.0, abs=0.03) and np.mean(v**2) == pytest.approx(1.0, abs=0.03)
    clean = get_law("chinchilla").predict({"params": N, "tokens": D}, TRUTH)
    exact = fit({"params": N, "tokens": D, "loss": clean}, bootstrap=20, bootstrap_method="wild")
    np.testing.assert_allclose(exact.draws, np.repeat(exact.theta[None], 20, 0), rtol=1e-6)  # nothing to flip


def test_wild_bootstrap_intervals_cover_the_truth_in_linear_space() -> None:
    inside = np.zeros(len(TRUTH))
    for seed in range(10):
        result = fit(additive(seed), residuals="linear", loss="l2", bootstrap=200, seed=seed,
                     bootstrap_method="wild")
        assert result.settings["bootstrap_method"] == "wild" and result.draws_converged.all()
        ints = result.intervals(0.95)
        inside += [ints[n][0] <= t <= ints[n][1] for n, t in zip(result.law.param_names, TRUTH, strict=True)]
    assert np.all(inside >= 7), inside
    assert "wild-bootstrap intervals" in result.summary() and "on linear residuals" in result.summary()


def test_residual_space_and_bootstrap_method_survive_the_artifact(tmp_path) -> None:
    result = fit(additive(2), residuals="linear", loss="l2", bootstrap=50, bootstrap_method="wild")
    again = FitResult.load(result.save(tmp_path / "fit.json"))
    assert again.residual_space == "linear" and again.settings["bootstrap_method"] == "wild"
    assert again.noise == result.noise and again.noise["space"] == "linear"
    q = {"params": [7e10], "tokens": [1.4e12]}
    for kind in ("mean", "new-run"):
        for a, b in zip(again.predict_interval(kind=kind, **q), result.predict_interval(kind=kind, **q),
                        strict=True):
            np.testing.assert_array_equal(a, b)
    doc = json.loads((tmp_path / "fit.json").read_text())
    del doc["objective"]["residuals"], doc["settings"]["bootstrap_method"]  # an artifact from before
    old = FitResult.from_dict(doc)
    assert old.residual_space == "log" and "cluster-bootstrap" in old.summary()
