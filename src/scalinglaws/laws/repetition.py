"""Data-constrained scaling (Muennighoff et al. 2023): repeated tokens are worth less than fresh ones.

``L = E + A / N^alpha + B / D'^beta`` with effective data ``D' = U + U R* (1 - exp(-R / R*))``, where ``U``
is the number of unique tokens, ``R = max(D / U - 1, 0)`` the repetitions beyond the first epoch and ``R*``
the fitted half-life of repeated data (the paper finds about 15). The paper's parameter-excess decay
(``R_N*``) is not included: it needs the compute-optimal size for ``U``, which couples the two terms.

Example:
    >>> import numpy as np
    >>> law = Repetition()
    >>> X = {"params": np.array([1e9]), "tokens": np.array([4e10]), "unique_tokens": np.array([1e10])}
    >>> theta = np.array([1.8, 480.0, 2000.0, 0.35, 0.37, 15.4])
    >>> float(law.effective_tokens(X, theta)[0]) < 4e10
    True
"""

from __future__ import annotations

import numpy as np

from scalinglaws.laws.base import Inputs, Law, Param, columns_of
from scalinglaws.laws.chinchilla import Chinchilla

R_STAR_GRID = tuple(np.round(np.geomspace(0.5, 200.0, 12), 4))


class Repetition(Law):
    name = "repetition"
    description = "E + A/N^alpha + B/D'^beta, D' discounting repeated epochs (Muennighoff et al. 2023)"
    note = "When runs repeat their data for several epochs; needs a unique_tokens column."
    inputs = ("params", "tokens", "unique_tokens")
    params = (
        *Chinchilla.params,
        Param("R_star", 0.05, 1e4, grid=R_STAR_GRID, description="decay of repeated epochs"),
    )

    @staticmethod
    def _repeats(X: Inputs) -> tuple[np.ndarray, np.ndarray]:
        unique = X["unique_tokens"]
        return unique, np.maximum(X["tokens"] / unique - 1.0, 0.0)

    def effective_tokens(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        """D' = U + U R* (1 - exp(-R / R*))."""
        r_star = columns_of(theta)[5]
        unique, repeats = self._repeats(X)
        return unique + unique * r_star * -np.expm1(-repeats / r_star)

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, B, a, b, _ = columns_of(theta)
        return E + A * X["params"] ** -a + B * self.effective_tokens(X, theta) ** -b

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, B, a, b, r_star = columns_of(theta)
        unique, repeats = self._repeats(X)
        d_eff = self.effective_tokens(X, theta)
        n_term = X["params"] ** -a
        d_term = d_eff**-b
        decay = np.exp(-repeats / r_star)
        d_deff_dr = unique * ((1.0 - decay) - (repeats / r_star) * decay)
        ones = np.broadcast_to(np.ones_like(E), np.broadcast(n_term, d_term).shape)
        return np.stack(
            [
                ones,
                ones * n_term,
                ones * d_term,
                -A * n_term * np.log(X["params"]),
                -B * d_term * np.log(d_eff),
                -b * B * d_term / d_eff * d_deff_dr,
            ],
            axis=-1,
        )

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        n_term = X["params"] ** -theta[:, 3, None]
        d_term = self.effective_tokens(X, theta) ** -theta[:, 4, None]
        return np.stack([np.ones_like(n_term), n_term, d_term], axis=-1)
