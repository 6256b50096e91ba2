"""The neural forecaster: shapes, masking, pinball loss, non-crossing quantiles, overfitting, save/load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from scalinglaws.forecast.data import Problem, Trajectory, pad_batch  # noqa: E402
from scalinglaws.forecast.ensemble import ForecasterEnsemble, load_forecaster  # noqa: E402
from scalinglaws.forecast.errors import ForecastError, ProfileError  # noqa: E402
from scalinglaws.forecast.neural import (  # noqa: E402
    Forecaster,
    ForecasterConfig,
    NeuralForecaster,
    _tensors,
    pinball_loss,
    shipped_weights,
)
from scalinglaws.forecast.train import TrainConfig, train  # noqa: E402

TINY = ForecasterConfig(d_model=16, n_layers=2, n_heads=2, d_ff=32)


def _problem(n: int, m: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(1.0, 3.0, n + m)) * 1e9
    y = np.clip(0.3 + 0.05 * np.log(t / t[0]) + 0.01 * rng.standard_normal(n + m), 0, 1)
    return Problem((f"r{seed}", "task"), t[:n], y[:n], t[n:])


@pytest.fixture(scope="module")
def tiny() -> Forecaster:
    return Forecaster.new(TINY, seed=0)


def test_shapes(tiny: Forecaster) -> None:
    batch = pad_batch([(p.tokens, p.values, p.targets, None) for p in (_problem(5, 3, 0), _problem(9, 7, 1))])
    out = tiny.model(**_tensors(batch))
    assert out.shape == (2, 7, 5)
    preds = tiny.predict([_problem(5, 3, 0), _problem(9, 7, 1)])
    assert [p.shape for p in preds] == [(3, 5), (7, 5)]


def test_padding_never_changes_a_prediction(tiny: Forecaster) -> None:
    a, long = _problem(4, 2, 3), _problem(20, 15, 4)
    alone = tiny.predict([a])[0]
    padded = tiny.predict([a, long])[0]  # a is padded to 20 context points and 15 targets
    np.testing.assert_allclose(alone, padded, atol=1e-6)
    # a target's forecast does not depend on which other targets are asked for
    fewer = tiny.predict([Problem(a.key, a.tokens, a.values, a.targets[:1])])[0]
    np.testing.assert_allclose(fewer, alone[:1], atol=1e-6)


def test_fraction_features_read_the_end_of_training() -> None:
    fc = Forecaster.new(ForecasterConfig(d_model=16, n_layers=1, n_heads=2, d_ff=32, fraction_features=True))
    a, long = _problem(4, 3, 3), _problem(20, 15, 4)
    alone = fc.predict([a])[0]
    np.testing.assert_allclose(fc.predict([a, long])[0], alone, atol=1e-6)  # padding changes nothing
    # the last target is the end of training: asking for fewer targets moves the end, and the forecasts
    shorter = fc.predict([Problem(a.key, a.tokens, a.values, a.targets[:1])])[0]
    assert not np.allclose(shorter, alone[:1], atol=1e-6)
    batch = pad_batch([(a.tokens, a.values, a.targets[:1], None, None, a.targets[-1])])
    np.testing.assert_allclose(fc.model(**_tensors(batch)).detach().numpy()[0], alone[:1], atol=1e-6)


def test_padded_values_are_ignored(tiny: Forecaster) -> None:
    p = _problem(6, 4, 5)
    batch = pad_batch(
        [
            (p.tokens, p.values, p.targets, None),
            (np.arange(1.0, 12.0) * 1e9, np.full(11, 0.5), np.array([2e10]), None),
        ]
    )
    tensors = _tensors(batch)
    first = tiny.model(**tensors)[0, :4]
    tensors["ctx_y"][0, 6:] = 0.99  # garbage in the padding
    tensors["ctx_logt"][0, 6:] = 50.0
    second = tiny.model(**tensors)[0, :4]
    torch.testing.assert_close(first, second, atol=1e-6, rtol=0)


def test_pinball_loss_hand_values() -> None:
    pred = torch.tensor([[0.2, 0.5]])
    y = torch.tensor([0.4])
    # tau 0.1: e = 0.2 -> 0.02; tau 0.9: e = -0.1 -> 0.01; mean 0.015
    assert float(pinball_loss(pred, y, (0.1, 0.9))) == pytest.approx(0.015)
    # masked: the second target is ignored, rows weigh the same
    pred2 = torch.tensor([[[0.5], [9.0]], [[0.0], [0.0]]])
    y2 = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    mask = torch.tensor([[True, False], [True, True]])
    assert float(pinball_loss(pred2, y2, (0.5,), mask)) == pytest.approx((0.25 + 0.5) / 2)


def test_quantiles_never_cross() -> None:
    model = NeuralForecaster(TINY)
    raw = torch.randn(64, 9, 5) * 20.0
    q = model.quantiles_from_raw(raw, torch.rand(64))
    assert torch.all(q[..., 1:] > q[..., :-1])
    assert model.quantiles_from_raw(raw, torch.rand(64))[..., 2].shape == (64, 9)


def test_a_tiny_model_overfits_a_tiny_dataset() -> None:
    t = np.geomspace(1e8, 1e11, 12)
    real = [
        Trajectory(("r", f"t{i}", "acc"), t, np.clip(0.25 + s * np.log(t / t[0]), 0, 1))
        for i, s in enumerate((0.02, 0.04, 0.06))
    ]
    cfg = TrainConfig(steps=120, batch_size=32, lr=3e-3, synthetic_fraction=0.0, threads=1, warmup=0.1)
    fc, history = train(real, TINY, cfg, log_every=25)
    assert history[-1]["loss"] < 0.35 * history[0]["loss"]
    pred = fc.predict([Problem(("r", "t2"), t[:6], real[2].values[:6], t[6:])])[0]
    assert np.abs(pred[:, 2] - real[2].values[6:]).mean() < 0.03


def test_training_is_reproducible() -> None:
    real = [Trajectory(("r", "t", "acc"), np.geomspace(1e8, 1e10, 8), np.linspace(0.3, 0.5, 8))]
    cfg = TrainConfig(steps=5, batch_size=8, synthetic_fraction=0.5, synthetic_pool=50, threads=1)
    a, _ = train(real, TINY, cfg)
    b, _ = train(real, TINY, cfg)
    for (k, v), w in zip(a.model.state_dict().items(), b.model.state_dict().values(), strict=True):
        assert torch.equal(v, w), k


def test_save_load_round_trip(tiny: Forecaster, tmp_path) -> None:
    path = tiny.save(tmp_path / "m.pt")
    assert path.with_suffix(".json").is_file()
    back = Forecaster.load(path)
    problems = [_problem(5, 3, 7), _problem(8, 2, 8)]
    for x, y in zip(tiny.predict(problems), back.predict(problems), strict=True):
        np.testing.assert_array_equal(x, y)


def test_shipped_weights_load_and_are_small() -> None:
    files = sorted(shipped_weights().glob("pythia*"))
    assert sum(f.stat().st_size for f in files) < 5 * 2**20
    fc = load_forecaster()
    assert isinstance(fc, ForecasterEnsemble) and len(fc.members) == 3
    assert fc.config.reference_features and fc.config.reference_loss == "runs"
    assert all(m.curves is not None and m.reference is not None for m in fc.members)
    q = fc.predict([_problem(10, 5, 9)])[0]
    assert q.shape == (5, 5) and np.all(np.diff(q, axis=1) >= 0)


def test_bad_problems_are_one_line_errors(tiny: Forecaster) -> None:
    p = _problem(4, 2, 10)
    with pytest.raises(ForecastError, match=r"scores must lie in \[0, 1\]"):
        tiny.predict([Problem(p.key, p.tokens, p.values * 100, p.targets)])
    with pytest.raises(ForecastError, match="no observed values"):
        tiny.predict([Problem(p.key, p.tokens, np.full(4, np.nan), p.targets)])
    with pytest.raises(ForecastError, match="beyond the last context"):
        tiny.predict([Problem(p.key, p.tokens, p.values, p.tokens[:1])])
    with pytest.raises(ProfileError, match="without loss profiles"):
        tiny.predict([p], profile=np.zeros(3))


def test_profile_models_check_the_profile_length() -> None:
    cfg = ForecasterConfig(d_model=16, n_layers=1, n_heads=2, d_ff=32, profile="raw", profile_length=300)
    fc = Forecaster.new(cfg)
    p = _problem(4, 2, 11)
    q = fc.predict([p], profile=np.full(300, 0.5))[0]
    assert q.shape == (2, 5)
    with pytest.raises(ProfileError, match="expects 300 words"):
        fc.predict([p], profile=np.full(200, 0.5))
    with pytest.raises(ProfileError, match="pass one"):
        fc.predict([p])
    hist = Forecaster.new(
        ForecasterConfig(d_model=16, n_layers=1, n_heads=2, d_ff=32, profile="histogram", profile_length=32)
    )
    assert hist.predict([p], profile=np.full(32, 1 / 32))[0].shape == (2, 5)


def _table() -> pd.DataFrame:
    rows = []
    for r, scale in (("a", 1.0), ("b", 1.5)):
        for task, base in (("piqa", 0.55), ("sciq", 0.6)):
            for step in (1, 2, 4, 8, 16, 32, 64, 128):
                rows.append(
                    {
                        "run": r,
                        "task": task,
                        "metric": "acc",
                        "step": step,
                        "tokens": step * 1e9,
                        "value": min(base + 0.02 * scale * np.log(step), 1.0),
                        "stderr": 0.01,
                    }
                )
                rows.append(
                    {
                        "run": r,
                        "task": "lambada_openai",
                        "metric": "ppl",
                        "step": step,
                        "tokens": step * 1e9,
                        "value": 50.0 / (scale * step) ** 0.3,
                        "stderr": 0.0,
                    }
                )
    return pd.DataFrame(rows).drop_duplicates(["run", "task", "metric", "step"])


def test_neural_and_logistic_methods_in_the_backtest(tiny: Forecaster, tmp_path) -> None:
    from scalinglaws.backtest import TimeSplit, backtest
    from scalinglaws.forecast.baselines import LogisticLoss, NeuralMethod, loss_table

    table = _table()
    scores = table[table["metric"] == "acc"]
    weights = tiny.save(tmp_path / "tiny")
    logistic = LogisticLoss(reference=scores, losses=loss_table(table))
    methods = [NeuralMethod(str(weights)), logistic, "last-value"]
    res = backtest(scores, TimeSplit(0.2), methods, executor="serial")
    board = res.leaderboard.set_index("method")
    assert set(board.index) == {"neural", "logistic-loss", "last-value"}
    assert np.isfinite(board.loc["neural", "mae"]) and 0 <= board.loc["neural", "cov80"] <= 1
    assert board.loc["logistic-loss", "mae"] < board.loc["last-value", "mae"]  # it sees the true loss


def test_context_losses_are_optional_and_padding_safe() -> None:
    cfg = ForecasterConfig(d_model=16, n_layers=2, n_heads=2, d_ff=32, loss_context=True)
    fc = Forecaster.new(cfg, seed=1)
    p = _problem(6, 3, 12)
    with_loss = Problem(p.key, p.tokens, p.values, p.targets, np.linspace(3.0, 2.0, 6))
    long = Problem(
        ("r", "x"), np.arange(1.0, 20.0) * 1e9, np.full(19, 0.4), np.array([3e10]), np.full(19, 2.5)
    )
    alone = fc.predict([with_loss])[0]
    np.testing.assert_allclose(fc.predict([with_loss, long])[0], alone, atol=1e-6)
    assert not np.allclose(fc.predict([p])[0], alone)  # the losses are used; without them it still works
    with pytest.raises(ForecastError, match="context losses"):
        fc.predict([Problem(p.key, p.tokens, p.values, p.targets, np.ones(3))])
