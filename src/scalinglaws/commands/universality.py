"""``scalinglaws exponents`` (measured time, width and depth exponents against the universality class) and
``scalinglaws universality`` (fit the universality law; its optimal shape and frontier beside Chinchilla's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from scalinglaws.commands._common import JsonFlag, emit_json, friendly, parse_pairs
from scalinglaws.errors import ScalingLawsError

__all__ = ["exponents", "register", "universality"]


def _load_table(spec: str, columns: dict[str, str]) -> tuple[Any, str]:
    """A bundled dataset's table, or a file read as it is (curves need no parameter counts)."""
    from scalinglaws import datasets
    from scalinglaws.data.readers import read_table, rename_columns

    name = spec.removeprefix("bundled:")
    if not Path(spec).exists() and name in datasets.names():
        if columns:
            raise ScalingLawsError(f"bundled:{name}: a columns mapping applies to files only")
        found = datasets.load(name)
        if not hasattr(found, "excluded") or "loss" not in found.table.columns:
            raise ScalingLawsError(f"bundled:{name}: holds no losses")
        return found.table, found.source
    frame = rename_columns(read_table(spec), columns, spec)
    return frame, spec


@friendly
def exponents(
    data: Annotated[
        str, typer.Argument(help="A bundled dataset name or a file of loss curves or final losses.")
    ],
    axis: Annotated[
        str, typer.Option(help="Time axis of the curves: step, tokens or tau (dynamic time).")
    ] = "step",
    schedule: Annotated[
        str | None,
        typer.Option(
            help="LR schedule spec for tau, e.g. 'cosine:warmup=0.01,floor=0.1' (implies --axis tau)."
        ),
    ] = None,
    eta_max: Annotated[
        float | None, typer.Option(help="Peak LR for --schedule (default: each run's lr).")
    ] = None,
    total_steps: Annotated[
        int | None, typer.Option(help="Run length for --schedule (default: each run's last step).")
    ] = None,
    run_column: Annotated[str, typer.Option(help="Column naming the run of each row.")] = "run",
    column: Annotated[
        list[str] | None, typer.Option(help="Column mapping CANONICAL=NAME_IN_FILE (repeatable).")
    ] = None,
    start: Annotated[float, typer.Option(help="Leave out the first fraction of each run's time.")] = 0.05,
    interval: Annotated[str, typer.Option(help="block (block bootstrap) or profile (likelihood).")] = "block",
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples per fit (0: no intervals).")] = 200,
    level: Annotated[float, typer.Option(help="Central level of the intervals.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Seed of the bootstraps.")] = 0,
    at: Annotated[
        float | None,
        typer.Option(
            help="Width/depth exponents from losses at this time on --axis instead of final losses."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Measure each loss curve's time exponent and width/depth exponents across runs (claimed 1/3, 1, 1)."""
    from scalinglaws.exponents import measure_exponents

    if schedule is not None:
        axis = "tau"
    frame, source = _load_table(data, parse_pairs(column, "--column"))
    report = measure_exponents(
        frame, axis=axis, schedule=schedule, eta_max=eta_max, total_steps=total_steps, run_column=run_column,
        at=at, start=start, interval=interval, bootstrap=bootstrap, level=level, seed=seed, source=source,
    )  # fmt: skip
    if as_json:
        emit_json(report.to_dict())
        return
    typer.echo(report.summary())


@friendly
def universality(
    data: Annotated[str, typer.Argument(help="A bundled dataset name or a runs file with width and depth.")],
    exponents: Annotated[
        str, typer.Option(help="fixed (1, 1, 1/3), free, or one entry per term such as 'free,free,1/3'.")
    ] = "fixed",
    protocol: Annotated[
        str, typer.Option(help="ours (Huber on log loss) or liu-gore (least squares, 40 highest dropped).")
    ] = "ours",
    compute: Annotated[
        list[float] | None, typer.Option(help="Budgets in FLOPs to plan (repeatable).")
    ] = None,
    bootstrap: Annotated[int, typer.Option(help="Cluster-bootstrap resamples (0: none).")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    level: Annotated[float, typer.Option(help="Central level of the intervals.")] = 0.95,
    compare: Annotated[
        bool, typer.Option(help="Fit Chinchilla's law to the same runs and plan the budgets beside it.")
    ] = True,
    column: Annotated[
        list[str] | None, typer.Option(help="Column mapping CANONICAL=NAME_IN_FILE (repeatable).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the universality fit artifact (JSON) here.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fit the universality law; print its optimal shape, frontier relations and plans beside Chinchilla's."""
    from scalinglaws.data import load_data
    from scalinglaws.exponents import fit_universality
    from scalinglaws.fit import fit
    from scalinglaws.plan.universality_frontier import (
        compare_frontiers,
        describe_comparison,
        frontier_relations,
        shape_optimal,
    )

    runs = load_data(data, kind="runs", columns=parse_pairs(column, "--column"))
    if "step" in runs.table.columns:
        runs = runs.final()
    result = fit_universality(
        runs, exponents=exponents, protocol=protocol, bootstrap=bootstrap, seed=seed, level=level
    )
    if out is not None:
        result.save(out)
    budgets = list(compute or [])
    law = result.law
    full = law.terms == ("width", "depth", "time") and law.time == "tokens"
    doc: dict[str, Any] = {"fit": result.to_dict(include_draws=False), "artifact": str(out) if out else None}
    relations = frontier_relations(result, level=level) if full else None
    doc["relations"] = relations.to_dict() if relations else None
    rows: list[dict[str, Any]] = []
    if budgets and full:
        if compare:
            chin = fit(runs, "chinchilla", bootstrap=bootstrap, seed=seed, level=level)
            rows = compare_frontiers(result, chin, budgets, level=level)
        else:
            rows = [{"compute": c, "universality": shape_optimal(result, c, level=level)} for c in budgets]
    doc["plans"] = [{k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in r.items()} for r in rows]
    if as_json:
        emit_json(doc)
        return
    typer.echo(result.summary())
    if relations is not None:
        r = relations
        typer.echo(
            f"optimal shape: m/l = {r.aspect_ratio} (at {r.params:.3g} params); shape term c_N N^-alpha_N, "
            f"c_N = {r.c_N}, alpha_N = {r.alpha_N}"
        )
        typer.echo(
            f"frontier: D*/N* = {r.tokens_per_param} (at C = {r.compute:.3g}), "
            f"N* ~ C^{r.params_exponent.value:.3g}, "
            f"L* - L0 ~ C^-{r.loss_exponent.value:.3g}"
        )
    if rows and compare:
        typer.echo(describe_comparison(rows))
    else:
        for row in rows:
            typer.echo(row["universality"].describe())
    if out is not None:
        typer.echo(f"fit written to {out}")


def register(app: typer.Typer) -> None:
    app.command("exponents")(exponents)
    app.command("universality")(universality)
