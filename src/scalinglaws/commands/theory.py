"""Effective-Frontier commands: ``simulate frontier`` (a runs table from the pattern model) and ``diagnose``.

Grid syntax of ``--params``, ``--tokens`` and ``--steps`` (one axis each; the runs are their product):
``START:STOP:COUNT`` is ``COUNT`` log-spaced values from ``START`` to ``STOP`` inclusive, ``V1,V2,...``
a list, ``V`` one value. Steps are rounded to whole updates.

Example:
    >>> parse_axis("1e2:1e4:3", "--params").tolist()
    [100.0, 1000.0, 10000.0]
    >>> parse_axis("10,20", "--tokens").tolist()
    [10.0, 20.0]
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from scalinglaws.commands._common import JsonFlag, emit_json, friendly, parse_pairs
from scalinglaws.errors import ScalingLawsError

__all__ = ["axis_size", "parse_axis", "register"]

DEFAULT_PARAMS = "1e2:1e5:7"
DEFAULT_TOKENS = "1e3:1e9:13"


def _number(text: str, flag: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ScalingLawsError(f"{flag}: {text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise ScalingLawsError(f"{flag}: values must be finite and > 0, got {text!r}")
    return value


def _split(spec: str, flag: str) -> tuple[str, list[str]]:
    spec = spec.replace(" ", "")
    if ":" in spec:
        parts = spec.split(":")
        if len(parts) != 3:
            raise ScalingLawsError(f"{flag}: {spec!r} must be START:STOP:COUNT (log-spaced), V1,V2,... or V")
        return "range", parts
    return "list", [p for p in spec.split(",")]


def axis_size(spec: str, flag: str) -> int:
    """Number of values an axis spec holds, checked without building it.

    Example:
        >>> axis_size("1:1e9:1000000", "--tokens")
        1000000
    """
    kind, parts = _split(spec, flag)
    if kind == "list":
        return len(parts)
    try:
        count = int(parts[2])
    except ValueError:
        raise ScalingLawsError(f"{flag}: COUNT in {spec!r} must be a whole number") from None
    if count < 1:
        raise ScalingLawsError(f"{flag}: COUNT in {spec!r} must be >= 1")
    return count


def parse_axis(spec: str, flag: str) -> Any:
    """Values of one grid axis (see the module docstring), as a float array."""
    import numpy as np

    kind, parts = _split(spec, flag)
    if kind == "list":
        return np.array([_number(p, flag) for p in parts])
    start, stop = _number(parts[0], flag), _number(parts[1], flag)
    return np.geomspace(start, stop, axis_size(spec, flag))


def _group(app: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The sub-command group ``name`` of ``app``, created if no other module has made it yet."""
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(name=name, help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


def register(app: typer.Typer) -> None:
    """Add ``simulate frontier`` and ``diagnose`` to the CLI."""
    simulate_group = _group(app, "simulate", "Simulate runs tables from theory models.")
    simulate_group.command("frontier")(simulate_frontier)
    app.command("diagnose")(diagnose_command)


@friendly
def simulate_frontier(
    alpha: Annotated[float, typer.Option(help="Zipf exponent of the patterns (> 1).")],
    params: Annotated[str, typer.Option(help="Model capacities N: START:STOP:COUNT, V1,V2,... or V.")] = (
        DEFAULT_PARAMS
    ),
    tokens: Annotated[str, typer.Option(help="Training tokens D (same syntax).")] = DEFAULT_TOKENS,
    steps: Annotated[
        str | None, typer.Option(help="Optimisation steps T (same syntax; default: trained to convergence).")
    ] = None,
    lr: Annotated[float, typer.Option(help="Learning rate of the optimisation frontier.")] = 1.0,
    patterns: Annotated[int, typer.Option(help="Number of patterns K (finite Zipf support).")] = 10**6,
    seed: Annotated[int, typer.Option(help="Seed (run i draws from SeedSequence(seed, spawn_key=(i,)))")] = 0,
    irreducible: Annotated[float, typer.Option(help="Irreducible loss E added to every run.")] = 1.0,
    efficiency_exponent: Annotated[
        float, typer.Option(help="g: optimisation progress per step grows as N^g.")
    ] = 0.0,
    family: Annotated[str, typer.Option(help="Family name of the runs.")] = "frontier-sim",
    out: Annotated[Path | None, typer.Option(help="Write the runs CSV here (default: stdout).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Simulate a grid of runs of the Effective-Frontier pattern learner and write a runs CSV.

    Canonical runs columns (read by `scalinglaws fit RUNS.csv --law frontier`) plus the simulator's own.

    Each axis is START:STOP:COUNT (log-spaced), V1,V2,... or V; the runs are the product of the axes.
    """
    if as_json and out is None:
        raise ScalingLawsError("--json reports on a file: give --out")
    if not (math.isfinite(alpha) and alpha > 1.0):
        raise ScalingLawsError(f"--alpha must be a finite Zipf exponent > 1, got {alpha:g}")
    if patterns < 1:
        raise ScalingLawsError(f"--patterns must be a positive integer, got {patterns}")
    if seed < 0:
        raise ScalingLawsError(f"--seed must be >= 0, got {seed}")
    if not (math.isfinite(lr) and lr > 0):
        raise ScalingLawsError(f"--lr must be finite and > 0, got {lr:g}")
    from scalinglaws.theory.frontier_sim import simulation_bytes

    axes = {"--params": params, "--tokens": tokens} | ({"--steps": steps} if steps is not None else {})
    n_runs = math.prod(axis_size(spec, flag) for flag, spec in axes.items())
    need, limit = simulation_bytes(n_runs, patterns) + 64 * n_runs, 2**30
    if need > limit:
        raise ScalingLawsError(
            f"a grid of {n_runs:,} runs over {patterns:,} patterns needs about {need / 2**30:.2f} GiB, above "
            f"the {limit / 2**30:.0f} GiB limit; use fewer grid points or --patterns"
        )
    import numpy as np

    from scalinglaws.theory.frontier_sim import grid, simulate

    values = {flag.lstrip("-"): parse_axis(spec, flag) for flag, spec in axes.items()}
    if "steps" in values:
        values["steps"] = np.unique(np.rint(values["steps"]))
        if values["steps"][0] < 1:
            raise ScalingLawsError("--steps: values must round to at least 1 step")
    table = simulate(
        alpha, **grid(**values), lr=lr, n_patterns=patterns, seed=seed, irreducible=irreducible,
        efficiency_exponent=efficiency_exponent, family=family,
    )  # fmt: skip
    if "steps" in values:
        table["step"] = table["step"].astype(np.int64)
    else:  # trained to convergence: no step column, no optimisation frontier
        table = table.drop(columns=["step", "k_optimisation"])
    counts = {str(k): int(v) for k, v in table["bottleneck"].value_counts().sort_index().items()}
    if out is None:
        typer.echo(table.to_csv(index=False), nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
    except OSError as exc:
        raise ScalingLawsError(f"{out}: cannot write the runs table ({exc.strerror})") from None
    doc = {
        "out": str(out),
        "runs": len(table),
        "alpha": alpha,
        "patterns": patterns,
        "seed": seed,
        "grid": {k: [float(v.min()), float(v.max()), int(v.size)] for k, v in values.items()},
        "bottlenecks": counts,
    }
    if as_json:
        emit_json(doc)
        return
    where = ", ".join(f"{k} {v}" for k, v in counts.items())
    typer.echo(
        f"wrote {len(table)} simulated runs to {out} (alpha {alpha:g}, {patterns:,} patterns, seed {seed}); "
        f"active bottleneck: {where}"
    )


@friendly
def diagnose_command(
    fit_file: Annotated[Path, typer.Argument(metavar="FIT.json", help="A fit artifact of the frontier law.")],
    data: Annotated[
        str, typer.Argument(metavar="DATA", help="A runs file (CSV, Parquet, JSONL) or a bundled dataset.")
    ],
    column: Annotated[
        list[str] | None, typer.Option(help="Column mapping CANONICAL=NAME_IN_FILE (repeatable).")
    ] = None,
    convention: Annotated[str, typer.Option(help="FLOP convention of the data.")] = "6ND",
    all_checkpoints: Annotated[
        bool, typer.Option("--all-checkpoints", help="Diagnose every checkpoint, not only each run's last.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Which bottleneck (capacity, coverage, optimisation) limits each run under a fitted frontier law."""
    from scalinglaws.data import load_data
    from scalinglaws.fit import FitResult
    from scalinglaws.theory.diagnose import diagnose

    result = FitResult.load(fit_file)
    runs = load_data(data, kind="runs", columns=parse_pairs(column, "--column"), convention=convention)
    table = diagnose(result, runs.table if all_checkpoints else runs)
    counts = {str(k): int(v) for k, v in table["active"].value_counts().sort_index().items()}
    if as_json:
        emit_json(
            {
                "fit": str(fit_file),
                "data": str(data),
                "law": result.law.name,
                "params": result.params,
                "active": counts,
                "runs": table.to_dict(orient="records"),
            }
        )
        return
    where = ", ".join(f"{k} {v}" for k, v in counts.items())
    typer.echo(f"{len(table)} runs under {result.law.name} ({_params_text(result.params)}); active: {where}")
    shown = ["run", *result.law.inputs, "active"] + [c for c in table.columns if c.startswith("share_")]
    shown += ["slack"] + (["agreement"] if table["agreement"].notna().any() else [])
    typer.echo(table[shown].to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def _params_text(params: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in params.items())
