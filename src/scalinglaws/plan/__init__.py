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
from scalinglaws.plan.shape import Shape, aspect_ratio_range, optimal_shape, shape_penalty, snap_shape
from scalinglaws.plan.universality_frontier import (
    FrontierRelations,
    ShapePlan,
    compare_frontiers,
    describe_comparison,
    frontier_relations,
    shape_optimal,
)

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
    # universality: model shape and the frontier at the optimal shape
    "FrontierRelations",
    "Shape",
    "ShapePlan",
    "aspect_ratio_range",
    "compare_frontiers",
    "describe_comparison",
    "frontier_relations",
    "optimal_shape",
    "shape_optimal",
    "shape_penalty",
    "snap_shape",
]
