"""Interval calibration: fitted factors hit the nominal coverage, per group; medians never move; ensembles
carry it through save/load."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.forecast.calibration import IntervalCalibration, fit_calibration
from scalinglaws.forecast.errors import ForecastError

Q = (0.1, 0.25, 0.5, 0.75, 0.9)


def _forecasts(n: int, spread: float, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mid = rng.uniform(0.3, 0.7, n)
    offsets = spread * np.array([-1.28, -0.67, 0.0, 0.67, 1.28])
    return mid[:, None] + offsets, mid + rng.normal(0, noise, n)


def _cover(pred: np.ndarray, truth: np.ndarray, lo: int, hi: int) -> float:
    return float(np.mean((truth >= pred[:, lo]) & (truth <= pred[:, hi])))


def test_factors_per_group_bring_fresh_forecasts_to_nominal_coverage() -> None:
    wide = _forecasts(2000, 0.04, 0.02, 0)  # intervals twice too wide
    narrow = _forecasts(2000, 0.02, 0.04, 1)  # twice too narrow
    cal = fit_calibration([wide[0], narrow[0]], [wide[1], narrow[1]], ["piqa", "hendrycksTest-law"], Q)
    assert cal.factors("hendrycksTest-anatomy")[0.8] > 1.6 and cal.factors("arc_easy")[0.8] < 0.6
    for (pred, truth), task in (
        (_forecasts(4000, 0.04, 0.02, 2), "sciq"),
        (_forecasts(4000, 0.02, 0.04, 3), "hendrycksTest-x"),
    ):
        assert abs(_cover(pred, truth, 0, 4) - 0.8) > 0.1
        fixed = cal.apply(pred, Q, task)
        assert abs(_cover(fixed, truth, 0, 4) - 0.8) < 0.03 and abs(_cover(fixed, truth, 1, 3) - 0.5) < 0.03
        np.testing.assert_array_equal(fixed[:, 2], np.clip(pred[:, 2], 0, 1))  # the median never moves
        assert np.all(np.diff(fixed, axis=1) >= 0)


def test_quantiles_stay_ordered_when_the_inner_interval_widens_more() -> None:
    cal = IntervalCalibration((("*", {0.5: 3.0, 0.8: 0.5}),))
    pred = np.array([[0.3, 0.4, 0.5, 0.6, 0.7]])
    out = cal.apply(pred, Q, "any")
    assert np.all(np.diff(out, axis=1) >= 0) and out[0, 2] == 0.5
    assert IntervalCalibration.from_dict(cal.to_dict()) == cal
    unmatched = IntervalCalibration((("hendrycksTest-*", {0.8: 2.0}),))
    np.testing.assert_array_equal(unmatched.apply(pred, Q, "piqa"), pred)


def test_thin_groups_keep_their_intervals_and_bad_input_is_an_error() -> None:
    pred, truth = _forecasts(10, 0.04, 0.02, 0)
    assert fit_calibration([pred], [truth], ["piqa"], Q).factors("piqa") == {0.5: 1.0, 0.8: 1.0}
    with pytest.raises(ForecastError, match="1 forecasts, 1 truths and 2 tasks"):
        fit_calibration([pred], [truth], ["a", "b"], Q)
    with pytest.raises(ForecastError, match="no central 80% interval"):
        fit_calibration([pred[:, 1:4]], [truth], ["a"], (0.25, 0.5, 0.75))


def test_an_ensemble_applies_and_saves_its_calibration(tmp_path) -> None:
    pytest.importorskip("torch")
    from scalinglaws.forecast.data import Problem
    from scalinglaws.forecast.ensemble import ForecasterEnsemble, load_forecaster
    from scalinglaws.forecast.neural import Forecaster, ForecasterConfig

    cfg = ForecasterConfig(d_model=16, n_layers=1, n_heads=2, d_ff=32)
    members = [Forecaster.new(cfg, seed=s) for s in range(2)]
    cal = IntervalCalibration((("piqa", {0.8: 0.5, 0.5: 0.5}),))
    t = np.geomspace(1e9, 3e11, 10)
    problems = [Problem(("r", task, "acc"), t[:4], np.full(4, 0.4), t[4:]) for task in ("piqa", "arc")]
    plain, tuned = ForecasterEnsemble(members), ForecasterEnsemble(members, cal)
    a, b = plain.predict(problems), tuned.predict(problems)
    np.testing.assert_allclose(b[0], cal.apply(a[0], plain.quantiles, "piqa"))
    np.testing.assert_array_equal(b[1], a[1])  # arc matches no group
    back = load_forecaster(tuned.save(tmp_path / "ens"))
    assert back.calibration == cal
    np.testing.assert_allclose(back.predict(problems)[0], b[0], atol=1e-7)
