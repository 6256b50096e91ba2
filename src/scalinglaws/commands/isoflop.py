"""``scalinglaws isoflop``: Chinchilla Approach 2 on isoFLOP sweeps, beside a fitted law's frontier."""

from __future__ import annotations

from typing import Annotated

import typer

from scalinglaws.commands._common import JsonFlag, emit_json, friendly, parse_pairs
from scalinglaws.errors import ScalingLawsError

__all__ = ["isoflop", "register"]


@friendly
def isoflop(
    data: Annotated[str, typer.Argument(help="A bundled dataset name or a runs file (CSV, Parquet, JSONL).")],
    law: Annotated[str, typer.Option(help="Law fitted for Approach 3 ('none' to skip).")] = "chinchilla",
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples of runs (0: none).")] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    level: Annotated[float, typer.Option(help="Central level of the intervals.")] = 0.95,
    rtol: Annotated[
        float, typer.Option(help="Runs whose FLOPs agree within this relative tolerance share a budget.")
    ] = 0.1,
    family: Annotated[str | None, typer.Option(help="Analyse only this family's runs.")] = None,
    column: Annotated[
        list[str] | None, typer.Option(help="Column mapping CANONICAL=NAME_IN_FILE (repeatable).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """IsoFLOP analysis: a parabola per budget, the N* ~ C^a line, and Approach 3 of a law beside it.

    Budgets come from a `budget` column when the file has one, else from grouping the flops column.
    """
    from scalinglaws.data import load_data
    from scalinglaws.plan import isoflop_analysis

    runs = load_data(data, kind="runs", columns=parse_pairs(column, "--column")).final()
    table = runs.table
    families = sorted(table["family"].astype(str).unique())
    if family is not None:
        if family not in families:
            raise ScalingLawsError(f"{runs.source}: no family {family!r}; families: {', '.join(families)}")
        table = table[table["family"].astype(str) == family]
    elif len(families) > 1:
        raise ScalingLawsError(
            f"{runs.source}: {len(families)} families ({', '.join(families[:5])}...): pick one with --family"
        )
    result = isoflop_analysis(
        table,
        law="" if law == "none" else law,
        bootstrap=bootstrap,
        seed=seed,
        level=level,
        rtol=rtol,
    )
    if as_json:
        emit_json({"data": runs.source, "family": family, **result.to_dict()})
        return
    typer.echo(f"data: {runs.source}" + (f", family {family}" if family else ""))
    typer.echo(result.summary())


def register(app: typer.Typer) -> None:
    app.command("isoflop")(isoflop)
