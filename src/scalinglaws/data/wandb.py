"""Reader for Weights & Biases history exports (CSV, or any format :func:`read_table` reads) into ``Runs``.

Two layouts are understood:

* **single run** (``run.history()`` saved to CSV, or a run's "Download CSV"): a step column (``_step``,
  else ``Step``/``step``/``global_step``/``trainer/global_step``) and metric columns such as
  ``train/loss``; ``_runtime``, ``_timestamp`` and other metrics are ignored.
* **panel export** (a line plot's "Export CSV"): ``Step`` and ``<run name> - <metric>`` columns for several
  runs, plus ``__MIN``/``__MAX`` band columns, which are ignored. Each run becomes one run.

W&B logs metrics at different steps, so blank cells are normal: rows with a blank loss (or tokens) are
dropped for that run and counted in ``notes``. A cell that reads ``NaN`` or ``inf`` is a logged value, so
the run is flagged as diverged (see :mod:`scalinglaws.data.validate`). Rows with ``tokens == 0`` (the
step-0 checkpoint) are kept in ``excluded`` with the reason ``'no tokens seen yet (tokens = 0)'``.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "history.csv"
    >>> _ = path.write_text("_step,_runtime,train/loss,train/lr\\n0,1,10.9,0\\n"
    ...                     "100,50,4.2,\\n200,99,3.8,1e-3\\n")
    >>> runs = read_wandb_history(path, params=1.2e8, tokens_per_step=524288)
    >>> runs.table[["run", "step", "tokens", "loss"]].values.tolist()
    [['history', 100, 52428800.0, 4.2], ['history', 200, 104857600.0, 3.8]]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from scalinglaws.compute import DEFAULT_CONVENTION
from scalinglaws.data.readers import SUFFIXES, read_table
from scalinglaws.data.tables import Runs
from scalinglaws.data.validate import parse_numeric, validate_runs
from scalinglaws.errors import DataValidationError

__all__ = ["LOSS_COLUMNS", "STEP_COLUMNS", "TOKEN_COLUMNS", "read_wandb_history"]

#: Step columns of a single-run history, in order of preference.
STEP_COLUMNS = ("_step", "Step", "step", "global_step", "trainer/global_step")

#: Loss metric names picked automatically when exactly one of them is present.
LOSS_COLUMNS = (
    "loss",
    "train/loss",
    "train_loss",
    "training_loss",
    "train/lm_loss",
    "lm_loss",
    "eval/loss",
    "eval_loss",
    "val/loss",
    "val_loss",
    "valid/loss",
    "validation/loss",
)

#: Cumulative-token metric names used when ``tokens_per_step`` is not given.
TOKEN_COLUMNS = ("tokens", "train/tokens", "num_tokens", "tokens_seen", "train/tokens_seen")

_BANDS = ("__MIN", "__MAX")


def _pick_loss(names: list[str], given: str | None, src: str) -> str:
    """The loss metric: ``given``, else the one known name present, else the one containing 'loss'."""
    if given is not None:
        if given not in names:
            raise DataValidationError(
                f"{src}: loss column {given!r} not found; metrics present: {', '.join(names)}"
            )
        return given
    hits = [n for n in LOSS_COLUMNS if n in names]
    candidates = hits or [n for n in names if "loss" in n.lower()]
    if len(candidates) == 1:
        return candidates[0]
    listed = ", ".join(candidates) if candidates else f"none; metrics present: {', '.join(names)}"
    raise DataValidationError(
        f"{src}: cannot pick the loss column, pass loss_column=...; candidates: {listed}"
    )


def _split_runs(
    frame: pd.DataFrame, src: str, notes: list[str]
) -> tuple[dict[str, pd.DataFrame], str, bool]:
    """Per run, a frame of its metrics plus ``step`` and ``_row`` (1-based data row); the step column's
    name in the file; whether the file is a panel export."""
    rows = np.arange(1, len(frame) + 1)
    wide = "Step" in frame.columns and any(" - " in str(c) for c in frame.columns)
    if not wide:
        step = next((c for c in STEP_COLUMNS if c in frame.columns), None)
        if step is None:
            raise DataValidationError(
                f"{src}: no step column; expected one of {', '.join(STEP_COLUMNS)}; columns "
                f"present: {', '.join(map(str, frame.columns))}"
            )
        single = frame.drop(columns=[c for c in STEP_COLUMNS if c in frame.columns and c != step])
        return {"": single.rename(columns={step: "step"}).assign(_row=rows)}, step, False
    bands = [c for c in frame.columns if str(c).endswith(_BANDS)]
    if bands:
        notes.append(f"ignored {len(bands)} __MIN/__MAX band columns of the panel export")
    per_run: dict[str, dict[str, pd.Series]] = {}
    for col in frame.columns:
        if col == "Step" or col in bands or " - " not in str(col):
            continue
        name, metric = str(col).rsplit(" - ", 1)
        per_run.setdefault(name, {})[metric] = frame[col]
    runs = {
        name: pd.DataFrame({"step": frame["Step"], **metrics, "_row": rows})
        for name, metrics in per_run.items()
    }
    return runs, "Step", True


def _per_run(value: float | Mapping[str, float], run: str, what: str, src: str) -> float:
    if isinstance(value, Mapping):
        if run not in value:
            raise DataValidationError(
                f"{src}: no {what} given for run {run!r}; pass {what}={{run name: value}} "
                f"(given for: {', '.join(map(repr, value)) or 'none'})"
            )
        return float(value[run])
    return float(value)


def read_wandb_history(
    path: str | Path,
    params: float | Mapping[str, float],
    tokens_per_step: float | Mapping[str, float] | str | None = None,
    run: str | None = None,
    loss_column: str | None = None,
    family: str | None = None,
    convention: str = DEFAULT_CONVENTION,
    **validate_kw: object,
) -> Runs:
    """Read a W&B history export into a validated :class:`~scalinglaws.data.tables.Runs`.

    Args:
        path: the exported file.
        params: parameter count; in a panel export one for all runs or a mapping run name -> count.
        tokens_per_step: tokens per step (a number, or a mapping run name -> number), or the name of a
            cumulative-tokens metric; when ``None`` one of :data:`TOKEN_COLUMNS` is used if present.
        run: the run name for a single-run file (default: the file stem); in a panel export, keep only
            this run.
        loss_column: the loss metric; picked automatically when unambiguous (see :data:`LOSS_COLUMNS`).
        family: the family of every run (default ``'default'``).
        convention: FLOP convention for the ``flops`` column.
        **validate_kw: passed to :func:`~scalinglaws.data.validate.validate_runs`.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "panel.csv"
        >>> _ = path.write_text("Step,a - loss,a - loss__MIN,a - loss__MAX,b - loss\\n"
        ...                     "10,4.0,4.0,4.0,3.9\\n20,3.5,3.5,3.5,\\n")
        >>> runs = read_wandb_history(path, params={"a": 1e7, "b": 2e7}, tokens_per_step=1000)
        >>> runs.table[["run", "params", "step", "loss"]].values.tolist()
        [['a', 10000000.0, 10, 4.0], ['a', 10000000.0, 20, 3.5], ['b', 20000000.0, 10, 3.9]]
    """
    src = str(path)
    notes: list[str] = []
    table = read_table(path, text_columns=(), na_text=("",))  # a blank cell is "not logged here"
    per_run, step_col, wide = _split_runs(table, src, notes)
    if not wide:
        name = Path(path).name
        stem = next(name[: len(name) - len(s)] for s in (*SUFFIXES, "") if name.lower().endswith(s))
        per_run = {run or stem: per_run[""]}
    elif run is not None:
        if run not in per_run:
            raise DataValidationError(f"{src}: no run {run!r}; runs: {', '.join(per_run)}")
        per_run = {run: per_run[run]}
    metrics = sorted({m for f in per_run.values() for m in f.columns if m not in ("step", "_row")})
    loss = _pick_loss(metrics, loss_column, src)
    token_col = tokens_per_step if isinstance(tokens_per_step, str) else None
    if token_col is not None and token_col not in metrics:
        raise DataValidationError(
            f"{src}: tokens column {token_col!r} not found; metrics present: {', '.join(metrics)}"
        )
    if tokens_per_step is None:
        found = [c for c in TOKEN_COLUMNS if c in metrics]
        if len(found) != 1:
            raise DataValidationError(
                f"{src}: cannot compute tokens: pass tokens_per_step (tokens per step, or the name "
                f"of a cumulative-tokens column); metrics present: {', '.join(metrics)}"
            )
        token_col = found[0]
    parts = []
    for name, sub in per_run.items():
        need = [loss] + ([token_col] if token_col else [])
        blank = sub[need].isna().any(axis=1)
        if blank.any():
            what = " or ".join(repr(c) for c in need)
            notes.append(f"run {name!r}: dropped {int(blank.sum())} rows with a blank {what}")
        sub = sub[~blank]
        at = sub["_row"].to_numpy()
        prefix = f"{name} - " if wide else ""
        value = {c: parse_numeric(sub[c], prefix + c, src, at) for c in need}
        step = parse_numeric(sub["step"], step_col, src, at)
        if token_col:
            tokens = value[token_col]
        else:
            tokens = step * _per_run(tokens_per_step, name, "tokens_per_step", src)
        parts.append(
            pd.DataFrame(
                {
                    "run": name,
                    "params": _per_run(params, name, "params", src),
                    "step": step,
                    "tokens": tokens,
                    "loss": value[loss],
                    "_row": at,
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    if family is not None:
        frame.insert(1, "family", family)
    zero = frame["tokens"] == 0
    if zero.any():
        frame["exclude"] = np.where(zero, "no tokens seen yet (tokens = 0)", "")
    rows = frame.pop("_row").to_numpy()
    if frame.empty:
        raise DataValidationError(f"{src}: column {loss!r}: no rows with a loss value")
    result = validate_runs(frame, src, convention=convention, source_rows=rows, **validate_kw)
    notes.insert(0, f"read W&B history: loss from {loss!r}, {len(per_run)} run(s)")
    return dataclasses.replace(result, notes=tuple(notes) + result.notes)
