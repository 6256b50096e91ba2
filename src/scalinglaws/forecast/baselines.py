"""The forecaster and its baselines as backtest methods (:class:`scalinglaws.backtest.Method`).

* ``neural`` (:class:`NeuralMethod`): the shipped (or a given) neural forecaster, anchored at each test
  problem's last context checkpoint; gives the 0.1/0.25/0.75/0.9 quantiles.
* ``logistic-loss`` (:class:`LogisticLoss`): the NeuNeu paper's logistic law, acc = a / (1 +
  exp(-k (log L - L0))) + b with L the mean validation loss in nats, fitted per task (least squares, the
  paper code's recipe; or ``scalinglaws.fit`` with the ``sigmoid`` law) on the full trajectories of
  reference runs, then applied to each test checkpoint's **true** loss. For Pythia L is the LAMBADA loss,
  log perplexity (task ``lambada_openai``, metric ``ppl``), and the reference runs are the standard
  zero-shot runs of the training sizes (160m, 410m, 1b, 12b). It sees the future loss, which no forecaster
  from early checkpoints has: an oracle baseline.
* ``logistic-loss-forecast`` (:func:`logistic_loss_forecast`): the same law at the loss forecast from the
  test run's context losses (placed between the reference runs' loss curves), no future truth: a
  context-only cross-run baseline.
* ``logistic-loss-others`` (:func:`logistic_loss_others`): the same law fitted, for each test run, on every
  *other* standard zero-shot run, the other held-out sizes included (``measured.md``'s recipe): it also sees
  the full trajectories of larger and smaller held-out models, a second oracle.
* The context-only baselines ``last-value`` and ``sigmoid-tokens`` (a bounded per-problem sigmoid in log
  tokens) live in :mod:`scalinglaws.backtest.baselines`.

The backtest registry lists these methods as plug-ins (:data:`scalinglaws.backtest.registry.PLUGINS`):
this module, and torch for ``neural``, load only when one of them is asked for.

Example:
    >>> LogisticLoss().name, logistic_loss_others().name, NeuralMethod().gives_quantiles
    ('logistic-loss', 'logistic-loss-others', True)
"""

from __future__ import annotations

import importlib.util
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
    "logistic_loss_forecast",
    "logistic_loss_others",
    "loss_table",
    "reference_runs",
]


def _bundled_pythia() -> pd.DataFrame:
    from scalinglaws import datasets

    return datasets.load("pythia").table


def loss_table(
    frame: pd.DataFrame | None = None, task: str = "lambada_openai", metric: str = "ppl"
) -> pd.DataFrame:
    """(run, step, loss): the mean validation loss in nats, log of the perplexity in an evals frame's
    ``task``/``metric`` rows (zero-shot where there is a ``num_fewshot`` column).

    Example:
        >>> f = pd.DataFrame({"run": "m", "step": [1, 2], "task": "lambada_openai", "metric": "ppl",
        ...                   "value": [np.e ** 2, np.e]})
        >>> loss_table(f)["loss"].tolist()
        [2.0, 1.0]
    """
    frame = _bundled_pythia() if frame is None else frame
    rows = frame[(frame["task"] == task) & (frame["metric"] == metric)]
    if "num_fewshot" in rows.columns:
        rows = rows[rows["num_fewshot"] == 0]
    out = rows[["run", "step"]].assign(loss=np.log(rows["value"].to_numpy(float)))
    return out.drop_duplicates(["run", "step"]).reset_index(drop=True)


def reference_runs(frame: pd.DataFrame | None = None, every_size: bool = False) -> pd.DataFrame:
    """The logistic law's reference trajectories, zero-shot, acc_norm where a task has it: the standard
    (non-deduped) runs of the training sizes, every size but :data:`~scalinglaws.forecast.data.HELD_OUT_SIZES`
    (1b: its bf16 run, the only one); with ``every_size``, the standard runs of every size (``measured.md``'s
    runs: the bf16 1b run is not among them)."""
    from scalinglaws.backtest import select_data
    from scalinglaws.data import validate_evals

    frame = _bundled_pythia() if frame is None else frame
    keep = ~frame["deduped"].astype(bool)
    if every_size:
        keep &= frame["variant"] == "standard"
    else:
        keep &= ~frame["size"].astype(str).isin(HELD_OUT_SIZES) & frame["variant"].isin(["standard", "bf16"])
    ev = select_data(validate_evals(frame[keep], "reference"), num_fewshot=0)
    return ev.table


def _training_runs() -> set[str]:
    """The bundled Pythia runs the shipped model was trained on (every size but the held-out ones)."""
    frame = _bundled_pythia()
    return set(frame.loc[~frame["size"].astype(str).isin(HELD_OUT_SIZES), "run"].astype(str))


def _keys(frame: pd.DataFrame, cols: Sequence[str]) -> list[tuple[str, ...]]:
    return list(frame[list(cols)].astype(str).itertuples(index=False, name=None))


class LogisticLoss(Method):
    """The paper's logistic law given the true loss at each target (see the module docstring).

    Args:
        reference: trajectories to fit on (default :func:`reference_runs`, of every size with ``others``).
        losses: (run, step, loss) mean losses in nats for the reference and test runs (default
            :func:`loss_table`).
        fitter: ``paper`` (the NeuNeu code's curve_fit recipe, see :func:`fit_logistic`) or ``scalinglaws``
            (the registered ``sigmoid`` law, rising only).
        others: fit each test run's law on every reference run but that one (``measured.md``'s recipe).
        forecast_loss: instead of the true future loss, the loss forecast from each test run's context
            losses, placed between the reference runs' loss curves (the power law in tokens where they
            do not cover the targets; :mod:`scalinglaws.forecast.reference`): a context-only baseline
            (``logistic-loss-forecast``), no oracle.
        name: the method's name in results (default ``logistic-loss``).
    """

    name = "logistic-loss"
    description = "sigmoid of log LAMBADA loss per task across training-size runs, given the TRUE future loss"

    def __init__(
        self,
        reference: pd.DataFrame | None = None,
        losses: pd.DataFrame | None = None,
        fitter: str = "paper",
        others: bool = False,
        forecast_loss: bool = False,
        name: str | None = None,
    ) -> None:
        self.reference = reference
        self.losses = losses
        self.fitter = fitter
        self.others = others
        self.forecast_loss = forecast_loss
        if name:
            self.name = name
        if forecast_loss:
            self.description = (
                "sigmoid of log LAMBADA loss per task across training-size runs, at the loss FORECAST from "
                "the context (placed between the training runs' loss curves)"
            )
        if others:
            self.description = (
                "sigmoid of log LAMBADA loss per task across every OTHER standard run (held-out sizes "
                "included), given the TRUE future loss"
            )
        if fitter not in ("paper", "scalinglaws"):
            raise BacktestError(f"logistic-loss: fitter must be 'paper' or 'scalinglaws', got {fitter!r}")

    def check(self, setting: Setting, columns: Sequence[str]) -> str | None:
        if setting.kind != "evals":
            return "maps a loss to a score: evals tables only"
        return None if "step" in columns and "run" in columns else "needs run and step to look up the loss"

    def fit(self, train: pd.DataFrame, setting: Setting, seed: int = 0) -> LogisticLoss:
        self.setting_ = setting
        self.series_ = [c for c in setting.series if c in train.columns]
        ref = self.reference if self.reference is not None else reference_runs(every_size=self.others)
        losses = self.losses if self.losses is not None else loss_table()
        self.loss_ = {
            (str(r), int(s)): float(v) for r, s, v in losses[["run", "step", "loss"]].itertuples(index=False)
        }
        ref = ref[ref["step"] > 0]
        lookup = [
            self.loss_.get((str(r), int(s)), np.nan) for r, s in ref[["run", "step"]].itertuples(index=False)
        ]
        self.ref_ = ref.assign(_loss=lookup).dropna(subset=["_loss"])
        rows_of: dict[tuple[str, ...], list[int]] = {}
        for i, key in enumerate(_keys(self.ref_, self.series_)):
            rows_of.setdefault(key, []).append(i)
        self.groups_ = {key: self.ref_.iloc[rows] for key, rows in rows_of.items()}
        self.params_: dict[tuple[tuple[str, ...], str], np.ndarray] = {}
        if self.forecast_loss:
            self._fit_loss_forecast(train, setting)
        return self

    def _fit_loss_forecast(self, train: pd.DataFrame, setting: Setting) -> None:
        """The reference runs' loss curves and each run's context losses, by training tokens."""
        from scalinglaws.forecast.reference import LossCurves

        time = setting.time
        if time not in train.columns or time not in self.ref_.columns:
            raise BacktestError(f"{self.name}: needs a {time!r} column to place the losses in training")
        curves = {}
        for run, g in self.ref_.drop_duplicates(["run", "step"]).groupby("run"):
            g = g[g[time] > 0].sort_values(time)
            curves[str(run)] = (g[time].to_numpy(float), g["_loss"].to_numpy(float))
        self.curves_ = LossCurves(curves)
        self.context_: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for run, g in train.drop_duplicates(["run", "step"]).groupby("run"):
            g = g[g[time] > 0].sort_values(time)
            loss = np.array([self.loss_.get((str(run), int(st)), np.nan) for st in g["step"]])
            self.context_[str(run)] = (g[time].to_numpy(float), loss)

    def _forecast_losses(self, test: pd.DataFrame) -> np.ndarray:
        """Each test row's loss forecast from its run's context (see ``forecast_loss``)."""
        from scalinglaws.forecast.reference import extrapolate_loss

        time = self.setting_.time
        out = np.full(len(test), np.nan)
        runs = test["run"].astype(str).to_numpy()
        for run in dict.fromkeys(runs):
            pos = runs == run
            if run not in self.context_:
                raise BacktestError(f"{self.name}: run {run} has no context rows to forecast its loss from")
            tokens, loss = self.context_[run]
            at = test.loc[pos, time].to_numpy(float)
            pred = self.curves_.interpolate(tokens, loss, at)
            pred = extrapolate_loss(tokens, loss, at) if pred is None else pred
            if pred is None:
                raise BacktestError(f"{self.name}: run {run} has no known loss in its context")
            out[pos] = pred
        return out

    def _params(self, key: tuple[str, ...], run: str) -> np.ndarray:
        """The law of series ``key``, fitted without ``run`` when fitting on the others."""
        left_out = run if self.others else ""
        if (key, left_out) not in self.params_:
            rows = self.groups_.get(key, self.ref_.iloc[:0])
            rows = rows[rows["run"].astype(str) != left_out]
            if len(rows) < 5:
                raise BacktestError(f"logistic-loss: fewer than 5 reference points for {'/'.join(key)}")
            loss, value = rows["_loss"].to_numpy(float), rows["value"].to_numpy(float)
            self.params_[(key, left_out)] = fit_logistic(loss, value, self.fitter)
        return self.params_[(key, left_out)]

    def predict(self, test: pd.DataFrame, quantiles: Sequence[float] = ()) -> Prediction:
        if self.forecast_loss:
            loss = self._forecast_losses(test)
        else:
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
        keys = _keys(test, [*self.series_, "run"])
        for key in dict.fromkeys(keys):
            pos = np.array([k == key for k in keys])
            out[pos] = logistic(loss[pos], self._params(key[:-1], key[-1]), self.fitter)
        return Prediction(out)


def logistic_loss_forecast(**options: Any) -> LogisticLoss:
    """``logistic-loss-forecast``: :class:`LogisticLoss` at the loss forecast from the context, no oracle.

    Example:
        >>> logistic_loss_forecast().forecast_loss
        True
    """
    return LogisticLoss(forecast_loss=True, **{"name": "logistic-loss-forecast", **options})


def logistic_loss_others(**options: Any) -> LogisticLoss:
    """``logistic-loss-others``: :class:`LogisticLoss` fitted for each test run on every other standard run.

    Example:
        >>> logistic_loss_others().others
        True
    """
    return LogisticLoss(**({"others": True, "name": "logistic-loss-others"} | options))


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
    """Least-squares logistic law of ``value`` on ``loss`` (the mean loss L in nats: the law reads log L).

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
        weights: a saved forecaster (``X.pt`` beside ``X.json``) or ensemble (manifest ``X.json``); None:
            the shipped Pythia model.
        name: the method's name in results (default ``neural``).
        losses: (run, step, loss) mean losses in nats for models that take context losses (default
            :func:`loss_table`: the LAMBADA loss of the bundled Pythia runs); only the context checkpoints'
            losses are used.

    The shipped model declines test runs it was trained on (any bundled Pythia run of a size not in
    :data:`~scalinglaws.forecast.data.HELD_OUT_SIZES`): its scores there would be leaked.
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
        if not setting.trajectory:
            return "extends each problem's own trajectory: needs a time split"
        if importlib.util.find_spec("torch") is None:
            return "needs torch: pip install 'scalinglaws[torch]'"
        return None

    def fit(self, train: pd.DataFrame, setting: Setting, seed: int = 0) -> NeuralMethod:
        self.train_ = train
        self.setting_ = setting
        return self

    def forecaster(self) -> Any:
        if self._forecaster is None:
            from scalinglaws.forecast.ensemble import load_forecaster

            self._forecaster = load_forecaster(self.weights)
        return self._forecaster

    def predict(self, test: pd.DataFrame, quantiles: Sequence[float] = ()) -> Prediction:
        if self.weights is None:
            seen = sorted(set(test["run"].astype(str)) & _training_runs())
            if seen:
                raise BacktestError(
                    f"neural: the shipped model was trained on {', '.join(seen)}; test it on runs of the "
                    f"held-out sizes {', '.join(HELD_OUT_SIZES)} only"
                )
        fc = self.forecaster()
        s = self.setting_
        loss_of: dict[tuple[str, int], float] = {}
        if fc.config.loss_context:
            table = self.losses if self.losses is not None else loss_table()
            rows = table[["run", "step", "loss"]].itertuples(index=False)
            loss_of = {(str(r), int(st)): float(v) for r, st, v in rows}
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
