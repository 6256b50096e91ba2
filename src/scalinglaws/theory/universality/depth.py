"""Depth toy: a residual student of a deep random teacher, ``loss ~ 1/l`` claimed (arXiv 2602.05970).

Setting (papers.md section 2.4, ``DepthScaling/exp/exp-9.py``), scaled down for a CPU:

* residual MLP blocks ``x <- x + W2 relu(W1 rmsnorm(x))**2`` (pre-RMSNorm without gain, no biases),
  width ``d``, hidden ``H``; the input ``x ~ N(0, I_d)`` is the residual stream's start; the head is
  ``rmsnorm(x) @ W_head`` to ``V`` classes (papers.md gives no input embedding or vocabulary size:
  these are our choices);
* teacher: ``L_T`` blocks with ``W1 ~ N(0, 1/d)``, ``W2 ~ N(0, 1/H) / sqrt(L_T)``, head ``N(0,
  1/d)``, logits divided by ``T`` (``T = 1`` here, the least peaked end of the paper's range, so
  that the time term of the loss fades fast and depth dominates);
* students: ``l`` blocks, ``W1 ~ N(0, 1/d)``, ``W2`` and the head zero; Adam with a 2% warmup then a
  cosine decay to 0; loss ``KL(teacher || student)``;
* data: a fixed pool of teacher-labelled inputs (the teacher is evaluated once; batches are drawn
  from the pool with replacement) and a separate held-out set on which the loss is measured.

Scale: the paper has ``d = 32, H = 128, L_T = 128``, students of 6-48 blocks, batch 1024 and 40,000
steps; the defaults (``d = 8, H = 32, L_T = 32``, students of 1-8 blocks, batch 128, 6,000 steps,
``lr = 3e-3``) take about 10 s. Gradients are written out by hand (checked against finite
differences in the tests). ``flops`` is ``6 * params * tokens``.

What reproduces (measured with this code): the loss falls as a clean power of depth, but with an
exponent of about 0.6-0.7 (defaults, seeds 0-2: 0.62, 0.71, 0.71), **not the claimed 1**. Other sizes
gave no better: ``d = 16, H = 64, L_T = 64`` gives 0.45-0.5 at 6,000 steps; with 20,000 steps and a
131,072-sample pool its local slopes are 0.58, 0.61, 0.38, 0.07 from ``l = 1`` to ``16`` (a floor
appears once ``l`` nears ``L_T / 4``); ``d = 32, H = 128, L_T = 128`` is undertrained at a CPU budget.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scalinglaws.theory.schedules import Cosine
from scalinglaws.theory.universality._common import (
    Adam,
    ToyResult,
    check_positive,
    check_positive_int,
    check_sizes,
    kl_rows,
    log_softmax,
    loglog_exponent,
    rms_normalize,
    runs_table,
)

__all__ = ["residual_depth_toy", "residual_forward", "residual_backward"]

#: Exponent claimed for depth under ensemble averaging: loss ~ 1/l.
CLAIMED_DEPTH_EXPONENT = 1.0


def residual_forward(
    w1: np.ndarray,
    w2: np.ndarray,
    head: np.ndarray,
    x: np.ndarray,
    cache: list | None = None,
) -> np.ndarray:
    """Logits of the residual MLP (``w1``: ``(l, d, H)``, ``w2``: ``(l, H, d)``, ``head``: ``(d, V)``).

    Pass an empty list as ``cache`` to keep what :func:`residual_backward` needs.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> z = residual_forward(rng.normal(size=(2, 3, 5)), np.zeros((2, 5, 3)),
        ...                      np.zeros((3, 4)), rng.normal(size=(6, 3)))
        >>> z.shape, float(abs(z).max())
        ((6, 4), 0.0)
    """
    for k in range(w1.shape[0]):
        normed, r = rms_normalize(x)
        act = np.maximum(normed @ w1[k], 0.0)
        sq = act * act
        if cache is not None:
            cache.append((normed, r, act, sq))
        x = x + sq @ w2[k]
    normed, r = rms_normalize(x)
    if cache is not None:
        cache.append((normed, r))
    return normed @ head


def residual_backward(
    w1: np.ndarray, w2: np.ndarray, head: np.ndarray, grad_logits: np.ndarray, cache: list
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``(w1, w2, head)`` given ``d loss / d logits`` and the forward cache.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> w1, w2, head = rng.normal(size=(2, 3, 5)), np.zeros((2, 5, 3)), np.zeros((3, 4))
        >>> cache = []
        >>> z = residual_forward(w1, w2, head, rng.normal(size=(6, 3)), cache)
        >>> [g.shape for g in residual_backward(w1, w2, head, np.ones_like(z), cache)]
        [(2, 3, 5), (2, 5, 3), (3, 4)]
    """
    normed, r = cache[-1]
    g_head = normed.T @ grad_logits
    dn = grad_logits @ head.T
    g = (dn - normed * (dn * normed).mean(axis=1, keepdims=True)) / r
    g1, g2 = np.empty_like(w1), np.empty_like(w2)
    for k in range(w1.shape[0] - 1, -1, -1):
        normed, r, act, sq = cache[k]
        g2[k] = sq.T @ g
        da = (g @ w2[k].T) * (2.0 * act)
        g1[k] = normed.T @ da
        dn = da @ w1[k].T
        g = g + (dn - normed * (dn * normed).mean(axis=1, keepdims=True)) / r
    return g1, g2, g_head


def residual_depth_toy(
    depths: Sequence[int] = (1, 2, 4, 8),
    *,
    width: int = 8,
    hidden: int = 32,
    vocab: int = 64,
    teacher_depth: int = 32,
    temperature: float = 1.0,
    steps: int = 6000,
    batch: int = 128,
    lr: float = 3e-3,
    pool: int = 32768,
    eval_samples: int = 8192,
    seed: int = 0,
) -> ToyResult:
    """Train residual students of each depth ``l`` on a deep random teacher; measure ``loss ~ l**-a``.

    Args:
        depths: student depths (at least three).
        width: residual width ``d``.
        hidden: MLP hidden size ``H``.
        vocab: number of output classes ``V``.
        teacher_depth: teacher blocks ``L_T``.
        temperature: teacher temperature ``T``.
        steps: Adam steps per student.
        batch: samples per step, drawn from the pool.
        lr: peak Adam learning rate.
        pool: number of teacher-labelled training inputs.
        eval_samples: held-out inputs for the loss.
        seed: seeds the teacher, the data and each student's initialisation.

    Returns:
        A :class:`ToyResult` with one row per student (``width``, ``depth``, ``step``, ``seed``
        columns besides the schema) and the exponent in depth.

    Example:
        >>> res = residual_depth_toy((1, 2, 3), width=4, hidden=8, vocab=5, teacher_depth=4,
        ...                          steps=20, batch=8, pool=64, eval_samples=32)
        >>> res.table[["run", "depth", "params"]].values.tolist()[-1], res.variable
        (['residual-l3', 3, 212], 'depth')
    """
    ls = check_sizes("depths", depths)
    d = check_positive_int("width", width)
    hid = check_positive_int("hidden", hidden)
    v = check_positive_int("vocab", vocab)
    lt = check_positive_int("teacher_depth", teacher_depth)
    check_positive("temperature", temperature)
    steps = check_positive_int("steps", steps)
    batch = check_positive_int("batch", batch)
    lr = check_positive("lr", lr)
    pool = check_positive_int("pool", pool)
    eval_samples = check_positive_int("eval_samples", eval_samples)

    rng = np.random.default_rng(seed)
    teacher = (
        rng.normal(0.0, 1.0 / np.sqrt(d), (lt, d, hid)),
        rng.normal(0.0, 1.0 / np.sqrt(hid * lt), (lt, hid, d)),
        rng.normal(0.0, 1.0 / np.sqrt(d), (d, v)),
    )
    x_train = rng.standard_normal((pool, d))
    x_eval = rng.standard_normal((eval_samples, d))
    logp_train = log_softmax(residual_forward(*teacher, x_train) / temperature)
    logp_eval = log_softmax(residual_forward(*teacher, x_eval) / temperature)
    mults = Cosine(warmup=0.02, floor=0.0).multipliers(steps)

    rows = []
    for depth in ls:
        srng = np.random.default_rng([seed, depth])
        params = [
            srng.normal(0.0, 1.0 / np.sqrt(d), (depth, d, hid)),
            np.zeros((depth, hid, d)),
            np.zeros((d, v)),
        ]
        opt = Adam(params)
        for mult in mults:
            idx = srng.integers(0, pool, batch)
            cache: list = []
            logits = residual_forward(*params, x_train[idx], cache)
            grad = (np.exp(log_softmax(logits)) - np.exp(logp_train[idx])) / batch
            opt.step(list(residual_backward(*params, grad, cache)), [lr * mult] * 3)
        loss = kl_rows(logp_eval, log_softmax(residual_forward(*params, x_eval)))
        rows.append(
            {
                "run": f"residual-l{depth}",
                "family": "residual-teacher",
                "params": depth * 2 * d * hid + d * v,
                "tokens": steps * batch,
                "loss": loss,
                "width": d,
                "depth": depth,
                "step": steps,
                "seed": seed,
            }
        )
    table = runs_table(rows)
    exponent, interval = loglog_exponent(table["depth"].to_numpy(float), table["loss"].to_numpy())
    return ToyResult(table, exponent, interval, CLAIMED_DEPTH_EXPONENT, "depth")
