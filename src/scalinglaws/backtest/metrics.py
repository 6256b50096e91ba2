"""Metrics of a backtest, each a small function on arrays, and the noise floors beside them.

* errors: :func:`absolute_error`, :func:`relative_error`, and :func:`problem_mean` (the mean over problems
  of each problem's mean: the ``measured.md`` convention, so long trajectories do not outweigh short ones);
* :func:`ranking_accuracy`: the fraction of pairs (within a group) whose order is predicted correctly;
* intervals: :func:`coverage` and :func:`mean_width`;
* noise floors: :func:`stderr_floor` (sqrt(2/pi) x the reported stderr: the mean absolute error of a
  perfect forecast of a Gaussian-noisy target), :func:`jitter_sd` (checkpoint-to-checkpoint noise of one
  trajectory) and :func:`replicate_sd` (the spread between seeds);
* :func:`distance_bin`: extrapolation distance in factors of two.

Example:
    >>> import numpy as np
    >>> problem_mean(absolute_error(np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])), ["a", "a", "b"])
    0.625
    >>> ranking_accuracy(np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0]))
    0.6666666666666666
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "HALF_NORMAL",
    "absolute_error",
    "coverage",
    "distance_bin",
    "jitter_sd",
    "jitter_sd_by_group",
    "mean_width",
    "problem_mean",
    "problem_median",
    "ranking_accuracy",
    "relative_error",
    "replicate_sd",
    "stderr_floor",
]

#: E|e| / sd of a Gaussian error: sqrt(2 / pi).
HALF_NORMAL = float(np.sqrt(2.0 / np.pi))


def absolute_error(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``|pred - truth|``."""
    return np.abs(np.asarray(pred, float) - np.asarray(truth, float))


def relative_error(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``|pred - truth| / |truth|``.

    Example:
        >>> relative_error(np.array([2.2, 1.8]), np.array([2.0, 2.0])).round(3).tolist()
        [0.1, 0.1]
    """
    truth = np.asarray(truth, float)
    return absolute_error(pred, truth) / np.abs(truth)


def _per_problem(values: np.ndarray, problems: Sequence[object]) -> np.ndarray:
    """The mean of the finite ``values`` of each problem (problems without one left out)."""
    values = np.asarray(values, float)
    finite = np.isfinite(values)
    codes = np.unique(np.asarray(problems), return_inverse=True)[1].ravel()[finite]
    counts = np.bincount(codes)
    sums = np.bincount(codes, weights=values[finite])
    return sums[counts > 0] / counts[counts > 0]


def problem_mean(values: np.ndarray, problems: Sequence[object]) -> float:
    """Mean over problems of the per-problem mean of ``values`` (NaNs ignored; NaN when none is left)."""
    means = _per_problem(values, problems)
    return float(means.mean()) if means.size else float("nan")


def problem_median(values: np.ndarray, problems: Sequence[object]) -> float:
    """Median over problems of the per-problem mean of ``values``.

    Example:
        >>> problem_median(np.array([1.0, 3.0, 10.0, 4.0]), ["a", "a", "b", "c"])
        4.0
    """
    means = _per_problem(values, problems)
    return float(np.median(means)) if means.size else float("nan")


def ranking_accuracy(pred: np.ndarray, truth: np.ndarray, groups: Sequence[object] | None = None) -> float:
    """Fraction of pairs (within each group) ordered as the truth orders them.

    Pairs tied in the truth are left out; a pair tied in the prediction counts one half. NaN when no
    pair is left.

    Example:
        >>> ranking_accuracy(np.array([1.0, 1.0, 3.0]), np.array([1.0, 2.0, 3.0]))
        0.8333333333333334
        >>> pred, truth = np.array([1.0, 2.0, 2.0, 1.0]), np.array([1.0, 2.0, 1.0, 2.0])
        >>> ranking_accuracy(pred, truth, ["a", "a", "b", "b"])
        0.5
    """
    pred, truth = np.asarray(pred, float), np.asarray(truth, float)
    codes = np.zeros(len(pred), int) if groups is None else pd.factorize(np.asarray(groups))[0]
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    score = pairs = 0.0
    for idx in np.split(order, bounds):
        p, t = pred[idx], truth[idx]
        iu = np.triu_indices(len(p), k=1)
        dt = np.sign(t[:, None] - t[None, :])[iu]
        dp = np.sign(p[:, None] - p[None, :])[iu]
        counted = dt != 0
        pairs += counted.sum()
        score += np.sum((dp == dt)[counted]) + 0.5 * np.sum((dp == 0)[counted])
    return float(score / pairs) if pairs else float("nan")


def coverage(lo: np.ndarray, hi: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of targets inside ``[lo, hi]``.

    Example:
        >>> coverage(np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, 1.0]), np.array([0.5, 1.0, 2.0]))
        0.6666666666666666
    """
    truth = np.asarray(truth, float)
    return float(np.mean((np.asarray(lo) <= truth) & (truth <= np.asarray(hi))))


def mean_width(lo: np.ndarray, hi: np.ndarray) -> float:
    """Mean of ``hi - lo``.

    Example:
        >>> mean_width(np.array([0.0, 1.0]), np.array([1.0, 4.0]))
        2.0
    """
    return float(np.mean(np.asarray(hi, float) - np.asarray(lo, float)))


def stderr_floor(stderr: np.ndarray) -> np.ndarray:
    """sqrt(2/pi) x stderr: the mean absolute error of a perfect forecast of a target measured with that
    Gaussian standard error.

    Example:
        >>> stderr_floor(np.array([0.01])).round(6).tolist()
        [0.007979]
    """
    return HALF_NORMAL * np.asarray(stderr, float)


def jitter_sd_by_group(groups: np.ndarray, time: np.ndarray, values: np.ndarray) -> np.ndarray:
    """:func:`jitter_sd` of every group at once: ``groups`` are integer codes 0..G-1; returns ``(G,)``.

    Example:
        >>> jitter_sd_by_group(np.array([1, 0, 1, 1]), np.array([4.0, 1.0, 1.0, 2.0]),
        ...                    np.array([0.6, 0.3, 0.5, 0.7])).round(6).tolist()
        [nan, 0.122474]
    """
    groups = np.asarray(groups, int)
    n_groups = int(groups.max()) + 1 if groups.size else 0
    order = np.lexsort((np.asarray(time, float), groups))
    g, x, y = groups[order], np.log(np.asarray(time, float)[order]), np.asarray(values, float)[order]
    interior = np.flatnonzero((g[1:-1] == g[:-2]) & (g[1:-1] == g[2:])) + 1
    lo, hi = interior - 1, interior + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        w = (x[interior] - x[lo]) / (x[hi] - x[lo])
        r = y[interior] - ((1.0 - w) * y[lo] + w * y[hi])
        scaled = r**2 / (1.0 + w**2 + (1.0 - w) ** 2)
    counts = np.bincount(g[interior], minlength=n_groups)
    sums = np.bincount(g[interior], weights=scaled, minlength=n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts > 0, np.sqrt(sums / counts), np.nan)


def jitter_sd(time: np.ndarray, values: np.ndarray) -> float:
    """Checkpoint-to-checkpoint noise of one trajectory.

    Each interior checkpoint (in time order) is compared with the interpolation of its two neighbours in
    log time, ``r = y_i - ((1 - w) y_{i-1} + w y_{i+1})``; with independent noise of sd s,
    ``Var r = s^2 (1 + w^2 + (1 - w)^2)``, so ``s^2 = mean(r^2 / (1 + w^2 + (1 - w)^2))``. NaN with fewer
    than 3 checkpoints.

    Example:
        >>> round(jitter_sd(np.array([1.0, 2.0, 4.0]), np.array([0.5, 0.7, 0.6])), 6)
        0.122474
    """
    return float(jitter_sd_by_group(np.zeros(len(time), int), time, values)[0]) if len(time) else float("nan")


def replicate_sd(frame: pd.DataFrame, target: str, by: Sequence[str]) -> np.ndarray:
    """Per row, the standard deviation of ``target`` over the rows sharing ``by`` that differ in ``seed``
    (NaN without a ``seed`` column or without replicates).

    Example:
        >>> df = pd.DataFrame({"params": [1, 1, 2], "seed": [0, 1, 0], "loss": [3.0, 3.2, 2.5]})
        >>> replicate_sd(df, "loss", ["params"]).round(4).tolist()
        [0.1414, 0.1414, nan]
    """
    if "seed" not in frame.columns:
        return np.full(len(frame), np.nan)
    grouped = frame.groupby(list(by), sort=False, dropna=False)
    sd = grouped[target].transform("std").to_numpy(float)
    seeds = grouped["seed"].transform("nunique").to_numpy(float)
    return np.where(seeds >= 2, sd, np.nan)


def distance_bin(distance: np.ndarray) -> list[str]:
    """Extrapolation distance (test compute / largest training compute) in factors of two.

    Example:
        >>> distance_bin(np.array([0.5, 1.0, 1.5, 3.0, 40.0]))
        ['<=1x', '<=1x', '1-2x', '2-4x', '32-64x']
    """
    out = []
    for d in np.asarray(distance, float):
        if not np.isfinite(d):
            out.append("n/a")
        elif d <= 1.0:
            out.append("<=1x")
        else:
            k = int(np.floor(np.log2(d)))
            k = k - 1 if 2.0**k == d else k  # an exact power of two closes the bin below it
            out.append(f"{2**k:g}-{2 ** (k + 1):g}x")
    return out
