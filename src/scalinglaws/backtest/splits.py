"""Splits: small objects whose ``split(table)`` yields :class:`Fold` (train, test) pairs.

* :class:`ComputeSplit`: fit on rows at or below a FLOP cut, predict every row above it; several cuts
  (rolling origin).
* :class:`SizeSplit`: hold out the k largest model sizes.
* :class:`TimeSplit`: per run, observe the checkpoints up to a fraction of its final tokens (step 0 dropped)
  and predict every later checkpoint (the NeuNeu protocol, anchored at the last observed checkpoint).
* :class:`FamilySplit`, :class:`TaskSplit`: leave one family, or one group of tasks, out.

With a ``context_fraction`` the held-out problems keep their early checkpoints (up to that fraction of
each run's tokens) in the train set and only the later ones are tested: a *trajectory* fold, the set-up of
every accuracy forecast, which starts from the run's own first checkpoints. Without one, held-out rows are
wholly unseen (a *cross* fold: a law fitted on some runs predicts others). A split that would leave an
empty train or test set raises :class:`~scalinglaws.backtest.errors.BacktestError`.

Example:
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"run": list("abcd"), "params": [1e8, 2e8, 4e8, 8e8],
    ...                      "tokens": [2e9, 4e9, 8e9, 1.6e10], "loss": [3.2, 3.0, 2.8, 2.6]})
    >>> for train, test in ComputeSplit(cuts=(1e19,)).split(runs):
    ...     print(train["run"].tolist(), test["run"].tolist())
    ['a', 'b'] ['c', 'd']
    >>> [f.name for f in SizeSplit(k=1).split(runs)]
    ['top-1 sizes']
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from scalinglaws.backtest.data import Table, as_table, compute_of, task_group, time_column
from scalinglaws.backtest.errors import BacktestError

__all__ = ["ComputeSplit", "FamilySplit", "Fold", "SPLITS", "SizeSplit", "Split", "TaskSplit", "TimeSplit"]


@dataclass(frozen=True, eq=False)
class Fold:
    """One (train, test) pair; unpacks as ``train, test = fold``.

    A fold keeps the whole table and the positions of its rows, so that the folds of one table share it
    (cheap to build, and pickled once per batch of tasks sent to a worker).

    Attributes:
        split: the split's name (``compute``, ``size``, ``time``, ``family``, ``task``).
        name: this fold within the split (``flops<=1e+20``, ``f=0.2``, ...).
        frame: the table the fold cuts.
        train_rows, test_rows: positions in ``frame`` of the rows to fit on and of the rows to predict.
        trajectory: whether every test problem has its own earlier checkpoints in the train rows.
        notes: what the split dropped, one sentence each.
    """

    split: str
    name: str
    frame: pd.DataFrame
    train_rows: np.ndarray
    test_rows: np.ndarray
    trajectory: bool = False
    notes: tuple[str, ...] = ()

    @property
    def train(self) -> pd.DataFrame:
        """The rows to fit on."""
        return self.frame.iloc[self.train_rows]

    @property
    def test(self) -> pd.DataFrame:
        """The rows to predict."""
        return self.frame.iloc[self.test_rows]

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return iter((self.train, self.test))


def _check_fraction(fraction: float | None) -> None:
    if fraction is not None and not 0.0 < fraction < 1.0:
        raise BacktestError(f"context fraction must lie in (0, 1), got {fraction:g}")


def _problem_index(frame: pd.DataFrame, keys: Sequence[str]) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(frame[list(keys)].astype(str))


def _fold(
    table: Table, held: np.ndarray, split: str, name: str, context_fraction: float | None, hint: str
) -> Fold:
    """Hold out the rows in ``held``; with a context fraction their early checkpoints join the train set."""
    frame = table.frame
    notes: tuple[str, ...] = ()
    if context_fraction is None:
        train_mask, test_mask = ~held, held
    else:
        tcol = time_column(frame)
        t = frame[tcol].to_numpy(float)
        horizon = context_fraction * frame.groupby("run", sort=False)[tcol].transform("max").to_numpy(float)
        context = held & (t > 0) & (t <= horizon)
        target = held & (t > horizon)
        index = _problem_index(frame, table.keys)
        orphan = target & ~index.isin(index[context])
        if orphan.any():
            n = len(index[orphan].unique())
            notes = (f"{n} held-out problem(s) with no checkpoint in the context were left out",)
        train_mask, test_mask = ~held | context, target & ~orphan
    train, test = np.flatnonzero(train_mask), np.flatnonzero(test_mask)
    for part, rows in (("train", train), ("test", test)):
        if rows.size == 0:
            raise BacktestError(f"{split} split ({name}) leaves an empty {part} set: {hint}")
    return Fold(split, name, frame, train, test, context_fraction is not None, notes)


class Split(ABC):
    """A way to cut a table into (train, test) folds; subclasses set ``name`` and implement :meth:`split`."""

    name: ClassVar[str]

    @abstractmethod
    def split(self, data: Any) -> Iterator[Fold]:
        """Yield the folds of ``data`` (a Runs/Evals table, a DataFrame or a backtest Table)."""


@dataclass(frozen=True)
class ComputeSplit(Split):
    """Fit on rows with compute <= cut, predict every row above it; one fold per cut (rolling origin).

    Args:
        cuts: the FLOP cuts; default: the ``quantiles`` of the rows' (positive) compute on a log scale, to
            2 significant digits.
        quantiles: where the default cuts fall.

    Example:
        >>> runs = pd.DataFrame({"run": list("abcd"), "params": 1e8, "flops": [1e18, 1e19, 1e20, 1e21],
        ...                      "loss": [3.2, 3.0, 2.8, 2.6]})
        >>> [(f.name, f.test["run"].tolist()) for f in ComputeSplit(cuts=(3e18, 3e19)).split(runs)]
        [('flops<=3e+18', ['b', 'c', 'd']), ('flops<=3e+19', ['c', 'd'])]
    """

    cuts: tuple[float, ...] | None = None
    quantiles: tuple[float, ...] = (0.5, 0.7, 0.9)
    name: ClassVar[str] = "compute"

    def split(self, data: Any) -> Iterator[Fold]:
        table = as_table(data)
        compute = compute_of(table.frame)
        if self.cuts is not None:
            cuts = sorted({float(c) for c in self.cuts})
        else:
            raw = 10 ** np.quantile(np.log10(compute[compute > 0]), self.quantiles)
            cuts = sorted({float(f"{c:.2g}") for c in raw})
        for cut in cuts:
            hint = f"compute spans {compute.min():.3g} to {compute.max():.3g} FLOPs"
            yield _fold(table, compute > cut, self.name, f"flops<={cut:.3g}", None, hint)


@dataclass(frozen=True)
class SizeSplit(Split):
    """Hold out the ``k`` largest model sizes (distinct ``params``); a sequence of k gives one fold each.

    Example:
        >>> runs = pd.DataFrame({"run": list("abcd"), "params": [1e8, 1e8, 4e8, 8e8], "tokens": 2e9,
        ...                      "loss": [3.2, 3.1, 2.8, 2.6]})
        >>> [(f.name, f.train["run"].tolist()) for f in SizeSplit(k=(1, 2)).split(runs)]
        [('top-1 sizes', ['a', 'b', 'c']), ('top-2 sizes', ['a', 'b'])]
    """

    k: int | tuple[int, ...] = 3
    context_fraction: float | None = None
    name: ClassVar[str] = "size"

    def __post_init__(self) -> None:
        _check_fraction(self.context_fraction)
        if any(int(k) < 1 for k in np.atleast_1d(self.k)):
            raise BacktestError(f"size split: k must be >= 1, got {self.k}")

    def split(self, data: Any) -> Iterator[Fold]:
        table = as_table(data)
        params = table.frame["params"].to_numpy(float)
        sizes = np.unique(params[np.isfinite(params)])[::-1]
        for k in sorted({int(k) for k in np.atleast_1d(self.k)}):
            held = params >= sizes[min(k, len(sizes)) - 1]
            hint = f"the table has {len(sizes)} distinct model size(s)"
            yield _fold(table, held, self.name, f"top-{k} sizes", self.context_fraction, hint)


@dataclass(frozen=True)
class TimeSplit(Split):
    """Per run, observe checkpoints with 0 < tokens <= fraction x its final tokens; predict the later ones.

    Example:
        >>> ev = pd.DataFrame({"run": "m", "task": "piqa", "step": [0, 1, 2, 3, 4, 5],
        ...                    "tokens": [0, 10, 20, 30, 40, 50], "value": [.5, .5, .55, .6, .62, .63]})
        >>> train, test = next(TimeSplit(0.4).split(ev))
        >>> train["step"].tolist(), test["step"].tolist()
        ([1, 2], [3, 4, 5])
    """

    context_fraction: float = 0.2
    name: ClassVar[str] = "time"

    def __post_init__(self) -> None:
        _check_fraction(self.context_fraction)

    def split(self, data: Any) -> Iterator[Fold]:
        table = as_table(data)
        held = np.ones(len(table.frame), bool)
        hint = (
            f"no run has checkpoints both within and beyond {self.context_fraction:g} of its final "
            "tokens (a table of final losses has no trajectories)"
        )
        yield _fold(table, held, self.name, f"f={self.context_fraction:g}", self.context_fraction, hint)


@dataclass(frozen=True)
class FamilySplit(Split):
    """Leave one family out: one fold per family.

    Example:
        >>> runs = pd.DataFrame({"run": list("abc"), "family": ["x", "x", "y"], "params": 1e8,
        ...                      "tokens": [1e9, 2e9, 3e9], "loss": [3.2, 3.1, 3.0]})
        >>> [(f.name, f.test["run"].tolist()) for f in FamilySplit().split(runs)]
        [('family=x', ['a', 'b']), ('family=y', ['c'])]
    """

    context_fraction: float | None = None
    name: ClassVar[str] = "family"

    def __post_init__(self) -> None:
        _check_fraction(self.context_fraction)

    def split(self, data: Any) -> Iterator[Fold]:
        table = as_table(data)
        family = table.frame["family"].astype(str).to_numpy()
        names = sorted(set(family))
        if len(names) < 2:
            raise BacktestError(
                f"family split needs at least two families; the table has one ({names[0]!r}), so "
                "leaving it out leaves an empty train set"
            )
        for name in names:
            hint = "every run of the other families lacks checkpoints in the context"
            yield _fold(table, family == name, self.name, f"family={name}", self.context_fraction, hint)


@dataclass(frozen=True)
class TaskSplit(Split):
    """Leave one group of tasks out (evals). The held-out tasks keep their context checkpoints in train.

    Args:
        groups: task -> group name; tasks not listed form a group of their own. Default: the MMLU
            subtasks form one group, every other task its own.
        context_fraction: the part of each held-out run observed (the forecast starts from it).

    Example:
        >>> ev = pd.DataFrame({"run": "m", "task": ["a", "a", "b", "b"], "step": [1, 9, 1, 9],
        ...                    "tokens": [1, 9, 1, 9], "value": [.3, .4, .5, .6]})
        >>> [(f.name, f.test["task"].tolist()) for f in TaskSplit(context_fraction=0.5).split(ev)]
        [('tasks=a', ['a']), ('tasks=b', ['b'])]
    """

    groups: Mapping[str, str] | None = field(default=None, hash=False)
    context_fraction: float = 0.2
    name: ClassVar[str] = "task"

    def __post_init__(self) -> None:
        _check_fraction(self.context_fraction)

    def _group(self, task: str) -> str:
        if self.groups is not None:
            return self.groups.get(task, task)
        return "mmlu" if task_group(task) == "mmlu" else task

    def split(self, data: Any) -> Iterator[Fold]:
        table = as_table(data)
        if table.kind != "evals":
            raise BacktestError("task split needs an evals table (a 'task' column); this is a runs table")
        group = table.frame["task"].astype(str).map(self._group).to_numpy()
        names = sorted(set(group))
        if len(names) < 2:
            raise BacktestError(
                f"task split needs at least two task groups; the table has one ({names[0]!r})"
            )
        for name in names:
            hint = "the held-out tasks have no checkpoint beyond the context"
            yield _fold(table, group == name, self.name, f"tasks={name}", self.context_fraction, hint)


#: The splits by name, as the CLI offers them.
SPLITS: dict[str, type[Split]] = {
    s.name: s for s in (ComputeSplit, SizeSplit, TimeSplit, FamilySplit, TaskSplit)
}
