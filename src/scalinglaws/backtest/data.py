"""Tables as the backtest sees them: what is predicted, what one forecasting problem is, which axis is time.

A **runs** table predicts ``loss``; one problem is one run. An **evals** table predicts ``value`` (a score,
higher is better); one problem is one (run, task, metric[, num_fewshot]) trajectory, and a *series* is one
(task, metric[, num_fewshot]) across runs. :func:`select_data` narrows an evals table the way the Pythia
baselines in ``measured.md`` were measured (zero-shot, acc_norm where a task has it, else acc).

Example:
    >>> from scalinglaws.data import load_data
    >>> t = as_table(load_data("chinchilla"))
    >>> t.kind, t.target, t.keys, t.series
    ('runs', 'loss', ('run',), ())
    >>> task_group("hendrycksTest-anatomy"), task_group("piqa")
    ('mmlu', 'other')
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from scalinglaws.backtest.errors import BacktestError
from scalinglaws.data import Evals, Runs, validate_evals, validate_runs

__all__ = ["Table", "as_table", "compute_of", "select_data", "task_group", "time_column"]

#: Task-name prefixes of the MMLU subtasks (lm-eval-harness 0.3 and 0.4 names).
MMLU_PREFIXES = ("hendrycksTest-", "mmlu_", "mmlu-")


def task_group(task: str) -> str:
    """``'mmlu'`` for an MMLU subtask, else ``'other'`` (the groups ``measured.md`` reports)."""
    return "mmlu" if str(task).startswith(MMLU_PREFIXES) else "other"


@dataclass(frozen=True, eq=False)
class Table:
    """A validated table with what the backtest needs to know about it.

    Attributes:
        frame: the rows (canonical columns of :mod:`scalinglaws.data.schema`).
        kind: ``'runs'`` or ``'evals'``.
        source: where the rows came from (file, ``bundled:<name>``, ``<table>``).
        notes: what loading and selection did, one sentence each.
    """

    frame: pd.DataFrame
    kind: Literal["runs", "evals"]
    source: str
    notes: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        """The column forecast: ``loss`` (runs) or ``value`` (evals)."""
        return "loss" if self.kind == "runs" else "value"

    @property
    def series(self) -> tuple[str, ...]:
        """Columns naming one quantity across runs: ``()`` for runs, (task, metric, ...) for evals."""
        if self.kind == "runs":
            return ()
        return tuple(c for c in ("task", "metric", "num_fewshot") if c in self.frame.columns)

    @property
    def keys(self) -> tuple[str, ...]:
        """Columns naming one forecasting problem (one trajectory): the run, plus the series."""
        return ("run", *self.series)


def as_table(data: Any, source: str | None = None) -> Table:
    """A :class:`Table` from a ``Runs``/``Evals`` table, a :class:`Table` or a DataFrame (validated here;
    a frame with ``task`` and ``value`` columns holds evals, else runs)."""
    if isinstance(data, Table):
        return data
    if isinstance(data, Runs | Evals):
        kind: Literal["runs", "evals"] = "runs" if isinstance(data, Runs) else "evals"
        return Table(data.table, kind, source or data.source, data.notes)
    if isinstance(data, pd.DataFrame):
        src = source or "<table>"
        validated = (
            validate_evals(data, src) if {"task", "value"} <= set(data.columns) else validate_runs(data, src)
        )
        return as_table(validated, src)
    raise BacktestError(
        f"cannot backtest data of type {type(data).__name__}: pass a Runs/Evals table or a DataFrame"
    )


def time_column(frame: pd.DataFrame) -> str:
    """The axis along a run: ``tokens`` where every row has it, else ``step``."""
    for col in ("tokens", "step"):
        if col in frame.columns and np.all(np.isfinite(pd.to_numeric(frame[col]).to_numpy(float))):
            return col
    raise BacktestError(
        "the table needs finite 'tokens' (or 'step') in every row to place checkpoints in time"
    )


def compute_of(frame: pd.DataFrame) -> np.ndarray:
    """Training compute per row: ``flops``, else 6 x params x tokens, else the time axis (for ratios).

    Example:
        >>> compute_of(pd.DataFrame({"params": [1e8, np.nan], "tokens": [1e9, 2e9]})).tolist()
        [6e+17, 2000000000.0]
    """
    if "flops" in frame.columns:
        return frame["flops"].to_numpy(float)
    time = frame[time_column(frame)].to_numpy(float)
    if "params" in frame.columns:
        six_nd = 6.0 * frame["params"].to_numpy(float) * time
        return np.where(np.isfinite(six_nd), six_nd, time)
    return time


def select_data(
    data: Runs | Evals,
    *,
    where: Mapping[str, Sequence[Any]] | None = None,
    num_fewshot: int | None = 0,
    metric: str = "auto",
) -> Runs | Evals:
    """Narrow a table: rows matching ``where``; for evals one score per (run, checkpoint, task), the
    protocol of the Pythia baselines in ``measured.md``.

    Args:
        data: a validated runs or evals table.
        where: keep rows whose column value (compared as text) is one of the given values.
        num_fewshot: evals: keep rows with this ``num_fewshot`` (where the column exists); None keeps all.
        metric: evals: ``'auto'``: per task ``acc_norm`` where the task has it, else ``acc`` (tasks with
            neither are dropped, and a note says which); any other name keeps that metric only.

    Example:
        >>> from scalinglaws import datasets
        >>> ev = select_data(datasets.load("pythia"), where={"variant": ["standard"], "deduped": [False]})
        >>> t = ev.table
        >>> sorted(t["run"].unique())[:2], t["task"].nunique(), sorted(t["metric"].unique())
        (['pythia-1.4b', 'pythia-12b'], 65, ['acc', 'acc_norm'])
    """
    frame = data.table
    notes: list[str] = []
    keep = np.ones(len(frame), bool)
    for col, values in (where or {}).items():
        if col not in frame.columns:
            raise BacktestError(
                f"{data.source}: no column {col!r} to select on; columns: {', '.join(frame.columns)}"
            )
        keep &= frame[col].astype(str).isin([str(v) for v in values]).to_numpy()
        notes.append(f"kept rows with {col} in {sorted(map(str, values))}")
    if isinstance(data, Evals) and num_fewshot is not None and "num_fewshot" in frame.columns:
        keep &= (frame["num_fewshot"] == num_fewshot).to_numpy()
        notes.append(f"kept num_fewshot = {num_fewshot}")
    frame = frame[keep]
    if isinstance(data, Evals) and metric == "auto":
        by_task = frame.groupby("task", sort=True)["metric"].agg(set)
        chosen = {
            t: "acc_norm" if "acc_norm" in m else "acc" for t, m in by_task.items() if m & {"acc", "acc_norm"}
        }
        dropped = sorted(set(by_task.index) - set(chosen))
        frame = frame[frame["metric"] == frame["task"].map(chosen)]
        notes.append("metric: acc_norm where the task has it, else acc")
        if dropped:
            notes.append(f"dropped {len(dropped)} tasks without acc or acc_norm: {', '.join(dropped)}")
    elif isinstance(data, Evals):
        frame = frame[frame["metric"] == metric]
        notes.append(f"kept metric {metric!r}")
    if frame.empty:
        raise BacktestError(f"{data.source}: the selection ({'; '.join(notes)}) leaves no rows")
    return dataclasses.replace(data, table=frame.reset_index(drop=True), notes=data.notes + tuple(notes))
