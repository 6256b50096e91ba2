"""Calibrated intervals: small-sample scaling, the extrapolation error measured on real data, new-run."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.data import load_data
from scalinglaws.design import ExtrapolationError, calibrated_interval, measure_extrapolation_error
from scalinglaws.design.calibrate import _small_sample_factor
from scalinglaws.fit import fit


@pytest.fixture(scope="module")
def result():
    return fit(load_data("chinchilla"), "chinchilla", bootstrap=300)


def test_without_corrections_it_is_the_percentile_interval(result) -> None:
    X = {"params": [1e9, 7e10], "tokens": [2e10, 1.4e12]}
    plain = result.predict_interval(X, level=0.8)
    mine = calibrated_interval(result, X, level=0.8, small_sample=False)
    assert np.allclose(mine, plain, rtol=1e-3)


def test_the_small_sample_factor_widens_by_sqrt_g_over_g_minus_p(result) -> None:
    factor = _small_sample_factor(result)
    assert factor == pytest.approx(np.sqrt(43 / 38))
    X = {"params": [7e10], "tokens": [1.4e12]}
    lo0, hi0 = calibrated_interval(result, X, level=0.8, small_sample=False)
    lo1, hi1 = calibrated_interval(result, X, level=0.8)
    point = result.predict(X)
    assert np.log(hi1 / point) == pytest.approx(factor * np.log(hi0 / point), rel=0.02)


def test_extrapolation_error_widens_only_beyond_the_data(result) -> None:
    err = measure_extrapolation_error(load_data("chinchilla"), "chinchilla", bootstrap=30)
    assert 0.001 < err.per_decade < 0.1
    assert len(err.folds) == 3 and err.n_points > 100
    assert err.max_scale == pytest.approx(1.2956e22, rel=1e-3)
    inside = {"params": [1e9], "tokens": [2e10]}
    assert np.allclose(
        calibrated_interval(result, inside, extrapolation=err), calibrated_interval(result, inside)
    )
    far = {"params": [7e10], "tokens": [1.4e12]}  # 0.65 decades of compute beyond the data
    lo, hi = calibrated_interval(result, far, level=0.8, extrapolation=err)
    lo0, hi0 = calibrated_interval(result, far, level=0.8)
    assert hi - lo > hi0 - lo0
    assert float(err.decades(5.88e23)) == pytest.approx(np.log10(5.88e23 / err.max_scale))


def test_new_run_intervals_add_the_noise(result) -> None:
    X = {"params": [1e9], "tokens": [2e10]}
    mean = calibrated_interval(result, X, kind="new-run", level=0.8)
    base = calibrated_interval(result, X, level=0.8)
    assert mean[1] - mean[0] > base[1] - base[0]
    declared = ExtrapolationError(per_decade=0.0, max_scale=1e22)
    assert np.allclose(
        calibrated_interval(result, X, kind="new-run", level=0.8, extrapolation=declared), mean
    )
