"""The fitting objective: robust (Huber) or least-squares loss on residuals in a chosen space.

Residuals are ``log(pred) - log(y)`` in log space (relative noise: the default for loss laws) and
``pred - y`` in linear space (absolute noise: the default for metric laws, and the efficient choice for
losses whose noise has a fixed size). The objective is
``sum_i w_i rho(r_i)`` with ``rho`` the Huber function (quadratic inside ``delta``, linear outside) or
``r^2 / 2``. Weights carry bootstrap resampling (a point drawn twice counts twice).

Parameters are optimised in a transformed space: ``log(value)`` for parameters declared ``log_scale``
(positive amplitudes spanning decades), the value itself otherwise.

Example:
    >>> import numpy as np
    >>> obj = Objective("huber", 1.0)
    >>> obj.rho(np.array([0.5, 2.0])).tolist()
    [0.125, 1.5]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from scalinglaws.errors import FitError
from scalinglaws.laws.base import Inputs, Law

__all__ = ["Objective", "Problem", "ResidualSpace"]

#: ``"log"``: residual ``log(pred) - log(y)`` (noise relative to the loss); ``"linear"``: ``pred - y``.
ResidualSpace = Literal["log", "linear"]


@dataclass(frozen=True, slots=True)
class Objective:
    """Loss applied to residuals: ``"huber"`` with threshold ``delta``, or ``"l2"`` (half squares)."""

    kind: Literal["huber", "l2"] = "huber"
    delta: float = 1e-3

    def __post_init__(self) -> None:
        if self.kind not in ("huber", "l2"):
            raise FitError(f"unknown loss {self.kind!r}; use 'huber' or 'l2'")
        if not self.delta > 0:
            raise FitError(f"Huber delta must be positive, got {self.delta}")

    def rho(self, r: np.ndarray) -> np.ndarray:
        if self.kind == "l2":
            return 0.5 * r * r
        a = np.abs(r)
        return np.where(a <= self.delta, 0.5 * r * r, self.delta * (a - 0.5 * self.delta))

    def psi(self, r: np.ndarray) -> np.ndarray:
        """d rho / d r."""
        return r if self.kind == "l2" else np.clip(r, -self.delta, self.delta)

    def curvature(self, r: np.ndarray) -> np.ndarray:
        """d psi / d r: 1 inside the Huber zone, 0 beyond it (1 everywhere for least squares)."""
        if self.kind == "l2":
            return np.ones_like(r)
        return (np.abs(r) <= self.delta).astype(float)

    def irls_weight(self, r: np.ndarray) -> np.ndarray:
        """psi(r) / r: the weight of each residual in iteratively reweighted least squares."""
        if self.kind == "l2":
            return np.ones_like(r)
        return np.minimum(1.0, self.delta / np.maximum(np.abs(r), 1e-300))


class Problem:
    """A law, its data and the objective, with the maps between parameters and optimisation space.

    ``space`` is where residuals live (default: the law's :attr:`~scalinglaws.laws.Law.target`);
    :attr:`obs` holds the observations in that space (``log y`` or ``y``). Methods that take ``obs`` accept
    other observations in that space, one row per parameter row (the wild bootstrap's resampled targets).
    """

    def __init__(
        self,
        law: Law,
        X: Inputs,
        y: np.ndarray,
        objective: Objective,
        weights: np.ndarray | None = None,
        space: ResidualSpace | None = None,
    ) -> None:
        self.law = law
        self.X = {k: np.asarray(X[k], dtype=float) for k in law.inputs}
        self.y = np.asarray(y, dtype=float)
        self.objective = objective
        self.weights = np.ones_like(self.y) if weights is None else np.asarray(weights, dtype=float)
        self.space: ResidualSpace = space or law.target
        if self.space not in ("log", "linear"):
            raise FitError(f"unknown residual space {self.space!r}; use 'log' or 'linear'")
        self.log_mask = np.array([p.log_scale for p in law.params])
        self.obs = self.to_obs(self.y)
        with np.errstate(divide="ignore"):
            self.u_lower = np.where(self.log_mask, np.log(np.maximum(law.lower, 0.0)), law.lower)
            self.u_upper = np.where(self.log_mask, np.log(law.upper), law.upper)

    # ----- parameter transforms ---------------------------------------------------------------------
    def to_u(self, theta: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.where(self.log_mask, np.log(np.maximum(theta, 1e-300)), theta)

    def to_theta(self, u: np.ndarray) -> np.ndarray:
        return np.where(self.log_mask, np.exp(np.minimum(u, 700.0)), u)

    def clip_u(self, u: np.ndarray) -> np.ndarray:
        return np.clip(u, self.u_lower, self.u_upper)

    # ----- residuals and objective ------------------------------------------------------------------
    def to_obs(self, y: np.ndarray) -> np.ndarray:
        """Targets in residual space: ``log y`` in log space, ``y`` in linear space."""
        return np.log(y) if self.space == "log" else y

    def residuals(self, theta: np.ndarray, obs: np.ndarray | None = None) -> np.ndarray:
        """Residuals for ``theta (p,)`` or ``(B, p)``; NaN where the prediction is not admissible."""
        return self.residuals_from(self.law.predict(self.X, theta), obs)

    def residuals_from(self, pred: np.ndarray, obs: np.ndarray | None = None) -> np.ndarray:
        """Residuals of given predictions (NaN where a log-space prediction is not positive)."""
        obs = self.obs if obs is None else obs
        if self.space == "linear":
            return pred - obs
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(pred > 0, np.log(np.where(pred > 0, pred, 1.0)), np.nan) - obs

    def value(
        self, theta: np.ndarray, weights: np.ndarray | None = None, obs: np.ndarray | None = None
    ) -> np.ndarray:
        """Objective for each parameter row; ``inf`` where any residual is not finite."""
        w = self.weights if weights is None else weights
        rho = self.objective.rho(self.residuals(theta, obs))  # NaN residuals stay NaN
        total = np.einsum("...n,...n->...", np.broadcast_to(w, rho.shape), rho)
        return np.where(np.isnan(total), np.inf, total)

    def jacobian_u(self, theta: np.ndarray, pred: np.ndarray | None = None) -> np.ndarray:
        """d residual / d u, shape ``(n, p)`` or ``(B, n, p)``."""
        jac = self.law.jacobian(self.X, theta)
        jac = jac * np.where(self.log_mask, theta, 1.0)[..., None, :]
        if self.space == "log":
            pred = self.law.predict(self.X, theta) if pred is None else pred
            jac = jac / pred[..., None]
        return jac

    def value_and_grad_u(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        """Objective and gradient in optimisation space for one parameter vector (for scipy)."""
        theta = self.to_theta(u)
        pred = self.law.predict(self.X, theta)
        if self.space == "linear":
            r = pred - self.obs
        else:
            if np.any(pred <= 0) or not np.all(np.isfinite(pred)):
                return np.inf, np.zeros_like(u)
            r = np.log(pred) - self.obs
        f = float(np.sum(self.weights * self.objective.rho(r)))
        grad = self.jacobian_u(theta, pred).T @ (self.weights * self.objective.psi(r))
        return f, grad
