"""Chinchilla's separable law ``L = E + A / N^alpha + B / D^beta`` (Hoffmann et al. 2022, Approach 3).

Example:
    >>> import numpy as np
    >>> law = Chinchilla()
    >>> theta = np.array([1.8172, 482.01, 2085.43, 0.3478, 0.3658])  # Besiroglu et al. 2024
    >>> N, D = law.compute_optimum(np.array(5.76e23), theta)
    >>> f"{float(N):.3g} params, {float(D):.3g} tokens"
    '7.22e+10 params, 1.33e+12 tokens'
"""

from __future__ import annotations

import numpy as np

from scalinglaws.laws.base import Inputs, Law, Param, columns_of

EXPONENT_GRID = tuple(np.round(np.arange(0.05, 1.501, 0.05), 4))


class Chinchilla(Law):
    name = "chinchilla"
    description = "E + A/N^alpha + B/D^beta (Hoffmann et al. 2022)"
    note = "The default for final losses of runs at several sizes and token counts."
    inputs = ("params", "tokens")
    params = (
        Param("E", 0.0, np.inf, linear=True, log_scale=True, description="irreducible loss"),
        Param("A", 0.0, np.inf, linear=True, log_scale=True, description="model-size amplitude"),
        Param("B", 0.0, np.inf, linear=True, log_scale=True, description="data amplitude"),
        Param("alpha", 0.0, 3.0, grid=EXPONENT_GRID, description="model-size exponent"),
        Param("beta", 0.0, 3.0, grid=EXPONENT_GRID, description="data exponent"),
    )

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, B, a, b = columns_of(theta)
        return E + A * X["params"] ** -a + B * X["tokens"] ** -b

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, B, a, b = columns_of(theta)
        n_term = X["params"] ** -a
        d_term = X["tokens"] ** -b
        ones = np.broadcast_to(np.ones_like(E), np.broadcast(n_term, d_term, E).shape)
        return np.stack(
            [
                ones,
                ones * n_term,
                ones * d_term,
                -A * n_term * np.log(X["params"]),
                -B * d_term * np.log(X["tokens"]),
            ],
            axis=-1,
        )

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        a, b = theta[:, 3, None], theta[:, 4, None]
        n_term = X["params"] ** -a
        return np.stack([np.ones_like(n_term), n_term, X["tokens"] ** -b], axis=-1)

    def compute_optimum(
        self, compute: np.ndarray, theta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """N*(C) = G (C/6)^(beta/(alpha+beta)), G = (alpha A / (beta B))^(1/(alpha+beta)); D* = C/(6 N*)."""
        _, A, B, a, b = columns_of(theta)
        c6 = np.asarray(compute, dtype=float) / 6.0
        g = (a * A / (b * B)) ** (1.0 / (a + b))
        n_opt = g * c6 ** (b / (a + b))
        return n_opt, c6 / n_opt
