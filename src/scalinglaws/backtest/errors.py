"""Errors of the backtest harness: each one a one-line message the CLI prints as it is.

Example:
    >>> from scalinglaws.errors import ScalingLawsError
    >>> issubclass(SchedulerUnreachableError, BacktestError) and issubclass(BacktestError, ScalingLawsError)
    True
"""

from __future__ import annotations

from scalinglaws.errors import ScalingLawsError

__all__ = ["BacktestError", "SchedulerUnreachableError"]


class BacktestError(ScalingLawsError, ValueError):
    """A backtest cannot be set up: an empty train or test set, a bad option, an unknown method."""


class SchedulerUnreachableError(BacktestError, ConnectionError):
    """The Dask scheduler given by address did not answer within the connect timeout."""
