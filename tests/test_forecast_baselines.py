"""The logistic-law baselines (no torch): the loss in nats, pooled and leave-one-run-out fits, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalinglaws.backtest import BacktestError, Setting, get_method
from scalinglaws.forecast.baselines import LogisticLoss, fit_logistic, logistic, loss_table

SETTING = Setting("evals", "value", ("run", "task", "metric"), ("task", "metric"), True, "tokens")


def _table() -> pd.DataFrame:
    """Runs a, b, c: piqa accuracy rises with falling LAMBADA loss, b's law sits above the others."""
    rows = []
    for run, shift in (("a", 0.0), ("b", 0.05), ("c", 0.0)):
        for i, step in enumerate((1, 2, 4, 8, 16, 32, 64, 128)):
            loss = 4.0 - 0.3 * i - (0.1 if run == "c" else 0.0)
            acc = 0.3 + shift + 0.4 / (1 + np.exp(3.0 * (np.log(loss) - np.log(2.5))))
            rows.append({"run": run, "task": "piqa", "metric": "acc", "step": step, "value": acc})
            rows.append(
                {
                    "run": run,
                    "task": "lambada_openai",
                    "metric": "ppl",
                    "step": step,
                    "value": float(np.exp(loss)),
                }
            )
    return pd.DataFrame(rows)


def test_loss_table_gives_nats_and_the_law_reads_their_log() -> None:
    table = _table()
    losses = loss_table(table)
    assert losses.loc[(losses["run"] == "a") & (losses["step"] == 1), "loss"].item() == pytest.approx(4.0)
    scores = table[table["metric"] == "acc"]
    test = scores[scores["run"] == "a"].drop(columns="value")
    pred = LogisticLoss(reference=scores[scores["run"] != "b"], losses=losses).fit(scores, SETTING)
    truth = scores[scores["run"] == "a"]["value"].to_numpy()
    np.testing.assert_allclose(pred.predict(test).mean, truth, atol=2e-3)  # a and c share one law


def test_others_fits_each_run_without_it() -> None:
    table = _table()
    losses = loss_table(table)
    scores = table[table["metric"] == "acc"]
    method = get_method("logistic-loss-others", reference=scores, losses=losses).fit(scores, SETTING)
    assert method.others and method.name == "logistic-loss-others"
    test = scores[scores["run"] == "b"].drop(columns="value")
    ref = scores[scores["run"] != "b"].merge(losses, on=["run", "step"])
    theta = fit_logistic(ref["loss"].to_numpy(), ref["value"].to_numpy())
    expected = logistic(losses[losses["run"] == "b"]["loss"].to_numpy(), theta)
    np.testing.assert_allclose(method.predict(test).mean, expected)
    pooled = LogisticLoss(reference=scores, losses=losses).fit(scores, SETTING).predict(test).mean
    assert not np.allclose(pooled, expected)  # the pooled fit has seen run b


def test_logistic_errors() -> None:
    table = _table()
    scores = table[table["metric"] == "acc"]
    with pytest.raises(BacktestError, match="fitter must be"):
        LogisticLoss(fitter="nope")
    method = LogisticLoss(reference=scores, losses=loss_table(table)).fit(scores, SETTING)
    unknown = scores.head(2).assign(run="z").drop(columns="value")
    with pytest.raises(BacktestError, match="no loss for run z at step 1"):
        method.predict(unknown)
    few = LogisticLoss(reference=scores.head(3), losses=loss_table(table)).fit(scores, SETTING)
    with pytest.raises(BacktestError, match="fewer than 5 reference points for piqa/acc"):
        few.predict(scores.head(2).drop(columns="value"))


def test_loss_forecast_places_the_test_run_between_the_reference_curves() -> None:
    table = _table().assign(tokens=lambda f: f["step"] * 1e6)
    steps = np.array([1, 2, 4, 8, 16, 32, 64, 128])
    bend = 1 + 0.5 * np.exp(-steps / 20)  # the shared schedule's bend: no power law
    rows = []
    for run, level in (("a", 4.0), ("c", 3.0), ("m", 3.5)):
        for st, b in zip(steps, bend, strict=True):
            loss = level * b * st**-0.1
            acc = 0.3 + 0.4 / (1 + np.exp(3.0 * (np.log(loss) - np.log(2.5))))
            rows += [
                {"run": run, "task": "piqa", "metric": "acc", "step": st, "tokens": st * 1e6, "value": acc},
                {
                    "run": run,
                    "task": "lambada_openai",
                    "metric": "ppl",
                    "step": st,
                    "tokens": st * 1e6,
                    "value": float(np.exp(loss)),
                },
            ]
    table = pd.DataFrame(rows)
    losses = loss_table(table)
    scores = table[table["metric"] == "acc"]
    context = scores[(scores["run"] == "m") & (scores["step"] <= 8)]
    test = scores[(scores["run"] == "m") & (scores["step"] > 8)]
    ref = scores[scores["run"] != "m"]
    method = get_method("logistic-loss-forecast", reference=ref, losses=losses).fit(context, SETTING)
    oracle = LogisticLoss(reference=ref, losses=losses).fit(context, SETTING)
    got, best = (
        method.predict(test.drop(columns="value")).mean,
        oracle.predict(test.drop(columns="value")).mean,
    )
    np.testing.assert_allclose(got, best, atol=2e-3)  # the forecast loss is the true one here
    # without the future truth: the losses of run m after step 8 are never read
    blind = losses[~((losses["run"] == "m") & (losses["step"] > 8))]
    method = get_method("logistic-loss-forecast", reference=ref, losses=blind).fit(context, SETTING)
    np.testing.assert_allclose(method.predict(test.drop(columns="value")).mean, got)
    with pytest.raises(BacktestError, match="run z has no context rows"):
        method.predict(test.assign(run="z").drop(columns="value"))
