"""Errors of the neural forecaster, each a one-line message the CLI prints as it is.

Example:
    >>> from scalinglaws.errors import ScalingLawsError
    >>> issubclass(ProfileError, ForecastError) and issubclass(ForecastError, ScalingLawsError)
    True
"""

from __future__ import annotations

from scalinglaws.errors import ScalingLawsError

__all__ = ["ForecastError", "ProfileError"]


class ForecastError(ScalingLawsError, ValueError):
    """A forecast cannot be made: too few checkpoints, no observed values, scores outside [0, 1], ..."""


class ProfileError(ForecastError):
    """A loss profile is unreadable or does not match the model (another text, another length)."""
