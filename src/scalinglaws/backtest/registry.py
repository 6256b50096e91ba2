"""The method registry: the baselines, one adapter per registered law, plug-in methods, and whatever you add.

Plug-in methods live outside the backtest package and are registered by reference (``"module:attribute"``),
so they are imported on first use: listing them, or running other methods, never loads their dependencies
(torch, for ``neural``). :data:`PLUGINS` holds the package's own: the neural forecaster and the logistic
law of :mod:`scalinglaws.forecast.baselines`. Worker processes need no registration step: the runner ships
method *instances*, whose class is imported where they are unpickled.

Example:
    >>> names = available_methods()
    >>> names[:4], "chinchilla" in names, "neural" in names
    (['last-value', 'line3', 'logistic-loss', 'logistic-loss-forecast'], True, True)
    >>> get_method("power", bootstrap=0).bootstrap
    0
    >>> get_method("nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    scalinglaws.backtest.errors.BacktestError: unknown method 'nope'; available: last-value, line3, ...
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from scalinglaws.backtest.baselines import LastValue, Line3, LogLogLine, SigmoidTokens
from scalinglaws.backtest.errors import BacktestError
from scalinglaws.backtest.lawmethods import LawMethod
from scalinglaws.backtest.methods import Method
from scalinglaws.laws import available_laws

__all__ = ["OPT_IN", "PLUGINS", "available_methods", "default_methods", "get_method", "register_method"]

Factory = Callable[..., Method]

#: The package's plug-in methods: name -> ``"module:attribute"`` of a Method subclass or factory.
PLUGINS = {
    "logistic-loss": "scalinglaws.forecast.baselines:LogisticLoss",
    "logistic-loss-forecast": "scalinglaws.forecast.baselines:logistic_loss_forecast",
    "logistic-loss-others": "scalinglaws.forecast.baselines:logistic_loss_others",
    "neural": "scalinglaws.forecast.baselines:NeuralMethod",
}

#: Methods run only when named: ``logistic-loss-others`` fits each test run's law on the *other test runs*
#: (``measured.md``'s reference recipe), which is slow (a curve fit per run and task) and not a fair method.
OPT_IN = frozenset({"logistic-loss-others"})

_METHODS: dict[str, Factory | str] = {cls.name: cls for cls in (LastValue, Line3, LogLogLine, SigmoidTokens)}
_METHODS |= PLUGINS


def available_methods() -> list[str]:
    """Every method name: registered methods (sorted), then the laws of the law registry (sorted)."""
    return sorted(_METHODS) + [law for law in available_laws() if law not in _METHODS]


def default_methods() -> list[str]:
    """The methods a backtest runs when none are named: :func:`available_methods` less :data:`OPT_IN`.

    Example:
        >>> "logistic-loss-others" in default_methods(), "neural" in default_methods()
        (False, True)
    """
    return [name for name in available_methods() if name not in OPT_IN]


def _factory(name: str) -> Factory:
    """The factory registered as ``name``, imported now if it was registered by reference."""
    factory = _METHODS[name]
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise BacktestError(f"method {name!r}: cannot import {_METHODS[name]} ({exc})") from None
        _METHODS[name] = factory
    return factory


def get_method(name: str, **options: object) -> Method:
    """Build the method registered as ``name``; a law name gives its :class:`LawMethod` (options such as
    ``bootstrap=`` and ``law_options=`` go to the constructor)."""
    if name in _METHODS:
        return _factory(name)(**options)
    if name in available_laws():
        return LawMethod(name, **options)  # type: ignore[arg-type]
    raise BacktestError(f"unknown method {name!r}; available: {', '.join(available_methods())}")


def register_method(factory: Factory | str, *, name: str | None = None, replace: bool = False) -> None:
    """Add a method under ``name``: a :class:`Method` subclass, a module-level factory returning one, or
    ``"module:attribute"`` naming either (imported on first :func:`get_method`; ``name`` is then required).

    Registered names take precedence over law names. Methods run in worker processes, so the factory's
    class must be importable there (defined at module level in an installed module).

    Example:
        >>> register_method(LastValue, name="persistence")
        >>> register_method("scalinglaws.backtest.baselines:Line3", name="three-points")
        >>> type(get_method("persistence")).__name__, type(get_method("three-points")).__name__
        ('LastValue', 'Line3')
        >>> register_method("scalinglaws.nowhere:Thing", name="ghost")
        >>> get_method("ghost")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        scalinglaws.backtest.errors.BacktestError: method 'ghost': cannot import scalinglaws.nowhere:Thing ...
        >>> for key in ("persistence", "three-points", "ghost"):
        ...     _ = _METHODS.pop(key)
    """
    key = name or (None if isinstance(factory, str) else getattr(factory, "name", None))
    if not key:
        raise BacktestError("a registered method needs a name")
    if isinstance(factory, str) and ":" not in factory:
        raise BacktestError(f"a method registered by reference is 'module:attribute', not {factory!r}")
    if key in _METHODS and not replace:
        raise BacktestError(f"method {key!r} is already registered (pass replace=True to override it)")
    _METHODS[key] = factory
