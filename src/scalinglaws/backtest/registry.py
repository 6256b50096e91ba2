"""The method registry: the baselines, one adapter per registered law, and whatever you add.

Example:
    >>> names = available_methods()
    >>> names[:4], "chinchilla" in names
    (['last-value', 'line3', 'loglog-line', 'sigmoid-tokens'], True)
    >>> get_method("power", bootstrap=0).bootstrap
    0
    >>> get_method("neural")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    scalinglaws.backtest.errors.BacktestError: unknown method 'neural'; available: last-value, line3, ...
"""

from __future__ import annotations

from collections.abc import Callable

from scalinglaws.backtest.baselines import LastValue, Line3, LogLogLine, SigmoidTokens
from scalinglaws.backtest.errors import BacktestError
from scalinglaws.backtest.lawmethods import LawMethod
from scalinglaws.backtest.methods import Method
from scalinglaws.laws import available_laws

__all__ = ["available_methods", "get_method", "register_method"]

_METHODS: dict[str, Callable[..., Method]] = {
    cls.name: cls for cls in (LastValue, Line3, LogLogLine, SigmoidTokens)
}


def available_methods() -> list[str]:
    """Every method name: registered methods (sorted), then the laws of the law registry (sorted)."""
    return sorted(_METHODS) + [law for law in available_laws() if law not in _METHODS]


def get_method(name: str, **options: object) -> Method:
    """Build the method registered as ``name``; a law name gives its :class:`LawMethod` (options such as
    ``bootstrap=`` and ``law_options=`` go to the constructor)."""
    if name in _METHODS:
        return _METHODS[name](**options)
    if name in available_laws():
        return LawMethod(name, **options)  # type: ignore[arg-type]
    raise BacktestError(f"unknown method {name!r}; available: {', '.join(available_methods())}")


def register_method(
    factory: Callable[..., Method], *, name: str | None = None, replace: bool = False
) -> None:
    """Add a method (a :class:`Method` subclass, or a module-level factory returning one) under ``name``.

    Registered names take precedence over law names. Methods run in worker processes, so the factory's
    class must be importable there (defined at module level in an installed module).

    Example:
        >>> register_method(LastValue, name="persistence")
        >>> type(get_method("persistence")).__name__
        'LastValue'
        >>> _ = _METHODS.pop("persistence")
    """
    key = name or getattr(factory, "name", None)
    if not key:
        raise BacktestError("a registered method needs a name")
    if key in _METHODS and not replace:
        raise BacktestError(f"method {key!r} is already registered (pass replace=True to override it)")
    _METHODS[key] = factory
