"""Interval calibration of quantile forecasts: per task group, factors that widen or narrow each central
interval around the median, fitted on forecasts whose truth the model never saw. Numpy only.

A quantile forecaster trained on a few runs can be over- or under-confident in ways that differ between
task groups (near-chance MMLU subjects against rising benchmarks). The fix here is conformal in spirit:
for each central level (80%: q0.1 to q0.9) and each target, the normalised error r = (y - median) /
(q_hi - median) above the median, (median - y) / (median - q_lo) below it; the factor is the level-th
quantile of r over the calibration targets, so the rescaled interval holds that share of them. Forecasts are
rescaled around the median (which never moves) and re-sorted, so quantiles stay non-crossing.
``scalinglaws forecast-calibrate`` fits the factors by cross-fitting (each training size forecast by an
ensemble trained without it); on the shipped model they made held-out coverage worse, so it carries none
(BENCHMARKS.md).

Example:
    >>> q = (0.1, 0.25, 0.5, 0.75, 0.9)
    >>> pred = np.tile([0.4, 0.45, 0.5, 0.55, 0.6], (200, 1))
    >>> truth = 0.5 + np.random.default_rng(0).normal(0, 0.02, 200)  # the intervals are too wide
    >>> cal = fit_calibration([pred], [truth], ["piqa"], q)
    >>> round(cal.factors("piqa")[0.8], 1) < 1.0
    True
    >>> covered = lambda p: np.mean((truth >= p[:, 0]) & (truth <= p[:, 4]))
    >>> round(float(covered(cal.apply(pred, q, "piqa"))), 2)
    0.8
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalinglaws.forecast.errors import ForecastError

__all__ = ["DEFAULT_GROUPS", "IntervalCalibration", "fit_calibration"]

#: Task groups calibrated apart, first match wins: the MMLU subjects, then every other task.
DEFAULT_GROUPS = ("hendrycksTest-*", "*")


def _pair(quantiles: Sequence[float], level: float) -> tuple[int, int, int]:
    """Indices of (lower, median, upper) of the central ``level`` interval."""
    q = [round(float(v), 6) for v in quantiles]
    lo, hi, mid = round((1 - level) / 2, 6), round((1 + level) / 2, 6), 0.5
    if lo not in q or hi not in q or mid not in q:
        raise ForecastError(f"quantiles {tuple(quantiles)} have no central {level:.0%} interval")
    return q.index(lo), q.index(mid), q.index(hi)


@dataclass(frozen=True)
class IntervalCalibration:
    """Factors per task group (``fnmatch`` pattern, first match wins) and central level.

    Attributes:
        groups: ((pattern, {level: factor}), ...).
        note: where the factors come from.
    """

    groups: tuple[tuple[str, dict[float, float]], ...]
    note: str = ""

    def factors(self, task: str) -> dict[float, float] | None:
        """The factors of the first group whose pattern matches ``task``; None if none does."""
        for pattern, factors in self.groups:
            if fnmatch.fnmatchcase(task, pattern):
                return factors
        return None

    def apply(self, pred: np.ndarray, quantiles: Sequence[float], task: str) -> np.ndarray:
        """``pred`` (targets x quantiles) with each central interval rescaled around the median, sorted
        along the quantiles and clipped to [0, 1]."""
        factors = self.factors(task)
        if not factors:
            return pred
        out = np.array(pred, float, copy=True)
        for level, factor in factors.items():
            lo, mid, hi = _pair(quantiles, level)
            out[:, lo] = pred[:, mid] - factor * (pred[:, mid] - pred[:, lo])
            out[:, hi] = pred[:, mid] + factor * (pred[:, hi] - pred[:, mid])
        return np.clip(np.sort(out, axis=1), 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "groups": [[p, {f"{lv:g}": fac for lv, fac in f.items()}] for p, f in self.groups],
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IntervalCalibration:
        groups = tuple((str(p), {float(lv): float(fac) for lv, fac in f.items()}) for p, f in d["groups"])
        return cls(groups, str(d.get("note", "")))


def fit_calibration(
    preds: Sequence[np.ndarray],
    truths: Sequence[np.ndarray],
    tasks: Sequence[str],
    quantiles: Sequence[float],
    levels: Sequence[float] = (0.5, 0.8),
    groups: Sequence[str] = DEFAULT_GROUPS,
    note: str = "",
    min_targets: int = 30,
) -> IntervalCalibration:
    """Factors from forecasts (one targets x quantiles array per problem), their truths (NaN: unknown) and
    the problems' tasks; a group with fewer than ``min_targets`` known targets keeps its intervals (1.0)."""
    if not len(preds) == len(truths) == len(tasks):
        raise ForecastError(f"{len(preds)} forecasts, {len(truths)} truths and {len(tasks)} tasks")
    group_of = [next((g for g in groups if fnmatch.fnmatchcase(task, g)), None) for task in tasks]
    out = []
    for pattern in groups:
        mine = [
            (np.asarray(p, float), np.asarray(t, float))
            for p, t, g in zip(preds, truths, group_of, strict=True)
            if g == pattern
        ]
        factors = {}
        for level in levels:
            lo, mid, hi = _pair(quantiles, level)
            scores = []
            for p, t in mine:
                ok = np.isfinite(t)
                m, below, above, y = p[ok, mid], p[ok, lo], p[ok, hi], t[ok]
                up = (y - m) / np.maximum(above - m, 1e-6)
                down = (m - y) / np.maximum(m - below, 1e-6)
                scores.append(np.where(y >= m, up, down))
            r = np.concatenate(scores) if scores else np.empty(0)
            factors[float(level)] = float(np.quantile(r, level)) if len(r) >= min_targets else 1.0
        out.append((pattern, factors))
    return IntervalCalibration(tuple(out), note)
