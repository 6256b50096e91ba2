"""Experiment design: lay out a sweep, score it before running it, suggest the next runs.

* :mod:`~scalinglaws.design.layout`: :func:`iso_cost_sweep` lays out budgets x model sizes along iso-cost
  curves, centred on a guess or on a fit (a :class:`Design`);
* :mod:`~scalinglaws.design.score`: :func:`score_design` simulates a design from a law with the data's noise
  and reports the error and interval width of ``N*``, ``D*``, ``L*`` at target budgets (a
  :class:`DesignScore`);
* :mod:`~scalinglaws.design.suggest`: :func:`suggest_runs`, the next runs that most reduce the uncertainty
  of ``N*``, ``L*`` or a planned run's loss per unit cost, from the fit's bootstrap draws, across candidate
  laws, crediting intermediate checkpoints (a :class:`Suggestion`);
* :mod:`~scalinglaws.design.laws`: :func:`candidate_laws`, the other laws that fit the data about as well
  (refitted with the same objective and bootstrap), for suggestions that hedge against the law's form;
* :mod:`~scalinglaws.design.calibrate`: :func:`calibrated_interval`, prediction intervals with a small-sample
  correction and, beyond the fitted range, the extrapolation error a backtest measured
  (:func:`measure_extrapolation_error`).

Example:
    >>> from scalinglaws.design import iso_cost_sweep
    >>> iso_cost_sweep([1e18, 1e19, 1e20], sizes_per_budget=5).n_runs
    15
"""

from __future__ import annotations

from scalinglaws.design.calibrate import ExtrapolationError, calibrated_interval, measure_extrapolation_error
from scalinglaws.design.laws import candidate_laws
from scalinglaws.design.layout import Design, DesignError, iso_cost_sweep
from scalinglaws.design.score import DesignScore, score_design
from scalinglaws.design.suggest import Suggestion, suggest_runs

__all__ = [
    "Design",
    "DesignError",
    "DesignScore",
    "ExtrapolationError",
    "Suggestion",
    "calibrated_interval",
    "candidate_laws",
    "iso_cost_sweep",
    "measure_extrapolation_error",
    "score_design",
    "suggest_runs",
]
