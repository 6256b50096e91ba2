"""Bounded-rational law, the M4 estimator of Alabdulmohsin et al. (2022) with shape exponent one.

M4 is defined implicitly, ``(L - E) / (L0 - L)^a = b x^-c``: the loss falls from a plateau ``L0`` (small
``x``: chance level, or an untrained model) to a floor ``E`` (large ``x``), with a power law in between.
With ``a = 1`` the relation solves in closed form, ``L = (E + L0 g) / (1 + g)`` with ``g = b x^-c``, which
is linear in the two limits ``E`` and ``L0`` (solved exactly by variable projection). Writing ``b = x0^c``
gives ``g = (x / x0)^-c``: ``x0`` is the scale halfway between plateau and floor, which a grid can search
(``b`` would span hundreds of decades). Fixing ``a = 1`` is the tractable member of the family; free ``a``
needs a root solve per point and is not linear in the limits.

``x`` is one input column (compute by default; ``x="params"`` for model size).

Example:
    >>> import numpy as np
    >>> law = BoundedRational(x="flops")
    >>> theta = np.array([1.8, 10.0, 1e18, 0.3])  # floor, plateau, midpoint, exponent
    >>> law.predict({"flops": np.array([1e10, 1e18, 1e26])}, theta).round(3).tolist()
    [9.967, 5.9, 1.833]
"""

from __future__ import annotations

import numpy as np

from scalinglaws.laws.base import Inputs, Law, Param, columns_of

MIDPOINT_GRID = tuple(float(v) for v in np.geomspace(1.0, 1e27, 28))
EXPONENT_GRID = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.4, 2.0)


class BoundedRational(Law):
    name = "bounded-rational"
    description = "(E + L0 g) / (1 + g), g = (x/x0)^-c: plateau L0 to floor E (M4, Alabdulmohsin et al. 2022)"
    note = (
        "One resource whose sweep starts on a plateau (near-chance loss at small scale) and ends near a "
        "floor: a power law cannot bend at both ends. Needs points on the plateau to identify L0."
    )
    params = (
        Param("E", 0.0, np.inf, linear=True, log_scale=True, description="floor (large-scale limit)"),
        Param("L0", 0.0, np.inf, linear=True, log_scale=True, description="plateau (small-scale limit)"),
        Param("x0", 1e-3, 1e30, log_scale=True, grid=MIDPOINT_GRID, description="midpoint scale, b^(1/c)"),
        Param("c", 1e-3, 5.0, grid=EXPONENT_GRID, description="power-law exponent"),
    )

    def __init__(self, x: str = "flops") -> None:
        self.x = x
        self.inputs = (x,)

    @property
    def options(self) -> dict[str, str]:
        return {"x": self.x}

    def _g(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        x0, c = columns_of(theta)[2:]
        return (X[self.x] / x0) ** -c

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, L0 = columns_of(theta)[:2]
        g = self._g(X, theta)
        return (E + L0 * g) / (1.0 + g)

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, L0, x0, c = columns_of(theta)
        g = self._g(X, theta)
        slope = (L0 - E) / (1.0 + g) ** 2
        return np.stack(
            [1.0 / (1.0 + g), g / (1.0 + g), slope * c * g / x0, -slope * g * np.log(X[self.x] / x0)],
            axis=-1,
        )

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        g = (X[self.x] / theta[:, 2, None]) ** -theta[:, 3, None]
        return np.stack([1.0 / (1.0 + g), g / (1.0 + g)], axis=-1)
