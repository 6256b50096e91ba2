"""Training the neural forecaster on the CPU: seeded, reproducible, minutes per model. Imports torch.

Recipe (the shipped model: :func:`train_shipped` with the defaults, three seeds averaged as an ensemble,
each member reading cross-run reference features, see :mod:`scalinglaws.forecast.reference`): 2,500 steps
of AdamW (weight decay 0.01), batch 128, learning rate 1e-3, linear warm-up over the first 5% of steps then
cosine decay to 1% of the peak learning rate, gradient clipping at 1.0, pinball loss over the five
quantiles averaged per problem. Batches mix real trajectories
(:func:`~scalinglaws.forecast.data.training_trajectories`, MMLU subtasks sampled at 0.3x the weight of the
others, since 57 near-chance MMLU subjects would otherwise dominate). The synthetic prior
(``synthetic_fraction``) is off in the shipped model: on the Pythia benchmark a 30% mix lowered the
non-MMLU error but widened intervals that were already too wide and cost MMLU a little (BENCHMARKS.md).
Reproducibility: numpy and torch are seeded, deterministic algorithms are on, and the thread count is fixed
(results can still differ across torch builds and CPUs).

Example (no torch needed for the settings):
    >>> TrainConfig().steps > 0
    True
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch

from scalinglaws.forecast.data import SHIPPED_SEEDS, Trajectory, training_trajectories
from scalinglaws.forecast.ensemble import ForecasterEnsemble
from scalinglaws.forecast.errors import ForecastError
from scalinglaws.forecast.neural import Forecaster, ForecasterConfig, _tensors, pinball_loss
from scalinglaws.forecast.reference import LossCurves, ReferenceSet, attach_references, fit_references
from scalinglaws.forecast.sampling import Sampler

__all__ = ["TrainConfig", "train", "train_shipped"]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and data settings.

    Attributes:
        steps, batch_size, lr, weight_decay, warmup: the optimiser schedule.
        synthetic_fraction: share of each batch drawn from the synthetic prior (0, the default: real data
            only).
        max_context, max_targets, max_drop: sample shapes and context drop-out (see ``Sampler``).
        mmlu_weight: sampling weight of MMLU trajectories relative to the others.
        synthetic_pool: synthetic trajectories drawn once and reused.
        seed: seeds numpy (data) and torch (weights).
        threads: torch CPU threads (the shipped weights were trained with 1; another count can change
            the last bits of the weights).
    """

    steps: int = 2500
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.05
    synthetic_fraction: float = 0.0
    max_context: int = 28
    max_targets: int = 12
    max_drop: float = 0.5
    mmlu_weight: float = 0.3
    synthetic_pool: int = 20000
    seed: int = 0
    threads: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _lr_at(step: int, cfg: TrainConfig) -> float:
    warm = max(1, int(cfg.warmup * cfg.steps))
    if step < warm:
        return cfg.lr * (0.1 + 0.9 * step / warm)
    p = (step - warm) / max(1, cfg.steps - warm)
    return cfg.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * p)))


def train(
    real: Sequence[Trajectory],
    model_config: ForecasterConfig | None = None,
    config: TrainConfig | None = None,
    log: Callable[[str], None] | None = None,
    log_every: int = 250,
    reference: ReferenceSet | None = None,
    curves: LossCurves | None = None,
) -> tuple[Forecaster, list[dict[str, float]]]:
    """Train a forecaster from scratch; returns it and the loss history (one entry per ``log_every``).

    With ``reference_features``, the trajectories' own ``reference`` laws (fitted without their run, see
    :func:`~scalinglaws.forecast.reference.attach_references`) feed training, and ``reference`` (fitted on
    every training run) is saved with the model for forecasting; so are the loss ``curves`` of a
    ``reference_loss="runs"`` model (training reads each trajectory's own ``reference_curves``)."""
    cfg = config or TrainConfig()
    mcfg = model_config or ForecasterConfig()
    if mcfg.profile:
        raise ForecastError("training with loss profiles needs profiles per checkpoint; none are given here")
    if cfg.steps < 1 or cfg.batch_size < 1:
        raise ForecastError("steps and batch_size must be >= 1")
    torch.set_num_threads(cfg.threads)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(cfg.seed)
    sampler = Sampler(
        list(real),
        synthetic_fraction=cfg.synthetic_fraction,
        max_context=cfg.max_context,
        max_targets=cfg.max_targets,
        max_drop=cfg.max_drop,
        mmlu_weight=cfg.mmlu_weight,
        synthetic_pool=cfg.synthetic_pool,
    )
    fc = Forecaster.new(mcfg, seed=cfg.seed)
    model = fc.model.train()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "embed" not in n]
    other = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "embed" not in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": other, "weight_decay": 0.0}],
        lr=cfg.lr,
    )
    history: list[dict[str, float]] = []
    running, t0 = 0.0, time.perf_counter()
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = _lr_at(step, cfg)
        batch = sampler.batch(rng, cfg.batch_size)
        tensors = _tensors(batch)
        target = torch.from_numpy(np.nan_to_num(batch.tgt_y))
        pred = model(**tensors)
        loss = pinball_loss(pred, target, mcfg.quantiles, tensors["tgt_mask"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running += float(loss.detach())
        if (step + 1) % log_every == 0 or step + 1 == cfg.steps:
            n = (step % log_every) + 1
            entry = {"step": step + 1, "loss": running / n, "seconds": time.perf_counter() - t0}
            history.append(entry)
            running = 0.0
            if log:
                log(f"step {entry['step']:>6}  pinball {entry['loss']:.5f}  {entry['seconds']:.0f} s")
    model.eval()
    meta = dict(mcfg.meta)
    meta["train"] = cfg.to_dict()
    meta["seconds"] = round(time.perf_counter() - t0, 1)
    meta["final_pinball"] = history[-1]["loss"]
    mcfg = ForecasterConfig.from_dict({**mcfg.to_dict(), "meta": meta})
    keep = mcfg.reference_features
    runs_curves = curves if keep and mcfg.reference_loss == "runs" else None
    return Forecaster(model, mcfg, reference if keep else None, runs_curves), history


def _shipped_setup(
    loss_context: bool,
    fraction_features: bool,
    reference_features: bool,
    reference_loss: str,
    exclude_sizes: Sequence[str] = (),
) -> tuple[list[Trajectory], ForecasterConfig, ReferenceSet | None, LossCurves | None]:
    """The shipped model's training trajectories (references attached), config, saved references."""
    from scalinglaws import datasets

    frame = datasets.load("pythia").table
    real = training_trajectories(frame)
    if exclude_sizes:
        size_of = dict(zip(frame["run"].astype(str), frame["size"].astype(str), strict=True))
        real = [tr for tr in real if size_of.get(str(tr.key[0])) not in set(exclude_sizes)]
    reference = curves = None
    if reference_features:
        size_of = dict(zip(frame["run"].astype(str), frame["size"].astype(str), strict=True))
        if reference_loss == "runs":
            standard = ~frame["deduped"].astype(bool) & frame["variant"].isin(["standard", "bf16"])
            curves = LossCurves.from_trajectories(real, set(frame.loc[standard, "run"].astype(str)))
        real = attach_references(real, lambda run: size_of.get(run, run), curves)
        reference = fit_references(real)
    mcfg = ForecasterConfig(
        d_model=64,
        n_layers=3,
        n_heads=4,
        d_ff=128,
        loss_context=loss_context,
        fraction_features=fraction_features,
        reference_features=reference_features,
        reference_loss=reference_loss,
        meta={
            "data": "bundled pythia evals, every run except sizes 70m, 1.4b, 2.8b, 6.9b "
            "(standard, deduped, zero- and five-shot, batch-size ablations); metrics acc, acc_norm, "
            "pct_stereotype; step 0 dropped; context losses: the run's LAMBADA log-perplexity at each "
            "observed checkpoint (hidden in 20% of samples)"
            + (f"; also without sizes {', '.join(exclude_sizes)}" if exclude_sizes else ""),
            "trajectories": len(real),
        },
    )
    if reference_features:
        mcfg.meta["reference"] = (
            "logistic law in log LAMBADA loss per (task, metric, num_fewshot), fitted on the training "
            f"trajectories ({len(reference or ())} series, saved in this JSON); in training, each "
            "trajectory's law is fitted without every run of its size"
        )
        if curves is not None:
            mcfg.meta["reference_curves"] = (
                "LAMBADA loss curves of the standard training-size runs "
                f"({', '.join(sorted(curves.curves))}); "
                "in training, each trajectory's loss is placed between the curves of the other sizes"
            )
    return real, mcfg, reference, curves


def train_shipped(
    config: TrainConfig | None = None,
    log: Callable[[str], None] | None = None,
    loss_context: bool = True,
    fraction_features: bool = False,
    reference_features: bool = True,
    reference_loss: str = "runs",
    seeds: Sequence[int] | None = SHIPPED_SEEDS,
    exclude_sizes: Sequence[str] = (),
) -> tuple[Forecaster | ForecasterEnsemble, list[dict[str, float]]]:
    """Train the shipped Pythia model (the defaults): :func:`training_trajectories` (held-out sizes
    excluded), the default architecture and recipe, one model per seed of ``seeds`` (default
    :data:`SHIPPED_SEEDS`), returned as a :class:`~scalinglaws.forecast.ensemble.ForecasterEnsemble` with
    the histories one after another (each entry with its ``seed``); each member is the model trained alone
    with its seed. ``seeds`` None: one model of ``config.seed``.

    Options: ``fraction_features``, the ablation that also tells each query how far it lies before the
    end of training; ``reference_features``, queries also read each task's logistic law in log loss
    fitted on the training runs (the training trajectories' own law fitted without every run of their
    Pythia size; the saved law on all training runs); ``reference_loss="runs"``, the run's loss is
    forecast from the loss curves of the standard training-size runs (in training, of the other sizes),
    ``"power"`` by a power law in tokens through its context losses; ``exclude_sizes``, Pythia sizes left
    out of training as well (the cross-fitted models that calibrate the intervals)."""
    real, mcfg, reference, curves = _shipped_setup(
        loss_context, fraction_features, reference_features, reference_loss, exclude_sizes
    )
    cfg = config or TrainConfig()
    if seeds is None or len(seeds) == 1:
        cfg = replace(cfg, seed=int(seeds[0])) if seeds else cfg
        return train(real, mcfg, cfg, log=log, reference=reference, curves=curves)
    members, histories = [], []
    for seed in seeds:
        if log:
            log(f"seed {seed}")
        fc, history = train(
            real, mcfg, replace(cfg, seed=int(seed)), log=log, reference=reference, curves=curves
        )
        members.append(fc)
        histories.extend({**h, "seed": float(seed)} for h in history)
    return ForecasterEnsemble(members), histories
