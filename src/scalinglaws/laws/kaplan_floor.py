"""Kaplan's joint law with a floor: ``L = E + A (N^-rho + R / D)^alpha_D``.

Kaplan et al. (2020), eq. 1.5, ``L = ((N_c / N)^(alpha_N / alpha_D) + D_c / D)^alpha_D``, plus an irreducible
loss ``E`` and rewritten so that two parameters enter linearly: pulling ``N_c^rho`` out of the bracket leaves
the amplitude ``A = N_c^alpha_N`` and the ratio ``R = D_c / N_c^rho``, with ``rho = alpha_N / alpha_D``. So
``E`` and ``A`` are solved exactly by variable projection and ``(rho, R, alpha_D)`` are searched. Back to
Kaplan's constants: ``alpha_N = rho alpha_D``, ``N_c = A^(1 / alpha_N)``, ``D_c = R N_c^rho``.

The bracket is a bottleneck: with ample data the loss is a power law in ``N`` (exponent ``rho alpha_D``),
with an ample model one in ``D`` (exponent ``alpha_D``), and adding the abundant resource barely helps.

Example:
    >>> import numpy as np
    >>> law = KaplanFloor()
    >>> nc, dc, a_n, a_d = 8.8e13, 5.4e13, 0.076, 0.095  # Kaplan et al. 2020, Table 2 (no floor: E = 0)
    >>> theta = np.array([0.0, nc**a_n, a_n / a_d, dc / nc ** (a_n / a_d), a_d])
    >>> round(float(law.predict({"params": np.array([1e9]), "tokens": np.array([2e10])}, theta)[0]), 3)
    2.435
"""

from __future__ import annotations

import numpy as np

from scalinglaws.laws.base import Inputs, Law, Param, columns_of

RHO_GRID = tuple(np.round(np.arange(0.2, 2.01, 0.15), 4))
RATIO_GRID = tuple(float(v) for v in np.geomspace(1e-6, 1e12, 19))
ALPHA_D_GRID = (0.03, 0.05, 0.08, 0.12, 0.18, 0.25, 0.35, 0.5, 0.7, 1.0)


class KaplanFloor(Law):
    name = "kaplan-floor"
    description = "E + A (N^-rho + R/D)^alpha_D (Kaplan et al. 2020 eq. 1.5 with a floor)"
    note = (
        "When one resource bottlenecks the other (extra data barely helps a small model): Kaplan's joint "
        "form with an irreducible loss, so it does not extrapolate to zero loss like 'kaplan'."
    )
    inputs = ("params", "tokens")
    params = (
        Param("E", 0.0, np.inf, linear=True, log_scale=True, description="irreducible loss"),
        Param("A", 0.0, np.inf, linear=True, log_scale=True, description="amplitude, N_c^alpha_N"),
        Param("rho", 1e-3, 5.0, grid=RHO_GRID, description="alpha_N / alpha_D"),
        Param("R", 1e-12, 1e18, log_scale=True, grid=RATIO_GRID, description="D_c / N_c^rho"),
        Param("alpha_D", 1e-3, 3.0, grid=ALPHA_D_GRID, description="data exponent"),
    )

    def _bracket(self, X: Inputs, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rho, ratio = columns_of(theta)[2:4]
        n_term = X["params"] ** -rho
        return n_term, n_term + ratio / X["tokens"]

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, _, _, b = columns_of(theta)
        return E + A * self._bracket(X, theta)[1] ** b

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, _, _, b = columns_of(theta)
        n_term, g = self._bracket(X, theta)
        power = g**b
        slope = A * b * power / g
        ones = np.broadcast_to(np.ones_like(E), g.shape)
        return np.stack(
            [ones, power, -slope * n_term * np.log(X["params"]), slope / X["tokens"], A * power * np.log(g)],
            axis=-1,
        )

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        g = X["params"] ** -theta[:, 2, None] + theta[:, 3, None] / X["tokens"]
        power = g ** theta[:, 4, None]
        return np.stack([np.ones_like(power), power], axis=-1)
