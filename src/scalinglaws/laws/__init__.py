"""The law library: a registry of law families, and user-defined laws from a function.

Example:
    >>> from scalinglaws.laws import available_laws, get_law
    >>> "chinchilla" in available_laws()
    True
    >>> get_law("power", x="params").inputs
    ('params',)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from scalinglaws.errors import LawError
from scalinglaws.laws.base import Inputs, Law, Param, columns_of
from scalinglaws.laws.bounded_rational import BoundedRational
from scalinglaws.laws.broken import Broken
from scalinglaws.laws.chinchilla import Chinchilla
from scalinglaws.laws.frontier import Frontier
from scalinglaws.laws.kaplan import Kaplan
from scalinglaws.laws.kaplan_floor import KaplanFloor
from scalinglaws.laws.multiplicative import Multiplicative
from scalinglaws.laws.power import PowerLaw
from scalinglaws.laws.repetition import Repetition
from scalinglaws.laws.shifted import Shifted
from scalinglaws.laws.sigmoid import SigmoidLink
from scalinglaws.laws.skaling import Skaling
from scalinglaws.laws.universality import Universality

__all__ = [
    "Inputs",
    "Law",
    "Param",
    "available_laws",
    "columns_of",
    "get_law",
    "law_from_function",
    "register_law",
]

_REGISTRY: dict[str, Callable[..., Law]] = {
    cls.name: cls
    for cls in (
        Chinchilla, PowerLaw, Kaplan, Repetition, SigmoidLink,
        Multiplicative, Shifted, KaplanFloor, Skaling, BoundedRational, Broken, Frontier,
        Universality,
    )
}


def available_laws() -> list[str]:
    """Names of the registered law families, sorted."""
    return sorted(_REGISTRY)


def get_law(name: str, **options: str) -> Law:
    """Build the law registered under ``name`` (options such as ``x=`` go to its constructor)."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise LawError(f"unknown law {name!r}; available: {', '.join(available_laws())}") from None
    try:
        return factory(**options)
    except TypeError as exc:
        raise LawError(f"law {name!r} does not take options {sorted(options)}: {exc}") from None


def register_law(factory: Callable[..., Law], *, name: str | None = None, replace: bool = False) -> None:
    """Add a law family (a :class:`Law` subclass or a factory returning a Law) to the registry.

    Example:
        >>> law = law_from_function(
        ...     "exp-decay", lambda X, E, A, k: E + A * np.exp(-k * X["steps"]),
        ...     [Param("E", 0, 10, linear=True), Param("A", 0, 10, linear=True),
        ...      Param("k", 1e-6, 1.0, grid=(1e-4, 1e-3, 1e-2))], inputs=("steps",))
        >>> register_law(lambda: law, name="exp-decay")
        >>> get_law("exp-decay").param_names
        ('E', 'A', 'k')
    """
    key = name or getattr(factory, "name", None)
    if not key:
        raise LawError("a registered law needs a name")
    if key in _REGISTRY and not replace:
        raise LawError(f"law {key!r} is already registered (pass replace=True to override it)")
    _REGISTRY[key] = factory


class FunctionLaw(Law):
    """A law defined by a user function ``fn(X, *params)`` and a parameter spec.

    Linear parameters are found by probing the function (it must be linear in them, as declared), so
    variable projection works for user laws too; the Jacobian is taken by finite differences.
    """

    def __init__(
        self,
        name: str,
        fn: Callable[..., np.ndarray],
        params: Sequence[Param],
        inputs: Sequence[str],
        target: Literal["log", "linear"] = "log",
        description: str = "",
    ) -> None:
        self.name = name
        self.fn = fn
        self.params = tuple(params)
        self.inputs = tuple(inputs)
        self.target = target
        self.description = description or f"user-defined law {name}"

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        return np.asarray(self.fn(X, *columns_of(theta)), dtype=float)

    def _without_linear(self, theta: np.ndarray) -> np.ndarray:
        base = np.array(theta, dtype=float, copy=True)
        base[:, self.linear_index] = 0.0
        return base

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        base = self._without_linear(theta)
        offset = self.predict(X, base)
        cols = []
        for j in self.linear_index:
            probe = base.copy()
            probe[:, j] = 1.0
            cols.append(self.predict(X, probe) - offset)
        return np.stack(cols, axis=-1)

    def unlink(self, X: Inputs, y: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return y - self.predict(X, self._without_linear(theta))


def law_from_function(
    name: str,
    fn: Callable[..., np.ndarray],
    params: Sequence[Param],
    *,
    inputs: Sequence[str],
    target: Literal["log", "linear"] = "log",
    description: str = "",
) -> Law:
    """Make a law from ``fn(X, *params) -> prediction``; register it with :func:`register_law`."""
    return FunctionLaw(name, fn, params, inputs, target, description)
