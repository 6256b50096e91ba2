"""Trajectories for the neural forecaster: extraction from evals tables, checks, training samples with
augmentation, and the synthetic prior. Numpy only (no torch), so it is cheap to import.

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
    >>> traj = synthetic_trajectory(np.random.default_rng(0))
    >>> bool(np.all(np.diff(traj.tokens) > 0) and np.all((traj.values >= 0) & (traj.values <= 1)))
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalinglaws.forecast.errors import ForecastError

__all__ = [
    "HELD_OUT_SIZES",
    "SCORE_METRICS",
    "Batch",
    "Problem",
    "Sampler",
    "Trajectory",
    "check_problem",
    "synthetic_trajectory",
    "training_trajectories",
    "trajectories",
]

#: Pythia sizes whose standard zero-shot runs are the evaluation set; every run of these sizes is kept out
#: of training (deduped, five-shot and batch-size ablations included), so no run of an evaluated model
#: size, nor a near-replica of one, is ever seen.
HELD_OUT_SIZES = ("70m", "1.4b", "2.8b", "6.9b")

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
    """

    key: tuple[str, ...]
    tokens: np.ndarray
    values: np.ndarray
    stderr: np.ndarray | None = None
    loss: np.ndarray | None = None
    reference: np.ndarray | None = None

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


@dataclass
class Sampler:
    """Draws training batches from real trajectories mixed with the synthetic prior.

    Augmentation: the anchor (last context checkpoint) is drawn at a random fraction of the run's final
    tokens (70%) or a random index (30%); each interior context point is dropped with a probability drawn
    per sample from [0, ``max_drop``] (first and last kept); a random number of the earliest points is
    cut (30% of samples: schedules that start later); the targets are every later checkpoint up to the
    end of training (at most ``max_targets``, a random subset beyond that).

    Args:
        real: the real trajectories.
        synthetic_fraction: the share of samples drawn from :func:`synthetic_trajectory`.
        max_context, max_targets: caps on the sequence lengths.
        max_drop: the largest context drop-out probability.
        mmlu_weight: the sampling weight of MMLU trajectories relative to the others.
        synthetic_pool: how many synthetic trajectories to draw once (on the first batch) and reuse.
        loss_dropout: the share of samples whose context losses are hidden (so the model also works
            without them).
    """

    real: Sequence[Trajectory]
    synthetic_fraction: float = 0.3
    max_context: int = 40
    max_targets: int = 32
    max_drop: float = 0.5
    mmlu_weight: float = 1.0
    synthetic_pool: int = 20000
    loss_dropout: float = 0.2
    _cdf: np.ndarray = field(init=False, repr=False)
    _pool: list[Trajectory] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        if not self.real and self.synthetic_fraction < 1:
            raise ForecastError("no real trajectories to train on (give some, or synthetic_fraction=1)")
        w = np.array([self.mmlu_weight if _is_mmlu(t.key) else 1.0 for t in self.real], float)
        self._cdf = np.cumsum(w) / w.sum() if len(w) else w

    def sample(self, rng: np.random.Generator) -> tuple:
        """One (context tokens, context values, target tokens, target values) sample."""
        if self.synthetic_fraction > 0 and not self._pool:
            self._pool = [synthetic_trajectory(rng) for _ in range(self.synthetic_pool)]
        while True:
            if rng.random() < self.synthetic_fraction:
                traj = self._pool[int(rng.integers(len(self._pool)))]
            else:
                i = min(int(np.searchsorted(self._cdf, rng.random(), side="right")), len(self.real) - 1)
                traj = self.real[i]
            out = cut_sample(traj, rng, self.max_context, self.max_targets, self.max_drop, self.loss_dropout)
            if out is not None and traj.reference is not None:  # the reference_features option
                from scalinglaws.forecast.reference import reference_features

                out = (*out, reference_features(traj.reference, out[0], out[4], out[2], float(out[1][-1])))
            if out is not None:
                return out

    def batch(self, rng: np.random.Generator, size: int) -> Batch:
        """A padded batch of ``size`` samples."""
        return pad_batch([self.sample(rng) for _ in range(size)])


def _is_mmlu(key: tuple[str, ...]) -> bool:
    return len(key) > 1 and key[1].startswith(("hendrycksTest-", "mmlu"))


def cut_sample(
    traj: Trajectory,
    rng: np.random.Generator,
    max_context: int = 40,
    max_targets: int = 32,
    max_drop: float = 0.5,
    loss_dropout: float = 0.2,
) -> tuple | None:
    """Cut one training sample (context tokens, values, target tokens, values, context losses or None,
    final tokens) out of a trajectory (None if it is too short); the losses are dropped in
    ``loss_dropout`` of the samples.

    Example:
        >>> tr = Trajectory(("m",), np.arange(1.0, 11.0), np.linspace(.3, .6, 10))
        >>> ct, cy, tt, ty, _, final = cut_sample(tr, np.random.default_rng(1))
        >>> bool(ct[-1] < tt[0]) and len(tt) == 10 - int(np.searchsorted(tr.tokens, ct[-1])) - 1
        True
    """
    t, y = traj.tokens, traj.values
    n = len(t)
    if n < 3:
        return None
    if rng.random() < 0.7:
        frac = rng.uniform(0.03, 0.75)
        a = int(np.searchsorted(t, frac * t[-1], side="right")) - 1
    else:
        a = int(rng.integers(1, n - 1))
    a = min(max(a, 1), n - 2)
    start = 0
    if rng.random() < 0.3 and a >= 2:
        start = int(rng.integers(0, a))
    idx = np.arange(start, a + 1)
    if len(idx) > 2:
        p = rng.uniform(0.0, max_drop)
        keep = rng.random(len(idx)) >= p
        keep[0] = keep[-1] = True
        idx = idx[keep]
    idx = idx[-max_context:]
    tgt = np.arange(a + 1, n)
    if len(tgt) > max_targets:
        tgt = np.sort(rng.choice(tgt, max_targets, replace=False))
    loss = None if traj.loss is None or rng.random() < loss_dropout else traj.loss[idx]
    return t[idx], y[idx], t[tgt], y[tgt], loss, t[-1]


# ----- the synthetic prior ---------------------------------------------------------------------------------
SHAPES = ("sigmoid", "emergence", "plateau", "inverse", "hump", "flat", "power")


def _schedule(rng: np.random.Generator) -> np.ndarray:
    """Checkpoint tokens of a random schedule: Pythia-like (log then linear), linear, geometric or random."""
    final = 10 ** rng.uniform(9.0, 12.5)
    kind = rng.integers(4)
    n = int(rng.integers(8, 41))
    if kind == 0:  # powers of two early, then evenly spaced
        n_log = int(rng.integers(3, 12))
        n_lin = max(n - n_log, 4)
        lin = np.linspace(final / n_lin, final, n_lin)
        early = lin[0] * 2.0 ** -np.arange(n_log, 0, -1)
        t = np.concatenate([early, lin])
    elif kind == 1:  # evenly spaced
        t = np.linspace(final / n, final, n)
    elif kind == 2:  # geometric
        t = final * np.geomspace(10 ** -rng.uniform(1.0, 5.0), 1.0, n)
    else:  # irregular
        t = np.sort(final * 10 ** -rng.uniform(0.0, rng.uniform(1.0, 4.0), n))
        t[-1] = final
    return np.unique(t[t > 0])


def _sig(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def synthetic_trajectory(rng: np.random.Generator, shape: str | None = None) -> Trajectory:
    """A trajectory from the parametric prior: a shape in x = log(tokens / final tokens) plus binomial noise.

    Shapes: ``sigmoid`` (a rise from chance), ``emergence`` (flat, then a sharp late rise), ``plateau``
    (an early rise that levels off), ``inverse`` (a fall: inverse scaling), ``hump`` (a rise then a fall),
    ``flat`` (chance level throughout) and ``power`` (a saturating power law in tokens). Noise: each
    checkpoint's score is scored on ``n`` items (100 to 10,000, log-uniform): Gaussian with the binomial
    standard error sqrt(p (1 - p) / n) times a factor in [0.4, 1] (checkpoints share their test items, so
    their jitter is below the reported stderr), and a rare outlier checkpoint.
    """
    shape = shape or SHAPES[int(rng.choice(len(SHAPES), p=[0.3, 0.12, 0.15, 0.08, 0.08, 0.17, 0.1]))]
    t = _schedule(rng)
    x = np.log(t / t[-1])
    span = -x[0]
    chance = float(rng.choice([0.25, 0.5, 0.2, rng.uniform(0.0, 0.6)], p=[0.4, 0.3, 0.1, 0.2]))
    room = 1.0 - chance
    if shape == "sigmoid":
        a, k, x0 = rng.uniform(0.02, 0.8) * room, 10 ** rng.uniform(-0.5, 0.7), rng.uniform(-span, 2.0)
        y = chance + a * _sig(k * (x - x0))
    elif shape == "emergence":
        a, k, x0 = rng.uniform(0.05, 0.7) * room, 10 ** rng.uniform(0.3, 1.0), rng.uniform(-3.0, 1.0)
        y = chance + a * _sig(k * (x - x0))
    elif shape == "plateau":
        a, k, x0 = rng.uniform(0.05, 0.8) * room, 10 ** rng.uniform(0.0, 1.0), rng.uniform(-span, -0.5 * span)
        y = chance + a * _sig(k * (x - x0)) + rng.uniform(-0.01, 0.02) * (x + span) / max(span, 1e-9)
    elif shape == "inverse":
        top = chance + rng.uniform(0.0, 0.4) * room
        a, k, x0 = rng.uniform(0.02, 0.3) * top, 10 ** rng.uniform(-0.5, 0.7), rng.uniform(-span, 1.0)
        y = top - a * _sig(k * (x - x0))
    elif shape == "hump":
        a, k1, x1 = (
            rng.uniform(0.05, 0.5) * room,
            10 ** rng.uniform(0.0, 0.8),
            rng.uniform(-span, -0.3 * span),
        )
        x2 = rng.uniform(x1, 0.5)
        y = (
            chance
            + a * _sig(k1 * (x - x1))
            - rng.uniform(0.1, 0.8) * a * _sig(10 ** rng.uniform(0, 0.8) * (x - x2))
        )
    elif shape == "flat":
        y = np.full_like(x, chance + rng.uniform(-0.02, 0.05))
    else:  # power: c - d (t / t_final)^(-alpha), from chance upwards
        alpha = rng.uniform(0.05, 1.5)
        top = chance + rng.uniform(0.05, 0.7) * room
        y = top - (top - chance) * np.exp(-alpha * (x + span))
    y = np.clip(y, 0.0, 1.0)
    n_items = 10 ** rng.uniform(2.0, 4.0)
    sd = rng.uniform(0.4, 1.0) * np.sqrt(np.clip(y * (1 - y), 1e-4, None) / n_items)
    noisy = y + sd * rng.standard_normal(len(y))
    if rng.random() < 0.1:
        j = int(rng.integers(len(y)))
        noisy[j] += 3.0 * sd[j] * rng.choice([-1.0, 1.0])
    noisy = np.clip(noisy, 0.0, 1.0)
    return Trajectory(("synthetic", shape), t, noisy, sd)
