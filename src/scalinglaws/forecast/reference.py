"""Cross-run reference relations for the neural forecaster (the ``reference_features`` option). Numpy only.

A forecaster that sees one trajectory cannot know how a task's score relates to the loss across runs; the
oracle logistic law (``logistic-loss``) knows it. This module gives the model that relation without the
oracle's future loss:

* **Reference relation** g_task(L): for each series (task, metric, num_fewshot), the NeuNeu paper's logistic
  law in log loss, acc = a / (1 + exp(-k (log L - L0))) + b, fitted by least squares (the same code as
  ``logistic-loss``: :func:`scalinglaws.forecast.baselines.fit_logistic`) on the (loss, score) pairs of the
  TRAINING runs' trajectories. A series with fewer than ``min_points`` pairs, fewer than two runs, or whose
  fit fails has no reference.
* **Extrapolated loss** L_hat(t), from the run's known context losses only (no future truth), in one of
  two ways. With reference **loss curves** (:class:`LossCurves`: the training runs' loss trajectories,
  same data and schedule as the runs forecast, the ``reference_loss="runs"`` option), the run's log loss
  is placed between two reference runs, log L_hat = (1 - w) log L_a + w log L_b, with w fitted by least
  squares to the context losses at tokens >= 1/8 of the last one, for the adjacent pair (ordered by loss
  at the last context point) that fits best; w may leave [0, 1] (a run smaller or larger than every
  reference). Otherwise, or where the curves do not cover the tokens asked for, a power law in tokens,
  log L = c + s log t, fitted to the same context losses (slope clipped to [-0.3, 0]; flat with a single
  loss), extended to each target.
* **Features** per target (:func:`reference_features`): 10 (g(L_hat(t)) - g(L_hat(t_last))), the change the
  reference predicts from the last observed checkpoint; 10 (y_last - g(L_hat(t_last))), the run's offset from
  the reference; g(L_hat(t)) - 0.5, the reference level (NaN, masked in the model, without a reference or
  without context losses).

Training uses a reference fitted without the trajectory's own run: :func:`attach_references` fits, for each
group of runs (the shipped model: a Pythia **size**, so a run's deduped twin and batch-size ablations are
left out with it, a stricter leave-one-run-out), the relation on every other group, and gives it the loss
curves of the other groups only. A saved model's relations (fitted on every training trajectory) and
curves are stored in its JSON (``"reference"``, ``"reference_curves"``).

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
    "LossCurves",
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


@dataclass(frozen=True)
class LossCurves:
    """Reference runs' validation-loss trajectories: run -> (tokens increasing, loss in nats > 0).

    Example:
        >>> t = np.geomspace(1e9, 3e11, 20)
        >>> curves = LossCurves({"small": (t, 3.0 * (t / 1e9) ** -0.1), "big": (t, 2.5 * (t / 1e9) ** -0.1)})
        >>> mid = 2.75 * (t / 1e9) ** -0.1
        >>> np.round(curves.interpolate(t[:6], mid[:6], t[-2:]), 3).tolist() == np.round(mid[-2:], 3).tolist()
        True
        >>> sorted(curves.without({"big"}).curves)
        ['small']
    """

    curves: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _logs: list[tuple[float, float, np.ndarray, np.ndarray]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # token range, log tokens and log loss of each curve, once: interpolate runs for every training sample
        logs = [(t[0], t[-1], np.log(t), np.log(loss)) for t, loss in self.curves.values()]
        object.__setattr__(self, "_logs", logs)

    @classmethod
    def from_trajectories(cls, trajs: Sequence[Any], runs: Sequence[str] | None = None) -> LossCurves:
        """One curve per run (of ``runs``, default all) from trajectories with known losses."""
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for tr in trajs:
            run = str(tr.key[0])
            if tr.loss is None or run in out or (runs is not None and run not in runs):
                continue
            ok = np.isfinite(tr.loss) & (tr.loss > 0)
            if ok.sum() >= 2:
                out[run] = (np.asarray(tr.tokens, float)[ok], np.asarray(tr.loss, float)[ok])
        return cls(out)

    def without(self, runs: set[str]) -> LossCurves:
        """The curves of every run but ``runs``."""
        return LossCurves({r: c for r, c in self.curves.items() if r not in runs})

    def interpolate(
        self, ctx_tokens: np.ndarray, ctx_loss: np.ndarray | None, at: np.ndarray
    ) -> np.ndarray | None:
        """The run's loss at tokens ``at`` placed between two reference curves (module docstring); None
        without context losses, or where fewer than two curves cover the context and ``at``."""
        pts = _context_points(ctx_tokens, ctx_loss)
        if pts is None:
            return None
        t, y = pts
        at = np.atleast_1d(np.asarray(at, float))
        lo, hi = min(t[0], at.min()), max(t[-1], at.max())
        log_t, log_at = np.log(t), np.log(at)
        logs = []  # (log loss at the context points, at the targets) of every covering curve
        for first, last, x, logl in self._logs:
            if first <= lo * (1 + 1e-9) and last >= hi * (1 - 1e-9):
                logs.append((np.interp(log_t, x, logl), np.interp(log_at, x, logl)))
        if len(logs) < 2:
            return None
        logs.sort(key=lambda c: -c[0][-1])  # highest loss (smallest run) first
        best: tuple[float, np.ndarray] | None = None
        for (ca, ta), (cb, tb) in zip(logs[:-1], logs[1:], strict=True):
            d = cb - ca
            dd = float(d @ d)
            if dd <= 1e-12:
                continue
            w = float(np.clip((y - ca) @ d / dd, -3.0, 4.0))
            resid = float(np.mean((ca + w * d - y) ** 2))
            if best is None or resid < best[0]:
                best = (resid, ta + w * (tb - ta))
        return None if best is None else np.exp(best[1])

    def to_dict(self) -> dict[str, list[list[float]]]:
        return {r: [t.tolist(), loss.tolist()] for r, (t, loss) in sorted(self.curves.items())}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LossCurves:
        return cls({r: (np.asarray(tl[0], float), np.asarray(tl[1], float)) for r, tl in d.items()})

    def __len__(self) -> int:
        return len(self.curves)


def _context_points(
    ctx_tokens: np.ndarray, ctx_loss: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """(tokens, log loss) of the known context losses at tokens >= 1/8 of the last known one."""
    if ctx_loss is None:
        return None
    t, loss = np.asarray(ctx_tokens, float), np.asarray(ctx_loss, float)
    ok = np.isfinite(loss) & (loss > 0)
    if not ok.any():
        return None
    t, logl = t[ok], np.log(loss[ok])
    sel = t >= t[-1] / 8.0
    return t[sel], logl[sel]


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


def attach_references(
    trajs: Sequence[Any],
    group_of: Callable[[str], str] | None = None,
    curves: LossCurves | None = None,
) -> list[Any]:
    """Trajectories with ``reference`` set to the law fitted WITHOUT their own run group (``group_of(run)``,
    default the run itself: leave-one-run-out), so training never sees a relation fitted on its own
    trajectory; with ``curves``, ``reference_curves`` set to the curves of the runs outside the group."""
    group_of = group_of or (lambda run: run)
    groups = [group_of(str(tr.key[0])) for tr in trajs]
    out = list(trajs)
    for g in dict.fromkeys(groups):
        refs = fit_references([tr for tr, gr in zip(trajs, groups, strict=True) if gr != g])
        mine = None
        if curves is not None:
            mine = curves.without({r for r in curves.curves if group_of(r) == g})
        for i, gr in enumerate(groups):
            if gr == g:
                out[i] = replace(trajs[i], reference=refs.lookup(trajs[i].key), reference_curves=mine)
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
    pts = _context_points(ctx_tokens, ctx_loss)
    if pts is None:
        return None
    t, logl = pts
    if len(t) < 2:
        return np.full(len(np.atleast_1d(at)), np.exp(logl[-1]))
    slope = float(np.clip(np.polyfit(np.log(t), logl, 1)[0], -0.3, 0.0))
    level = float(np.mean(logl - slope * np.log(t)))
    return np.exp(level + slope * np.log(np.asarray(at, float)))


def reference_features(
    theta: np.ndarray | None,
    ctx_tokens: np.ndarray,
    ctx_loss: np.ndarray | None,
    targets: np.ndarray,
    y_last: float,
    curves: LossCurves | None = None,
) -> np.ndarray | None:
    """(targets, 3) reference features (module docstring), or None without a reference or context loss;
    the loss is extrapolated with ``curves`` where they cover the tokens, else with the power law."""
    if theta is None:
        return None
    at = np.concatenate([[float(ctx_tokens[-1])], np.asarray(targets, float)])
    lhat = None if curves is None else curves.interpolate(ctx_tokens, ctx_loss, at)
    if lhat is None:
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
