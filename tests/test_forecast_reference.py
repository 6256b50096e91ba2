"""The reference_features option: cross-run logistic laws, leave-one-group-out in training, masking,
padding, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from scalinglaws.forecast.data import Problem, Trajectory
from scalinglaws.forecast.reference import (
    ReferenceSet,
    _logistic,
    attach_references,
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
