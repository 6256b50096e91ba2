"""Theory models that generate scaling laws: the Effective-Frontier pattern model and its simulator.

Submodules (imported lazily, so ``import scalinglaws.theory`` stays cheap):

* :mod:`scalinglaws.theory.frontier`: Zipf patterns, tail masses, capacity/coverage/optimisation
  frontiers and the Max-Bottleneck loss; ``frontier_smooth``: its smooth variant (expected loss);
  ``frontier_allocation``: compute-optimal allocation.
* :mod:`scalinglaws.theory.frontier_sim`: a seeded Monte-Carlo learner producing runs tables.

Example:
    >>> from scalinglaws.theory import loss_exponents
    >>> loss_exponents(1.5)["capacity"]
    0.5
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "frontier": (
        "BOTTLENECKS",
        "Frontiers",
        "TheoryError",
        "capacity_frontier",
        "coverage_frontier",
        "frontiers",
        "loss_exponents",
        "max_bottleneck_loss",
        "normaliser",
        "optimisation_frontier",
        "pattern_probabilities",
        "reducible_loss",
        "tail_mass",
        "tail_mass_asymptotic",
    ),
    "frontier_smooth": ("expected_loss", "soft_coverage_asymptotic", "soft_coverage_loss"),
    "frontier_allocation": ("Allocation", "optimal_allocation"),
    "frontier_sim": ("SimulationTooLargeError", "grid", "simulate", "simulation_bytes"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
