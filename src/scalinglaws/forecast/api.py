"""Forecast an evals table with the neural forecaster: :func:`forecast_evals` (what ``scalinglaws forecast``
runs) and :func:`plot_forecasts`. Torch is imported only when a forecast is made.

Example:
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"run": "m", "task": "piqa", "step": [1, 2, 4, 8], "tokens": [1e9, 2e9, 4e9, 8e9],
    ...                    "value": [.55, .57, .6, .62]})
    >>> (p,) = problems_from_evals(ev, context_fraction=0.5)
    >>> p.key, p.tokens.tolist(), p.targets.tolist()
    (('m', 'piqa'), [1000000000.0, 2000000000.0, 4000000000.0], [8000000000.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.forecast.data import KEY_COLUMNS, Problem, check_problem, lookup_losses, run_losses
from scalinglaws.forecast.errors import ForecastError

__all__ = ["TaskForecast", "forecast_evals", "plot_forecasts", "problems_from_evals"]


@dataclass(frozen=True, eq=False)
class TaskForecast:
    """The forecast of one (run, task, metric) trajectory.

    Attributes:
        key: (run, task[, metric, num_fewshot]).
        context_tokens, context_values: the observed checkpoints.
        tokens: the checkpoints forecast.
        quantiles: (len(tokens), len(levels)) forecast quantiles.
        levels: the quantile levels.
        truth: the observed score at ``tokens`` where the table has it (NaN elsewhere), else None.
    """

    key: tuple[str, ...]
    context_tokens: np.ndarray
    context_values: np.ndarray
    tokens: np.ndarray
    quantiles: np.ndarray
    levels: tuple[float, ...]
    truth: np.ndarray | None = None

    def q(self, level: float) -> np.ndarray:
        """The forecast at one quantile level."""
        return self.quantiles[:, list(self.levels).index(level)]

    def to_dict(self) -> dict[str, Any]:
        names = ("run", "task", "metric", "num_fewshot")
        doc: dict[str, Any] = dict(zip(names, self.key, strict=False))
        doc["context"] = {"tokens": self.context_tokens.tolist(), "values": self.context_values.tolist()}
        doc["forecast"] = [
            {
                "tokens": float(t),
                **{f"q{round(100 * lv):02d}": float(v) for lv, v in zip(self.levels, row, strict=True)},
                **(
                    {"truth": None if not np.isfinite(self.truth[i]) else float(self.truth[i])}
                    if self.truth is not None
                    else {}
                ),
            }
            for i, (t, row) in enumerate(zip(self.tokens, self.quantiles, strict=True))
        ]
        return doc


def _frame(evals: Any) -> pd.DataFrame:
    frame = evals.table if hasattr(evals, "table") else evals
    if not isinstance(frame, pd.DataFrame):
        raise ForecastError(
            f"cannot forecast data of type {type(evals).__name__}: pass an Evals table or a DataFrame"
        )
    missing = [c for c in ("run", "task", "tokens", "value") if c not in frame.columns]
    if missing:
        raise ForecastError(f"the evals table lacks column(s) {', '.join(missing)}")
    return frame


def problems_from_evals(
    evals: Any,
    *,
    tasks: Sequence[str] | None = None,
    runs: Sequence[str] | None = None,
    context_fraction: float | None = None,
    until: float | None = None,
    points: int = 8,
    loss_frame: pd.DataFrame | None = None,
) -> list[Problem]:
    """Problems from an evals table: per run, the context is every checkpoint with 0 < tokens <= fraction x
    the run's final tokens (all of them without a fraction); the targets are the later checkpoints of the
    table, or ``points`` log-spaced token counts up to ``until``. Each context checkpoint carries the run's
    LAMBADA log-perplexity where ``loss_frame`` (default: the table itself) has it. Raises
    :class:`ForecastError` with a one-line reason on unusable input."""
    frame = _frame(evals)
    losses = run_losses(frame if loss_frame is None else loss_frame)
    if context_fraction is None and until is None:
        raise ForecastError(
            "give a context fraction (forecast the table's later checkpoints) or --until TOKENS"
        )
    if context_fraction is not None and not 0 < context_fraction < 1:
        raise ForecastError(f"the context fraction must lie in (0, 1), got {context_fraction:g}")
    if runs:
        unknown = sorted(set(runs) - set(frame["run"].astype(str)))
        if unknown:
            raise ForecastError(
                f"no run {unknown[0]!r} in the table; runs: "
                + ", ".join(sorted(frame["run"].astype(str).unique())[:8])
            )
        frame = frame[frame["run"].astype(str).isin(runs)]
    if tasks:
        unknown = sorted(set(tasks) - set(frame["task"].astype(str)))
        if unknown:
            raise ForecastError(f"no task {unknown[0]!r} in the table")
        frame = frame[frame["task"].astype(str).isin(tasks)]
    frame = frame[frame["tokens"].to_numpy(float) > 0]
    keys = [c for c in KEY_COLUMNS if c in frame.columns]
    out = []
    for run, g in frame.groupby("run", sort=True):
        steps = np.unique(g["tokens"].to_numpy(float))
        if len(steps) < 2:
            raise ForecastError(
                f"run {run} has {len(steps)} checkpoint(s) after step 0: "
                "a forecast needs at least 2 (a trajectory)"
            )
        final = steps.max()
        cut = final * context_fraction if context_fraction is not None else final
        for key, p in g.sort_values("tokens", kind="stable").groupby(keys, sort=True):
            key = tuple(str(k) for k in (key if isinstance(key, tuple) else (key,)))
            t, y = p["tokens"].to_numpy(float), p["value"].to_numpy(float)
            ctx = t <= cut
            if not np.isfinite(y[ctx]).any():
                raise ForecastError(
                    f"{'/'.join(key)}: no observed values in the context (tokens <= {cut:.3g})"
                )
            tc, yc = t[ctx & np.isfinite(y)], y[ctx & np.isfinite(y)]
            few = key[keys.index("num_fewshot")] if "num_fewshot" in keys else ""
            lc = lookup_losses(losses, key[0], few, tc) if losses else None
            if until is not None:
                if until <= tc[-1]:
                    raise ForecastError(
                        f"--until {until:.3g} must lie beyond the last observed checkpoint ({tc[-1]:.3g})"
                    )
                targets = np.geomspace(tc[-1], until, points + 1)[1:]
            else:
                targets = t[~ctx]
                if targets.size == 0:
                    raise ForecastError(f"{'/'.join(key)}: no checkpoint beyond the context to forecast")
            out.append(check_problem(Problem(key, tc, yc, targets, lc)))
    if not out:
        raise ForecastError("nothing to forecast: the selection is empty")
    return out


def forecast_evals(
    evals: Any,
    *,
    tasks: Sequence[str] | None = None,
    runs: Sequence[str] | None = None,
    context_fraction: float | None = None,
    until: float | None = None,
    points: int = 8,
    profile: Any = None,
    model: str | Path | None = None,
    loss_frame: pd.DataFrame | None = None,
) -> list[TaskForecast]:
    """Forecast every (run, task, metric) trajectory of an evals table (see :func:`problems_from_evals`).

    ``profile`` is a loss profile (a :class:`~scalinglaws.forecast.profile.Profile` or a path to one) of
    the last observed checkpoint, for models trained with profiles; ``model`` a saved forecaster (default:
    the shipped Pythia model); ``loss_frame`` the rows holding the runs' LAMBADA perplexity (default: the
    table itself).
    """
    from scalinglaws.forecast.ensemble import load_forecaster
    from scalinglaws.forecast.profile import Profile, load_profile, profile_vector

    problems = problems_from_evals(
        evals,
        tasks=tasks,
        runs=runs,
        context_fraction=context_fraction,
        until=until,
        points=points,
        loss_frame=loss_frame,
    )
    fc = load_forecaster(model)
    vec = None
    if profile is not None:
        prof = profile if isinstance(profile, Profile) else load_profile(profile)
        cfg = fc.config
        if not cfg.profile:
            fc.check_profile(np.zeros(1))  # raises: the model takes no profile
        vec = profile_vector(prof, cfg.profile, cfg.profile_length, cfg.meta.get("profile_text_sha256", ""))
    preds = fc.predict(problems, profile=vec)
    frame = _frame(evals)
    truth_of: dict[tuple[str, ...], dict[float, float]] = {}
    keys = [c for c in KEY_COLUMNS if c in frame.columns]
    for key, g in frame.groupby(keys, sort=False):
        key = tuple(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        truth_of[key] = dict(zip(g["tokens"].to_numpy(float), g["value"].to_numpy(float), strict=True))
    out = []
    for p, q in zip(problems, preds, strict=True):
        known = truth_of.get(p.key, {})
        truth = np.array([known.get(float(t), np.nan) for t in p.targets]) if until is None else None
        out.append(TaskForecast(p.key, p.tokens, p.values, p.targets, q, fc.quantiles, truth))
    return out


def plot_forecasts(forecasts: Sequence[TaskForecast], path: str | Path, max_panels: int = 16) -> Path:
    """Write a grid of panels (context, median, 50% and 80% bands, truth) to ``path``; needs matplotlib."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = list(forecasts)[:max_panels]
    n = len(shown)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for ax, f in zip(axes.ravel(), shown, strict=False):
        ax.plot(f.context_tokens, 100 * f.context_values, "o-", ms=3, color="k", label="observed")
        ax.fill_between(f.tokens, 100 * f.q(0.1), 100 * f.q(0.9), alpha=0.2, color="C0", label="80%")
        ax.fill_between(f.tokens, 100 * f.q(0.25), 100 * f.q(0.75), alpha=0.35, color="C0", label="50%")
        ax.plot(f.tokens, 100 * f.q(0.5), "-", color="C0", label="median")
        if f.truth is not None and np.isfinite(f.truth).any():
            ax.plot(f.tokens, 100 * f.truth, "x", color="C3", ms=4, label="truth")
        ax.set_xscale("log")
        ax.set_title("/".join(f.key[:2]), fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=6)
    fig.supxlabel("training tokens")
    fig.supylabel("score (%)")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
