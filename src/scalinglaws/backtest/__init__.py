"""Backtests: how would each law or forecaster have done had it been used on the data we had back then?

* :mod:`~scalinglaws.backtest.data`: what a table predicts and what one problem is; :func:`select_data`
  narrows a table (for evals: zero-shot, acc_norm else acc, as the Pythia baselines were measured);
* :mod:`~scalinglaws.backtest.splits`: :class:`ComputeSplit`, :class:`SizeSplit`, :class:`TimeSplit`,
  :class:`FamilySplit`, :class:`TaskSplit` yield (train, test) :class:`Fold` pairs;
* :mod:`~scalinglaws.backtest.methods`: the :class:`Method` contract; :mod:`~scalinglaws.backtest.registry`:
  :func:`available_methods`, :func:`get_method`, :func:`register_method` (the baselines of
  :mod:`~scalinglaws.backtest.baselines` and an adapter per registered law);
* :mod:`~scalinglaws.backtest.metrics`: errors, ranking accuracy, interval coverage, noise floors;
* :mod:`~scalinglaws.backtest.runner`: :func:`backtest`, on this process, a local process pool or a Dask
  cluster (:mod:`~scalinglaws.backtest.executors`), with results identical whatever the executor;
* :mod:`~scalinglaws.backtest.report`: the leaderboard (markdown, JSON) in a :class:`BacktestResult`.

Example:
    >>> from scalinglaws.backtest import TimeSplit, backtest, select_data
    >>> from scalinglaws import datasets
    >>> pythia = select_data(datasets.load("pythia"), where={"run": ["pythia-70m"]})
    >>> res = backtest(pythia, TimeSplit(0.2), ["last-value", "line3"], executor="serial")
    >>> res.leaderboard.query("group == 'all'")[["method", "mae"]].round(2).values.tolist()
    [['last-value', 2.23], ['line3', 3.2]]
"""

from __future__ import annotations

from scalinglaws.backtest.data import Table, as_table, select_data, task_group
from scalinglaws.backtest.errors import BacktestError, SchedulerUnreachableError
from scalinglaws.backtest.lawmethods import LawMethod
from scalinglaws.backtest.methods import Method, Prediction, Setting
from scalinglaws.backtest.registry import available_methods, get_method, register_method
from scalinglaws.backtest.report import BacktestResult
from scalinglaws.backtest.runner import backtest
from scalinglaws.backtest.splits import (
    SPLITS,
    ComputeSplit,
    FamilySplit,
    Fold,
    SizeSplit,
    Split,
    TaskSplit,
    TimeSplit,
)

__all__ = [
    "SPLITS",
    "BacktestError",
    "BacktestResult",
    "ComputeSplit",
    "FamilySplit",
    "Fold",
    "LawMethod",
    "Method",
    "Prediction",
    "SchedulerUnreachableError",
    "Setting",
    "SizeSplit",
    "Split",
    "Table",
    "TaskSplit",
    "TimeSplit",
    "as_table",
    "available_methods",
    "backtest",
    "get_method",
    "register_method",
    "select_data",
    "task_group",
]
