"""Training samples for the neural forecaster: cuts of real trajectories with augmentation, mixed with a
synthetic prior of trajectory shapes. Numpy only (no torch).

Example:
    >>> import numpy as np
    >>> traj = synthetic_trajectory(np.random.default_rng(0))
    >>> bool(np.all(np.diff(traj.tokens) > 0) and np.all((traj.values >= 0) & (traj.values <= 1)))
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from scalinglaws.forecast.data import Batch, Trajectory, pad_batch
from scalinglaws.forecast.errors import ForecastError

__all__ = ["SHAPES", "Sampler", "cut_sample", "synthetic_trajectory"]


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

                feats = reference_features(
                    traj.reference, out[0], out[4], out[2], float(out[1][-1]), traj.reference_curves
                )
                out = (*out, feats)
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
