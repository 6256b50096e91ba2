"""Exception hierarchy shared by every layer.

All errors raised on purpose by scalinglaws derive from :class:`ScalingLawsError`, so the CLI can turn them
into one-line messages and library users can catch them in one place.

Example:
    >>> from scalinglaws.errors import DataValidationError, ScalingLawsError
    >>> issubclass(DataValidationError, ScalingLawsError) and issubclass(DataValidationError, ValueError)
    True
"""

from __future__ import annotations


class ScalingLawsError(Exception):
    """Base class of every error scalinglaws raises deliberately."""


class DataValidationError(ScalingLawsError, ValueError):
    """Input data is malformed: the message names the file, the column and the offending rows."""


class LawError(ScalingLawsError, ValueError):
    """An unknown law name, or a law specification that is inconsistent."""


class FitError(ScalingLawsError, RuntimeError):
    """A fit could not be carried out (for example: too few points, or no finite objective anywhere)."""


class PlanError(ScalingLawsError, ValueError):
    """A planning question has no answer under the fitted law (for example: a target loss below the floor)."""


class ArtifactError(ScalingLawsError, ValueError):
    """A saved artifact is missing, unreadable or of an unknown format version."""
