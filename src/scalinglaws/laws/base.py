"""The law contract: parameters, bounds, linear structure, prediction and Jacobian.

A law maps input columns (``params``, ``tokens``, ...) and a parameter vector ``theta`` to a prediction. Every
method accepts ``theta`` of shape ``(p,)`` or a batch ``(B, p)`` (bootstrap draws) and broadcasts over it, so
one code path serves the point fit, the bootstrap and the planning from draws.

Example:
    >>> import numpy as np
    >>> from scalinglaws.laws import get_law
    >>> law = get_law("chinchilla")
    >>> law.param_names
    ('E', 'A', 'B', 'alpha', 'beta')
    >>> X = {"params": np.array([1e9]), "tokens": np.array([2e10])}
    >>> round(float(law.predict(X, np.array([1.69, 406.4, 410.7, 0.34, 0.28]))[0]), 4)
    2.58
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np

from scalinglaws.errors import LawError

__all__ = ["Law", "Param", "Inputs", "columns_of"]

#: Input columns of a law, by name, each an array of shape ``(n,)``.
Inputs = Mapping[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a law.

    Attributes:
        name: the parameter's name as reported (``E``, ``alpha``...).
        lower, upper: bounds the fit respects.
        linear: whether the prediction is linear in this parameter (solved exactly by variable projection).
        log_scale: optimise ``log(value)`` instead of the value (for positive amplitudes spanning decades).
        grid: values of a nonlinear parameter scanned by the dense initial search.
        description: one line for docs and reports.
    """

    name: str
    lower: float
    upper: float
    linear: bool = False
    log_scale: bool = False
    grid: tuple[float, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if not self.lower < self.upper:
            raise LawError(f"parameter {self.name!r}: lower bound must be below the upper bound")
        if self.log_scale and self.lower < 0:
            raise LawError(f"parameter {self.name!r}: log_scale needs a non-negative lower bound")
        if not self.linear and not self.grid:
            raise LawError(f"nonlinear parameter {self.name!r} needs a grid for the initial search")


def columns_of(theta: np.ndarray) -> list[np.ndarray]:
    """Split ``theta`` (``(p,)`` or ``(B, p)``) into per-parameter arrays that broadcast against ``(n,)``."""
    theta = np.asarray(theta, dtype=float)
    if theta.ndim == 1:
        return [theta[j] for j in range(theta.shape[0])]
    return [theta[:, j, None] for j in range(theta.shape[1])]


class Law:
    """Base class of every law family. Subclasses set the class attributes and implement the maths.

    Subclasses implement :meth:`predict` and, for speed, :meth:`jacobian` (the default is central finite
    differences). Laws with linear parameters implement :meth:`basis` for variable projection: then
    ``predict(X, theta) == basis(X, theta) @ theta[linear]`` (after :meth:`link`, the identity by default).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]]
    params: ClassVar[tuple[Param, ...]]
    #: ``"log"``: residuals are log(pred) - log(y) (losses); ``"linear"``: pred - y (accuracies, metrics).
    target: ClassVar[Literal["log", "linear"]] = "log"
    #: When to use it, for the docs and ``scalinglaws laws``.
    note: ClassVar[str] = ""

    # ----- derived metadata -------------------------------------------------------------------------------
    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def linear_index(self) -> np.ndarray:
        return np.array([i for i, p in enumerate(self.params) if p.linear], dtype=int)

    @property
    def nonlinear_index(self) -> np.ndarray:
        return np.array([i for i, p in enumerate(self.params) if not p.linear], dtype=int)

    @property
    def lower(self) -> np.ndarray:
        return np.array([p.lower for p in self.params])

    @property
    def upper(self) -> np.ndarray:
        return np.array([p.upper for p in self.params])

    def check_inputs(self, X: Inputs) -> None:
        """Raise :class:`LawError` naming the inputs this law needs and the data lacks."""
        missing = [c for c in self.inputs if c not in X]
        if missing:
            raise LawError(f"law {self.name!r} needs inputs {missing}; the data has {sorted(X)}")

    # ----- maths ----------------------------------------------------------------------------------------
    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        """Prediction of shape ``(n,)`` for ``theta (p,)``, or ``(B, n)`` for ``theta (B, p)``."""
        raise NotImplementedError

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        """d prediction / d theta, shape ``(n, p)`` or ``(B, n, p)``. Default: central differences."""
        theta = np.asarray(theta, dtype=float)
        cols = []
        for j in range(theta.shape[-1]):
            h = 1e-6 * np.maximum(np.abs(theta[..., j]), 1e-3)
            up, down = theta.copy(), theta.copy()
            up[..., j] += h
            down[..., j] -= h
            scale = h if np.ndim(h) == 0 else h[:, None]
            cols.append((self.predict(X, up) - self.predict(X, down)) / (2 * scale))
        return np.stack(cols, axis=-1)

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        """Columns multiplying the linear parameters, given the nonlinear ones in ``theta``.

        ``theta`` is ``(G, p)`` (the linear entries are ignored); returns ``(G, n, k)``.
        """
        raise NotImplementedError(f"law {self.name!r} has no linear structure")

    @property
    def options(self) -> dict[str, str]:
        """Constructor options, stored in artifacts so that a reloaded law is the same law."""
        return {}

    def coef_to_params(self, coef: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Map coefficients of :meth:`basis` to the linear parameters (identity by default)."""
        return coef

    def solve_linear(
        self,
        X: Inputs,
        y: np.ndarray,
        theta: np.ndarray,
        weights: np.ndarray | None = None,
        space: Literal["log", "linear"] | None = None,
    ) -> np.ndarray:
        """Variable projection: fill the linear parameters of every row of ``theta (G, p)`` exactly.

        Solves weighted least squares of the (unlinked) targets on :meth:`basis`, keeping coefficients
        with a zero lower bound non-negative (by enumerating active sets, exact for the few columns laws
        have). When residuals are in log space (``space``, default :attr:`target`) the residuals are
        scaled by 1/target, so the solve approximates the log-space fit that the refinement then
        finishes; in linear space it is the exact least-squares solution (for the identity link).
        Returns a new array.
        """
        theta = np.array(theta, dtype=float, copy=True)
        lin = self.linear_index
        design = self.basis(X, theta)
        target = self.unlink(X, y, theta)
        sw = np.ones_like(target) if weights is None else np.broadcast_to(np.sqrt(weights), target.shape)
        if (space or self.target) == "log":  # relative residuals approximate the log-space fit
            sw = sw / np.abs(target if type(self).link is not Law.link else y)
        nonneg = np.array([self.params[i].lower >= 0 for i in lin])
        coef = _nonneg_lstsq(design * sw[..., None], target * sw, nonneg)
        theta[:, lin] = np.clip(self.coef_to_params(coef, theta), self.lower[lin], self.upper[lin])
        return theta

    def link(self, z: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Map the linear combination ``basis @ linear`` to the prediction (identity by default)."""
        return z

    def unlink(self, X: Inputs, y: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`link` applied to observations, for the linear solve (identity by default)."""
        return np.broadcast_to(y, (np.shape(theta)[0], y.shape[-1]))

    def compute_optimum(
        self, compute: np.ndarray, theta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Closed-form compute-optimal ``(params, tokens)`` under C = 6ND, or None where there is none."""
        return None

    def __repr__(self) -> str:
        return f"<law {self.name}: {self.description}>"


def _nonneg_lstsq(design: np.ndarray, target: np.ndarray, nonneg: np.ndarray) -> np.ndarray:
    """Batched least squares ``min |design @ c - target|`` with ``c[nonneg] >= 0``.

    ``design`` is ``(G, n, k)``, ``target`` ``(G, n)``. Every active set is solved in one batched call and the
    best feasible one kept; exact for small ``k`` (laws have at most a handful of linear parameters).
    """
    g, _, k = design.shape
    dt = design.transpose(0, 2, 1)
    gram = dt @ design
    rhs = (dt @ target[..., None])[..., 0]
    scale = np.sqrt(np.einsum("gkk->gk", gram))  # normalise columns for conditioning
    scale[~(scale > 0)] = 1.0
    gram = gram / (scale[:, :, None] * scale[:, None, :])
    rhs = rhs / scale
    best = np.full((g, k), np.nan)
    best_sse = np.full(g, np.inf)
    free = [j for j in range(k) if not nonneg[j]]
    constrained = [j for j in range(k) if nonneg[j]]
    for mask in range(2 ** len(constrained)):
        cols = free + [c for i, c in enumerate(constrained) if mask >> i & 1]
        if not cols:
            continue
        idx = np.array(sorted(cols))
        sub = gram[:, idx[:, None], idx[None, :]] + 1e-12 * np.eye(len(idx))
        c = np.zeros((g, k))
        c[:, idx] = np.linalg.solve(sub, rhs[:, idx, None])[..., 0]
        feasible = np.all(c[:, constrained] >= 0, axis=1) if constrained else np.ones(g, bool)
        quad = np.einsum("gk,gkl,gl->g", c, gram, c) - 2.0 * np.einsum("gk,gk->g", c, rhs)
        sse = np.where(feasible, quad, np.inf)
        better = sse < best_sse
        best[better] = c[better]
        best_sse[better] = sse[better]
    return best / scale
