"""The one-variable power law with an offset, ``L = E + A x^-alpha``.

``x`` is any positive input column (compute, parameters, tokens, steps); pick it with ``x=``.

Example:
    >>> import numpy as np
    >>> law = PowerLaw(x="flops")
    >>> law.inputs
    ('flops',)
    >>> round(float(law.predict({"flops": np.array([1e20])}, np.array([1.7, 100.0, 0.1]))[0]), 6)
    2.7
"""

from __future__ import annotations

import numpy as np

from scalinglaws.laws.base import Inputs, Law, Param, columns_of

EXPONENT_GRID = tuple(np.round(np.concatenate([np.arange(0.01, 0.2, 0.01), np.arange(0.2, 2.01, 0.05)]), 4))


class PowerLaw(Law):
    name = "power"
    description = "E + A x^-alpha, one input x (compute by default)"
    note = "One resource at a time: loss against compute along a frontier, or against steps."
    params = (
        Param("E", 0.0, np.inf, linear=True, log_scale=True, description="irreducible loss"),
        Param("A", 0.0, np.inf, linear=True, log_scale=True, description="amplitude"),
        Param("alpha", 0.0, 3.0, grid=EXPONENT_GRID, description="exponent"),
    )

    def __init__(self, x: str = "flops") -> None:
        self.x = x
        self.inputs = (x,)

    @property
    def options(self) -> dict[str, str]:
        return {"x": self.x}

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, a = columns_of(theta)
        return E + A * X[self.x] ** -a

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, a = columns_of(theta)
        term = X[self.x] ** -a
        ones = np.broadcast_to(np.ones_like(E), np.broadcast(term, E).shape)
        return np.stack([ones, ones * term, -A * term * np.log(X[self.x])], axis=-1)

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        term = X[self.x] ** -theta[:, 2, None]
        return np.stack([np.ones_like(term), term], axis=-1)
