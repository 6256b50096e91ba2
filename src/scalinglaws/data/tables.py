"""The two validated tables, :class:`Runs` and :class:`Evals`, and their content hash.

Both are frozen dataclasses built by :mod:`scalinglaws.data.validate` (directly or through a reader); they
carry the included rows, the excluded rows with a reason each, where the data came from, and a log of what
validation did. Treat the frames as read-only: :meth:`Runs.to_frame` gives a copy to modify.

Example:
    >>> import pandas as pd
    >>> from scalinglaws.data.validate import validate_runs
    >>> runs = validate_runs(pd.DataFrame({"params": [1e8, 4e8], "tokens": [2e9, 8e9],
    ...                                    "loss": [3.1, 2.9]}))
    >>> runs
    Runs(source='<table>', rows=2, runs=2, excluded=0, convention='6ND')
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalinglaws.data.schema import EVALS_COLUMNS, RUNS_COLUMNS

__all__ = ["Evals", "Runs", "frame_hash", "scalar_view"]


def scalar_view(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with nested cell values (lists, dicts from JSON Lines) replaced by their ``repr``, so
    that rows can be compared, sorted and hashed.

    Example:
        >>> scalar_view(pd.DataFrame({"tags": [["a"], {"b": 1}]}))["tags"].tolist()
        ["['a']", "{'b': 1}"]
    """
    nested = [
        c
        for c in frame.columns
        if frame[c].dtype == object and frame[c].map(lambda v: isinstance(v, list | dict | set)).any()
    ]
    if not nested:
        return frame
    return frame.assign(**{c: frame[c].map(repr, na_action="ignore") for c in nested})


def _column_bytes(values: pd.Series) -> bytes:
    """A platform-independent byte form of one column: numbers as little-endian float64, else UTF-8."""
    if pd.api.types.is_bool_dtype(values):
        return b"b" + values.to_numpy(dtype=np.uint8).tobytes()
    if pd.api.types.is_numeric_dtype(values):
        arr = values.to_numpy(dtype="<f8", na_value=np.nan) + 0.0  # + 0.0 folds -0.0 into 0.0
        arr[np.isnan(arr)] = np.nan  # one NaN bit pattern
        return b"f" + arr.tobytes()
    text = ["\x00" if pd.isna(v) else str(v) for v in values]
    return b"s" + "\x1f".join(text).encode("utf-8")


def frame_hash(frame: pd.DataFrame, canonical: tuple[str, ...] = ()) -> str:
    """SHA-256 (hex) of a table's content, independent of row order, index and number dtypes.

    Columns are taken canonical ones first, then the others by name; rows are sorted on every column;
    numbers are hashed as float64 (so ``1`` and ``1.0`` agree), text as UTF-8.

    Example:
        >>> a = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
        >>> b = pd.DataFrame({"y": ["b", "a"], "x": [2.0, 1.0]})
        >>> frame_hash(a) == frame_hash(b)
        True
        >>> len(frame_hash(a))
        64
    """
    extras = sorted(c for c in frame.columns if c not in canonical)
    cols = [c for c in canonical if c in frame.columns] + extras
    ordered = scalar_view(frame[cols])
    if len(ordered) > 1:
        ordered = ordered.sort_values(cols, kind="mergesort", na_position="last")
    digest = hashlib.sha256()
    for col in cols:
        digest.update(str(col).encode("utf-8") + b"\x1e")
        digest.update(_column_bytes(ordered[col]) + b"\x1d")
    return digest.hexdigest()


@dataclass(frozen=True, eq=False, repr=False)
class Runs:
    """A validated runs table (training loss per run and checkpoint).

    Attributes:
        table: the included rows: canonical columns first (``run, family, params, tokens, flops, loss``,
            then whichever of ``step, width, depth, lr, batch_tokens, seed, unique_tokens`` were given),
            extra input columns after them, a fresh ``RangeIndex``.
        excluded: the excluded rows, same columns plus ``reason`` (text) and ``source_row`` (1-based data
            row of the input).
        source: the file path, or ``'bundled:<name>'``, or ``'<table>'`` for an in-memory frame.
        convention: the FLOP convention (see :mod:`scalinglaws.compute`) the ``flops`` column follows.
        notes: what validation did, one sentence each (defaults filled, columns computed, rows excluded).

    Example:
        >>> from scalinglaws import datasets
        >>> runs = datasets.load("chinchilla")
        >>> len(runs), len(runs.excluded), runs.convention
        (240, 5, '6ND')
    """

    table: pd.DataFrame
    excluded: pd.DataFrame
    source: str
    convention: str
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return (
            f"Runs(source={self.source!r}, rows={len(self.table)}, "
            f"runs={self.table['run'].nunique()}, excluded={len(self.excluded)}, "
            f"convention={self.convention!r})"
        )

    def data_hash(self) -> str:
        """SHA-256 of the included table (see :func:`frame_hash`): stable across runs and platforms.

        Example:
            >>> import pandas as pd
            >>> from scalinglaws.data.validate import validate_runs
            >>> df = pd.DataFrame({"params": [1e8], "tokens": [2e9], "loss": [3.0]})
            >>> validate_runs(df).data_hash() == validate_runs(df.astype(float)).data_hash()
            True
        """
        return frame_hash(self.table, RUNS_COLUMNS)

    def final(self) -> Runs:
        """Only the last checkpoint of each run: the row with the largest ``step``, else ``tokens``.

        Example:
            >>> import pandas as pd
            >>> from scalinglaws.data.validate import validate_runs
            >>> df = pd.DataFrame({"run": ["a", "a", "b"], "step": [1, 2, 1], "params": 1e8,
            ...                    "tokens": [1e9, 2e9, 1e9], "loss": [3.5, 3.2, 3.4]})
            >>> validate_runs(df).final().table[["run", "step", "loss"]].to_dict("list")
            {'run': ['a', 'b'], 'step': [2, 1], 'loss': [3.2, 3.4]}
        """
        order = "step" if "step" in self.table.columns else "tokens"
        last = self.table.groupby("run", sort=False)[order].idxmax()
        table = self.table.loc[sorted(last)].reset_index(drop=True)
        note = f"final(): kept the last checkpoint (largest {order}) of each of {len(table)} runs"
        return dataclasses.replace(self, table=table, notes=self.notes + (note,))

    def to_frame(self) -> pd.DataFrame:
        """A copy of the included table.

        Example:
            >>> from scalinglaws import datasets
            >>> list(datasets.load("chinchilla").to_frame().columns)
            ['run', 'family', 'params', 'tokens', 'flops', 'loss', 'width', 'depth']
        """
        return self.table.copy()


@dataclass(frozen=True, eq=False, repr=False)
class Evals:
    """A validated evals table (downstream scores per run, checkpoint, task and metric).

    Attributes:
        table: the included rows: ``run, family, params, step, tokens, task, metric, value, stderr``
            (NaN where unknown), extra input columns after them, a fresh ``RangeIndex``.
        excluded: the excluded rows, same columns plus ``reason`` and ``source_row`` (1-based data row).
        source: the file path(s), or ``'bundled:<name>'``, or ``'<table>'``.
        notes: what validation did, one sentence each.

    Example:
        >>> import pandas as pd
        >>> from scalinglaws.data.validate import validate_evals
        >>> ev = validate_evals(pd.DataFrame({"run": "m", "step": [1, 2], "task": "piqa",
        ...                                   "metric": "acc", "value": [0.5, 0.6]}))
        >>> ev
        Evals(source='<table>', rows=2, runs=1, tasks=1, excluded=0)
    """

    table: pd.DataFrame
    excluded: pd.DataFrame
    source: str
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        return (
            f"Evals(source={self.source!r}, rows={len(self.table)}, "
            f"runs={self.table['run'].nunique()}, tasks={self.table['task'].nunique()}, "
            f"excluded={len(self.excluded)})"
        )

    def data_hash(self) -> str:
        """SHA-256 of the included table (see :func:`frame_hash`): stable across runs and platforms.

        Example:
            >>> from scalinglaws import datasets
            >>> len(datasets.load("pythia").data_hash())
            64
        """
        return frame_hash(self.table, EVALS_COLUMNS)

    def tasks(self) -> list[str]:
        """The task names, sorted.

        Example:
            >>> from scalinglaws import datasets
            >>> datasets.load("pythia").tasks()[:3]
            ['arc_challenge', 'arc_easy', 'crows_pairs_english']
        """
        return sorted(self.table["task"].unique())

    def runs(self) -> list[str]:
        """The run names, in order of first appearance.

        Example:
            >>> from scalinglaws import datasets
            >>> len(datasets.load("pythia").runs())
            21
        """
        return list(self.table["run"].unique())

    def to_frame(self) -> pd.DataFrame:
        """A copy of the included table.

        Example:
            >>> from scalinglaws import datasets
            >>> list(datasets.load("pythia").to_frame().columns)[:9]
            ['run', 'family', 'params', 'step', 'tokens', 'task', 'metric', 'value', 'stderr']
        """
        return self.table.copy()
