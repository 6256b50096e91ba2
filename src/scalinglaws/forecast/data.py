"""Trajectories for the neural forecaster: extraction from evals tables, checks, training samples with
batches. Numpy only (no torch), so it is cheap to import. Training samples (augmentation, the synthetic
prior) are in :mod:`scalinglaws.forecast.sampling`.

A *trajectory* is one score of one run over training: (tokens, values) for one (run, task, metric,
num_fewshot), step 0 dropped (the untrained model says nothing about the run). A *training sample* cuts a
trajectory at an anchor checkpoint: the context is the anchor and (some of) the checkpoints before it, the
targets are every later checkpoint up to the end of training.

What the shipped model is trained on (:func:`training_trajectories`): the bundled Pythia evals of every run
whose size is **not** one of the held-out sizes 70m, 1.4b, 2.8b, 6.9b. So the held-out sizes are excluded
entirely: standard and deduped runs, zero- and five-shot, and their batch-size ablations
(pythia-70m-0.25MtokBS, pythia-1.4b-1MtokBS). What remains: 160m, 410m, 1b (bf16), 12b, each standard and
deduped, zero- and five-shot, and the 160m/410m/1b 0.5MtokBS ablations (five-shot), with the metrics acc,
acc_norm and crows-pairs pct_stereotype (scores in [0, 1]; likelihood_difference and LAMBADA ppl are not
scores and are left out). Each trajectory also carries its run's LAMBADA log-perplexity at each checkpoint
(same num_fewshot), the context-loss input of the shipped model.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"run": "m", "task": "piqa", "metric": "acc", "step": [0, 1, 2, 3],
    ...                       "tokens": [0.0, 1e9, 2e9, 4e9], "value": [.5, .52, .55, .6]})
    >>> [(t.key, t.tokens.tolist()) for t in trajectories(frame)]
    [(('m', 'piqa', 'acc'), [1000000000.0, 2000000000.0, 4000000000.0])]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scalinglaws.forecast.errors import ForecastError

if TYPE_CHECKING:
    from scalinglaws.forecast.reference import LossCurves

__all__ = [
    "HELD_OUT_SIZES",
    "SHIPPED_SEEDS",
    "SCORE_METRICS",
    "Batch",
    "Problem",
    "Trajectory",
    "check_problem",
    "training_trajectories",
    "trajectories",
]

#: Pythia sizes whose standard zero-shot runs are the evaluation set; every run of these sizes is kept out
#: of training (deduped, five-shot and batch-size ablations included), so no run of an evaluated model
#: size, nor a near-replica of one, is ever seen.
HELD_OUT_SIZES = ("70m", "1.4b", "2.8b", "6.9b")

#: The seeds of the shipped model's members (an ensemble, :mod:`scalinglaws.forecast.ensemble`).
SHIPPED_SEEDS = (0, 1, 2)

#: Metrics that are scores in [0, 1] (others, such as perplexities, are not trajectories to forecast).
SCORE_METRICS = ("acc", "acc_norm", "pct_stereotype")

#: Columns naming one trajectory, where the table has them.
KEY_COLUMNS = ("run", "task", "metric", "num_fewshot")


@dataclass(frozen=True, eq=False)
class Trajectory:
    """One score over training.

    Attributes:
        key: (run, task, metric[, num_fewshot]) as text.
        tokens: training tokens of each checkpoint, increasing, all > 0.
        values: the score at each checkpoint, in [0, 1].
        stderr: the reported standard error of each value, if known.
        loss: the run's validation loss (nats; for Pythia the LAMBADA log-perplexity) at each checkpoint,
            NaN where unknown, or None.
        reference: the logistic law (a, k, L0, b) of its task fitted without its own run, for the
            ``reference_features`` option (see :mod:`scalinglaws.forecast.reference`), or None.
        reference_curves: the loss curves (:class:`~scalinglaws.forecast.reference.LossCurves`) of the
            runs outside its own run group, for the ``reference_loss="runs"`` option, or None.
    """

    key: tuple[str, ...]
    tokens: np.ndarray
    values: np.ndarray
    stderr: np.ndarray | None = None
    loss: np.ndarray | None = None
    reference: np.ndarray | None = None
    reference_curves: LossCurves | None = None

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True, eq=False)
class Problem:
    """One forecast to make: a context trajectory and the token counts to predict at.

    Attributes:
        key: names the problem (run, task, ...).
        tokens: context tokens (increasing, > 0).
        values: context scores in [0, 1].
        targets: tokens of the checkpoints to forecast (each beyond the last context token).
        loss: the run's validation loss (nats) at each context checkpoint (NaN where unknown), or None.
    """

    key: tuple[str, ...]
    tokens: np.ndarray
    values: np.ndarray
    targets: np.ndarray
    loss: np.ndarray | None = None


def check_problem(problem: Problem) -> Problem:
    """Validate a problem; raise :class:`ForecastError` with a one-line reason.

    Example:
        >>> p = Problem(("m", "piqa"), np.array([1e9]), np.array([-0.2]), np.array([2e9]))
        >>> check_problem(p)
        Traceback (most recent call last):
        ...
        scalinglaws.forecast.errors.ForecastError: m/piqa: scores must lie in [0, 1]; the context holds -0.2
    """
    name = "/".join(problem.key)
    t, y, q = (np.asarray(a, float) for a in (problem.tokens, problem.values, problem.targets))
    loss = None if problem.loss is None else np.asarray(problem.loss, float)
    if loss is not None and loss.shape != t.shape:
        raise ForecastError(f"{name}: {len(loss)} context losses for {len(t)} context checkpoints")
    keep = np.isfinite(y)
    if not keep.any():
        raise ForecastError(f"{name}: no observed values in the context (every value is missing)")
    t, y = t[keep], y[keep]
    loss = None if loss is None else loss[keep]
    outside = y[(y < 0) | (y > 1)]
    if outside.size:
        hint = " (percentages? divide them by 100)" if y.min() >= 0 and y.max() <= 100 else ""
        raise ForecastError(f"{name}: scores must lie in [0, 1]; the context holds {outside[0]:g}{hint}")
    if not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise ForecastError(f"{name}: context tokens must be finite and > 0 (drop step 0)")
    if np.any(np.diff(t) <= 0):
        raise ForecastError(f"{name}: context tokens must increase strictly (one row per checkpoint)")
    if q.size == 0:
        raise ForecastError(f"{name}: no checkpoint to forecast beyond the context")
    if not np.all(np.isfinite(q)) or np.any(q <= t[-1]):
        raise ForecastError(
            f"{name}: every target must lie beyond the last context checkpoint ({t[-1]:.4g} tokens)"
        )
    return Problem(problem.key, t, y, q, loss)


def _key_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in KEY_COLUMNS if c in frame.columns]


def trajectories(
    frame: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = SCORE_METRICS,
    exclude_sizes: Iterable[str] = (),
    min_points: int = 3,
    loss_task: str | None = "lambada_openai",
) -> list[Trajectory]:
    """The score trajectories of an evals frame (step/tokens 0 dropped, sorted by tokens).

    Args:
        frame: rows with run, task, tokens, value (and metric, num_fewshot, size, stderr where known).
        metrics: keep these metrics (None: every metric).
        exclude_sizes: drop runs whose ``size`` is one of these.
        min_points: drop trajectories with fewer checkpoints.
        loss_task: attach each run's log-perplexity on this task (metric ``ppl``) at each checkpoint as
            the trajectory's ``loss`` (None: no loss).
    """
    losses = run_losses(frame, loss_task) if loss_task else None
    rows = frame[frame["tokens"].to_numpy(float) > 0]
    if metrics is not None and "metric" in rows.columns:
        rows = rows[rows["metric"].isin(list(metrics))]
    sizes = list(exclude_sizes)
    if sizes and "size" in rows.columns:
        rows = rows[~rows["size"].astype(str).isin(sizes)]
    rows = rows[np.isfinite(rows["value"].to_numpy(float))]
    cols = _key_columns(rows)
    rows = rows.sort_values([*cols, "tokens"], kind="stable").drop_duplicates([*cols, "tokens"], keep="last")
    codes = rows.groupby(cols, sort=False).ngroup().to_numpy()
    bounds = np.flatnonzero(np.diff(codes)) + 1
    t_all, y_all = rows["tokens"].to_numpy(float), rows["value"].to_numpy(float)
    se_all = rows["stderr"].to_numpy(float) if "stderr" in rows.columns else None
    key_all = rows[cols].astype(str).to_numpy()
    out = []
    for idx in np.split(np.arange(len(rows)), bounds):
        if len(idx) < min_points:
            continue
        y = y_all[idx]
        if np.any((y < 0) | (y > 1)):
            continue
        se = se_all[idx] if se_all is not None else None
        key = tuple(key_all[idx[0]])
        loss = None
        if losses:
            few = key[cols.index("num_fewshot")] if "num_fewshot" in cols else ""
            loss = lookup_losses(losses, key[0], few, t_all[idx])
        out.append(Trajectory(key, t_all[idx], y, se, loss))
    return out


#: The task whose perplexity stands in for the validation loss (as in the logistic baseline).
LOSS_TASK = "lambada_openai"


def run_losses(
    frame: pd.DataFrame, task: str = LOSS_TASK
) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """(run, num_fewshot as text, or '' without the column) -> (tokens, log-perplexity) of ``task``'s
    ``ppl`` rows.

    Example:
        >>> f = pd.DataFrame({"run": "m", "task": "lambada_openai", "metric": "ppl", "tokens": [1.0, 2.0],
        ...                   "value": [np.e, np.e ** 2]})
        >>> {k: v[1].tolist() for k, v in run_losses(f).items()}
        {('m', ''): [1.0, 2.0]}
    """
    if "metric" not in frame.columns:
        return {}
    rows = frame[(frame["task"] == task) & (frame["metric"] == "ppl") & (frame["tokens"].to_numpy(float) > 0)]
    rows = rows[np.isfinite(rows["value"].to_numpy(float)) & (rows["value"].to_numpy(float) > 0)]
    out = {}
    by = ["run", "num_fewshot"] if "num_fewshot" in rows.columns else ["run"]
    for key, g in rows.sort_values("tokens").groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        few = str(key[1]) if len(key) > 1 else ""
        out[(str(key[0]), few)] = (g["tokens"].to_numpy(float), np.log(g["value"].to_numpy(float)))
    return out


def lookup_losses(
    losses: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]], run: str, fewshot: str, tokens: np.ndarray
) -> np.ndarray | None:
    """The run's losses at ``tokens`` (NaN where it has none; None when the run has no loss at all)."""
    found = losses.get((str(run), str(fewshot))) or losses.get((str(run), "0")) or losses.get((str(run), ""))
    if found is None:
        return None
    t, v = found
    pos = np.clip(np.searchsorted(t, tokens), 0, len(t) - 1)
    return np.where(np.isclose(t[pos], tokens, rtol=1e-9), v[pos], np.nan)


def training_trajectories(frame: pd.DataFrame | None = None) -> list[Trajectory]:
    """The trajectories the shipped model is trained on: the bundled Pythia evals minus every run of the
    held-out sizes :data:`HELD_OUT_SIZES` (see the module docstring)."""
    if frame is None:
        from scalinglaws import datasets

        frame = datasets.load("pythia").table
    return trajectories(frame, exclude_sizes=HELD_OUT_SIZES)


# ----- training samples ------------------------------------------------------------------------------------
@dataclass
class Batch:
    """Padded arrays of a batch of problems (context left-aligned, padding at the end).

    Attributes:
        ctx_logt, ctx_y, ctx_mask: (B, C) log tokens, scores, validity of the context points.
        tgt_logt, tgt_mask: (B, T) log tokens and validity of the targets.
        tgt_y: (B, T) the true scores at the targets (NaN where unknown).
        profile: (B, P) loss profiles of the anchor checkpoints, or None.
        ctx_loss: (B, C) the run's validation loss at each context point (NaN where unknown).
        final_logt: (B,) log tokens at the end of training (the last target unless given).
        tgt_ref: (B, T, 3) reference features of the targets (NaN: no reference), or None.
    """

    ctx_logt: np.ndarray
    ctx_y: np.ndarray
    ctx_mask: np.ndarray
    tgt_logt: np.ndarray
    tgt_mask: np.ndarray
    tgt_y: np.ndarray
    profile: np.ndarray | None = None
    ctx_loss: np.ndarray | None = None
    final_logt: np.ndarray | None = None
    tgt_ref: np.ndarray | None = None


def pad_batch(
    items: Sequence[tuple],
    profiles: Sequence[np.ndarray] | None = None,
) -> Batch:
    """Pad (context tokens, context values, target tokens, target values or None[, context losses or
    None[, tokens at the end of training or None[, (targets, 3) reference features or None]]]) tuples
    into a Batch.

    Example:
        >>> b = pad_batch([(np.array([1., 2.]), np.array([.3, .4]), np.array([4.]), None),
        ...                (np.array([1.]), np.array([.5]), np.array([2., 3.]), np.array([.5, .6]))])
        >>> b.ctx_mask.tolist(), b.tgt_mask.tolist()
        ([[True, True], [True, False]], [[True, False], [True, True]])
    """
    n = len(items)
    c = max(len(it[0]) for it in items)
    t = max(len(it[2]) for it in items)
    ctx_logt, ctx_y = np.zeros((n, c), np.float32), np.zeros((n, c), np.float32)
    ctx_mask = np.zeros((n, c), bool)
    tgt_logt, tgt_y = np.zeros((n, t), np.float32), np.full((n, t), np.nan, np.float32)
    tgt_mask = np.zeros((n, t), bool)
    ctx_loss = np.full((n, c), np.nan, np.float32)
    final_logt = np.zeros(n, np.float32)
    refs = [it[6] if len(it) > 6 else None for it in items]
    tgt_ref = None if all(r is None for r in refs) else np.full((n, t, 3), np.nan, np.float32)
    for i, (ct, cy, tt, ty, *rest) in enumerate(items):
        if rest and rest[0] is not None:
            ctx_loss[i, : len(ct)] = rest[0]
        final_logt[i] = np.log(rest[1] if len(rest) > 1 and rest[1] is not None else np.max(tt))
        if tgt_ref is not None and refs[i] is not None:
            tgt_ref[i, : len(tt)] = refs[i]
        ctx_logt[i, : len(ct)] = np.log(ct)
        ctx_y[i, : len(ct)] = cy
        ctx_mask[i, : len(ct)] = True
        # padded targets repeat the last real target so that their (ignored) features stay in range
        tgt_logt[i, :] = np.log(tt[-1])
        tgt_logt[i, : len(tt)] = np.log(tt)
        tgt_mask[i, : len(tt)] = True
        if ty is not None:
            tgt_y[i, : len(tt)] = ty
        if len(ct) < c:
            ctx_logt[i, len(ct) :] = ctx_logt[i, len(ct) - 1]
    prof = None if profiles is None else np.stack([np.asarray(p, np.float32) for p in profiles])
    return Batch(ctx_logt, ctx_y, ctx_mask, tgt_logt, tgt_mask, tgt_y, prof, ctx_loss, final_logt, tgt_ref)
