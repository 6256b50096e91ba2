"""Time toy: learning a peaked softmax teacher gives ``loss ~ tau**(-1/3)`` (arXiv 2602.03685).

Setting (papers.md section 2.4, ``TimeScaling/exp/exp-0.py``), scaled down for a CPU:

* inputs ``x ~ N(0, I_d)``, RMS-normalised (no gain); teacher and student are bias-free linear maps
  ``R^d -> R^V``; the teacher's logits are divided by a temperature ``T << 1`` (peaked targets);
* teacher weights ``N(0, 1/d)`` (PyTorch's default uniform init has variance ``1/(3d)``: the
  difference only rescales ``T``); student initialised to zero;
* loss ``KL(teacher || student)``, measured at log-spaced checkpoints on a fixed set of held-out
  inputs; fresh inputs every step;
* the training clock is dynamic time ``tau = lr * sum(schedule multipliers)``
  (:mod:`scalinglaws.theory.schedules`); the exponent is the log-log slope of loss against ``tau``
  over the checkpoints from ``fit_from`` on (the floor is 0: the student can equal the teacher).

Scale: the paper uses ``d = 32, V = 128``, batch 1024, 50,000 Adam steps and ``T`` in
``[0.01, 0.063]``; the defaults here are ``d = 8, V = 16``, batch 256, 20,000 SGD steps (about 4 s)
and ``T = 1e-3``: a smaller ``T`` leaves more room below the teacher's own logit scale ``1/T``, where
the power law lives. ``flops`` is ``6 * params * tokens``.

Why ``1/3``: once the student has the teacher's direction, the loss at logit scale ``beta`` is
dominated by near-ties, ``L ~ 1/beta``, so its gradient is ``~1/beta**2``; gradient descent then gives
``beta**3 ~ tau`` and ``L ~ tau**(-1/3)``.

What reproduces (measured with this code, not claimed by the paper): with **plain SGD** (the default,
``lr = 10``, ``d = 8``, ``V = 16``, ``T = 1e-3``) the exponent is 0.34-0.36 over two decades of
time, for several seeds and with a cosine schedule as well (in dynamic time the schedule only
reparametrises gradient flow). With **Adam** at the papers.md code settings (``lr = 3e-3``) it is
0.54-0.58 at these sizes and 0.63 at the full setting (``d = 32, V = 128``, batch 1024, 50,000
steps, ``T = 0.01``): **not** 1/3. Adam's normalised steps grow the logit scale faster than the
vanishing gradient allows. ``optimizer="adam"`` is kept so the difference can be seen.
"""

from __future__ import annotations

import numpy as np

from scalinglaws.theory.schedules import Constant, Schedule, dynamic_time
from scalinglaws.theory.universality._common import (
    Adam,
    ToyError,
    ToyResult,
    check_positive,
    check_positive_int,
    kl_rows,
    log_softmax,
    loglog_exponent,
    rms_normalize,
    runs_table,
)

__all__ = ["peaked_time_toy"]

#: Exponent claimed for learning peaked distributions: loss ~ tau**(-1/3).
CLAIMED_TIME_EXPONENT = 1.0 / 3.0

_DEFAULT_LR = {"sgd": 10.0, "adam": 3e-3}


def peaked_time_toy(
    *,
    temperature: float = 1e-3,
    steps: int = 20000,
    batch: int = 256,
    optimizer: str = "sgd",
    lr: float | None = None,
    schedule: Schedule | None = None,
    dim: int = 8,
    n_classes: int = 16,
    checkpoints: int = 40,
    fit_from: int = 100,
    eval_samples: int = 4096,
    seed: int = 0,
) -> ToyResult:
    """Train a linear softmax student on a peaked teacher and measure ``loss ~ tau**-a`` (claim 1/3).

    Args:
        temperature: teacher temperature ``T``; smaller is more peaked (and the power law longer).
        steps: training steps.
        batch: fresh samples per step.
        optimizer: ``"sgd"`` (reproduces 1/3) or ``"adam"`` (the authors' code setting; see the
            module docstring).
        lr: peak learning rate ``eta_max``; default 10 for SGD, 3e-3 for Adam.
        schedule: learning-rate schedule (default constant); the exponent is measured in dynamic
            time ``tau``, so for SGD the schedule only reparametrises the curve.
        dim: input dimension ``d``.
        n_classes: number of classes ``V``.
        checkpoints: number of log-spaced evaluation steps (duplicates after rounding dropped).
        fit_from: first step used in the exponent fit.
        eval_samples: held-out inputs for the loss.
        seed: seeds teacher, data and evaluation set.

    Returns:
        A :class:`ToyResult` with one row per checkpoint (``step``, ``tau``, ``lr``, ``seed``
        columns besides the schema) and the exponent in ``tau``.

    Example:
        >>> res = peaked_time_toy(steps=60, fit_from=5, checkpoints=8, eval_samples=64)
        >>> res.variable, round(res.claimed, 4), int(res.table["step"].iloc[-1])
        ('tau', 0.3333, 60)
    """
    check_positive("temperature", temperature)
    steps = check_positive_int("steps", steps)
    batch = check_positive_int("batch", batch)
    if optimizer not in _DEFAULT_LR:
        raise ToyError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    eta = check_positive("lr", _DEFAULT_LR[optimizer] if lr is None else lr)
    schedule = Constant() if schedule is None else schedule
    dim = check_positive_int("dim", dim)
    n_classes = check_positive_int("n_classes", n_classes)
    if n_classes < 2:
        raise ToyError(f"n_classes must be at least 2, got {n_classes}")
    check_positive_int("checkpoints", checkpoints)
    fit_from = check_positive_int("fit_from", fit_from)
    eval_samples = check_positive_int("eval_samples", eval_samples)

    ckpt = set(np.round(np.logspace(0, np.log10(steps), checkpoints)).astype(int).tolist())
    if sum(c >= fit_from for c in ckpt) < 3:
        raise ToyError(f"fewer than 3 checkpoints from fit_from={fit_from} to steps={steps}")
    tau = dynamic_time(schedule, steps, eta)
    mults = schedule.multipliers(steps)

    rng = np.random.default_rng(seed)
    w_teacher = rng.normal(0.0, 1.0 / np.sqrt(dim), (dim, n_classes))
    h_eval = rms_normalize(rng.standard_normal((eval_samples, dim)))[0]
    logp_eval = log_softmax(h_eval @ w_teacher / temperature)
    w = np.zeros((dim, n_classes))
    opt = Adam([w]) if optimizer == "adam" else None
    rows = []
    for t in range(1, steps + 1):
        h = rms_normalize(rng.standard_normal((batch, dim)))[0]
        log_p = log_softmax(h @ w_teacher / temperature)
        grad = h.T @ (np.exp(log_softmax(h @ w)) - np.exp(log_p)) / batch
        if opt is None:
            w -= (eta * mults[t - 1]) * grad
        else:
            opt.step([grad], [eta * mults[t - 1]])
        if t in ckpt:
            rows.append(
                {
                    "run": f"peaked-T{temperature:g}-{optimizer}",
                    "family": "peaked-teacher",
                    "params": dim * n_classes,
                    "tokens": t * batch,
                    "loss": kl_rows(logp_eval, log_softmax(h_eval @ w)),
                    "step": t,
                    "tau": tau[t],
                    "lr": eta,
                    "seed": seed,
                }
            )
    table = runs_table(rows)
    fit = table[table["step"] >= fit_from]
    if np.any(fit["tau"] <= 0):
        raise ToyError(f"dynamic time is 0 at a fitted checkpoint: start fit_from after step {fit_from}")
    exponent, interval = loglog_exponent(fit["tau"].to_numpy(), fit["loss"].to_numpy())
    return ToyResult(table, exponent, interval, CLAIMED_TIME_EXPONENT, "tau")
