"""The canonical column schema of the two tidy tables: runs and evals.

A **runs** table has one row per (run, checkpoint) with the training loss; an **evals** table has one row per
(run, checkpoint, task, metric) with a downstream score. Units are always parameters, tokens and FLOPs.
Columns beyond the canonical ones are kept as they are ("extras").

Example:
    >>> RUNS_COLUMNS[:6]
    ('run', 'family', 'params', 'tokens', 'flops', 'loss')
    >>> EVALS_KEY + EVALS_EXTRA_KEYS
    ('run', 'step', 'task', 'metric', 'num_fewshot')
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_FAMILY",
    "DEFAULT_METRIC",
    "EVALS_COLUMNS",
    "EVALS_EXTRA_KEYS",
    "EVALS_KEY",
    "EVALS_NUMERIC",
    "EVALS_REQUIRED",
    "EXCLUDE_COLUMN",
    "RUNS_COLUMNS",
    "RUNS_CORE",
    "RUNS_NUMERIC",
    "RUNS_OPTIONAL",
    "RUNS_POSITIVE",
    "TEXT_COLUMNS",
]

#: Columns every validated runs table has, in this order.
RUNS_CORE: tuple[str, ...] = ("run", "family", "params", "tokens", "flops", "loss")

#: Canonical columns kept where the input has them (placed after :data:`RUNS_CORE`).
RUNS_OPTIONAL: tuple[str, ...] = (
    "step",
    "width",
    "depth",
    "lr",
    "batch_tokens",
    "seed",
    "unique_tokens",
)

#: Every canonical runs column, in table order.
RUNS_COLUMNS: tuple[str, ...] = RUNS_CORE + RUNS_OPTIONAL

#: Runs columns parsed as numbers; a string in one of them is an error.
RUNS_NUMERIC: tuple[str, ...] = ("params", "tokens", "flops", "loss") + RUNS_OPTIONAL

#: Runs columns that must be > 0 where given (``step`` and ``seed`` may be 0; ``loss`` is checked apart).
RUNS_POSITIVE: tuple[str, ...] = (
    "params",
    "tokens",
    "flops",
    "width",
    "depth",
    "lr",
    "batch_tokens",
    "unique_tokens",
)

#: Every canonical evals column, in table order; all are present after validation (NaN where unknown).
EVALS_COLUMNS: tuple[str, ...] = (
    "run",
    "family",
    "params",
    "step",
    "tokens",
    "task",
    "metric",
    "value",
    "stderr",
)

#: Evals columns an input must have.
EVALS_REQUIRED: tuple[str, ...] = ("run", "task", "value")

#: Evals columns parsed as numbers.
EVALS_NUMERIC: tuple[str, ...] = ("params", "step", "tokens", "value", "stderr", "num_fewshot")

#: The columns that identify one evals row.
EVALS_KEY: tuple[str, ...] = ("run", "step", "task", "metric")

#: Extra columns that join the evals key when present: the same checkpoint is often scored
#: zero-shot and five-shot (Pythia), and those rows are not duplicates.
EVALS_EXTRA_KEYS: tuple[str, ...] = ("num_fewshot",)

#: Optional input column: a non-empty string moves the row to ``excluded`` with that reason.
EXCLUDE_COLUMN = "exclude"

#: Family given to rows of an input without a ``family`` column.
DEFAULT_FAMILY = "default"

#: Metric given to rows of an evals input without a ``metric`` column.
DEFAULT_METRIC = "score"

#: Columns read as text whatever they look like (so run ``"001"`` stays ``"001"``).
TEXT_COLUMNS: tuple[str, ...] = ("run", "family", "task", "metric", EXCLUDE_COLUMN)
