"""Width toy: representation superposition gives ``loss ~ 1/m`` (Liu, Liu & Gore, arXiv 2505.10465).

Setting (papers.md section 2.4, ``SuperpositionScaling/exp/exp-17.py``), scaled down for a CPU:

* data: ``x`` in ``R^n``; feature ``i`` is active with probability ``p_i ~ i**-alpha`` (``alpha =
  1.2``, normalised to sum 1, so about one feature is active per sample), independently, with value
  ``U(0, 2)``; inactive features are 0. The sampler is exact (binomial counts per feature, distinct
  samples drawn by rejection) and sparse;
* model: ``y = ReLU(x W W^T + b)``, ``W`` in ``R^{n x m}`` initialised ``N(0, 1/m)``, ``b ~ N(0, 1)``;
* loss: squared error summed over the ``n`` outputs, averaged over samples (the paper's per-element
  mean divided by ``n``; Adam is insensitive to that constant);
* optimiser: Adam, ``W`` learning rate ``lr * (8/m)**0.25``, ``b`` learning rate ``2/m``; a 5% warmup
  then a cosine decay to 0.05x (``Cosine(warmup=0.05, floor=0.05)``);
* weight decay on the rows of ``W`` (decoupled, applied before each Adam step): ``wd >= 0`` is the
  usual ``W <- W (1 - wd lr_t)``; ``wd < 0`` is the paper's "growth" ``W_i <- W_i + lr_t wd W_i (1 -
  1/|W_i|)``, which pulls every row to norm 1, i.e. every feature is represented: strong
  superposition. The default ``wd = -1`` is the paper's.

Scale: the paper uses ``n = 10240``, ``m = 8 .. 1024``, batch 8192 and 40,000 steps; the defaults
here (``n = 512``, ``m = 8 .. 64``, batch 256, 3,000 steps) take 20-50 s depending on the machine's
load. The loss is measured on fresh samples after training; the exponent is the log-log slope over
the widths (the floor is 0: with ``m >= n`` the identity is representable). ``flops`` is ``6 *
params * tokens``, which here equals the dense matrix products' count (three ``n x m`` products per
sample).

What reproduces (measured with this code): ``loss ~ 1/m`` on average. With the defaults, seeds 0-2
give 0.94, 1.26 and 1.00, and the seed-averaged losses give 1.05; single seeds scatter by about
0.3 because the larger widths are not fully converged at this budget. Including ``m = 4`` (not yet in
the power-law regime) lowers the estimate (0.76-0.95 for ``m = 4 .. 32``), and the local slope
steepens as ``m`` approaches ``n/8``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scalinglaws.theory.schedules import Cosine
from scalinglaws.theory.universality._common import (
    Adam,
    ToyError,
    ToyResult,
    check_positive,
    check_positive_int,
    check_sizes,
    loglog_exponent,
    runs_table,
)

__all__ = ["superposition_toy"]

#: Exponent claimed for strong superposition: loss ~ 1/m.
CLAIMED_WIDTH_EXPONENT = 1.0


def _active(rng: np.random.Generator, p: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the active features of ``batch`` samples (exact independent Bernoulli)."""
    cols = np.repeat(np.arange(p.size), rng.binomial(batch, p))
    rows = rng.integers(0, batch, cols.size)
    while True:  # redraw repeated (feature, sample) pairs: a uniform subset per feature
        order = np.argsort(cols * batch + rows, kind="stable")
        key = (cols * batch + rows)[order]
        dup = np.zeros(cols.size, dtype=bool)
        dup[order[1:]] = key[1:] == key[:-1]
        if not dup.any():
            return rows, cols
        rows[dup] = rng.integers(0, batch, int(dup.sum()))


def _forward(
    w: np.ndarray, b: np.ndarray, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, batch: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean per-sample squared error of ``batch`` sparse samples, the codes ``h`` and ``ReLU(z)``."""
    h = np.zeros((batch, w.shape[1]))
    np.add.at(h, rows, vals[:, None] * w[cols])
    y = h @ w.T
    y += b
    np.maximum(y, 0.0, out=y)
    y_act = y[rows, cols]
    loss = (np.vdot(y, y) + np.sum((y_act - vals) ** 2 - y_act**2)) / batch
    return float(loss), h, y


def _loss_and_grads(
    w: np.ndarray, b: np.ndarray, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, batch: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """Loss and its gradients with respect to ``w`` and ``b``."""
    loss, h, dy = _forward(w, b, rows, cols, vals, batch)
    # d loss / d pre-activation is 2 (ReLU(z) - x) where the ReLU is open; dy holds ReLU(z)
    y_act = dy[rows, cols]
    dy[rows, cols] = np.where(y_act > 0, y_act - vals, 0.0)
    dy *= 2.0 / batch
    grad_w = dy.T @ h
    np.add.at(grad_w, cols, vals[:, None] * (dy @ w)[rows])
    return loss, grad_w, dy.sum(axis=0)


def _sample(rng: np.random.Generator, p: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, cols = _active(rng, p, batch)
    return rows, cols, rng.uniform(0.0, 2.0, rows.size)


def _train_width(
    m: int,
    p: np.ndarray,
    *,
    steps: int,
    batch: int,
    lr: float,
    weight_decay: float,
    eval_samples: int,
    rng: np.random.Generator,
) -> float:
    n = p.size
    w = rng.normal(0.0, 1.0 / np.sqrt(m), (n, m))
    b = rng.normal(0.0, 1.0, n)
    lr_w, lr_b = lr * (8.0 / m) ** 0.25, 2.0 / m
    opt = Adam([w, b])
    for mult in Cosine(warmup=0.05, floor=0.05).multipliers(steps):
        _, grad_w, grad_b = _loss_and_grads(w, b, *_sample(rng, p, batch), batch)
        if weight_decay < 0:
            norms = np.linalg.norm(w, axis=1, keepdims=True)
            w += (lr_w * mult * weight_decay) * w * (1.0 - 1.0 / np.maximum(norms, 1e-12))
        else:
            w *= 1.0 - lr_w * mult * weight_decay
        opt.step([grad_w, grad_b], [lr_w * mult, lr_b * mult])
    chunks = [batch] * (eval_samples // batch) + [eval_samples % batch]
    total = sum(_forward(w, b, *_sample(rng, p, c), c)[0] * c for c in chunks if c)
    return total / eval_samples


def superposition_toy(
    widths: Sequence[int] = (8, 16, 32, 64),
    *,
    n_features: int = 512,
    alpha: float = 1.2,
    steps: int = 3000,
    batch: int = 256,
    lr: float = 0.02,
    weight_decay: float = -1.0,
    eval_samples: int = 16384,
    seed: int = 0,
) -> ToyResult:
    """Train the superposition toy at each width ``m`` and measure ``loss ~ m**-a`` (claim: a = 1).

    Args:
        widths: bottleneck widths ``m`` (at least three; keep ``m <= n_features / 8`` to stay in
            the many-features regime).
        n_features: number of features ``n``.
        alpha: exponent of the feature frequencies ``p_i ~ i**-alpha``.
        steps: Adam steps per width.
        batch: samples per step.
        lr: base learning rate of ``W`` (scaled by ``(8/m)**0.25``).
        weight_decay: negative = the paper's row-norm "growth" (strong superposition).
        eval_samples: fresh samples on which the final loss is measured.
        seed: seeds data, initialisation and evaluation; each width gets its own stream.

    Returns:
        A :class:`ToyResult` with one row per width (columns ``width``, ``step``, ``seed`` besides
        the schema) and the exponent in ``m``.

    Example:
        >>> res = superposition_toy((2, 4, 8), n_features=32, steps=20, batch=16, eval_samples=64)
        >>> res.table[["run", "width", "params"]].values.tolist()[0], res.claimed
        (['superposition-m2', 2, 96], 1.0)
    """
    ms = check_sizes("widths", widths)
    n = check_positive_int("n_features", n_features)
    if ms[-1] > n:
        raise ToyError(f"widths must not exceed n_features={n}, got {ms[-1]}")
    check_positive("alpha", alpha)
    steps = check_positive_int("steps", steps)
    batch = check_positive_int("batch", batch)
    eval_samples = check_positive_int("eval_samples", eval_samples)
    lr = check_positive("lr", lr)
    if not np.isfinite(weight_decay):
        raise ToyError(f"weight_decay must be finite, got {weight_decay!r}")
    p = np.arange(1, n + 1, dtype=float) ** -alpha
    p /= p.sum()
    rows = []
    for m in ms:
        rng = np.random.default_rng([seed, m])
        loss = _train_width(
            m,
            p,
            steps=steps,
            batch=batch,
            lr=lr,
            weight_decay=weight_decay,
            eval_samples=eval_samples,
            rng=rng,
        )
        rows.append(
            {
                "run": f"superposition-m{m}",
                "family": "superposition",
                "params": n * m + n,
                "tokens": steps * batch,
                "loss": loss,
                "width": m,
                "step": steps,
                "seed": seed,
            }
        )
    table = runs_table(rows)
    exponent, interval = loglog_exponent(table["width"].to_numpy(float), table["loss"].to_numpy())
    return ToyResult(table, exponent, interval, CLAIMED_WIDTH_EXPONENT, "width")
