"""A sigmoid link from loss to downstream accuracy: ``acc = b + a / (1 + exp(-k (x0 - log L)))``.

Accuracy rises from the floor ``b`` (chance) to ``a + b`` as the log loss falls past ``x0``, with steepness
``k``. Residuals are in accuracy units (``target = "linear"``). This is the second stage of the two-stage
"compute -> loss -> accuracy" forecast and the logistic baseline of the NeuNeu paper.

Example:
    >>> import numpy as np
    >>> law = SigmoidLink()
    >>> float(law.predict({"loss": np.array([np.e])}, np.array([0.5, 0.25, 5.0, 1.0]))[0])
    0.5
"""

from __future__ import annotations

import numpy as np

from scalinglaws.laws.base import Inputs, Law, Param, columns_of

K_GRID = tuple(np.round(np.geomspace(0.3, 60.0, 16), 4))
X0_GRID = tuple(np.round(np.arange(-1.0, 4.001, 0.1), 4))


class SigmoidLink(Law):
    name = "sigmoid"
    description = "acc = b + a / (1 + exp(-k (x0 - log L))): loss to accuracy"
    note = "Map a loss (or log-perplexity) to a downstream accuracy; fit per task across runs."
    inputs = ("loss",)
    target = "linear"
    params = (
        Param("a", 0.0, 1.0, linear=True, description="accuracy gained between floor and ceiling"),
        Param("b", 0.0, 1.0, linear=True, description="accuracy floor (chance)"),
        Param("k", 1e-3, 200.0, grid=K_GRID, description="steepness in log loss"),
        Param("x0", -5.0, 10.0, grid=X0_GRID, description="log loss at the midpoint"),
    )

    def _sig(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        _, _, k, x0 = columns_of(theta)
        return 0.5 * (1.0 + np.tanh(0.5 * k * (x0 - np.log(X["loss"]))))

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        a, b, _, _ = columns_of(theta)
        return b + a * self._sig(X, theta)

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        a, b, k, x0 = columns_of(theta)
        s = self._sig(X, theta)
        ds = s * (1.0 - s)
        ones = np.broadcast_to(np.ones_like(b), s.shape)
        return np.stack(
            [s, ones, a * ds * (x0 - np.log(X["loss"])), a * ds * k], axis=-1
        )

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        s = self._sig(X, theta)
        return np.stack([s, np.ones_like(s)], axis=-1)
