"""Naive baselines every forecaster must beat.

On a *trajectory* fold (each test problem has its own early checkpoints in the train table) they extend
that trajectory; on a *cross* fold (held-out runs unseen) they extrapolate across runs:

* ``last-value``: the last observed value of the trajectory; across runs, the best training value of the
  series (lowest loss, highest score).
* ``loglog-line`` (runs): a straight line in log loss vs log compute through the training runs; on a
  trajectory, in log loss vs log tokens through the context.
* ``line3``: a straight line in the value vs log tokens through the last 3 context points.
* ``sigmoid-tokens`` (scores in [0, 1]): ``floor + (plateau - floor) / (1 + exp(-k (log t - mid)))``
  fitted per problem by least squares, rising, with 0 <= floor <= plateau <= 1 and the midpoint at or
  before the last context point (per ``measured.md``: unbounded per-problem sigmoids run away). With fewer
  than 3 distinct context points it predicts the last value.

Example:
    >>> import pandas as pd
    >>> from scalinglaws.backtest.methods import Setting
    >>> s = Setting(kind="evals", target="value", keys=("run", "task"), series=("task",), trajectory=True)
    >>> train = pd.DataFrame({"run": "m", "task": "piqa", "tokens": [1e9, 2e9, 4e9], "value": [.5, .6, .7]})
    >>> test = pd.DataFrame({"run": "m", "task": "piqa", "tokens": [8e9, 1.6e10]})
    >>> LastValue().fit(train, s).predict(test).mean.tolist()
    [0.7, 0.7]
    >>> Line3().fit(train, s).predict(test).mean.round(6).tolist()
    [0.8, 0.9]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from scalinglaws.backtest.data import compute_of
from scalinglaws.backtest.errors import BacktestError
from scalinglaws.backtest.methods import Method, Prediction, Setting

__all__ = ["LastValue", "Line3", "LogLogLine", "SigmoidTokens", "fit_bounded_sigmoid"]

TRAJECTORY_ONLY = "extends each test problem's own trajectory: needs a time split (or a context fraction)"

#: A forecast of one trajectory: (context times, context values, query times) -> predicted values.
Forecast = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _key_tuples(frame: pd.DataFrame, keys: Sequence[str]) -> list[tuple]:
    return list(frame[list(keys)].astype(str).itertuples(index=False, name=None))


def _positions(keys: list[tuple]) -> dict[tuple, np.ndarray]:
    """Row positions of each distinct key, in order of first appearance."""
    out: dict[tuple, list[int]] = {}
    for i, key in enumerate(keys):
        out.setdefault(key, []).append(i)
    return {key: np.asarray(pos) for key, pos in out.items()}


def _per_problem(train: pd.DataFrame, test: pd.DataFrame, setting: Setting, forecast: Forecast) -> np.ndarray:
    """Apply ``forecast`` to every test problem, given that problem's context rows (sorted in time)."""
    ordered = train.sort_values(setting.time, kind="stable")
    contexts = _positions(_key_tuples(ordered, setting.keys))
    t_ctx = ordered[setting.time].to_numpy(float)
    y_ctx = ordered[setting.target].to_numpy(float)
    t_test = test[setting.time].to_numpy(float)
    out = np.full(len(test), np.nan)
    for key, pos in _positions(_key_tuples(test, setting.keys)).items():
        if key not in contexts:
            raise BacktestError(f"test problem {'/'.join(key)} has no context rows in the train set")
        ctx = contexts[key]
        out[pos] = forecast(t_ctx[ctx], y_ctx[ctx], t_test[pos])
    return out


class _Baseline(Method):
    """Stores the train table; subclasses forecast one trajectory or extrapolate across runs."""

    def fit(self, train: pd.DataFrame, setting: Setting, seed: int = 0) -> _Baseline:
        self.train_ = train
        self.setting_ = setting
        return self

    def predict(self, test: pd.DataFrame, quantiles: Sequence[float] = ()) -> Prediction:
        if self.setting_.trajectory:
            return Prediction(_per_problem(self.train_, test, self.setting_, self._trajectory))
        return Prediction(self._across(self.train_, test, self.setting_))

    def _trajectory(self, t: np.ndarray, y: np.ndarray, t_new: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _across(self, train: pd.DataFrame, test: pd.DataFrame, setting: Setting) -> np.ndarray:
        raise NotImplementedError


class LastValue(_Baseline):
    name = "last-value"
    description = "the last observed value (across runs: the best training value of the series)"

    def _trajectory(self, t: np.ndarray, y: np.ndarray, t_new: np.ndarray) -> np.ndarray:
        return np.full(t_new.shape, y[-1])

    def _across(self, train: pd.DataFrame, test: pd.DataFrame, setting: Setting) -> np.ndarray:
        y = train[setting.target].to_numpy(float)
        pick = np.min if setting.lower_is_better else np.max
        best = {key: pick(y[pos]) for key, pos in _positions(_key_tuples(train, setting.series)).items()}
        keys = _key_tuples(test, setting.series)
        missing = sorted({"/".join(k) for k in keys if k not in best})
        if missing:
            raise BacktestError(f"no training rows for {', '.join(missing[:3])}")
        return np.array([best[k] for k in keys], dtype=float)


def _line(x: np.ndarray, y: np.ndarray, x_new: np.ndarray) -> np.ndarray:
    """Least-squares line through (x, y) evaluated at x_new; a constant through one distinct x."""
    if np.ptp(x) == 0:
        return np.full(x_new.shape, y.mean())
    slope, intercept = np.polyfit(x, y, 1)
    return intercept + slope * x_new


class LogLogLine(_Baseline):
    name = "loglog-line"
    description = "a straight line in log loss vs log compute (on a trajectory: vs log tokens)"

    def check(self, setting: Setting, columns: Sequence[str]) -> str | None:
        return None if setting.kind == "runs" else "a line in log loss: runs tables (losses) only"

    def _trajectory(self, t: np.ndarray, y: np.ndarray, t_new: np.ndarray) -> np.ndarray:
        return np.exp(_line(np.log(t), np.log(y), np.log(t_new)))

    def _across(self, train: pd.DataFrame, test: pd.DataFrame, setting: Setting) -> np.ndarray:
        x, x_new = np.log(compute_of(train)), np.log(compute_of(test))
        return np.exp(_line(x, np.log(train[setting.target].to_numpy(float)), x_new))


class Line3(_Baseline):
    name = "line3"
    description = "a straight line in the value vs log tokens through the last 3 context points"

    def check(self, setting: Setting, columns: Sequence[str]) -> str | None:
        return None if setting.trajectory else TRAJECTORY_ONLY

    def _trajectory(self, t: np.ndarray, y: np.ndarray, t_new: np.ndarray) -> np.ndarray:
        return _line(np.log(t[-3:]), y[-3:], np.log(t_new))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


#: The exact (k, midpoint) grid scanned before the least-squares polish; midpoints are placed from 2 log
#: units before the first context point to the last one.
K_GRID = np.geomspace(0.05, 30.0, 40)
MID_STEPS = 60


def _box_floor_plateau(s: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best floor b and plateau p (0 <= b <= p <= 1) of ``b (1 - s) + p s`` for every grid row of ``s``.

    Exact: the unconstrained solution where feasible, else the best of the solutions on each active
    constraint (b = 0, b = 1, p = 0, p = 1, b = p). Returns (sse, b, p).
    """
    u = 1.0 - s
    a11, a12, a22 = (u * u).sum(1), (u * s).sum(1), (s * s).sum(1)
    r1, r2, yy = (u * y).sum(1), (s * y).sum(1), float(y @ y)
    with np.errstate(divide="ignore", invalid="ignore"):
        det = a11 * a22 - a12**2
        cands = [((a22 * r1 - a12 * r2) / det, (a11 * r2 - a12 * r1) / det)]
        for v in (0.0, 1.0):
            cands.append((np.full_like(r1, v), np.clip((r2 - a12 * v) / a22, 0.0, 1.0)))
            cands.append((np.clip((r1 - a12 * v) / a11, 0.0, 1.0), np.full_like(r1, v)))
        same = np.clip((r1 + r2) / (a11 + 2 * a12 + a22), 0.0, 1.0)
        cands.append((same, same))
    best = np.full(r1.shape, np.inf)
    b_best, p_best = np.zeros_like(r1), np.zeros_like(r1)
    for b, p in cands:
        ok = np.isfinite(b) & np.isfinite(p) & (b >= 0) & (p <= 1) & (p >= b)
        with np.errstate(invalid="ignore"):
            sse = np.where(
                ok, yy - 2 * (b * r1 + p * r2) + a11 * b * b + 2 * a12 * b * p + a22 * p * p, np.inf
            )
        better = sse < best
        best, b_best, p_best = (
            np.where(better, sse, best),
            np.where(better, b, b_best),
            np.where(better, p, p_best),
        )
    return best, b_best, p_best


def fit_bounded_sigmoid(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares ``(floor, plateau, k, mid)`` of a rising sigmoid in ``x`` with
    0 <= floor <= plateau <= 1, k >= 0 and mid <= max(x): an exact grid over (k, mid) with the floor
    and plateau solved exactly, then a bounded least-squares polish.

    Example:
        >>> x = np.linspace(0, 10, 12)
        >>> y = 0.25 + 0.5 / (1 + np.exp(-1.5 * (x - 6.0)))
        >>> np.round(fit_bounded_sigmoid(x, y), 3).tolist()
        [0.25, 0.75, 1.5, 6.0]
    """
    k, mid = np.meshgrid(K_GRID, np.linspace(x[0] - 2.0, x[-1], MID_STEPS), indexing="ij")
    k, mid = k.ravel(), mid.ravel()
    sse, b, p = _box_floor_plateau(_sigmoid(k[:, None] * (x[None, :] - mid[:, None])), y)
    i = int(np.argmin(sse))
    # polish in (floor, u, k, mid) with plateau = floor + (1 - floor) u: every bound is a box
    u0 = 0.0 if b[i] >= 1 else (p[i] - b[i]) / (1.0 - b[i])
    lower, upper = np.array([0.0, 0.0, 0.0, x[0] - 10.0]), np.array([1.0, 1.0, 100.0, x[-1]])
    start = np.clip([b[i], u0, k[i], mid[i]], lower, upper)

    def resid(th: np.ndarray) -> np.ndarray:
        return th[0] + (1.0 - th[0]) * th[1] * _sigmoid(th[2] * (x - th[3])) - y

    fit = least_squares(resid, start, bounds=(lower, upper))
    th = fit.x if 2.0 * fit.cost < sse[i] else start
    return np.array([th[0], th[0] + (1.0 - th[0]) * th[1], th[2], th[3]])


class SigmoidTokens(_Baseline):
    name = "sigmoid-tokens"
    description = "a rising sigmoid in log tokens per problem (plateau <= 1, midpoint <= last context point)"

    def check(self, setting: Setting, columns: Sequence[str]) -> str | None:
        if setting.kind != "evals":
            return "a sigmoid for scores in [0, 1]: evals tables only"
        return None if setting.trajectory else TRAJECTORY_ONLY

    def _trajectory(self, t: np.ndarray, y: np.ndarray, t_new: np.ndarray) -> np.ndarray:
        outside = y[(y < 0) | (y > 1)]
        if outside.size:
            raise BacktestError(f"sigmoid-tokens needs scores in [0, 1]; a context holds {outside[0]:g}")
        x = np.log(t)
        if len(np.unique(x)) < 3:
            return np.full(t_new.shape, y[-1])
        floor, plateau, k, mid = fit_bounded_sigmoid(x, y)
        return floor + (plateau - floor) * _sigmoid(k * (np.log(t_new) - mid))
