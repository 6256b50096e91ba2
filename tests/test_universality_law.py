"""The universality law: options, Jacobian, exact recovery (fixed, free exponents), bad input, Chinchilla."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws import datasets
from scalinglaws.errors import FitError, LawError
from scalinglaws.exponents import fit_universality
from scalinglaws.fit import FitResult, fit
from scalinglaws.laws import get_law
from scalinglaws.laws.universality import Universality, params_from_shape

RNG = np.random.default_rng(7)
M = RNG.choice([384.0, 512, 768, 1024, 1536, 2048, 3072], 80)
L = RNG.choice([6.0, 8, 12, 16, 24, 32, 48], 80)
D = 10 ** RNG.uniform(8.5, 11.5, 80)
X = {"width": M, "depth": L, "tokens": D}
FIXED = np.array([1.75, 350.0, 3.0, 900.0])
FREE = np.array([1.75, 250.0, 6.0, 600.0, 0.95, 1.2, 0.3])


def data(theta: np.ndarray, law: Universality) -> dict[str, np.ndarray]:
    return {**X, "loss": law.predict(X, theta)}


def test_registry_and_options_round_trip() -> None:
    law = get_law("universality")
    assert law.param_names == ("L0", "c_m", "c_l", "c_D") and law.inputs == ("width", "depth", "tokens")
    free = get_law("universality", exponents="free", time="tau")
    assert free.param_names == ("L0", "c_m", "c_l", "c_tau", "a_m", "a_l", "a_tau")
    assert free.inputs == ("width", "depth", "tau")
    part = get_law("universality", exponents="free,1,1/3")
    assert part.param_names == ("L0", "c_m", "c_l", "c_D", "a_m")
    assert get_law("universality", terms="width,time").param_names == ("L0", "c_m", "c_D")
    for law in (free, part, get_law("universality", depth_offset="2")):
        again = get_law("universality", **law.options)
        assert again.param_names == law.param_names and again.options == law.options


@pytest.mark.parametrize(
    ("options", "theta"),
    [({}, FIXED), ({"exponents": "free"}, FREE), ({"exponents": "free", "depth_offset": "2"}, FREE)],
)
def test_analytic_jacobian_and_basis(options: dict, theta: np.ndarray) -> None:
    law = get_law("universality", **options)
    jac = law.jacobian(X, theta)
    fd = super(Universality, law).jacobian(X, theta)  # the base class's central differences
    np.testing.assert_allclose(jac, fd, rtol=1e-5, atol=1e-9)
    batch = np.stack([theta, theta * 1.01])
    np.testing.assert_allclose(law.jacobian(X, batch)[1], law.jacobian(X, batch[1]), rtol=1e-12)
    basis = law.basis(X, theta[None])[0]
    np.testing.assert_allclose(basis @ theta[law.linear_index], law.predict(X, theta), rtol=1e-12)


def test_exact_recovery_with_fixed_exponents() -> None:
    law = get_law("universality")
    result = fit(data(FIXED, law), "universality")
    np.testing.assert_allclose(result.theta, FIXED, rtol=1e-6)
    assert result.converged


def test_exact_recovery_with_free_exponents() -> None:
    law = get_law("universality", exponents="free")
    result = fit(data(FREE, law), law)
    np.testing.assert_allclose(result.theta, FREE, rtol=1e-4)


def test_exact_recovery_on_dynamic_time_with_depth_offset() -> None:
    law = get_law("universality", exponents="free", time="tau", depth_offset="2")
    Xt = {"width": M, "depth": L, "tau": D / 1e6}
    y = law.predict(Xt, FREE)
    result = fit({**Xt, "loss": y}, law)
    np.testing.assert_allclose(result.predict(Xt), y, rtol=1e-7)
    np.testing.assert_allclose(result.theta[4:], FREE[4:], rtol=1e-3)


def test_artifact_round_trip(tmp_path) -> None:
    result = fit(data(FREE, get_law("universality", exponents="free")), "universality",
                 law_options={"exponents": "free"}, bootstrap=10)  # fmt: skip
    again = FitResult.load(result.save(tmp_path / "fit.json"))
    assert again.law.options == result.law.options
    np.testing.assert_array_equal(again.theta, result.theta)


def test_params_from_shape() -> None:
    assert params_from_shape(1024, 16) == 12 * 1024**2 * 16
    assert params_from_shape(1024, 16, vocab=32000) == 12 * 1024**2 * 16 + 32000 * 1024
    with pytest.raises(LawError, match="positive"):
        params_from_shape(0, 16)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"exponents": "1,1,5"}, r"time exponent 5 is outside the allowed range \[0.01, 4\]"),
        ({"exponents": "-1,1,0.3"}, "width exponent -1 is outside"),
        ({"exponents": "1,1"}, "needs one entry per term"),
        ({"exponents": "1,x,1"}, "'x' of the depth term is not a number"),
        ({"terms": "width,height"}, "terms must be"),
        ({"time": "epochs"}, "time must be one of tokens, tau, step"),
        ({"depth_offset": "-1"}, "depth_offset must be finite and >= 0"),
    ],
)
def test_bad_options_are_one_line_errors(options: dict, message: str) -> None:
    with pytest.raises(LawError, match=message) as info:
        get_law("universality", **options)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("bad", [0.0, -512.0])
def test_zero_or_negative_width_or_depth(bad: float) -> None:
    for column in ("width", "depth"):
        values = {**data(FIXED, get_law("universality"))}
        values[column] = values[column].copy()
        values[column][3] = bad
        with pytest.raises(FitError, match=f"column '{column}' needs finite positive values; bad rows 4"):
            fit(values, "universality")


def test_depth_below_the_offset_is_an_error() -> None:
    law = get_law("universality", depth_offset="8")
    with pytest.raises(LawError, match="every depth must exceed depth_offset 8"):
        law.predict(X, FIXED)


def test_chinchilla_shapes_free_fit_matches_the_published_one() -> None:
    """papers.md 2.3: a_m 0.977 +- 0.083, a_l 1.20 +- 0.27, a_D 0.299 +- 0.014, E 1.750, MRE 0.40%."""
    runs = datasets.load("chinchilla")
    result = fit_universality(runs, exponents="free", protocol="liu-gore")
    p = result.params
    assert result.data["n_points"] == 205
    assert p["a_D"] == pytest.approx(0.299, abs=0.014)
    assert p["L0"] == pytest.approx(1.750, abs=0.026)
    assert p["a_m"] == pytest.approx(0.977, abs=0.083)
    assert p["a_l"] == pytest.approx(1.20, abs=0.27)
    table = runs.table.sort_values("loss").iloc[:200]  # the published fit's points, minus excluded rows
    X_c = {c: table[c].to_numpy(float) for c in ("width", "depth", "tokens")}
    mre = np.mean(np.abs(result.predict(X_c) / table["loss"].to_numpy() - 1))
    assert mre < 0.0045
    fixed = fit_universality(runs, exponents="fixed")
    aspect = fixed.params["c_m"] / (2 * fixed.params["c_l"])
    assert 50 < aspect < 80  # the blog's m/l ~ 70
