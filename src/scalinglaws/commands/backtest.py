"""``scalinglaws backtest``: every law and baseline on held-out scale, as a leaderboard.

DATA is a bundled dataset or a runs/evals file (told apart by its columns). The default split is compute
for runs and time for evals. The bundled Pythia evals default to the ``measured.md`` protocol (the NeuNeu
set-up): zero-shot, standard (non-deduplicated) runs of the held-out sizes 70m, 1.4b, 2.8b and 6.9b, which
the shipped neural forecaster never saw, acc_norm where a task has it else acc (``--all-runs``, ``--fewshot
all``, ``--metric`` and ``--where`` widen or change it). Several context fractions (``--context-fraction
0.1,0.2,0.4``) give one leaderboard each. Tasks run on a local process pool; ``--workers N`` starts a Dask
LocalCluster on 127.0.0.1 and ``--scheduler tcp://host:port`` uses a running Dask cluster.

Example (the NeuNeu protocol, every group, noise floors beside):
    scalinglaws backtest pythia --split time --context-fraction 0.1,0.2,0.4 \
        --methods neural,logistic-loss,logistic-loss-others,sigmoid-tokens,last-value
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from scalinglaws.commands._common import JsonFlag, emit_json, friendly, parse_pairs
from scalinglaws.errors import ScalingLawsError

__all__ = ["backtest", "register"]

#: Default row selection of bundled datasets: the runs measured.md measured the Pythia baselines on (the
#: sizes :data:`scalinglaws.forecast.data.HELD_OUT_SIZES`, which the shipped forecaster was not trained on).
BUNDLED_SELECTION = {
    "pythia": {"variant": ["standard"], "deduped": ["False"], "size": ["70m", "1.4b", "2.8b", "6.9b"]}
}
EXECUTORS = ("auto", "serial", "processes", "dask")


def _split(name: str, kind: str, context_fraction: float | None, cuts: str | None, holdout_sizes: int) -> Any:
    """The split object; evals' size, family and task splits keep each held-out run's early checkpoints
    (an accuracy forecast starts from them), runs are held out whole unless a context fraction is given."""
    from scalinglaws.backtest import SPLITS, ComputeSplit, FamilySplit, SizeSplit, TaskSplit, TimeSplit

    context = context_fraction if context_fraction is not None else (0.2 if kind == "evals" else None)
    if name == "compute":
        try:
            values = tuple(float(c) for c in cuts.split(",")) if cuts else None
        except ValueError:
            raise ScalingLawsError(f"--cuts {cuts!r} must be FLOP values separated by commas") from None
        return ComputeSplit(cuts=values)
    if name == "size":
        return SizeSplit(k=holdout_sizes, context_fraction=context)
    if name == "time":
        return TimeSplit(context if context is not None else 0.2)
    if name == "family":
        return FamilySplit(context_fraction=context)
    if name == "task":
        return TaskSplit(context_fraction=context if context is not None else 0.2)
    raise ScalingLawsError(f"unknown split {name!r}; use one of {', '.join(SPLITS)}")


@friendly
def backtest(
    data: Annotated[str, typer.Argument(help="A bundled dataset name or a runs/evals file.")],
    split: Annotated[
        str | None, typer.Option(help="compute, size, time, family or task (default: compute/time).")
    ] = None,
    methods: Annotated[
        str | None, typer.Option(help="Methods, comma-separated (default: all but logistic-loss-others).")
    ] = None,
    context_fraction: Annotated[
        str | None,
        typer.Option(help="Observed part of each run's tokens (time split: 0.2); several: comma-separated."),
    ] = None,
    cuts: Annotated[str | None, typer.Option(help="Compute split: FLOP cuts, comma-separated.")] = None,
    holdout_sizes: Annotated[int, typer.Option(help="Size split: largest sizes held out.")] = 3,
    fewshot: Annotated[str, typer.Option(help="Evals: num_fewshot to keep, or 'all'.")] = "0",
    metric: Annotated[str, typer.Option(help="Evals: metric ('auto': acc_norm, else acc).")] = "auto",
    where: Annotated[list[str] | None, typer.Option(help="Keep rows with COLUMN=V1,V2 (repeatable).")] = None,
    all_runs: Annotated[bool, typer.Option(help="Drop a bundled dataset's default run selection.")] = False,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples per law fit (intervals).")] = 200,
    seed: Annotated[int, typer.Option(help="Base seed; each task's seed derives from it.")] = 0,
    executor: Annotated[str, typer.Option(help="auto, serial, processes or dask.")] = "auto",
    workers: Annotated[
        int | None, typer.Option(help="Dask LocalCluster workers on 127.0.0.1 (or --executor processes).")
    ] = None,
    scheduler: Annotated[str | None, typer.Option(help="A running Dask scheduler, tcp://host:port.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for results.csv and leaderboard.md/json (one subfolder f=F per fraction)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Backtest laws and baselines on held-out compute, sizes, time, families or tasks: a leaderboard."""
    from scalinglaws.backtest import LawMethod, get_method, select_data
    from scalinglaws.backtest import backtest as run_backtest
    from scalinglaws.backtest.registry import default_methods
    from scalinglaws.data import Evals, load_data

    if executor not in EXECUTORS:
        raise ScalingLawsError(f"--executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    if executor == "auto":
        executor = "dask" if scheduler or workers else "processes"
    try:
        num_fewshot = None if fewshot == "all" else int(fewshot)
    except ValueError:
        raise ScalingLawsError(f"--fewshot must be an integer or 'all', not {fewshot!r}") from None
    table = load_data(data)
    selection = {k: v.split(",") for k, v in parse_pairs(where, "--where").items()}
    bundled = table.source.removeprefix("bundled:")
    if not selection and not all_runs and table.source.startswith("bundled:"):
        selection = BUNDLED_SELECTION.get(bundled, {})
    table = select_data(table, where=selection, num_fewshot=num_fewshot, metric=metric)
    kind = "evals" if isinstance(table, Evals) else "runs"
    names = [m.strip() for m in methods.split(",")] if methods else default_methods()
    chosen = [get_method(n) for n in names]
    chosen = [get_method(m.name, bootstrap=bootstrap) if isinstance(m, LawMethod) else m for m in chosen]
    fractions = _fractions(context_fraction)
    splits = [_split(split or ("compute" if kind == "runs" else "time"), kind, f, cuts, holdout_sizes)
              for f in fractions]
    docs = []
    for f, the_split in zip(fractions, splits, strict=True):
        result = run_backtest(table, the_split, chosen, executor=executor, workers=workers,
                              scheduler=scheduler, seed=seed, progress=not as_json and sys.stderr.isatty())
        folder = out / f"f={f:g}" if out is not None and len(fractions) > 1 else out
        paths = result.save(folder) if folder is not None else []
        if as_json:
            docs.append(result.to_dict() | {"artifacts": [str(p) for p in paths]})
            continue
        typer.echo(result.to_markdown())
        if paths:
            typer.echo(f"written: {', '.join(str(p) for p in paths)}")
    if as_json:
        emit_json(docs[0] if len(docs) == 1 else {"context_fractions": fractions, "backtests": docs})


def _fractions(text: str | None) -> list[float | None]:
    """``--context-fraction``: None (the split's default), or one or more fractions, comma-separated."""
    if text is None:
        return [None]
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise ScalingLawsError(
            f"--context-fraction {text!r} must be numbers in (0, 1), comma-separated"
        ) from None


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)
