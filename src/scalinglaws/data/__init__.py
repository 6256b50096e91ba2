"""Tidy tables of training runs and downstream evals: schema, validation, readers.

* :mod:`~scalinglaws.data.schema`: canonical column names.
* :mod:`~scalinglaws.data.tables`: the validated :class:`Runs` and :class:`Evals` tables.
* :mod:`~scalinglaws.data.validate`: :func:`validate_runs`, :func:`validate_evals`.
* :mod:`~scalinglaws.data.readers`: CSV/TSV/JSONL/Parquet files, :func:`load_data`.
* :mod:`~scalinglaws.data.lm_eval`: lm-evaluation-harness results JSON.
* :mod:`~scalinglaws.data.wandb`: Weights & Biases history exports.

Example:
    >>> from scalinglaws.data import load_data
    >>> runs = load_data("chinchilla")
    >>> runs.table[["params", "tokens", "loss"]].shape
    (240, 3)
"""

from __future__ import annotations

from scalinglaws.data.lm_eval import read_lm_eval
from scalinglaws.data.readers import (
    MissingDependencyError,
    load_data,
    read_evals,
    read_runs,
    read_table,
    rename_columns,
)
from scalinglaws.data.tables import Evals, Runs
from scalinglaws.data.validate import validate_evals, validate_runs
from scalinglaws.data.wandb import read_wandb_history

__all__ = [
    "Evals",
    "MissingDependencyError",
    "Runs",
    "load_data",
    "read_evals",
    "read_lm_eval",
    "read_runs",
    "read_table",
    "read_wandb_history",
    "rename_columns",
    "validate_evals",
    "validate_runs",
]
