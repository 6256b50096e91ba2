"""Readers: files (CSV, TSV, Parquet, JSON Lines) to validated ``Runs`` / ``Evals`` tables.

Supported suffixes: ``.csv``, ``.tsv``, ``.jsonl``, ``.ndjson`` (each also ``.gz``) and ``.parquet``
(needs pyarrow, imported only when a Parquet file is read). A missing, empty or unreadable file raises
:class:`~scalinglaws.errors.DataValidationError` naming the path.

Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "runs.csv"
    >>> _ = path.write_text("run,params,tokens,loss\\na,1e8,2e9,3.1\\nb,4e8,8e9,2.9\\n")
    >>> runs = read_runs(path)
    >>> len(runs), runs.convention, runs.table["flops"].tolist()
    (2, '6ND', [1.2e+18, 1.92e+19])
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from scalinglaws.compute import DEFAULT_CONVENTION
from scalinglaws.data.schema import EVALS_REQUIRED, TEXT_COLUMNS
from scalinglaws.data.tables import Evals, Runs
from scalinglaws.data.validate import validate_evals, validate_runs
from scalinglaws.errors import DataValidationError, ScalingLawsError

__all__ = [
    "SUFFIXES",
    "MissingDependencyError",
    "load_data",
    "read_evals",
    "read_runs",
    "read_table",
    "rename_columns",
]

#: File suffixes :func:`read_table` understands.
SUFFIXES = (
    ".csv",
    ".csv.gz",
    ".tsv",
    ".tsv.gz",
    ".jsonl",
    ".jsonl.gz",
    ".ndjson",
    ".ndjson.gz",
    ".parquet",
)


class MissingDependencyError(ScalingLawsError, ImportError):
    """An optional dependency needed for this input (e.g. pyarrow for Parquet) is not installed."""


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    raise DataValidationError(
        f"{path}: unknown file type; supported suffixes: {', '.join(SUFFIXES)}"
    )


def _read_jsonl(path: Path) -> pd.DataFrame:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    records = []
    with opener(path, "rt", encoding="utf-8-sig") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataValidationError(f"{path}: line {lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise DataValidationError(f"{path}: line {lineno}: expected a JSON object")
            records.append(record)
    return pd.DataFrame.from_records(records)


def _read_parquet(path: Path) -> pd.DataFrame:
    if importlib.util.find_spec("pyarrow") is None:
        raise MissingDependencyError(
            f"{path}: reading Parquet needs pyarrow: pip install 'scalinglaws[parquet]'"
        )
    return pd.read_parquet(path, engine="pyarrow")


def read_table(
    path: str | Path,
    *,
    text_columns: Iterable[str] = TEXT_COLUMNS,
    na_text: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read a table file into a DataFrame (no validation), choosing the format by suffix.

    Args:
        path: a ``.csv``, ``.tsv``, ``.jsonl``/``.ndjson`` (each optionally ``.gz``) or ``.parquet`` file.
        text_columns: columns read as text in CSV/TSV files whatever they look like.
        na_text: the cell texts a CSV/TSV reads as missing (default: pandas' list, which includes
            ``''``, ``NA`` and ``NaN``); ``("",)`` keeps ``NaN`` apart from a blank cell.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "evals.jsonl"
        >>> _ = path.write_text('{"run": "001", "task": "piqa", "value": 0.6}\\n')
        >>> read_table(path).to_dict("records")
        [{'run': '001', 'task': 'piqa', 'value': 0.6}]
    """
    path = Path(path)
    if not path.exists():
        raise DataValidationError(f"{path}: no such file")
    if not path.is_file():
        raise DataValidationError(f"{path}: not a file")
    suffix = _suffix(path)
    if path.stat().st_size == 0:
        raise DataValidationError(f"{path}: empty file")
    try:
        if suffix == ".parquet":
            frame = _read_parquet(path)
        elif suffix.startswith((".jsonl", ".ndjson")):
            frame = _read_jsonl(path)
        else:
            sep = "\t" if suffix.startswith(".tsv") else ","
            header = pd.read_csv(path, sep=sep, nrows=0, encoding="utf-8-sig").columns
            dtype = {c: "str" for c in header if c in set(text_columns)}
            na = {} if na_text is None else {"keep_default_na": False, "na_values": list(na_text)}
            frame = pd.read_csv(path, sep=sep, dtype=dtype, encoding="utf-8-sig", **na)
    except DataValidationError:
        raise
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: empty file (no header)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise DataValidationError(f"{path}: cannot read ({message})") from None
    if len(frame) == 0:
        cols = ", ".join(map(str, frame.columns))
        raise DataValidationError(
            f"{path}: no data rows" + (f" (header only: {cols})" if cols else "")
        )
    return frame


def rename_columns(
    frame: pd.DataFrame, columns: Mapping[str, str] | None, source: str = "<table>"
) -> pd.DataFrame:
    """Rename file columns to canonical names; ``columns`` maps canonical name -> name in the file.

    Example:
        >>> df = pd.DataFrame({"N": [1e8], "D": [2e9], "train_loss": [3.1]})
        >>> list(rename_columns(df, {"params": "N", "tokens": "D", "loss": "train_loss"}).columns)
        ['params', 'tokens', 'loss']
    """
    if not columns:
        return frame
    missing = [f"'{name}'" for name in columns.values() if name not in frame.columns]
    if missing:
        raise DataValidationError(
            f"{source}: columns mapping names {', '.join(missing)}, not in the file; "
            f"columns present: {', '.join(map(str, frame.columns))}"
        )
    clash = [c for c, name in columns.items() if c != name and c in frame.columns]
    clash = [c for c in clash if c not in columns.values()]
    if clash:
        raise DataValidationError(
            f"{source}: columns mapping renames onto existing column(s) "
            f"{', '.join(repr(c) for c in clash)}; map or drop them first"
        )
    return frame.rename(columns={name: canonical for canonical, name in columns.items()})


def _text_columns(columns: Mapping[str, str] | None) -> set[str]:
    mapped = dict(columns or {})
    return {mapped.get(c, c) for c in TEXT_COLUMNS}


def read_runs(
    path: str | Path,
    columns: Mapping[str, str] | None = None,
    convention: str = DEFAULT_CONVENTION,
    **validate_kw: object,
) -> Runs:
    """Read and validate a runs file (see :func:`~scalinglaws.data.validate.validate_runs`).

    Args:
        path: the file.
        columns: canonical name -> name in the file, for files with other headers.
        convention: FLOP convention for filling a missing ``tokens`` or ``flops`` column.
        **validate_kw: passed to ``validate_runs`` (``on_diverged``, ``explode_factor``, ...).

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "runs.tsv"
        >>> _ = path.write_text("N\\tC\\tL\\n1e8\\t1.2e18\\t3.1\\n")
        >>> runs = read_runs(path, columns={"params": "N", "flops": "C", "loss": "L"})
        >>> float(runs.table["tokens"][0]), runs.notes[-1]
        (2000000000.0, "'tokens' computed from params and flops (6ND) for every row")
    """
    frame = rename_columns(read_table(path, text_columns=_text_columns(columns)), columns, str(path))
    return validate_runs(frame, str(path), convention=convention, **validate_kw)


def read_evals(
    path: str | Path, columns: Mapping[str, str] | None = None, **validate_kw: object
) -> Evals:
    """Read and validate an evals file (see :func:`~scalinglaws.data.validate.validate_evals`).

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "evals.csv"
        >>> _ = path.write_text("model,step,task,metric,score\\nm,10,piqa,acc,0.6\\n")
        >>> read_evals(path, columns={"run": "model", "value": "score"}).table["value"].tolist()
        [0.6]
    """
    frame = rename_columns(read_table(path, text_columns=_text_columns(columns)), columns, str(path))
    return validate_evals(frame, str(path), **validate_kw)


def load_data(
    spec: str | Path,
    kind: str | None = None,
    columns: Mapping[str, str] | None = None,
    convention: str = DEFAULT_CONVENTION,
) -> Runs | Evals:
    """Load a bundled dataset by name (``'chinchilla'`` or ``'bundled:chinchilla'``) or a file path.

    For a file, ``kind`` (``'runs'`` or ``'evals'``) is detected from the columns when not given: a table
    with ``task`` and ``value`` holds evals; one with ``params``, ``loss`` and ``tokens`` or ``flops`` runs.

    Example:
        >>> load_data("chinchilla")
        Runs(source='bundled:chinchilla', rows=240, runs=240, excluded=5, convention='6ND')
    """
    from scalinglaws import datasets  # imported here: datasets builds on this module

    if kind not in (None, "runs", "evals"):
        raise ValueError(f"kind must be 'runs', 'evals' or None, not {kind!r}")
    name = str(spec).removeprefix("bundled:")
    path = Path(spec)
    if not path.exists() and name in datasets.names():
        found = datasets.info(name)
        if kind not in (None, found.kind):
            raise DataValidationError(f"bundled:{name}: holds {found.kind}, not {kind}")
        if columns:
            raise DataValidationError(f"bundled:{name}: a columns mapping applies to files only")
        if found.kind == "runs" and convention != found.convention:
            raise DataValidationError(
                f"bundled:{name}: its FLOPs follow {found.convention!r}, not {convention!r}"
            )
        return datasets.load(name)
    if not path.exists():
        raise DataValidationError(
            f"{spec}: no such file or bundled dataset; bundled: {', '.join(datasets.names())}"
        )
    frame = rename_columns(read_table(path, text_columns=_text_columns(columns)), columns, str(path))
    if kind is None:
        cols = set(frame.columns)
        if {"task", "value"} <= cols:
            kind = "evals"
        elif {"params", "loss"} <= cols and cols & {"tokens", "flops"}:
            kind = "runs"
        else:
            raise DataValidationError(
                f"{path}: cannot tell runs from evals: runs need params, loss and tokens or flops; "
                f"evals need {', '.join(EVALS_REQUIRED)}; columns present: "
                f"{', '.join(map(str, frame.columns))}"
            )
    if kind == "evals":
        return validate_evals(frame, str(path))
    return validate_runs(frame, str(path), convention=convention)
