"""The reference_features option: cross-run logistic laws, leave-one-group-out in training, masking,
padding, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.forecast.data import Problem, Trajectory
from scalinglaws.forecast.reference import (
    LossCurves,
    ReferenceSet,
    _logistic,
    attach_references,
    extrapolate_loss,
    fit_references,
    reference_features,
)
from scalinglaws.forecast.sampling import Sampler

torch = pytest.importorskip("torch")

from scalinglaws.forecast.neural import Forecaster, ForecasterConfig  # noqa: E402
from scalinglaws.forecast.train import TrainConfig, train  # noqa: E402

CFG = ForecasterConfig(d_model=16, n_layers=1, n_heads=2, d_ff=32, loss_context=True, reference_features=True)


def _law(loss: np.ndarray, shift: float = 0.0) -> np.ndarray:
    return 0.25 + shift + 0.5 / (1.0 + np.exp(3.0 * (np.log(loss) - 1.2)))


def _traj(run: str, task: str = "piqa", shift: float = 0.0, n: int = 20) -> Trajectory:
    t = np.geomspace(1e9, 3e11, n)
    loss = 2.0 + 30.0 * (t / 1e9) ** -0.5
    return Trajectory((run, task, "acc", "0"), t, np.clip(_law(loss, shift), 0, 1), None, loss)


def test_fit_recovers_a_law_and_skips_thin_series() -> None:
    trajs = [_traj("a"), _traj("b"), _traj("solo", task="rare")]
    ref = fit_references(trajs)
    theta = ref.lookup(("x", "piqa", "acc", "0"))
    assert theta is not None
    loss = np.array([3.0, 5.0, 10.0])
    np.testing.assert_allclose(_logistic(loss, theta), _law(loss), atol=2e-3)
    # a flat loss extrapolation: the reference level is the law at the last loss, the change is 0
    feats = reference_features(theta, np.array([1.0, 2.0]), np.array([np.nan, 5.0]), np.array([4.0]), 0.5)
    np.testing.assert_allclose(feats[0], [0.0, 10 * (0.5 - _law(5.0)), _law(5.0) - 0.5], atol=1e-2)
    assert ref.lookup(("x", "rare", "acc", "0")) is None  # one run only: no reference
    assert ref.lookup(("x", "piqa")) is theta  # no metric/fewshot in the key: acc_norm, acc, ... zero-shot


def test_attach_references_leaves_the_own_group_out() -> None:
    # run "odd" has a different relation; its attached law must come from the others only
    trajs = [_traj("a"), _traj("b"), _traj("c"), _traj("odd", shift=0.2)]
    out = attach_references(trajs)
    others = fit_references(trajs[:3])
    np.testing.assert_allclose(out[3].reference, others.lookup(trajs[3].key))
    assert not np.allclose(out[3].reference, fit_references(trajs).lookup(trajs[3].key))
    # grouping: runs a and b form one group, so a's law is fitted on c and odd only
    grouped = attach_references(trajs, lambda run: "ab" if run in ("a", "b") else run)
    np.testing.assert_allclose(grouped[0].reference, fit_references(trajs[2:]).lookup(trajs[0].key))
    # the sampler feeds the features of the attached law (and none when the losses are dropped)
    sampler = Sampler(out, loss_dropout=0.0)
    sample = sampler.sample(np.random.default_rng(0))
    assert len(sample) == 7 and sample[6].shape == (len(sample[2]), 3)


def _problem(key: tuple[str, ...], n: int = 6, m: int = 5) -> Problem:
    tr = _traj("r")
    return Problem(key, tr.tokens[:n], tr.values[:n], tr.tokens[n : n + m], tr.loss[:n])


def test_masked_features_give_finite_forecasts_and_padding_is_safe() -> None:
    ref = fit_references([_traj("a"), _traj("b")])
    fc = Forecaster.new(CFG, seed=0)
    fc.reference = ref
    known, unknown = _problem(("r", "piqa", "acc", "0")), _problem(("r", "user-task", "acc", "0"))
    assert fc._reference(known) is not None and fc._reference(unknown) is None
    nolos = Problem(known.key, known.tokens, known.values, known.targets)  # no losses: masked too
    preds = fc.predict([known, unknown, nolos])
    assert all(np.isfinite(p).all() for p in preds)
    assert not np.allclose(preds[0], preds[1])  # the feature is read
    long = _problem(("r", "piqa", "acc", "0"), n=12, m=8)
    for p in (known, unknown):
        alone = fc.predict([p])[0]
        np.testing.assert_allclose(fc.predict([p, long])[0], alone, atol=1e-6)
        np.testing.assert_allclose(fc.predict([long, p])[1], alone, atol=1e-6)
    fc.reference = None  # a model without its relations still forecasts (every feature masked)
    assert np.isfinite(fc.predict([known])[0]).all()


def test_save_load_round_trip_keeps_the_option_and_the_laws(tmp_path) -> None:
    trajs = attach_references([_traj("a"), _traj("b"), _traj("c")])
    ref = fit_references(trajs)
    fc, _ = train(trajs, CFG, TrainConfig(steps=3, batch_size=4), reference=ref)
    assert fc.reference is ref
    back = Forecaster.load(fc.save(tmp_path / "m"))
    assert back.config.reference_features
    assert back.reference is not None and set(back.reference.params) == set(ref.params)
    p = _problem(("r", "piqa", "acc", "0"))
    np.testing.assert_allclose(back.predict([p])[0], fc.predict([p])[0], atol=1e-7)
    assert ReferenceSet.from_dict(ref.to_dict()).to_dict() == ref.to_dict()


def _curves() -> tuple[np.ndarray, LossCurves]:
    t = np.geomspace(1e9, 3e11, 25)
    shape = (t / 1e9) ** -0.12 * (1 + 0.3 * np.exp(-t / 2e10))  # not a power law: the schedule's bend
    return t, LossCurves({"s": (t, 3.2 * shape), "m": (t, 2.8 * shape), "l": (t, 2.4 * shape)})


def test_loss_curves_place_a_run_between_the_references() -> None:
    t, curves = _curves()
    shape = curves.curves["s"][1] / 3.2
    for level in (3.0, 2.5, 3.6, 2.1):  # between two curves, and beyond the smallest / the largest
        run = level * shape
        got = curves.interpolate(t[:8], run[:8], t[10:])
        np.testing.assert_allclose(got, run[10:], rtol=0.01)
    # the power law, fitted to the same context, misses the bend that the curves carry
    power = extrapolate_loss(t[:8], (2.6 * shape)[:8], t[10:])
    assert np.max(np.abs(np.log(power / (2.6 * shape)[10:]))) > 0.03
    assert curves.interpolate(t[:8], None, t[10:]) is None
    assert curves.interpolate(t[:8], np.full(8, np.nan), t[10:]) is None
    assert curves.without({"s", "m"}).interpolate(t[:8], (2.6 * shape)[:8], t[10:]) is None  # one curve
    assert curves.interpolate(t[:8], (2.6 * shape)[:8], np.array([1e13])) is None  # beyond the curves
    assert LossCurves.from_dict(curves.to_dict()).to_dict() == curves.to_dict()


def test_reference_features_use_the_curves_and_fall_back_to_the_power_law() -> None:
    t, curves = _curves()
    run = 2.6 * curves.curves["s"][1] / 3.2
    theta = np.array([0.5, -3.0, 1.0, 0.25])
    with_curves = reference_features(theta, t[:8], run[:8], t[10:], 0.4, curves)
    exact = _logistic(np.concatenate([[run[7]], run[10:]]), theta)
    np.testing.assert_allclose(with_curves[:, 2], np.clip(exact[1:], -1, 2) - 0.5, atol=2e-3)
    power = reference_features(theta, t[:8], run[:8], t[10:], 0.4)
    np.testing.assert_allclose(reference_features(theta, t[:8], run[:8], t[10:], 0.4, LossCurves()), power)


def test_attach_references_gives_each_group_the_other_groups_curves() -> None:
    trajs = [_traj("a"), _traj("b"), _traj("c")]
    curves = LossCurves.from_trajectories(trajs, runs={"a", "b"})
    assert sorted(curves.curves) == ["a", "b"]
    out = attach_references(trajs, curves=curves)
    assert sorted(out[0].reference_curves.curves) == ["b"]
    assert sorted(out[2].reference_curves.curves) == ["a", "b"]
    grouped = attach_references(trajs, lambda run: "ab" if run in ("a", "b") else run, curves)
    assert len(grouped[0].reference_curves) == 0


def test_a_runs_model_saves_and_loads_its_curves(tmp_path) -> None:
    trajs = [_traj("a"), _traj("b", shift=0.02), _traj("c", shift=-0.02)]
    curves = LossCurves.from_trajectories(trajs)
    trajs = attach_references(trajs, curves=curves)
    cfg = ForecasterConfig(**{**CFG.to_dict(), "reference_loss": "runs", "quantiles": CFG.quantiles})
    fc, _ = train(
        trajs, cfg, TrainConfig(steps=3, batch_size=4), reference=fit_references(trajs), curves=curves
    )
    assert fc.curves is curves
    back = Forecaster.load(fc.save(tmp_path / "m"))
    assert back.config.reference_loss == "runs" and back.curves is not None
    assert back.curves.to_dict() == curves.to_dict()
    p = _problem(("r", "piqa", "acc", "0"))
    np.testing.assert_allclose(back.predict([p])[0], fc.predict([p])[0], atol=1e-7)
    with pytest.raises(Exception, match="reference_loss"):
        ForecasterConfig(reference_loss="spline")
