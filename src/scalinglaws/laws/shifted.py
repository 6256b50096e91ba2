"""Shifted separable power law (Zhai et al. 2022): ``L = E + A (N + s_N)^-alpha + B (D + s_D)^-beta``.

Zhai et al. (*Scaling Vision Transformers*, 2022) fit ``E = a (x + d)^-b + c`` to error against one resource
``x``: the shift ``d`` gives a model trained with little of it a finite error instead of a power law that
rises without limit, so the small-scale points that bend away from the straight log-log line stop dragging
the exponent down. Here the shift is applied to both terms of Chinchilla's separable law (this package's
arrangement). For ``N >> s_N`` and ``D >> s_D`` the law is Chinchilla's; shifts at their lower bound (1)
mean no bend was seen, and are reported as bound hits.

Example:
    >>> import numpy as np
    >>> law = Shifted()
    >>> X = {"params": np.array([1e7, 1e10]), "tokens": np.array([2e10, 2e10])}
    >>> theta = np.array([1.7, 400.0, 1500.0, 0.34, 0.30, 3e7, 1.0])
    >>> law.predict(X, theta).round(4).tolist()
    [3.9592, 3.0775]
"""

from __future__ import annotations

import numpy as np

from scalinglaws.laws.base import Inputs, Law, Param, columns_of

EXPONENT_GRID = tuple(np.round(np.arange(0.1, 1.201, 0.1), 4))
SHIFT_N_GRID = (1.0, 1e6, 1e7, 1e8, 1e9)
SHIFT_D_GRID = (1.0, 1e8, 1e9, 1e10, 1e11)


class Shifted(Law):
    name = "shifted"
    description = "E + A (N + s_N)^-alpha + B (D + s_D)^-beta (Zhai et al. 2022)"
    note = (
        "When the smallest runs bend away from a straight log-log line (the loss flattens at small scale): "
        "the shifts absorb the bend. Needs at least four sizes per axis."
    )
    inputs = ("params", "tokens")
    params = (
        Param("E", 0.0, np.inf, linear=True, log_scale=True, description="irreducible loss"),
        Param("A", 0.0, np.inf, linear=True, log_scale=True, description="model-size amplitude"),
        Param("B", 0.0, np.inf, linear=True, log_scale=True, description="data amplitude"),
        Param("alpha", 0.0, 3.0, grid=EXPONENT_GRID, description="model-size exponent"),
        Param("beta", 0.0, 3.0, grid=EXPONENT_GRID, description="data exponent"),
        Param("s_N", 1.0, 1e13, log_scale=True, grid=SHIFT_N_GRID, description="model-size shift"),
        Param("s_D", 1.0, 1e15, log_scale=True, grid=SHIFT_D_GRID, description="data shift"),
    )

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, B, a, b, sn, sd = columns_of(theta)
        return E + A * (X["params"] + sn) ** -a + B * (X["tokens"] + sd) ** -b

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, B, a, b, sn, sd = columns_of(theta)
        n_eff, d_eff = X["params"] + sn, X["tokens"] + sd
        n_term, d_term = n_eff**-a, d_eff**-b
        ones = np.broadcast_to(np.ones_like(E), np.broadcast(n_term, d_term).shape)
        return np.stack(
            [
                ones,
                ones * n_term,
                ones * d_term,
                -A * n_term * np.log(n_eff),
                -B * d_term * np.log(d_eff),
                -a * A * n_term / n_eff,
                -b * B * d_term / d_eff,
            ],
            axis=-1,
        )

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        n_term = (X["params"] + theta[:, 5, None]) ** -theta[:, 3, None]
        d_term = (X["tokens"] + theta[:, 6, None]) ** -theta[:, 4, None]
        return np.stack([np.ones_like(n_term), n_term, d_term], axis=-1)
