"""Shared checks behind :mod:`scalinglaws.data.validate`: message formatting, number parsing, range,
text, duplicate and exclusion checks. Internal: the public entry points are re-exported by ``validate``.

Every check raises :class:`~scalinglaws.errors.DataValidationError` with a one-line message naming the
source, the column and up to :data:`MAX_LISTED` offending rows (1-based data rows).

Example:
    >>> format_rows([3, 7], [-1.0, 0])
    'rows 3, 7 (values -1, 0)'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from scalinglaws.data.schema import EXCLUDE_COLUMN
from scalinglaws.data.tables import scalar_view
from scalinglaws.errors import DataValidationError

#: At most this many rows (and values) are listed in an error message.
MAX_LISTED = 10

_MISSING_TEXT = frozenset({"", "nan", "na", "n/a", "none", "null"})


def format_value(value: object) -> str:
    """A value as shown in messages: whole numbers without ``.0``, text quoted and cut at 40 chars."""
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | float | np.integer | np.floating):
        x = float(value)
        return str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def format_rows(rows: Iterable[int], values: Iterable[object] | None = None) -> str:
    """``'rows 3, 7 (values -1, 0)'``: at most :data:`MAX_LISTED` rows, then ``'(and K more)'``.

    Example:
        >>> format_rows([3, 7], [-1.0, 0])
        'rows 3, 7 (values -1, 0)'
        >>> format_rows(range(1, 13))
        'rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 (and 2 more)'
    """
    rows = [int(r) for r in rows]
    text = ("row " if len(rows) == 1 else "rows ") + ", ".join(map(str, rows[:MAX_LISTED]))
    if len(rows) > MAX_LISTED:
        text += f" (and {len(rows) - MAX_LISTED} more)"
    if values is not None:
        shown = [format_value(v) for v in list(values)[:MAX_LISTED]]
        text += f" ({'value' if len(rows) == 1 else 'values'} {', '.join(shown)}"
        text += ", ...)" if len(rows) > MAX_LISTED else ")"
    return text


def fail(src: str, column: str, problem: str, rows: np.ndarray, values: object = None) -> None:
    """Raise ``<src>: column '<column>': <problem> in rows ... (values ...)``."""
    vals = None if values is None else list(values)
    raise DataValidationError(f"{src}: column '{column}': {problem} in {format_rows(rows, vals)}")


def start(
    df: pd.DataFrame, src: str, source_rows: Sequence[int] | None
) -> tuple[pd.DataFrame, np.ndarray]:
    """A fresh-indexed copy of a non-empty ``df`` with text column names, and its 1-based row numbers."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        cols = ", ".join(map(str, df.columns))
        raise DataValidationError(
            f"{src}: empty table: no data rows" + (f" (columns: {cols})" if cols else "")
        )
    frame = df.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    dup = frame.columns[frame.columns.duplicated()]
    if len(dup):
        raise DataValidationError(f"{src}: duplicated column names: {', '.join(dup)}")
    rows = np.arange(1, len(frame) + 1) if source_rows is None else np.asarray(source_rows, int)
    if len(rows) != len(frame):
        raise ValueError(f"source_rows has {len(rows)} entries for {len(frame)} rows")
    return frame, rows


def require(frame: pd.DataFrame, src: str, required: Sequence[str], one_of: Sequence[str] = ()) -> None:
    """Raise unless ``frame`` has every ``required`` column and, if given, one of ``one_of``."""
    missing = [f"'{c}'" for c in required if c not in frame.columns]
    if one_of and not any(c in frame.columns for c in one_of):
        missing.append(" or ".join(f"'{c}'" for c in one_of))
    if missing:
        present = ", ".join(frame.columns)
        raise DataValidationError(
            f"{src}: missing required column(s) {', '.join(missing)}; columns present: {present}"
        )


def parse_numeric(
    values: pd.Series, column: str, source: str = "<table>", rows: Sequence[int] | None = None
) -> pd.Series:
    """Parse a column as float64; text that is not a number raises, naming the column and rows.

    Empty text and ``nan``, ``NA``, ``N/A``, ``none``, ``null`` (any case) read as NaN; ``inf`` as inf.

    Example:
        >>> parse_numeric(pd.Series(["1e9", "", "inf"]), "params").tolist()
        [1000000000.0, nan, inf]
        >>> parse_numeric(pd.Series(["1e9", "big"]), "params", "runs.csv")
        Traceback (most recent call last):
        ...
        scalinglaws.errors.DataValidationError: runs.csv: column 'params': non-numeric values in \
row 2 (value 'big')
    """
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    at = np.arange(1, len(values) + 1) if rows is None else np.asarray(rows, int)
    num = pd.to_numeric(values, errors="coerce")
    text = values.astype(str).str.strip().str.lower()
    bad = (num.isna() & values.notna() & ~text.isin(_MISSING_TEXT)).to_numpy()
    if bad.any():
        fail(source, column, "non-numeric values", at[bad], values[bad])
    return num.astype(float)


def check_range(
    frame: pd.DataFrame,
    col: str,
    src: str,
    rows: np.ndarray,
    mask: np.ndarray,
    *,
    required: bool,
    positive: bool,
    integer: bool = False,
) -> None:
    """Check ``col`` on the rows in ``mask``: present (if required), finite, > 0 or >= 0, integral."""
    v = frame[col].to_numpy(dtype=float)
    given = mask & ~np.isnan(v)
    checks = [
        (mask & np.isnan(v) if required else np.zeros(len(v), bool), "missing values"),
        (given & np.isinf(v), "non-finite values"),
        (given & (v <= 0 if positive else v < 0), "non-positive" if positive else "negative"),
        (given & (np.floor(v) != v) if integer else np.zeros(len(v), bool), "non-integer values"),
    ]
    for bad, problem in checks:
        if bad.any():
            text = problem if problem.endswith("values") else f"{problem} values"
            fail(src, col, text, rows[bad], v[bad])


def check_text(frame: pd.DataFrame, col: str, src: str, rows: np.ndarray) -> None:
    """Raise on blank cells in a text column, then store it as text."""
    text = frame[col]
    bad = (text.isna() | (text.astype(str).str.strip() == "")).to_numpy()
    if bad.any():
        fail(src, col, "missing values", rows[bad])
    frame[col] = text.astype(str)


def fill_text(frame: pd.DataFrame, col: str, default: str, notes: list[str]) -> None:
    """Add an absent text column set to ``default``, and say so in ``notes``."""
    frame[col] = default
    notes.append(f"no '{col}' column: set to {default!r} for every row")


def check_full_duplicates(frame: pd.DataFrame, src: str, rows: np.ndarray) -> None:
    """Raise on rows equal in every column to an earlier row, naming both."""
    frame = scalar_view(frame)
    full = frame.duplicated(keep="first").to_numpy()
    if full.any():
        group = frame.groupby(list(frame.columns), dropna=False, sort=False).ngroup().to_numpy()
        first = {g: rows[i] for i, g in reversed(list(enumerate(group)))}
        copies = [first[g] for g in group[full]]
        raise DataValidationError(
            f"{src}: all columns: fully duplicated {format_rows(rows[full])} "
            f"(copies of {format_rows(copies)})"
        )


def check_keys(frame: pd.DataFrame, src: str, rows: np.ndarray, key: Sequence[str]) -> None:
    """Raise on rows that share the values of the ``key`` columns."""
    dup = frame.duplicated(list(key), keep=False).to_numpy()
    if dup.any():
        values = list(frame.loc[dup, list(key)].itertuples(index=False, name=None))
        cols = ", ".join(f"'{c}'" for c in key)
        raise DataValidationError(
            f"{src}: columns {cols}: duplicate keys in {format_rows(rows[dup], values)}"
        )


def exclude_reasons(frame: pd.DataFrame) -> np.ndarray:
    """The ``exclude`` column as reasons: '' means keep."""
    reasons = np.full(len(frame), "", dtype=object)
    if EXCLUDE_COLUMN in frame.columns:
        for i, v in enumerate(frame[EXCLUDE_COLUMN]):
            if isinstance(v, bool | np.bool_):
                reasons[i] = f"flagged in column '{EXCLUDE_COLUMN}'" if v else ""
            elif not pd.isna(v):
                reasons[i] = str(v).strip()
    return reasons


def as_int(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Store count-like columns as int64 where every value is a finite whole number."""
    for col in columns:
        if col in frame.columns:
            v = frame[col].to_numpy(dtype=float)
            if np.isfinite(v).all() and (np.floor(v) == v).all():
                frame[col] = v.astype("int64")


def split(
    frame: pd.DataFrame, reasons: np.ndarray, rows: np.ndarray, canonical: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(included, excluded): canonical columns first, extras after, ``exclude`` dropped; the excluded
    frame gains ``reason`` and ``source_row``."""
    cols = [c for c in canonical if c in frame.columns]
    cols += [c for c in frame.columns if c not in canonical and c != EXCLUDE_COLUMN]
    keep = reasons == ""
    table = frame.loc[keep, cols].reset_index(drop=True)
    excluded = frame.loc[~keep, cols].reset_index(drop=True)
    excluded["reason"] = pd.Series(reasons[~keep], dtype=str)
    excluded["source_row"] = rows[~keep]
    return table, excluded


def all_excluded(src: str, what: str, excluded: pd.DataFrame) -> DataValidationError:
    """The error for a table whose every row was excluded, summing up the reasons."""
    counts = excluded["reason"].value_counts(sort=False)
    parts = [f"{n} row{'s' if n > 1 else ''}: {r}" for r, n in counts.items()]
    more = f" (and {len(parts) - 3} more reasons)" if len(parts) > 3 else ""
    return DataValidationError(f"{src}: all {what} excluded: {'; '.join(parts[:3])}{more}")


def note_exclusions(notes: list[str], reasons: np.ndarray, user: np.ndarray, what: str) -> None:
    """Add notes counting the rows flagged by the user and the rows excluded for ``what``."""
    if user.any():
        notes.append(f"excluded {int(user.sum())} rows flagged in column '{EXCLUDE_COLUMN}'")
    other = (reasons != "") & ~user
    if other.any():
        notes.append(f"excluded {int(other.sum())} rows {what} (reasons in excluded['reason'])")
