"""The predictor contract: anything that fits on a train table and predicts a test table, optionally with
quantiles.

A method is built unfitted (its options in the constructor), told what the fold is about through a
:class:`Setting`, and may decline with a reason (:meth:`Method.check`), which the backtest reports as
"skipped", never silently. :meth:`Method.fit` returns the fitted method; :meth:`Method.predict` returns a
:class:`Prediction` aligned with the test rows. Methods must pickle (the runner ships them to worker
processes), so define them at module level.

Example:
    >>> import numpy as np, pandas as pd
    >>> class Mean(Method):
    ...     name = "mean"
    ...     description = "the mean of the training targets"
    ...     def fit(self, train, setting, seed=0):
    ...         self.mean_ = float(train[setting.target].mean())
    ...         return self
    ...     def predict(self, test, quantiles=()):
    ...         return Prediction(np.full(len(test), self.mean_))
    >>> setting = Setting(kind="runs", target="loss", keys=("run",), series=(), trajectory=False)
    >>> m = Mean().fit(pd.DataFrame({"loss": [3.0, 2.0]}), setting)
    >>> m.predict(pd.DataFrame({"loss": [1.0]})).mean.tolist()
    [2.5]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from scalinglaws.backtest.errors import BacktestError

__all__ = ["Method", "Prediction", "Setting"]


@dataclass(frozen=True)
class Setting:
    """What a fold asks of a method.

    Attributes:
        kind: ``'runs'`` (predict ``loss``) or ``'evals'`` (predict ``value``, a score).
        target: the column to predict.
        keys: columns naming one problem (one trajectory: a run, or a run x task).
        series: columns naming one quantity across runs (``()`` for runs; task, metric, ... for evals).
        trajectory: whether every test problem has its own earlier checkpoints in the train table.
        time: the column along a trajectory (``tokens``, else ``step``).
    """

    kind: Literal["runs", "evals"]
    target: str
    keys: tuple[str, ...]
    series: tuple[str, ...]
    trajectory: bool
    time: str = "tokens"

    @property
    def lower_is_better(self) -> bool:
        """Losses fall with scale, scores rise."""
        return self.kind == "runs"


@dataclass(frozen=True)
class Prediction:
    """Predictions for the test rows, in their order.

    Attributes:
        mean: the point forecast, shape ``(n,)``.
        quantiles: quantile level -> values ``(n,)``, for methods that give them (else empty).
    """

    mean: np.ndarray
    quantiles: Mapping[float, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = np.shape(self.mean)
        for q, values in self.quantiles.items():
            if np.shape(values) != n:
                raise BacktestError(f"quantile {q} has shape {np.shape(values)}, the mean {n}")


class Method:
    """Base class of backtest methods: set ``name`` and ``description``, implement ``fit`` and ``predict``.

    ``gives_quantiles`` says whether ``predict`` honours the requested quantile levels.
    """

    name: str
    description: str
    gives_quantiles: bool = False

    def check(self, setting: Setting, columns: Sequence[str]) -> str | None:
        """Why this method does not apply to such a fold (a sentence), or None when it does."""
        return None

    def fit(self, train: pd.DataFrame, setting: Setting, seed: int = 0) -> Method:
        """Learn from the train rows; return the fitted method (usually ``self``)."""
        raise NotImplementedError

    def predict(self, test: pd.DataFrame, quantiles: Sequence[float] = ()) -> Prediction:
        """Predict the target of every test row (the runner removes the target column first)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<method {self.name}: {self.description}>"
