"""The runner: every method on every fold of every dataset x split, gathered into one tidy table.

One *task* is (dataset, split, fold, method). Its seed comes from a hash of that key and the base seed,
and results are assembled in task order (datasets and splits as given, folds in split order, methods by
name, test rows by problem and time), so they are identical whatever the executor (this process, a local
process pool, a Dask cluster) and however many workers. A method that does not apply to a fold is recorded
as ``skipped`` with its reason; one that raises, as ``failed`` with the error.

Example:
    >>> from scalinglaws.data import load_data
    >>> res = backtest(load_data("chinchilla"), ComputeSplit(cuts=(1e20,)), ["last-value", "power"],
    ...                executor="serial")
    >>> res.leaderboard[["method", "n_targets"]].values.tolist()
    [['power', 104], ['last-value', 104]]
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from scalinglaws.backtest.data import Table, as_table, compute_of, task_group, time_column
from scalinglaws.backtest.errors import BacktestError
from scalinglaws.backtest.executors import Progress, run_tasks
from scalinglaws.backtest.methods import Method, Setting
from scalinglaws.backtest.metrics import HALF_NORMAL, jitter_sd_by_group, replicate_sd, stderr_floor
from scalinglaws.backtest.registry import available_methods, get_method
from scalinglaws.backtest.report import BacktestResult, build_result
from scalinglaws.backtest.splits import ComputeSplit, Fold, Split, TimeSplit

__all__ = ["COLUMNS", "QUANTILES", "backtest", "default_split", "task_seed"]

#: Quantile levels asked of methods that give them: the 80% and 50% central intervals.
QUANTILES = (0.1, 0.25, 0.75, 0.9)
Q_COLUMNS = ("q10", "q25", "q75", "q90")

#: Columns of the results table.
COLUMNS = (
    "dataset", "kind", "split", "fold", "method", "status", "note", "mode", "problem", "run", "task",
    "metric", "group", "time", "compute", "distance", "truth", "pred", *Q_COLUMNS, "stderr",
    "floor_stderr", "floor_seeds", "floor_jitter",
)
NUMERIC = COLUMNS[COLUMNS.index("time") :]


def task_seed(seed: int, key: Sequence[str]) -> int:
    """A seed for one task from the base seed and the task's key (stable across processes and runs).

    Example:
        >>> task_seed(0, ("chinchilla", "compute", "flops<=1e+20", "power"))
        938098092453958966
    """
    digest = hashlib.sha256("\x1f".join([str(seed), *key]).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def default_split(table: Table) -> Split:
    """Compute split for runs, time split for evals."""
    return ComputeSplit() if table.kind == "runs" else TimeSplit()


@dataclass(frozen=True)
class _Task:
    key: tuple[str, str, str, str]
    fold: Fold
    setting: Setting
    method: Method
    seed: int


@dataclass(frozen=True)
class _Outcome:
    status: Literal["ok", "failed"]
    note: str
    mean: np.ndarray | None = None
    quantiles: Mapping[float, np.ndarray] = field(default_factory=dict)


def _run_task(task: _Task) -> _Outcome:
    """Fit the method on the train rows and predict the test rows (without their target)."""
    method = copy.deepcopy(task.method)
    test = task.fold.test.drop(columns=[task.setting.target])
    levels = QUANTILES if method.gives_quantiles else ()
    try:
        pred = method.fit(task.fold.train, task.setting, seed=task.seed).predict(test, levels)
        mean = np.asarray(pred.mean, float)
        if mean.shape != (len(test),):
            raise BacktestError(f"predicted {mean.shape} values for {len(test)} test rows")
    except Exception as exc:  # a failing method is a result, not the end of the backtest
        message = " ".join(str(exc).split())
        return _Outcome("failed", f"{type(exc).__name__}: {message}")
    return _Outcome("ok", "", mean, {q: np.asarray(v, float) for q, v in pred.quantiles.items()})


def _problem_ids(frame: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """One string per row naming its problem: the key columns joined by '/'."""
    out = frame[keys[0]].astype(str).to_numpy(dtype=object)
    for key in keys[1:]:
        out = out + "/" + frame[key].astype(str).to_numpy(dtype=object)
    return out


def _last_per_group(codes: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Positions of the latest row of each group code."""
    order = np.lexsort((time, codes))
    return order[np.r_[codes[order][1:] != codes[order][:-1], True]]


def _row_columns(table: Table, time: str) -> dict[str, Any]:
    """Per-row arrays of a (sorted) table that the results need: computed once, indexed by every fold."""
    frame = table.frame
    evals = table.kind == "evals"
    task = frame["task"].astype(str).to_numpy(dtype=object) if evals else None
    stderr = frame["stderr"].to_numpy(float) if "stderr" in frame.columns else np.full(len(frame), np.nan)
    seeds = replicate_sd(frame, table.target, ["family", "params", time, *table.series])
    return {
        "problem": _problem_ids(frame, table.keys),
        "run": frame["run"].astype(str).to_numpy(dtype=object),
        "task": task,
        "metric": frame["metric"].astype(str).to_numpy(dtype=object) if evals else None,
        "group": np.array([task_group(t) for t in task], dtype=object) if evals else None,
        "time": frame[time].to_numpy(float),
        "compute": compute_of(frame),
        "truth": frame[table.target].to_numpy(float),
        "stderr": stderr,
        "floor_stderr": stderr_floor(stderr),
        "floor_seeds": HALF_NORMAL * seeds,
    }


def _fold_columns(name: str, kind: str, rows: Mapping[str, Any], fold: Fold) -> dict[str, Any]:
    """The method-independent columns of a fold's test rows: per-row arrays, distance and jitter floor.

    Extrapolation distance: test compute over the largest training compute (cross folds), or over the
    compute of the problem's last observed checkpoint, the anchor (trajectory folds). The jitter floor is
    taken over the anchor and the test checkpoints (trajectory folds), or the test checkpoints (cross).
    """
    test, train = fold.test_rows, fold.train_rows
    out: dict[str, Any] = {"dataset": name, "kind": kind, "split": fold.split, "fold": fold.name,
                           "mode": "trajectory" if fold.trajectory else "cross"}
    out |= {k: None if v is None else v[test] for k, v in rows.items()}
    codes, uniques = pd.factorize(out["problem"])
    time, truth, compute = out["time"], out["truth"], out["compute"]
    if fold.trajectory:
        train_codes = pd.Index(uniques).get_indexer(rows["problem"][train])
        mine = train_codes >= 0
        last = _last_per_group(train_codes[mine], rows["time"][train[mine]])
        anchor, anchor_codes = train[mine][last], train_codes[mine][last]
        anchor_compute = np.full(len(uniques), np.nan)
        anchor_compute[anchor_codes] = rows["compute"][anchor]
        out["distance"] = compute / anchor_compute[codes]
        sd = jitter_sd_by_group(np.r_[anchor_codes, codes], np.r_[rows["time"][anchor], time],
                                np.r_[rows["truth"][anchor], truth])
    else:
        out["distance"] = compute / rows["compute"][train].max()
        sd = jitter_sd_by_group(codes, time, truth)
    out["floor_jitter"] = HALF_NORMAL * sd[codes]
    return out


def _columns(
    base: Mapping[str, Any], method: str, outcome: _Outcome | None, note: str
) -> dict[str, np.ndarray]:
    """The rows of one (fold, method): one per test row when it ran, one when skipped or failed."""
    ran = outcome is not None and outcome.status == "ok"
    n = len(base["problem"]) if ran else 1
    status, note = ("skipped", note) if outcome is None else (outcome.status, outcome.note)
    per_fold = {"method": method, "status": status, "note": note}
    cols = {}
    for col in COLUMNS:
        value = base.get(col, per_fold.get(col))
        if isinstance(value, np.ndarray) and ran:
            cols[col] = value
        elif col in NUMERIC:
            cols[col] = np.full(n, np.nan)
        else:  # a fold-level value, or None (evals-only columns of a runs table; arrays of a skipped method)
            cols[col] = np.full(n, None if isinstance(value, np.ndarray) else value, dtype=object)
    if ran:
        cols["pred"] = outcome.mean
        for q, col in zip(QUANTILES, Q_COLUMNS, strict=True):
            cols[col] = outcome.quantiles.get(q, np.full(n, np.nan))
    return cols


def _datasets(data: Any) -> dict[str, Table]:
    """Name -> table; a single table is named after its source (bundled name, or file name)."""
    if isinstance(data, Mapping):
        return {str(name): as_table(d, str(name)) for name, d in data.items()}
    table = as_table(data)
    bundled = table.source.removeprefix("bundled:")
    return {bundled if bundled != table.source else Path(table.source).name: table}


def backtest(
    data: Any,
    splits: Split | Sequence[Split] | None = None,
    methods: Sequence[str | Method] | None = None,
    *,
    executor: Literal["auto", "serial", "processes", "dask"] = "auto",
    workers: int | None = None,
    scheduler: str | None = None,
    seed: int = 0,
    progress: bool = False,
) -> BacktestResult:
    """Evaluate ``methods`` on every fold of every dataset x split; one tidy results table + leaderboard.

    Args:
        data: a table (``Runs``, ``Evals``, DataFrame) or a mapping name -> table.
        splits: one or more :class:`~scalinglaws.backtest.splits.Split`; default: compute for runs, time
            for evals.
        methods: method names (see :func:`~scalinglaws.backtest.registry.available_methods`) or
            :class:`~scalinglaws.backtest.methods.Method` instances; default: every available method.
        executor: ``serial`` (this process), ``processes`` (a local process pool), ``dask`` (a Dask
            cluster: ``scheduler`` if given, else a LocalCluster on 127.0.0.1); ``auto`` is ``dask`` with a
            scheduler, else ``processes``. One worker (and no scheduler) means ``serial``.
        workers: number of worker processes (default: all cores).
        scheduler: a Dask scheduler address, ``tcp://host:port``.
        seed: base seed; each task's seed is :func:`task_seed` of it and the task's key.
        progress: show a progress bar on stderr.
    """
    tables = _datasets(data)
    split_list = [splits] if isinstance(splits, Split) else list(splits or [])
    chosen = sorted((get_method(m) if isinstance(m, str) else m for m in methods or available_methods()),
                    key=lambda m: m.name)
    names = [m.name for m in chosen]
    if len(set(names)) != len(names):
        raise BacktestError(f"method names must be distinct: {', '.join(names)}")
    if executor == "auto":
        executor = "dask" if scheduler else "processes"
    if workers == 1 and not scheduler:
        executor = "serial"

    plan: list[tuple[dict[str, Any], str, _Task | None, str]] = []  # fold columns, method, task, reason
    folds = []
    for name, table in tables.items():
        time = time_column(table.frame)
        # sorted once, so that every fold's test rows come by problem and time
        frame = table.frame.sort_values([*table.keys, time], kind="stable").reset_index(drop=True)
        table = dataclasses.replace(table, frame=frame)
        rows = _row_columns(table, time)
        for split in split_list or [default_split(table)]:
            for fold in split.split(table):
                setting = Setting(table.kind, table.target, table.keys, table.series, fold.trajectory, time)
                base = _fold_columns(name, table.kind, rows, fold)
                folds.append({"dataset": name, "split": fold.split, "fold": fold.name, "mode": base["mode"],
                              "train_rows": fold.train_rows.size, "test_rows": fold.test_rows.size,
                              "test_problems": len(set(base["problem"])), "notes": list(fold.notes)})
                for method in chosen:
                    reason = method.check(setting, list(frame.columns))
                    key = (name, fold.split, fold.name, method.name)
                    task = None if reason else _Task(key, fold, setting, method, task_seed(seed, key))
                    plan.append((base, method.name, task, reason or ""))

    tasks = [task for _, _, task, _ in plan if task is not None]
    bar = Progress(len(tasks), enabled=progress)
    try:
        done = iter(run_tasks(tasks, _run_task, executor=executor, workers=workers, scheduler=scheduler,
                              progress=bar))
    finally:
        bar.close()
    parts = [_columns(base, name, next(done) if task else None, why) for base, name, task, why in plan]
    results = pd.DataFrame({c: np.concatenate([p[c] for p in parts]) for c in COLUMNS})
    results[list(NUMERIC)] = results[list(NUMERIC)].astype(float)
    settings = {
        "splits": [repr(s) for s in split_list] or "default: compute for runs, time for evals",
        "methods": names,
        "seed": seed,
        "quantiles": list(QUANTILES),
    }
    datasets = [{"name": n, "kind": t.kind, "source": t.source, "rows": len(t.frame), "notes": list(t.notes)}
                for n, t in tables.items()]
    return build_result(results, pd.DataFrame(folds), datasets, settings)
