"""The forecaster and its baselines as backtest methods (:class:`scalinglaws.backtest.Method`).

* ``neural`` (:class:`NeuralMethod`): the shipped (or a given) neural forecaster, anchored at each test
  problem's last context checkpoint; gives the 0.1/0.25/0.75/0.9 quantiles.
* ``logistic-loss`` (:class:`LogisticLoss`): the NeuNeu paper's logistic law, acc = a / (1 +
  exp(-k (log L - L0))) + b, fitted per task (least squares, the paper code's recipe; or ``scalinglaws.fit``
  with the ``sigmoid`` law) on
  the full trajectories of reference runs, then applied to each test checkpoint's **true** loss. For Pythia
  the loss is LAMBADA perplexity (task ``lambada_openai``, metric ``ppl``), and the reference runs are the
  standard zero-shot runs of the training sizes (160m, 410m, 1b, 12b). It sees the future loss, which no
  forecaster from early checkpoints has: an oracle baseline.
* The context-only baselines ``last-value`` and ``sigmoid-tokens`` (a bounded per-problem sigmoid in log
  tokens) live in :mod:`scalinglaws.backtest.baselines`.

:func:`register` adds ``neural`` and ``logistic-loss`` to the backtest registry.

Example:
    >>> LogisticLoss().name, NeuralMethod().gives_quantiles
    ('logistic-loss', True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.backtest.errors import BacktestError
from scalinglaws.backtest.methods import Method, Prediction, Setting
from scalinglaws.forecast.data import HELD_OUT_SIZES, Problem

__all__ = [
    "LogisticLoss",
    "NeuralMethod",
    "fit_logistic",
    "logistic",
    "loss_table",
    "reference_runs",
    "register",
]


def _bundled_pythia() -> pd.DataFrame:
    from scalinglaws import datasets

    return datasets.load("pythia").table


def loss_table(
    frame: pd.DataFrame | None = None, task: str = "lambada_openai", metric: str = "ppl"
) -> pd.DataFrame:
    """(run, step, loss) from an evals frame's ``task``/``metric`` rows (zero-shot where there is a
    ``num_fewshot`` column)."""
    frame = _bundled_pythia() if frame is None else frame
    rows = frame[(frame["task"] == task) & (frame["metric"] == metric)]
    if "num_fewshot" in rows.columns:
        rows = rows[rows["num_fewshot"] == 0]
    out = rows[["run", "step", "value"]].rename(columns={"value": "loss"})
    return out.drop_duplicates(["run", "step"]).reset_index(drop=True)


def reference_runs(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The logistic law's reference trajectories: standard (non-deduped) zero-shot runs of the training
    sizes (every size but :data:`~scalinglaws.forecast.data.HELD_OUT_SIZES`), acc_norm where a task has it."""
    from scalinglaws.backtest import select_data
    from scalinglaws.data import validate_evals

    frame = _bundled_pythia() if frame is None else frame
    keep = ~frame["size"].astype(str).isin(HELD_OUT_SIZES) & ~frame["deduped"].astype(bool)
    keep &= frame["variant"].isin(["standard", "bf16"])
    ev = select_data(validate_evals(frame[keep], "reference"), num_fewshot=0)
    return ev.table


def _keys(frame: pd.DataFrame, cols: Sequence[str]) -> list[tuple[str, ...]]:
    return list(frame[list(cols)].astype(str).itertuples(index=False, name=None))


class LogisticLoss(Method):
    """The paper's logistic law given the true loss at each target (see the module docstring).

    Args:
        reference: trajectories to fit on (default :func:`reference_runs`).
        losses: (run, step, loss) for the reference and test runs (default :func:`loss_table`).
        fitter: ``paper`` (the NeuNeu code's curve_fit recipe, see :func:`fit_logistic`) or ``scalinglaws``
            (the registered ``sigmoid`` law, rising only).
    """

    name = "logistic-loss"
    description = (
        "sigmoid of log LAMBADA perplexity per task across reference runs, given the TRUE future loss"
    )

    def __init__(
        self, reference: pd.DataFrame | None = None, losses: pd.DataFrame | None = None, fitter: str = "paper"
    ) -> None:
        self.reference = reference
        self.losses = losses
        self.fitter = fitter
        if fitter not in ("paper", "scalinglaws"):
            raise BacktestError(f"logistic-loss: fitter must be 'paper' or 'scalinglaws', got {fitter!r}")

    def check(self, setting: Setting, columns: Sequence[str]) -> str | None:
        if setting.kind != "evals":
            return "maps a loss to a score: evals tables only"
        return None if "step" in columns and "run" in columns else "needs run and step to look up the loss"

    def fit(self, train: pd.DataFrame, setting: Setting, seed: int = 0) -> LogisticLoss:
        self.setting_ = setting
        self.series_ = [c for c in setting.series if c in train.columns]
        ref = self.reference if self.reference is not None else reference_runs()
        losses = self.losses if self.losses is not None else loss_table()
        self.loss_ = {
            (str(r), int(s)): float(v) for r, s, v in losses[["run", "step", "loss"]].itertuples(index=False)
        }
        ref = ref[ref["step"] > 0]
        lookup = [
            self.loss_.get((str(r), int(s)), np.nan) for r, s in ref[["run", "step"]].itertuples(index=False)
        ]
        self.ref_ = ref.assign(_loss=lookup).dropna(subset=["_loss"])
        self.params_: dict[tuple[str, ...], np.ndarray] = {}
        return self

    def _params(self, key: tuple[str, ...]) -> np.ndarray:
        if key not in self.params_:
            rows = self.ref_[[k == key for k in _keys(self.ref_, self.series_)]]
            if len(rows) < 5:
                raise BacktestError(f"logistic-loss: fewer than 5 reference points for {'/'.join(key)}")
            loss, value = rows["_loss"].to_numpy(float), rows["value"].to_numpy(float)
            self.params_[key] = fit_logistic(loss, value, self.fitter)
        return self.params_[key]

    def predict(self, test: pd.DataFrame, quantiles: Sequence[float] = ()) -> Prediction:
        loss = np.array(
            [
                self.loss_.get((str(r), int(s)), np.nan)
                for r, s in test[["run", "step"]].itertuples(index=False)
            ]
        )
        if np.isnan(loss).any():
            i = int(np.flatnonzero(np.isnan(loss))[0])
            raise BacktestError(
                f"logistic-loss: no loss for run {test['run'].iloc[i]} at step {test['step'].iloc[i]}"
            )
        out = np.full(len(test), np.nan)
        keys = _keys(test, self.series_)
        for key in dict.fromkeys(keys):
            pos = np.array([k == key for k in keys])
            out[pos] = logistic(loss[pos], self._params(key), self.fitter)
        return Prediction(out)


def logistic(loss: np.ndarray, theta: np.ndarray, fitter: str = "paper") -> np.ndarray:
    """The logistic law at ``loss``: ``paper`` parameters (a, k, L0, b) of a / (1 + exp(-k (log L - L0))) + b,
    or ``scalinglaws`` parameters (a, b, k, x0) of the registered ``sigmoid`` law.

    Example:
        >>> round(float(logistic(np.array([np.e]), np.array([0.5, -1.0, 1.0, 0.25]))[0]), 6)
        0.5
    """
    if fitter == "scalinglaws":
        from scalinglaws.laws import get_law

        return get_law("sigmoid").predict({"loss": loss}, theta)
    a, k, l0, b = theta
    z = np.clip(-k * (np.log(loss + 1e-8) - l0), -500, 500)
    return a / (1.0 + np.exp(z)) + b


def fit_logistic(loss: np.ndarray, value: np.ndarray, fitter: str = "paper") -> np.ndarray:
    """Least-squares logistic law of ``value`` on ``loss``.

    ``paper``: the NeuNeu code's recipe, scipy ``curve_fit`` from p0 = (max - min, -1, median log L, min)
    within a in [-2, 2], k in [-100, 100], L0 in [-10, 10], b in [0, 1] (falls back to the mean if it
    fails). ``scalinglaws``: :func:`scalinglaws.fit.fit` with the ``sigmoid`` law (a, b >= 0: rising only).

    Example:
        >>> L = np.geomspace(2.0, 50.0, 30); y = 0.2 + 0.6 / (1 + np.exp(2.0 * (np.log(L) - 2.0)))
        >>> np.round(logistic(np.array([7.4]), fit_logistic(L, y)), 3).tolist()
        [0.5]
    """
    if fitter == "scalinglaws":
        from scalinglaws.fit import fit as fit_law

        res = fit_law({"loss": loss, "value": value}, "sigmoid", target="value", loss="l2", bootstrap=0)
        return np.array(list(res.params.values()), float)
    from scipy.optimize import curve_fit

    x = np.log(loss + 1e-8)

    def f(x: np.ndarray, a: float, k: float, l0: float, b: float) -> np.ndarray:
        return a / (1.0 + np.exp(np.clip(-k * (x - l0), -500, 500))) + b

    p0 = [value.max() - value.min(), -1.0, float(np.median(x)), value.min()]
    try:
        theta, _ = curve_fit(f, x, value, p0=p0, bounds=([-2, -100, -10, 0], [2, 100, 10, 1]), maxfev=10000)
    except (RuntimeError, ValueError):
        theta = np.array([0.0, 0.0, 0.0, float(np.clip(value.mean(), 0, 1))])
    return np.asarray(theta, float)


class NeuralMethod(Method):
    """The neural forecaster as a backtest method: each test problem is forecast from its own context rows.

    Args:
        weights: a saved forecaster (``X.pt`` beside ``X.json``); None: the shipped Pythia model.
        name: the method's name in results (default ``neural``).
        losses: (run, step, loss) perplexities for models that take context losses (default
            :func:`loss_table`: LAMBADA perplexity of the bundled Pythia runs); only the context
            checkpoints' losses are used.
    """

    name = "neural"
    description = "transformer over the observed trajectory (gaps in log tokens), quantile head"
    gives_quantiles = True

    def __init__(
        self, weights: str | None = None, name: str | None = None, losses: pd.DataFrame | None = None
    ) -> None:
        self.weights = weights
        self.losses = losses
        if name:
            self.name = name
        self._forecaster: Any = None

    def check(self, setting: Setting, columns: Sequence[str]) -> str | None:
        if setting.kind != "evals":
            return "forecasts scores in [0, 1]: evals tables only"
        return None if setting.trajectory else "extends each problem's own trajectory: needs a time split"

    def fit(self, train: pd.DataFrame, setting: Setting, seed: int = 0) -> NeuralMethod:
        self.train_ = train
        self.setting_ = setting
        return self

    def forecaster(self) -> Any:
        if self._forecaster is None:
            from scalinglaws.forecast.neural import Forecaster

            self._forecaster = Forecaster.load(self.weights)
        return self._forecaster

    def predict(self, test: pd.DataFrame, quantiles: Sequence[float] = ()) -> Prediction:
        fc = self.forecaster()
        s = self.setting_
        loss_of: dict[tuple[str, int], float] = {}
        if fc.config.loss_context:
            table = self.losses if self.losses is not None else loss_table()
            rows = table[["run", "step", "loss"]].itertuples(index=False)
            loss_of = {(str(r), int(st)): float(np.log(v)) for r, st, v in rows}
        train = self.train_[self.train_[s.time].to_numpy(float) > 0].sort_values(s.time, kind="stable")
        contexts: dict[tuple[str, ...], pd.DataFrame] = {
            k: g for k, g in train.groupby(list(s.keys), sort=False)
        }
        contexts = {
            tuple(str(v) for v in (k if isinstance(k, tuple) else (k,))): g for k, g in contexts.items()
        }
        keys = _keys(test, s.keys)
        t_test = test[s.time].to_numpy(float)
        problems, positions = [], []
        for key in dict.fromkeys(keys):
            if key not in contexts:
                raise BacktestError(f"test problem {'/'.join(key)} has no context rows in the train set")
            pos = np.flatnonzero([k == key for k in keys])
            ctx = contexts[key]
            loss = None
            if loss_of and "step" in ctx.columns:
                pairs = zip(ctx["run"], ctx["step"], strict=True)
                loss = np.array([loss_of.get((str(r), int(st)), np.nan) for r, st in pairs])
            problems.append(
                Problem(key, ctx[s.time].to_numpy(float), ctx[s.target].to_numpy(float), t_test[pos], loss)
            )
            positions.append(pos)
        preds = fc.predict(problems)
        qs = np.asarray(fc.quantiles)
        table = np.full((len(test), len(qs)), np.nan)
        for pos, q in zip(positions, preds, strict=True):
            table[pos] = q
        median = table[:, list(qs).index(0.5)]
        out = {}
        for level in quantiles:
            out[float(level)] = np.array([np.interp(level, qs, row) for row in table])
        return Prediction(median, out)


def register(replace: bool = True) -> None:
    """Add ``neural`` and ``logistic-loss`` to the backtest method registry."""
    from scalinglaws.backtest.registry import register_method

    register_method(NeuralMethod, name="neural", replace=replace)
    register_method(LogisticLoss, name="logistic-loss", replace=replace)
