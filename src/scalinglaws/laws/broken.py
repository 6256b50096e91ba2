"""A broken power law with one smooth break (Caballero et al. 2022, BNSL with ``n = 1``).

``L = E + A x^-c0 (1 + (x / d)^(1/f))^(-c1 f)``: below the break scale ``d`` the excess loss falls as
``x^-c0``, above it as ``x^-(c0 + c1)``; ``f`` is the width of the change-over in e-folds of ``x``. ``c1``
may have either sign (steepening or flattening). ``E`` and ``A`` are solved exactly by variable projection;
``c0, c1, d, f`` are searched. A break fitted at the edge of the sampled range means none was seen.

``x`` is one input column (compute by default).

Example:
    >>> import numpy as np
    >>> law = Broken(x="flops")
    >>> theta = np.array([1.5, 100.0, 0.1, 0.3, 1e19, 0.5])
    >>> law.predict({"flops": np.array([1e15, 1e19, 1e23])}, theta).round(4).tolist()
    [4.6623, 2.6346, 1.5316]
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from scalinglaws.laws.base import Inputs, Law, Param, columns_of

C0_GRID = (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.8)
C1_GRID = (-0.3, -0.1, 0.05, 0.15, 0.3, 0.6)
BREAK_GRID = tuple(float(v) for v in np.geomspace(1.0, 1e27, 28))
WIDTH_GRID = (0.1, 0.4, 1.5)


class Broken(Law):
    name = "broken"
    description = "E + A x^-c0 (1 + (x/d)^(1/f))^(-c1 f): one smooth break (Caballero et al. 2022)"
    note = (
        "One resource whose log-log slope changes inside the sampled range (a delayed take-off or an "
        "early saturation); needs six or more scales, and extrapolates the slope after the break."
    )
    params = (
        Param("E", 0.0, np.inf, linear=True, log_scale=True, description="irreducible loss"),
        Param("A", 0.0, np.inf, linear=True, log_scale=True, description="amplitude"),
        Param("c0", 0.0, 3.0, grid=C0_GRID, description="exponent before the break"),
        Param("c1", -3.0, 3.0, grid=C1_GRID, description="change of exponent at the break"),
        Param("d", 1e-3, 1e30, log_scale=True, grid=BREAK_GRID, description="break scale"),
        Param("f", 0.02, 10.0, log_scale=True, grid=WIDTH_GRID, description="break width (e-folds)"),
    )

    def __init__(self, x: str = "flops") -> None:
        self.x = x
        self.inputs = (x,)

    @property
    def options(self) -> dict[str, str]:
        return {"x": self.x}

    def _parts(self, X: Inputs, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The excess term ``x^-c0 (1 + e^z)^(-c1 f)``, ``z = log(x/d) / f`` and ``softplus(z)``."""
        c0, c1, d, f = columns_of(theta)[2:]
        log_x = np.log(X[self.x])
        z = (log_x - np.log(d)) / f
        soft = np.logaddexp(0.0, z)
        return np.exp(-c0 * log_x - c1 * f * soft), z, soft

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A = columns_of(theta)[:2]
        return E + A * self._parts(X, theta)[0]

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        E, A, _, c1, d, f = columns_of(theta)
        term, z, soft = self._parts(X, theta)
        excess = A * term
        sig = expit(z)
        ones = np.broadcast_to(np.ones_like(E), term.shape)
        return np.stack(
            [
                ones,
                term,
                -excess * np.log(X[self.x]),
                -excess * f * soft,
                excess * c1 * sig / d,
                excess * c1 * (sig * z - soft),
            ],
            axis=-1,
        )

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        term = self._parts(X, theta)[0]
        return np.stack([np.ones_like(term), term], axis=-1)
