"""Planning: compute-optimal size, data and loss for a budget, and the compute a target loss needs.

Example:
    >>> from scalinglaws.plan import compute_optimal, compute_for_loss
    >>> callable(compute_optimal) and callable(compute_for_loss)
    True
"""

from __future__ import annotations

from scalinglaws.plan.compute_optimal import (
    ComputePlan,
    Estimate,
    LossTarget,
    compute_for_loss,
    compute_optimal,
)
from scalinglaws.plan.frontier import frontier_optimal
from scalinglaws.plan.isoflop import IsoflopAnalysis, IsoflopSweep, isoflop_analysis

__all__ = [
    "ComputePlan",
    "Estimate",
    "IsoflopAnalysis",
    "IsoflopSweep",
    "LossTarget",
    "compute_for_loss",
    "compute_optimal",
    "frontier_optimal",
    "isoflop_analysis",
]
