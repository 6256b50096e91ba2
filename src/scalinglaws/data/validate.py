"""Validation: turn a raw frame into a :class:`~scalinglaws.data.tables.Runs` or ``Evals`` table.

Every problem raises :class:`~scalinglaws.errors.DataValidationError` with a one-line message naming the
source, the column and up to 10 offending rows (1-based data rows: the first row under the header is row 1).
Nothing is dropped silently: rows that are kept out of the table (diverged runs, rows flagged in an
``exclude`` column, non-finite eval scores) go to ``excluded`` with a reason, and every default that was
filled in or column that was computed is written to ``notes``.

Divergence rule (runs): a run is flagged *diverged* and all its rows excluded when, among its rows not
flagged by ``exclude``, (1) any loss is NaN or infinite, or (2) any loss exceeds ``max_loss`` (1e6), or
(3) its last loss (largest ``step``, else ``tokens``) exceeds ``explode_factor`` times its minimum loss
(only checked where the minimum is > 0 and the run has two or more rows).

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"run": ["a", "a", "b", "b"], "step": [1, 2, 1, 2], "params": 1e8,
    ...                    "tokens": [1e9, 2e9, 1e9, 2e9], "loss": [3.5, 3.2, 3.4, float("nan")]})
    >>> runs = validate_runs(df, source="runs.csv")
    >>> len(runs), runs.excluded["reason"].iloc[0]
    (2, 'diverged: non-finite loss in row 4 (value nan)')
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scalinglaws.compute import (
    DEFAULT_CONVENTION,
    ComputeError,
    flops,
    get_convention,
    tokens_from_flops,
)
from scalinglaws.data._checks import (
    MAX_LISTED,
    all_excluded,
    as_int,
    check_full_duplicates,
    check_keys,
    check_range,
    check_text,
    exclude_reasons,
    fill_text,
    format_rows,
    format_value,
    note_exclusions,
    parse_numeric,
    require,
    split,
    start,
)
from scalinglaws.data.schema import (
    DEFAULT_FAMILY,
    DEFAULT_METRIC,
    EVALS_COLUMNS,
    EVALS_EXTRA_KEYS,
    EVALS_KEY,
    EVALS_NUMERIC,
    EVALS_REQUIRED,
    RUNS_COLUMNS,
    RUNS_NUMERIC,
    RUNS_POSITIVE,
)
from scalinglaws.data.tables import Evals, Runs
from scalinglaws.errors import DataValidationError

__all__ = ["MAX_LISTED", "format_rows", "parse_numeric", "validate_evals", "validate_runs"]

_SHAPE_EXTRAS = ("seq_len", "params_nonembedding")  # extra columns some FLOP conventions need

# ----------------------------------------------------------------------------------------- runs


def _fill_tokens_flops(
    frame: pd.DataFrame, src: str, rows: np.ndarray, convention: str, notes: list[str]
) -> None:
    shape = {k: frame[k].to_numpy(float) for k in ("width", "depth", *_SHAPE_EXTRAS) if k in frame}
    params = frame["params"].to_numpy(float)

    def compute(target: str, mask: np.ndarray) -> None:
        sub = {k: v[mask] for k, v in shape.items()}
        try:
            with np.errstate(divide="ignore", invalid="ignore"):
                if target == "flops":
                    out = flops(params[mask], frame["tokens"].to_numpy(float)[mask], convention, **sub)
                else:
                    out = tokens_from_flops(
                        frame["flops"].to_numpy(float)[mask], params[mask], convention, **sub
                    )
        except ComputeError as exc:
            raise DataValidationError(f"{src}: cannot compute '{target}': {exc}") from None
        frame.loc[mask, target] = out
        where = "every row" if mask.all() else format_rows(rows[mask])
        source = "tokens" if target == "flops" else "flops"
        notes.append(f"'{target}' computed from params and {source} ({convention}) for {where}")

    for target, other in (("tokens", "flops"), ("flops", "tokens")):
        if target not in frame.columns:
            frame[target] = np.nan
            compute(target, np.ones(len(frame), bool))
        elif other in frame.columns:
            gap = (frame[target].isna() & frame[other].notna()).to_numpy()
            if gap.any():
                compute(target, gap)


def _diverged(
    frame: pd.DataFrame,
    keep: np.ndarray,
    rows: np.ndarray,
    order: str,
    explode_factor: float | None,
    max_loss: float,
) -> dict[str, str]:
    sub = frame.loc[keep, ["run", order, "loss"]].assign(_row=rows[keep])
    loss = sub["loss"].to_numpy()
    out: dict[str, str] = {}
    for mask, text in (
        (~np.isfinite(loss), "non-finite loss"),
        (np.isfinite(loss) & (loss > max_loss), f"loss above {max_loss:g}"),
    ):
        for run, g in sub[mask].groupby("run", sort=False):
            out.setdefault(str(run), f"diverged: {text} in {format_rows(g['_row'], g['loss'])}")
    if explode_factor is not None:
        ordered = sub.sort_values(order, kind="mergesort").groupby("run", sort=False)
        last, low = ordered["loss"].last(), ordered["loss"].min()
        last_row = ordered["_row"].last()
        flag = (low > 0) & (last > explode_factor * low) & (ordered.size() > 1)
        for run in flag[flag].index:
            out.setdefault(
                str(run),
                f"diverged: last loss {last[run]:.6g} (row {last_row[run]}) exceeds "
                f"{explode_factor:g} x the run's minimum loss {low[run]:.6g}",
            )
    return out


def validate_runs(
    df: pd.DataFrame,
    source: str = "<table>",
    *,
    convention: str = DEFAULT_CONVENTION,
    on_diverged: str = "exclude",
    explode_factor: float | None = 1.5,
    max_loss: float = 1e6,
    source_rows: Sequence[int] | None = None,
) -> Runs:
    """Validate a raw runs frame and return :class:`~scalinglaws.data.tables.Runs`.

    Args:
        df: one row per (run, checkpoint); needs ``params``, ``loss`` and ``tokens`` or ``flops``.
            A checkpoint is identified by ``(run, step)``, or ``(run, tokens)`` without a ``step``
            column; a repeated key is an error.
        source: the file name used in messages and stored on the result.
        convention: FLOP convention used to fill a missing ``tokens`` or ``flops`` column.
        on_diverged: ``"exclude"`` moves diverged runs to ``excluded``; ``"error"`` raises instead.
        explode_factor: a run whose last loss exceeds this multiple of its minimum is diverged
            (``None`` turns the check off).
        max_loss: a finite loss above this marks the run as diverged.
        source_rows: the 1-based data row of each row in the original file, when ``df`` was reshaped
            from it (default: ``1..len(df)``).

    Example:
        >>> import pandas as pd
        >>> runs = validate_runs(pd.DataFrame({"params": [1e8, 0], "flops": [1.2e18, 1e18],
        ...                                    "loss": [3.0, 3.1]}), source="runs.csv")
        Traceback (most recent call last):
        ...
        scalinglaws.errors.DataValidationError: runs.csv: column 'params': non-positive values \
in row 2 (value 0)
    """
    src = str(source)
    if on_diverged not in ("exclude", "error"):
        raise ValueError(f"on_diverged must be 'exclude' or 'error', not {on_diverged!r}")
    get_convention(convention)
    frame, rows = start(df, src, source_rows)
    require(frame, src, ("params", "loss"), ("tokens", "flops"))
    for col in (*RUNS_NUMERIC, *_SHAPE_EXTRAS):
        if col in frame.columns:
            frame[col] = parse_numeric(frame[col], col, src, rows)
    notes: list[str] = []
    reasons = exclude_reasons(frame)
    user = reasons != ""
    keep = ~user

    has_step = "step" in frame.columns
    if has_step:
        check_range(frame, "step", src, rows, np.ones(len(frame), bool),
                     required=True, positive=False, integer=True)  # fmt: skip
    check_full_duplicates(frame, src, rows)
    if "run" in frame.columns:
        check_text(frame, "run", src, rows)
    else:
        frame.insert(0, "run", [f"row-{r}" for r in rows])
        notes.append(f"no 'run' column: each row is its own run, named row-{rows[0]} ... row-{rows[-1]}")
    if "family" in frame.columns:
        check_text(frame, "family", src, rows)
    else:
        fill_text(frame, "family", DEFAULT_FAMILY, notes)

    for col in RUNS_POSITIVE:
        if col in frame.columns and col not in ("tokens", "flops"):
            check_range(frame, col, src, rows, keep, required=col == "params", positive=True)
    _fill_tokens_flops(frame, src, rows, convention, notes)
    for col in ("tokens", "flops"):
        check_range(frame, col, src, rows, keep, required=True, positive=True)
    check_keys(frame, src, rows, ("run", "step" if has_step else "tokens"))

    order = "step" if has_step else "tokens"
    diverged = _diverged(frame, keep, rows, order, explode_factor, max_loss)
    if diverged and on_diverged == "error":
        run, reason = next(iter(diverged.items()))
        more = f" (and {len(diverged) - 1} more diverged runs)" if len(diverged) > 1 else ""
        raise DataValidationError(f"{src}: column 'loss': run {run!r} {reason}{more}")
    for run, reason in diverged.items():
        reasons[keep & (frame["run"] == run).to_numpy()] = reason
    note_exclusions(notes, reasons, user, f"of {len(diverged)} diverged runs")

    as_int(frame, ("step", "width", "depth", "seed"))
    table, excluded = split(frame, reasons, rows, RUNS_COLUMNS)
    if table.empty:
        raise all_excluded(src, "runs", excluded)
    return Runs(table, excluded, src, convention, tuple(notes))


# ---------------------------------------------------------------------------------------- evals


def validate_evals(
    df: pd.DataFrame,
    source: str = "<table>",
    *,
    extra_keys: Sequence[str] | None = None,
    source_rows: Sequence[int] | None = None,
) -> Evals:
    """Validate a raw evals frame and return :class:`~scalinglaws.data.tables.Evals`.

    Needs ``run``, ``task`` and ``value``; ``family`` defaults to ``'default'`` and ``metric`` to
    ``'score'`` (with a note); ``params``, ``step``, ``tokens`` and ``stderr`` are NaN where not given.
    Rows are keyed by ``(run, step, task, metric)`` plus ``extra_keys`` (default: ``num_fewshot`` when
    present). Rows with a NaN or infinite ``value`` are excluded with a reason.

    Args:
        df: one row per (run, checkpoint, task, metric).
        source: the file name used in messages and stored on the result.
        extra_keys: further columns that tell rows apart (e.g. ``num_fewshot``).
        source_rows: the 1-based data row of each row in the original file (default ``1..len(df)``).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"run": "m", "step": [1, 1], "task": "piqa", "value": [0.5, 0.6],
        ...                    "num_fewshot": [0, 5]})
        >>> ev = validate_evals(df, source="evals.csv")
        >>> ev.table["metric"].tolist(), ev.notes[1]
        (['score', 'score'], "no 'metric' column: set to 'score' for every row")
    """
    src = str(source)
    frame, rows = start(df, src, source_rows)
    require(frame, src, EVALS_REQUIRED)
    for col in EVALS_NUMERIC:
        if col in frame.columns:
            frame[col] = parse_numeric(frame[col], col, src, rows)
    notes: list[str] = []
    reasons = exclude_reasons(frame)
    user = reasons != ""
    keep = ~user
    everywhere = np.ones(len(frame), bool)

    for col in ("run", "task"):
        check_text(frame, col, src, rows)
    for col, default in (("family", DEFAULT_FAMILY), ("metric", DEFAULT_METRIC)):
        if col in frame.columns:
            check_text(frame, col, src, rows)
        else:
            fill_text(frame, col, default, notes)
    if "step" in frame.columns:
        check_range(frame, "step", src, rows, everywhere, required=True, positive=False,
                     integer=True)  # fmt: skip
    if "num_fewshot" in frame.columns:
        check_range(frame, "num_fewshot", src, rows, everywhere, required=False, positive=False,
                     integer=True)  # fmt: skip
    for col, positive in (("params", True), ("tokens", False), ("stderr", False)):
        if col in frame.columns:
            check_range(frame, col, src, rows, keep, required=False, positive=positive)
    absent = [c for c in ("params", "step", "tokens", "stderr") if c not in frame.columns]
    for col in absent:
        frame[col] = np.nan
    if absent:
        notes.append(f"not given, set to NaN: {', '.join(absent)}")

    extra = [k for k in EVALS_EXTRA_KEYS if k in frame.columns] if extra_keys is None else extra_keys
    require(frame, src, list(extra))
    check_full_duplicates(frame, src, rows)
    check_keys(frame, src, rows, (*EVALS_KEY, *extra))

    value = frame["value"].to_numpy(float)
    bad = keep & ~np.isfinite(value)
    for i in np.flatnonzero(bad):
        reasons[i] = f"non-finite value ({format_value(value[i])})"
    note_exclusions(notes, reasons, user, "with a non-finite value")

    as_int(frame, ("step", "num_fewshot"))
    table, excluded = split(frame, reasons, rows, EVALS_COLUMNS)
    if table.empty:
        raise all_excluded(src, "rows", excluded)
    return Evals(table, excluded, src, tuple(notes))
