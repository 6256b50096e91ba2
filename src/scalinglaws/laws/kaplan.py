"""Kaplan et al. (2020), eq. 1.5: ``L = ((N_c / N)^(alpha_N / alpha_D) + D_c / D)^alpha_D``.

No irreducible term: the law that made "bigger models, fewer tokens" (N* ~ C^0.73) a rule. ``N_c`` and
``D_c`` are solved exactly through the link ``L^(1/alpha_D) = N_c^r N^-r + D_c / D`` with
``r = alpha_N / alpha_D``.

Example:
    >>> import numpy as np
    >>> law = Kaplan()
    >>> theta = np.array([8.8e13, 5.4e13, 0.076, 0.095])  # Kaplan et al. 2020, Table 2
    >>> round(float(law.predict({"params": np.array([1e9]), "tokens": np.array([2e10])}, theta)[0]), 3)
    2.435
"""

from __future__ import annotations

import numpy as np

from scalinglaws.laws.base import Inputs, Law, Param, columns_of

EXPONENT_GRID = tuple(np.round(np.arange(0.02, 0.601, 0.02), 4))


class Kaplan(Law):
    name = "kaplan"
    description = "((N_c/N)^(alpha_N/alpha_D) + D_c/D)^alpha_D (Kaplan et al. 2020)"
    note = "For comparison with the 2020 rules; it has no loss floor, so it extrapolates to zero loss."
    inputs = ("params", "tokens")
    params = (
        Param("N_c", 0.0, np.inf, linear=True, log_scale=True, description="model-size scale"),
        Param("D_c", 0.0, np.inf, linear=True, log_scale=True, description="data scale"),
        Param("alpha_N", 1e-3, 2.0, grid=EXPONENT_GRID, description="model-size exponent"),
        Param("alpha_D", 1e-3, 2.0, grid=EXPONENT_GRID, description="data exponent"),
    )

    def _parts(self, X: Inputs, theta: np.ndarray):
        nc, dc, an, ad = columns_of(theta)
        r = an / ad
        n_term = (nc / X["params"]) ** r
        z = n_term + dc / X["tokens"]
        return nc, dc, an, ad, r, n_term, z

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        *_, ad, _, _, z = self._parts(X, theta)
        return z**ad

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        nc, _, an, ad, r, n_term, z = self._parts(X, theta)
        loss = z**ad
        dz = ad * z ** (ad - 1.0)
        log_ratio = np.log(nc / X["params"])
        d_an = z ** (ad - 1.0) * n_term * log_ratio
        return np.stack(
            [
                dz * r * n_term / nc,
                dz / X["tokens"],
                d_an,
                loss * np.log(z) - d_an * an / ad,
            ],
            axis=-1,
        )

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        r = theta[:, 2, None] / theta[:, 3, None]
        n_term = X["params"] ** -r
        return np.stack([n_term, np.broadcast_to(1.0 / X["tokens"], n_term.shape)], axis=-1)

    def link(self, z: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return z ** theta[:, 3, None]

    def unlink(self, X: Inputs, y: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return y ** (1.0 / theta[:, 3, None])

    def coef_to_params(self, coef: np.ndarray, theta: np.ndarray) -> np.ndarray:
        r = theta[:, 2] / theta[:, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            nc = np.where(coef[:, 0] > 0, np.abs(coef[:, 0]) ** (1.0 / r), 0.0)
        return np.stack([nc, coef[:, 1]], axis=-1)
