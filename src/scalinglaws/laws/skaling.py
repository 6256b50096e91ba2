"""The Skaling law (Videau et al. 2026): ``L = E + A (N^-alpha + R D^-beta)^k``.

Chinchilla's two power terms coupled by one exponent ``k``: the paper writes ``(A' N^-alpha + B' D^-beta)^k
+ E``; pulling ``A'`` out of the bracket leaves the linear amplitude ``A = A'^k`` and the ratio
``R = B' / A'`` (so ``A' = A^(1/k)``, ``B' = R A^(1/k)``). At ``k = 1`` it is Chinchilla's law; with
``beta = 1`` it is ``kaplan-floor``. For ``0 < k < 1`` each resource makes the other more valuable (a
negative mixed derivative in log N, log D), the coupling the paper measured on large grids. ``k`` is only
seen where neither term dominates: at the edges of a grid only ``alpha k`` and ``beta k`` are identified.

Example:
    >>> import numpy as np
    >>> law = Skaling()
    >>> theta = np.array([1.7, 400.0, 0.34, 3.7, 0.30, 1.0])  # k = 1: Chinchilla with B = R A
    >>> X = {"params": np.array([1e9]), "tokens": np.array([2e10])}
    >>> round(float(law.predict(X, theta)[0]), 6) == round(1.7 + 400.0 * 1e9**-0.34 + 1480.0 * 2e10**-0.3, 6)
    True
"""

from __future__ import annotations

import numpy as np

from scalinglaws.laws.base import Inputs, Law, Param, columns_of

EXPONENT_GRID = (0.1, 0.2, 0.3, 0.4, 0.55, 0.7, 0.9, 1.2)
RATIO_GRID = tuple(float(v) for v in np.geomspace(1e-10, 1e10, 11))
K_GRID = (0.3, 0.5, 0.7, 1.0, 1.5)


class Skaling(Law):
    name = "skaling"
    description = "E + A (N^-alpha + R D^-beta)^k (Videau et al. 2026)"
    note = (
        "Chinchilla's terms coupled by one exponent k (k = 1: separable): use it on dense N x D grids "
        "to test whether size and data interact; k is poorly identified on small or edge-only grids."
    )
    inputs = ("params", "tokens")
    params = (
        Param("E", 0.0, np.inf, linear=True, log_scale=True, description="irreducible loss"),
        Param("A", 0.0, np.inf, linear=True, log_scale=True, description="amplitude, A'^k"),
        Param("alpha", 1e-3, 3.0, grid=EXPONENT_GRID, description="model-size exponent inside the bracket"),
        Param("R", 1e-15, 1e15, log_scale=True, grid=RATIO_GRID, description="B' / A'"),
        Param("beta", 1e-3, 3.0, grid=EXPONENT_GRID, description="data exponent inside the bracket"),
        Param("k", 0.05, 5.0, grid=K_GRID, description="coupling exponent"),
    )

    def _terms(self, X: Inputs, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, ratio, b = columns_of(theta)[2:5]
        n_term = X["params"] ** -a
        d_term = ratio * X["tokens"] ** -b
        return n_term, d_term, n_term + d_term

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, *_, k = columns_of(theta)
        return E + A * self._terms(X, theta)[2] ** k

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, _, ratio, _, k = columns_of(theta)
        n_term, d_term, g = self._terms(X, theta)
        power = g**k
        slope = A * k * power / g
        ones = np.broadcast_to(np.ones_like(E), g.shape)
        return np.stack(
            [
                ones,
                power,
                -slope * n_term * np.log(X["params"]),
                slope * d_term / ratio,
                -slope * d_term * np.log(X["tokens"]),
                A * power * np.log(g),
            ],
            axis=-1,
        )

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        g = X["params"] ** -theta[:, 2, None] + theta[:, 3, None] * X["tokens"] ** -theta[:, 4, None]
        power = g ** theta[:, 5, None]
        return np.stack([np.ones_like(power), power], axis=-1)
