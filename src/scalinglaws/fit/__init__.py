"""The fitting engine: robust objective, variable projection, bootstrap, diagnostics, artifacts.

Example:
    >>> from scalinglaws.fit import fit, FitResult
    >>> callable(fit) and hasattr(FitResult, "load")
    True
"""

from __future__ import annotations

from scalinglaws.fit.api import fit
from scalinglaws.fit.diagnostics import Diagnostic
from scalinglaws.fit.objective import Objective
from scalinglaws.fit.result import FitResult

__all__ = ["Diagnostic", "FitResult", "Objective", "fit"]
