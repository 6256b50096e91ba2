"""Prediction semantics: the recipe's expected loss ("mean") against one new run of it ("new-run")."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from scalinglaws.cli import app
from scalinglaws.errors import FitError
from scalinglaws.fit import FitResult, fit
from scalinglaws.laws import get_law

TRUTH = np.array([1.7, 400.0, 1500.0, 0.34, 0.30])
N = np.repeat(np.geomspace(5e7, 8e9, 8), 6)
D = np.tile(np.geomspace(1e9, 3e11, 6), 8)
SIGMA = 0.02
LAW = get_law("chinchilla")


def runs(seed: int, repeats: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, d = np.repeat(N, repeats), np.repeat(D, repeats)
    clean = LAW.predict({"params": n, "tokens": d}, TRUTH)
    return {"params": n, "tokens": d, "loss": clean * np.exp(SIGMA * rng.normal(size=n.size))}


@pytest.fixture(scope="module")
def result() -> FitResult:
    return fit(runs(0), bootstrap=200, seed=0)


def test_noise_comes_from_the_residuals_without_replicates(result) -> None:
    noise = result.noise
    assert noise["source"] == "residuals" and noise["space"] == "log"
    assert noise["value"] == pytest.approx(SIGMA, rel=0.3)
    assert noise["dof"] == N.size - 5


def test_one_wild_run_does_not_set_the_noise(result) -> None:
    data = runs(0)
    data["loss"][10] *= 1.5
    assert fit(data).noise["value"] < 1.3 * result.noise["value"]


def test_noise_comes_from_replicates_when_configurations_repeat() -> None:
    replicated = fit(runs(1, repeats=3), bootstrap=0)
    noise = replicated.noise
    assert noise["source"] == "replicates"
    assert noise["dof"] == N.size * 2
    assert noise["value"] == pytest.approx(SIGMA, rel=0.15)


def test_mean_is_the_default_and_unchanged(result) -> None:
    q = {"params": [7e10, 1e9], "tokens": [1.4e12, 2e10]}
    default = result.predict_interval(**q)
    mean = result.predict_interval(kind="mean", **q)
    expected = np.percentile(result.predict_draws(**q), [2.5, 97.5], axis=0)
    for a, b, c in zip(default, mean, expected, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c)


def test_new_run_interval_contains_the_mean_interval_and_adds_the_noise(result) -> None:
    q = {"params": 1e9, "tokens": 2e10}
    m_lo, m_hi = result.predict_interval(**q)
    r_lo, r_hi = result.predict_interval(kind="new-run", **q)
    assert r_lo[0] < m_lo[0] < m_hi[0] < r_hi[0]
    half = 0.5 * np.log(r_hi[0] / r_lo[0])
    assert half >= 1.96 * result.noise["value"]
    assert half <= np.hypot(1.96 * result.noise["value"], 0.5 * np.log(m_hi[0] / m_lo[0])) * 1.05


def test_new_run_intervals_cover_new_runs() -> None:
    coverage = {"mean": [], "new-run": []}
    for seed in range(3):
        result = fit(runs(seed), bootstrap=200, seed=seed)
        rng = np.random.default_rng(100 + seed)
        n = np.exp(rng.uniform(np.log(6e7), np.log(7e9), 400))
        d = np.exp(rng.uniform(np.log(1.2e9), np.log(2.5e11), 400))
        fresh = LAW.predict({"params": n, "tokens": d}, TRUTH) * np.exp(SIGMA * rng.normal(size=n.size))
        for kind, cover in coverage.items():
            lo, hi = result.predict_interval(kind=kind, params=n, tokens=d)
            cover.append(np.mean((lo <= fresh) & (fresh <= hi)))
    assert 0.9 <= np.mean(coverage["new-run"]) <= 0.99
    assert np.mean(coverage["mean"]) < 0.5  # the mean interval is not meant for single runs


def test_artifacts_keep_the_noise_and_old_ones_fail_clearly(result, tmp_path) -> None:
    again = FitResult.load(result.save(tmp_path / "fit.json"))
    q = {"params": 1e9, "tokens": 2e10}
    for a, b in zip(again.predict_interval(kind="new-run", **q), result.predict_interval(kind="new-run", **q),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    doc = json.loads((tmp_path / "fit.json").read_text())
    del doc["settings"]["residual_scale"]
    old = FitResult.from_dict(doc)
    old.predict_interval(**q)
    with pytest.raises(FitError, match="no run-to-run noise estimate"):
        old.predict_interval(kind="new-run", **q)
    with pytest.raises(FitError, match="unknown prediction kind 'median'"):
        result.predict_interval(kind="median", **q)


def test_metric_laws_add_noise_in_linear_space() -> None:
    loss = np.geomspace(1.8, 6.0, 60)
    rng = np.random.default_rng(3)
    clean = get_law("sigmoid").predict({"loss": loss}, np.array([0.6, 0.25, 6.0, 1.2]))
    acc = clean + 0.01 * rng.normal(size=60)
    result = fit({"loss": loss, "accuracy": acc}, "sigmoid", target="accuracy", bootstrap=100)
    assert result.noise["space"] == "linear"
    lo, hi = result.predict_interval(kind="new-run", loss=3.0)
    assert hi[0] - lo[0] >= 2 * 1.96 * result.noise["value"]


def test_cli_predict_kind(result, tmp_path) -> None:
    path = result.save(tmp_path / "fit.json")
    runner = CliRunner()
    args = ["predict", str(path), "--params", "1e9", "--tokens", "2e10", "--json"]
    mean = json.loads(runner.invoke(app, args).stdout)
    new = json.loads(runner.invoke(app, [*args, "--kind", "new-run"]).stdout)
    assert mean["kind"] == "mean" and new["kind"] == "new-run"
    assert new["lo"] < mean["lo"] < mean["hi"] < new["hi"]
    assert new["noise"]["source"] == "residuals"
    text = runner.invoke(app, args[:-1] + ["--kind", "new-run"]).stdout
    assert "a new run" in text
    bad = runner.invoke(app, [*args, "--kind", "median"])
    assert bad.exit_code == 2 and "--kind must be 'mean' or 'new-run'" in bad.output


def test_linear_residual_fits_add_noise_of_a_fixed_size() -> None:
    rng = np.random.default_rng(5)
    clean = LAW.predict({"params": N, "tokens": D}, TRUTH)
    data = {"params": N, "tokens": D, "loss": clean + 0.02 * rng.normal(size=N.size)}
    result = fit(data, residuals="linear", loss="l2", bootstrap=200)
    assert result.noise["space"] == "linear" and result.noise["value"] == pytest.approx(0.02, rel=0.25)
    q = {"params": [1e8, 1e10], "tokens": [1e9, 1e12]}  # a high and a low loss
    lo, hi = result.predict_interval(kind="new-run", level=0.9, **q)
    mlo, mhi = result.predict_interval(level=0.9, **q)
    assert np.all(hi - lo >= 2 * 1.645 * result.noise["value"]) and np.all(hi - lo > mhi - mlo)
    # in loss units the added noise is the same at a high and a low loss (in log units it would scale)
    added = (hi - lo) ** 2 - (mhi - mlo) ** 2
    assert added[0] == pytest.approx(added[1], rel=0.15)
