"""The multiplicative power law ``L = E + A N^-alpha D^-beta``.

Model size and data act through one product term instead of two separate ones: the excess loss halves only
when ``N^alpha D^beta`` doubles, so neither resource can be scaled alone past the other. Along an iso-compute
curve ``C = 6ND`` the loss is monotone in ``N`` (unless ``alpha = beta``), so the law has no compute-optimal
interior and planning with it reports that.

Example:
    >>> import numpy as np
    >>> law = Multiplicative()
    >>> X = {"params": np.array([1e8, 1e9]), "tokens": np.array([1e10, 1e10])}
    >>> law.predict(X, np.array([1.7, 2e4, 0.2, 0.3])).round(4).tolist()
    [2.2024, 2.017]
"""

from __future__ import annotations

import numpy as np

from scalinglaws.laws.base import Inputs, Law, Param, columns_of

EXPONENT_GRID = tuple(np.round(np.arange(0.05, 1.501, 0.05), 4))


class Multiplicative(Law):
    name = "multiplicative"
    description = "E + A N^-alpha D^-beta (one joint power term)"
    note = (
        "When size and data only help together (the excess loss follows their product); it has no "
        "compute-optimal interior under C = 6ND, so use it to describe, not to allocate."
    )
    inputs = ("params", "tokens")
    params = (
        Param("E", 0.0, np.inf, linear=True, log_scale=True, description="irreducible loss"),
        Param("A", 0.0, np.inf, linear=True, log_scale=True, description="joint amplitude"),
        Param("alpha", 0.0, 3.0, grid=EXPONENT_GRID, description="model-size exponent"),
        Param("beta", 0.0, 3.0, grid=EXPONENT_GRID, description="data exponent"),
    )

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, a, b = columns_of(theta)
        return E + A * X["params"] ** -a * X["tokens"] ** -b

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, a, b = columns_of(theta)
        term = X["params"] ** -a * X["tokens"] ** -b
        ones = np.broadcast_to(np.ones_like(E), np.broadcast(term, E).shape)
        return np.stack(
            [ones, ones * term, -A * term * np.log(X["params"]), -A * term * np.log(X["tokens"])], axis=-1
        )

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        term = X["params"] ** -theta[:, 2, None] * X["tokens"] ** -theta[:, 3, None]
        return np.stack([np.ones_like(term), term], axis=-1)
