"""``scalinglaws forecast``, ``scalinglaws forecast-train`` and ``scalinglaws profile``: the neural
forecaster of downstream accuracy over training. Torch (and transformers, for ``profile``) load only
inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scalinglaws.commands._common import JsonFlag, emit_json, friendly

__all__ = ["forecast", "forecast_calibrate", "forecast_train", "profile", "register"]


@friendly
def forecast(
    evals: Annotated[str, typer.Argument(help="A bundled evals dataset (pythia) or an evals file.")],
    task: Annotated[list[str] | None, typer.Option(help="Forecast this task only (repeatable).")] = None,
    run: Annotated[list[str] | None, typer.Option(help="Forecast this run only (repeatable).")] = None,
    context_fraction: Annotated[
        float | None,
        typer.Option(
            help="Observe checkpoints up to this fraction of each run's final tokens; forecast the rest."
        ),
    ] = None,
    until: Annotated[
        float | None,
        typer.Option(help="Forecast beyond the table: log-spaced points up to this many tokens."),
    ] = None,
    points: Annotated[int, typer.Option(help="Number of points with --until.")] = 8,
    fewshot: Annotated[
        int, typer.Option(help="num_fewshot rows to use (where the table has the column).")
    ] = 0,
    profile: Annotated[
        Path | None,
        typer.Option(help="Loss profile (.npz from `scalinglaws profile`) of the last observed checkpoint."),
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="A trained forecaster X.pt (default: the shipped one).")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a plot here (needs matplotlib).")] = Path(
        "forecast.png"
    ),
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Write no plot.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Forecast each task's score at every later checkpoint, with the 80% interval (neural forecaster)."""
    import numpy as np

    from scalinglaws.backtest import select_data
    from scalinglaws.data import load_data
    from scalinglaws.forecast.api import plot_forecasts
    from scalinglaws.forecast.result import forecast_set

    data = load_data(evals, kind="evals")
    raw = data.table
    if "metric" in data.table.columns:
        data = select_data(data, num_fewshot=fewshot if "num_fewshot" in data.table.columns else None)
    if evals.removeprefix("bundled:") == "pythia" and not run:
        run = ["pythia-1.4b"]
        typer.echo("(bundled pythia: forecasting pythia-1.4b; pick runs with --run)", err=True)
    fset = forecast_set(
        data,
        tasks=task,
        runs=run,
        context_fraction=context_fraction,
        until=until,
        points=points,
        profile=profile,
        model=model,
        loss_frame=raw,
    )
    results = fset.forecasts
    plot_path = None
    if plot is not None and not no_plot:
        try:
            plot_path = plot_forecasts(results, plot)
        except ImportError:
            typer.echo("no plot: matplotlib is not installed (pip install 'scalinglaws[plot]')", err=True)
    if as_json:
        emit_json(fset.to_dict() | {"plot": str(plot_path) if plot_path else None})
        return
    for f in results:
        typer.echo(
            f"{' / '.join(f.key)}: {len(f.context_tokens)} observed, last {100 * f.context_values[-1]:.1f}%"
        )
        has_truth = f.truth is not None and bool(f.truth.size)
        typer.echo(
            f"  {'tokens':>10}  {'median':>7}  {'80% interval':>15}" + ("  truth" if has_truth else "")
        )
        for i, t in enumerate(f.tokens):
            lo, mid, hi = (100 * f.q(level)[i] for level in (0.1, 0.5, 0.9))
            line = f"  {t:>10.3g}  {mid:>6.1f}%  [{lo:5.1f}, {hi:5.1f}]%"
            if has_truth and np.isfinite(f.truth[i]):
                line += f"  {100 * f.truth[i]:5.1f}%"
            typer.echo(line)
    if plot_path:
        typer.echo(f"plot written to {plot_path}")


@friendly
def forecast_train(
    out: Annotated[Path, typer.Option(help="Write the model here (X.pt + X.json).")] = Path("forecaster.pt"),
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 2500,
    synthetic_fraction: Annotated[
        float, typer.Option(help="Share of synthetic-prior samples (0, as in the shipped model: none).")
    ] = 0.0,
    seeds: Annotated[
        str,
        typer.Option(
            help="Comma-separated seeds of data sampling and initialisation: one seed trains one model; "
            "several train one model each, written as one ensemble (OUT.json is its manifest, the members "
            "OUT-0, OUT-1, ...; the shipped model: 0,1,2)."
        ),
    ] = "0,1,2",
    threads: Annotated[int, typer.Option(help="Torch CPU threads (the shipped weights used 1).")] = 1,
    fraction_features: Annotated[
        bool, typer.Option(help="Queries also read how far they lie before the end of training.")
    ] = False,
    reference_features: Annotated[
        bool,
        typer.Option(
            help="Queries also read each task's logistic law in loss fitted on the training runs "
            "(shipped: on)."
        ),
    ] = True,
    reference_loss: Annotated[
        str,
        typer.Option(
            help="With --reference-features, forecast the run's loss by a power law in tokens ('power') or "
            "between the training runs' loss curves ('runs', shipped)."
        ),
    ] = "runs",
    as_json: JsonFlag = False,
) -> None:
    """Train the forecaster on the bundled Pythia evals (held-out sizes excluded), on the CPU.

    The defaults reproduce the shipped weights: three seeds of 2,500 steps with cross-run references,
    about 15 minutes on one core.
    """
    from scalinglaws.forecast.train import TrainConfig, train_shipped

    cfg = TrainConfig(steps=steps, synthetic_fraction=synthetic_fraction, threads=threads)
    fc, history = train_shipped(
        cfg,
        log=None if as_json else typer.echo,
        fraction_features=fraction_features,
        reference_features=reference_features,
        reference_loss=reference_loss,
        seeds=_seed_list(seeds),
    )
    path = fc.save(out)
    if as_json:
        emit_json({"model": str(path), "history": history, "parameters": fc.n_parameters()})
        return
    typer.echo(f"model written to {path} ({fc.n_parameters():,} parameters)")


@friendly
def forecast_calibrate(
    model: Annotated[Path, typer.Argument(help="An ensemble manifest (X.json) written by forecast-train.")],
    workdir: Annotated[
        Path, typer.Option(help="Where the cross-fitted ensembles are written (and reused if there).")
    ] = Path("crossfit"),
    seeds: Annotated[str, typer.Option(help="Seeds of each cross-fitted ensemble.")] = "0,1,2",
    fractions: Annotated[
        str, typer.Option(help="Context fractions the forecasts are pooled over.")
    ] = "0.1,0.2,0.4",
    workers: Annotated[int, typer.Option(help="Processes training the cross-fitted ensembles.")] = 1,
    as_json: JsonFlag = False,
) -> None:
    """Calibrate an ensemble's intervals by cross-fitting on the training sizes; writes into MODEL.

    Each training size is forecast by an ensemble of the same recipe trained without it; one factor per
    task group (MMLU subjects / the rest) and level (50%, 80%) rescales the intervals around the median.
    The shipped recipe: about an hour of CPU (4 ensembles of 3 seeds), halved by --workers 2. On the shipped
    model it widened the non-MMLU intervals that were already too wide, so it is not applied there
    (BENCHMARKS.md): an ablation.
    """
    from scalinglaws.forecast.crossfit import calibrate

    try:
        fracs = [float(v) for v in fractions.split(",") if v.strip()]
    except ValueError:
        fracs = []
    if not fracs or not all(0 < f < 1 for f in fracs):
        from scalinglaws.forecast.errors import ForecastError

        raise ForecastError(f"--fractions {fractions!r}: give fractions in (0, 1) separated by commas")
    cal = calibrate(model, workdir, _seed_list(seeds), fracs, workers, log=None if as_json else typer.echo)
    if as_json:
        emit_json({"model": str(model), "calibration": cal.to_dict()})
        return
    typer.echo(f"calibration written to {Path(model).with_suffix('.json')}")


@friendly
def profile(
    checkpoint: Annotated[Path, typer.Argument(help="A local Hugging Face causal LM folder.")],
    text: Annotated[Path, typer.Option(help="Validation text file (UTF-8).")],
    out: Annotated[Path, typer.Option(help="Write the profile here.")] = Path("profile.npz"),
    window: Annotated[int, typer.Option(help="Tokens per forward window.")] = 1024,
    as_json: JsonFlag = False,
) -> None:
    """Per-word validation losses of a checkpoint (token losses summed per whitespace word)."""
    import numpy as np

    from scalinglaws.forecast.profile import save_profile, word_losses

    prof = word_losses(checkpoint, text.read_text(encoding="utf-8"), window=window)
    path = save_profile(prof, out)
    mean = float(np.mean(prof.word_losses))
    if as_json:
        emit_json(
            {
                "profile": str(path),
                "n_words": prof.n_words,
                "mean_word_loss": mean,
                "text_sha256": prof.text_sha256,
            }
        )
        return
    typer.echo(f"{prof.n_words} words, mean word loss {mean:.4f} nats: written to {path}")


def _seed_list(text: str) -> list[int]:
    """``"0,1,2"`` -> [0, 1, 2]."""
    from scalinglaws.forecast.errors import ForecastError

    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.lstrip("-").isdigit() for p in parts) or len(set(parts)) != len(parts):
        raise ForecastError(f"--seeds {text!r}: give distinct whole numbers separated by commas, e.g. 0,1,2")
    return [int(p) for p in parts]


def register(app: typer.Typer) -> None:
    app.command(name="forecast")(forecast)
    app.command(name="forecast-train")(forecast_train)
    app.command(name="forecast-calibrate")(forecast_calibrate)
    app.command(name="profile")(profile)
