"""Cross-run reference relations for the neural forecaster (the ``reference_features`` option). Numpy only.

A forecaster that sees one trajectory cannot know how a task's score relates to the loss across runs; the
oracle logistic law (``logistic-loss``) knows it. This module gives the model that relation without the
oracle's future loss:

* **Reference relation** g_task(L): for each series (task, metric, num_fewshot), the NeuNeu paper's logistic
  law in log loss, acc = a / (1 + exp(-k (log L - L0))) + b, fitted by least squares (the same code as
  ``logistic-loss``: :func:`scalinglaws.forecast.baselines.fit_logistic`) on the (loss, score) pairs of the
  TRAINING runs' trajectories. A series with fewer than ``min_points`` pairs, fewer than two runs, or whose
  fit fails has no reference.
* **Extrapolated loss** L_hat(t): a power law in tokens, log L = c + s log t, fitted to the run's known
  context losses at tokens >= 1/8 of the last one (slope clipped to [-0.3, 0]; flat with a single loss),
  extended to each target. No future truth.
* **Features** per target (:func:`reference_features`): 10 (g(L_hat(t)) - g(L_hat(t_last))), the change the
  reference predicts from the last observed checkpoint; 10 (y_last - g(L_hat(t_last))), the run's offset from
  the reference; g(L_hat(t)) - 0.5, the reference level (NaN, masked in the model, without a reference or
  without context losses).

Training uses a reference fitted without the trajectory's own run: :func:`attach_references` fits, for each
group of runs (the shipped model: a Pythia **size**, so a run's deduped twin and batch-size ablations are
left out with it, a stricter leave-one-run-out), the relation on every other group. The shipped model's
reference (fitted on every training trajectory) is stored in the weights' JSON (``"reference"``).

Example:
    >>> L = np.geomspace(1.5, 20.0, 12); y = 0.25 + 0.5 / (1 + np.exp(3.0 * (np.log(L) - 1.5)))
    >>> ref = ReferenceSet({("piqa", "acc", "0"): np.array([0.5, -3.0, 1.5, 0.25])})
    >>> f = reference_features(ref.lookup(("m", "piqa", "acc")), L[:4] * 0 + np.arange(1.0, 5.0), L[:4],
    ...                        np.array([8.0]), 0.3)
    >>> f.shape, bool(np.isfinite(f).all())
    ((1, 3), True)
    >>> reference_features(ref.lookup(("m", "unknown-task", "acc")), L[:2], L[:2], np.array([8.0]), 0.3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

__all__ = [
    "N_REFERENCE_FEATURES",
    "ReferenceSet",
    "attach_references",
    "extrapolate_loss",
    "fit_references",
    "reference_features",
]

#: Features per target (before the model's known-flag).
N_REFERENCE_FEATURES = 3

#: Metric preference when a problem's key names no metric (the benchmark's "acc_norm where a task has it").
_METRIC_ORDER = ("acc_norm", "acc", "pct_stereotype")


def _logistic(loss: np.ndarray, theta: np.ndarray) -> np.ndarray:
    a, k, l0, b = theta
    z = np.clip(-k * (np.log(np.asarray(loss, float) + 1e-8) - l0), -500, 500)
    return a / (1.0 + np.exp(z)) + b


def _series(key: Sequence[str]) -> tuple[str, str | None, str]:
    """(task, metric or None, num_fewshot) of a (run, task[, metric[, num_fewshot]]) key."""
    task = str(key[1]) if len(key) > 1 else ""
    metric = str(key[2]) if len(key) > 2 else None
    few = str(key[3]) if len(key) > 3 else "0"
    return task, metric, few


@dataclass
class ReferenceSet:
    """Logistic-law parameters (a, k, L0, b) per (task, metric, num_fewshot)."""

    params: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)

    def lookup(self, key: Sequence[str]) -> np.ndarray | None:
        """The law of a problem key (run, task[, metric[, num_fewshot]]); zero-shot, then any metric in
        :data:`_METRIC_ORDER`, where the key does not say; None if there is none."""
        task, metric, few = _series(key)
        metrics = [metric] if metric is not None else list(_METRIC_ORDER)
        for f in dict.fromkeys([few, "0"]):
            for m in metrics:
                theta = self.params.get((task, m, f))
                if theta is not None:
                    return theta
        return None

    def to_dict(self) -> dict[str, list[float]]:
        return {"|".join(k): [float(v) for v in theta] for k, theta in sorted(self.params.items())}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReferenceSet:
        out = {}
        for k, theta in d.items():
            task, metric, few = k.rsplit("|", 2)
            out[(task, metric, few)] = np.asarray(theta, float)
        return cls(out)

    def __len__(self) -> int:
        return len(self.params)


def fit_references(trajs: Sequence[Any], min_points: int = 8, min_runs: int = 2) -> ReferenceSet:
    """Fit the logistic law per series on the (loss, score) pairs of trajectories (with a ``key``,
    ``values`` and ``loss``); series with too few pairs or runs, or a failed fit, get none."""
    from scalinglaws.forecast.baselines import fit_logistic

    pairs: dict[tuple[str, str, str], list[tuple[str, np.ndarray, np.ndarray]]] = {}
    for tr in trajs:
        if tr.loss is None:
            continue
        task, metric, few = _series(tr.key)
        ok = np.isfinite(tr.loss) & (tr.loss > 0) & np.isfinite(tr.values)
        if ok.any():
            pairs.setdefault((task, metric or "", few), []).append((tr.key[0], tr.loss[ok], tr.values[ok]))
    out = {}
    for series, items in sorted(pairs.items()):
        loss = np.concatenate([it[1] for it in items])
        value = np.concatenate([it[2] for it in items])
        if len(loss) < min_points or len({it[0] for it in items}) < min_runs:
            continue
        theta = fit_logistic(loss, value)
        if np.all(theta[:3] == 0) or not np.all(np.isfinite(theta)):
            continue  # fit_logistic's fallback: no usable relation
        out[series] = theta
    return ReferenceSet(out)


def attach_references(trajs: Sequence[Any], group_of: Callable[[str], str] | None = None) -> list[Any]:
    """Trajectories with ``reference`` set to the law fitted WITHOUT their own run group (``group_of(run)``,
    default the run itself: leave-one-run-out), so training never sees a relation fitted on its own
    trajectory."""
    group_of = group_of or (lambda run: run)
    groups = [group_of(str(tr.key[0])) for tr in trajs]
    out = list(trajs)
    for g in dict.fromkeys(groups):
        refs = fit_references([tr for tr, gr in zip(trajs, groups, strict=True) if gr != g])
        for i, gr in enumerate(groups):
            if gr == g:
                out[i] = replace(trajs[i], reference=refs.lookup(trajs[i].key))
    return out


def extrapolate_loss(
    ctx_tokens: np.ndarray, ctx_loss: np.ndarray | None, at: np.ndarray
) -> np.ndarray | None:
    """The run's loss at tokens ``at`` from its known context losses (a power law in tokens, see the module
    docstring); None without any known loss.

    Example:
        >>> np.round(extrapolate_loss(np.array([1.0, 2.0, 4.0]), np.array([4.0, 3.6, 3.24]),
        ...                           np.array([4.0, 8.0])), 3).tolist()
        [3.24, 2.916]
    """
    if ctx_loss is None:
        return None
    t, loss = np.asarray(ctx_tokens, float), np.asarray(ctx_loss, float)
    ok = np.isfinite(loss) & (loss > 0)
    if not ok.any():
        return None
    t, loss = t[ok], np.log(loss[ok])
    sel = t >= t[-1] / 8.0
    if sel.sum() < 2:
        return np.full(len(np.atleast_1d(at)), np.exp(loss[-1]))
    slope = float(np.clip(np.polyfit(np.log(t[sel]), loss[sel], 1)[0], -0.3, 0.0))
    level = float(np.mean(loss[sel] - slope * np.log(t[sel])))
    return np.exp(level + slope * np.log(np.asarray(at, float)))


def reference_features(
    theta: np.ndarray | None,
    ctx_tokens: np.ndarray,
    ctx_loss: np.ndarray | None,
    targets: np.ndarray,
    y_last: float,
) -> np.ndarray | None:
    """(targets, 3) reference features (module docstring), or None without a reference or context loss."""
    if theta is None:
        return None
    at = np.concatenate([[float(ctx_tokens[-1])], np.asarray(targets, float)])
    lhat = extrapolate_loss(ctx_tokens, ctx_loss, at)
    if lhat is None:
        return None
    g = _logistic(lhat, theta)
    g0, gt = g[0], g[1:]
    feats = np.stack(
        [
            np.clip(10.0 * (gt - g0), -5.0, 5.0),
            np.full_like(gt, np.clip(10.0 * (y_last - g0), -5.0, 5.0)),
            np.clip(gt, -1.0, 2.0) - 0.5,
        ],
        -1,
    )
    return feats.astype(np.float32)
