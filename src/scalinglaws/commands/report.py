"""``scalinglaws report``: one self-contained HTML page (and report.json beside it) from fit artifacts,
forecasts (``scalinglaws forecast --json``) and backtests (``scalinglaws backtest --out``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from scalinglaws.commands._common import JsonFlag, emit_json, friendly, parse_pairs
from scalinglaws.errors import ArtifactError, ScalingLawsError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("report")(friendly(report))


def _parse_point(text: str) -> Any:
    from scalinglaws.report import Prediction

    parts = [p.strip() for p in text.split(",", 2)]
    try:
        params, tokens = float(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        raise ScalingLawsError(
            f"--predict {text!r} must look like PARAMS,TOKENS[,LABEL], e.g. 7e10,1.4e12,70B"
        ) from None
    if not (params > 0 and tokens > 0):
        raise ScalingLawsError(f"--predict {text!r}: params and tokens must be positive")
    return Prediction(params, tokens, parts[2] if len(parts) > 2 else "")


def _load_fit(path: Path, law: str = "chinchilla", bootstrap: int = 1000) -> Any:
    """A fit artifact, or runs data (a bundled dataset name or a runs file) fitted here with ``law``."""
    from scalinglaws import datasets
    from scalinglaws.fit import FitResult, fit

    if not path.exists() and str(path) in datasets.names():
        return fit(datasets.load(str(path)), law, bootstrap=bootstrap, seed=0)
    if path.is_file() and path.suffix.lower() != ".json":
        from scalinglaws.data import load_data

        return fit(load_data(str(path), kind="runs"), law, bootstrap=bootstrap, seed=0)
    if path.is_file() and path.stat().st_size == 0:
        raise ArtifactError(f"{path}: the fit file is empty (write one with `scalinglaws fit ... --out`)")
    return FitResult.load(path)


def _runs_for(result: Any, data: str | None, columns: dict[str, str]) -> tuple[Any, list]:
    """The runs to draw: ``--data`` if given, else the fit's own source when it can be reloaded."""
    from scalinglaws.data import load_data

    convention = result.data.get("convention", "6ND")
    if data is not None:
        return load_data(data, kind="runs", columns=columns or None, convention=convention), []
    source = str(result.data.get("source", ""))
    if source.startswith("bundled:") or (source and Path(source).is_file()):
        try:
            return load_data(source, kind="runs", convention=convention), []
        except ScalingLawsError as exc:
            why = f"The fitted runs could not be reloaded from {source} ({exc}); give --data."
            return None, [("info", why)]
    return None, []


def report(
    fit_files: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="FIT.json",
            help="Fit artifacts (a section each), or runs data (bundled name or file) to fit with --law.",
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option(help="The HTML file to write; its numbers go to report.json beside it.")
    ] = Path("report.html"),
    data: Annotated[
        str | None,
        typer.Option(help="The fitted runs (bundled name or file). Default: the fit's source if reloadable."),
    ] = None,
    column: Annotated[
        list[str] | None, typer.Option(help="Column mapping of --data, CANONICAL=NAME_IN_FILE (repeatable).")
    ] = None,
    compute: Annotated[
        list[float] | None,
        typer.Option(help="Budget in FLOPs to plan (repeatable). Default: 10x and 100x the largest run."),
    ] = None,
    predict: Annotated[
        list[str] | None,
        typer.Option(help="A run to predict: PARAMS,TOKENS[,LABEL], e.g. 7e10,1.4e12,70B (repeatable)."),
    ] = None,
    level: Annotated[float | None, typer.Option(help="Central level of the intervals.")] = None,
    title: Annotated[str, typer.Option(help="Title of the page.")] = "Scaling-law report",
    subtitle: Annotated[
        str | None, typer.Option(help="Line under the title. Default: the law and data of each fit.")
    ] = None,
    law: Annotated[str, typer.Option(help="Law fitted to runs data given instead of a fit.")] = "chinchilla",
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples when fitting runs data.")] = 1000,
    forecast: Annotated[
        list[Path] | None,
        typer.Option(help="A forecast to show: the JSON of `scalinglaws forecast --json` or the demo's "
                          "forecast.json (repeatable)."),
    ] = None,
    backtest: Annotated[
        list[Path] | None,
        typer.Option(help="A backtest to show: a `scalinglaws backtest --out` folder or its leaderboard.json "
                          "(repeatable)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a self-contained HTML report (figures inline, no network) of fits and their plans, forecasts
    and backtests."""
    from scalinglaws.backtest.report import load_result
    from scalinglaws.forecast.result import load_forecasts
    from scalinglaws.report import Report
    from scalinglaws.report.document import check_writable

    if not (fit_files or forecast or backtest):
        raise ScalingLawsError("nothing to report: give fit artifacts, --forecast FILE or --backtest PATH")
    check_writable(out)
    points = [_parse_point(p) for p in predict or []]
    columns = parse_pairs(column, "--column")
    forecasts = [load_forecasts(p) for p in forecast or []]
    backtests = [load_result(p) for p in backtest or []]
    doc = Report(title=title)
    described = []
    for path in fit_files or []:
        result = _load_fit(path, law, bootstrap)
        runs, notes = _runs_for(result, data, columns)
        doc.add(result, data=runs, compute=compute or (), predictions=points, level=level, notes=notes)
        described.append(f"{result.law.name} law fitted to {result.data.get('source')}")
    for f in forecasts:
        doc.add(f)
        described.append(f"neural forecast of {', '.join(f.runs)}")
    for b in backtests:
        doc.add(b)
        splits = dict.fromkeys(zip(b.leaderboard["dataset"], b.leaderboard["split"], strict=True))
        described.append("backtest on " + ", ".join(f"{d} ({s} split)" for d, s in splits))
    doc.subtitle = subtitle if subtitle is not None else "; ".join(described)
    html_path, json_path = doc.write(out)
    if as_json:
        ids = [s.id for s in doc.sections]
        emit_json({"report": str(html_path), "json": str(json_path), "sections": ids})
        return
    typer.echo(f"report written to {html_path} (numbers in {json_path.name})")
