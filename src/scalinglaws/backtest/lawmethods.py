"""Backtest adapters for the registered laws: fit the law on the train rows, predict the test rows.

Intervals come from a small seeded cluster bootstrap of the fit (``bootstrap`` resamples of whole model
sizes) combined with a training residual resampled per draw, so they are *predictive* intervals for a new
run's observed loss, not only for the law's mean. A law that does not fit the table (a loss law on scores,
a law whose inputs the table lacks, a law whose input is the very quantity predicted) declines with the
reason, which the backtest reports.

Example:
    >>> import numpy as np, pandas as pd
    >>> from scalinglaws.backtest.methods import Setting
    >>> s = Setting(kind="evals", target="value", keys=("run", "task"), series=("task",), trajectory=True)
    >>> LawMethod("chinchilla").check(s, ["run", "params", "tokens", "task", "value"])
    'a loss law: an evals table holds scores'
    >>> runs = Setting(kind="runs", target="loss", keys=("run",), series=(), trajectory=False)
    >>> LawMethod("repetition").check(runs, ["params", "tokens", "loss"])
    'needs column(s) unique_tokens, absent from the table'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from scalinglaws.backtest.methods import Method, Prediction, Setting
from scalinglaws.laws import get_law
from scalinglaws.laws.base import Law

__all__ = ["LawMethod"]


class LawMethod(Method):
    """A registered law as a backtest method.

    Args:
        law: the law's registry name.
        bootstrap: cluster-bootstrap resamples for intervals (0: point forecasts only).
        law_options: options of the law's constructor (``{"x": "params"}`` for ``power``).
    """

    gives_quantiles = True

    def __init__(
        self, law: str, *, bootstrap: int = 200, law_options: Mapping[str, str] | None = None
    ) -> None:
        self.law = law
        self.bootstrap = int(bootstrap)
        self.law_options = dict(law_options or {})
        self.name = law
        self.description = f"law {law}: {self._law().description}"

    def _law(self) -> Law:
        return get_law(self.law, **self.law_options)

    def check(self, setting: Setting, columns: Sequence[str]) -> str | None:
        law = self._law()
        if setting.target in law.inputs:
            return f"its input {setting.target!r} is the quantity to predict (it maps a loss to a score)"
        missing = [c for c in law.inputs if c not in columns]
        if missing:
            return f"needs column(s) {', '.join(missing)}, absent from the table"
        if law.target == "log" and setting.kind != "runs":
            return "a loss law: an evals table holds scores"
        return None

    def fit(self, train: pd.DataFrame, setting: Setting, seed: int = 0) -> LawMethod:
        from scalinglaws.fit import fit

        self.result_ = fit(
            train,
            self.law,
            target=setting.target,
            bootstrap=self.bootstrap,
            seed=seed,
            law_options=self.law_options or None,
        )
        law = self.result_.law
        y = train[setting.target].to_numpy(float)
        fitted = self.result_.predict({c: train[c].to_numpy(float) for c in law.inputs})
        self.residuals_ = np.log(y / fitted) if law.target == "log" else y - fitted
        self.seed_ = seed
        return self

    def predict(self, test: pd.DataFrame, quantiles: Sequence[float] = ()) -> Prediction:
        result = self.result_
        X = {c: test[c].to_numpy(float) for c in result.law.inputs}
        mean = result.predict(X)
        if not quantiles or result.draws is None:
            return Prediction(mean)
        draws = result.predict_draws(X)
        draws = draws[np.all(np.isfinite(draws), axis=1) & result.draws_converged]
        noise = np.random.default_rng([self.seed_, 1]).choice(self.residuals_, size=draws.shape)
        sims = draws * np.exp(noise) if result.law.target == "log" else draws + noise
        qs = np.quantile(sims, list(quantiles), axis=0)
        return Prediction(mean, {float(q): v for q, v in zip(quantiles, qs, strict=True)})
