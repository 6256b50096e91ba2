"""The command line: a thin layer over the Python API.

Every command takes ``--json`` (one JSON document on stdout) and exits non-zero with a one-line error, never
a traceback, on bad input. Heavy imports happen inside the commands that need them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from scalinglaws.commands._common import JsonFlag, emit_json, friendly, parse_pairs
from scalinglaws.errors import ScalingLawsError

__all__ = ["app", "main"]

app = typer.Typer(
    name="scalinglaws",
    help="Fit, forecast and plan with neural scaling laws.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# ----- datasets and laws ---------------------------------------------------------------------------------
@app.command()
@friendly
def datasets(as_json: JsonFlag = False) -> None:
    """List the bundled datasets (name, kind, rows, licence)."""
    from scalinglaws import datasets as ds

    infos = ds.list()
    if as_json:
        emit_json({"datasets": [i.to_dict() if hasattr(i, "to_dict") else vars(i) for i in infos]})
        return
    for i in infos:
        typer.echo(f"{i.name:<12} {i.kind:<6} {i.rows:>8} rows  {i.licence:<28} {i.description}")


@app.command()
@friendly
def laws(as_json: JsonFlag = False) -> None:
    """List the registered law families with their parameters."""
    from scalinglaws.laws import available_laws, get_law

    rows = []
    for name in available_laws():
        law = get_law(name)
        rows.append(
            {
                "name": name,
                "description": law.description,
                "inputs": list(law.inputs),
                "params": [
                    {"name": p.name, "lower": p.lower, "upper": p.upper, "linear": p.linear}
                    for p in law.params
                ],
                "when": law.note,
            }
        )
    if as_json:
        emit_json({"laws": rows})
        return
    for r in rows:
        typer.echo(f"{r['name']:<11} {r['description']}")
        if r["when"]:
            typer.echo(f"{'':<11} {r['when']}")


# ----- fit / predict / plan -------------------------------------------------------------------------------
@app.command()
@friendly
def fit(
    data: Annotated[str, typer.Argument(help="A bundled dataset name or a runs file (CSV, Parquet, JSONL).")],
    law: Annotated[str, typer.Option(help="Law family (see `scalinglaws laws`).")] = "chinchilla",
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples (0: none).")] = 1000,
    bootstrap_method: Annotated[
        str, typer.Option(help="cluster (resample clusters) or wild (flip clusters' residuals).")
    ] = "cluster",
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 0,
    loss: Annotated[str, typer.Option(help="huber or l2.")] = "huber",
    delta: Annotated[
        float | None,
        typer.Option(help="Huber threshold in residual units (default 1e-3; x the median loss if linear)."),
    ] = None,
    residuals: Annotated[
        str | None,
        typer.Option(
            help="Noise model: log (relative to the loss) or linear (of fixed size). Default: the law's own."
        ),
    ] = None,
    target: Annotated[str, typer.Option(help="Column to predict.")] = "loss",
    x: Annotated[str | None, typer.Option(help="Input column of one-variable laws (power).")] = None,
    law_option: Annotated[
        list[str] | None, typer.Option(help="Option of the law KEY=VALUE (repeatable; see `laws`).")
    ] = None,
    column: Annotated[
        list[str] | None, typer.Option(help="Column mapping CANONICAL=NAME_IN_FILE (repeatable).")
    ] = None,
    convention: Annotated[str, typer.Option(help="FLOP convention of the data.")] = "6ND",
    level: Annotated[float, typer.Option(help="Central level of the intervals.")] = 0.95,
    out: Annotated[Path | None, typer.Option(help="Write the fit artifact (JSON) here.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Fit a law to runs robustly, with cluster-bootstrap intervals and diagnostics."""
    from scalinglaws.data import load_data
    from scalinglaws.fit import fit as fit_law

    options = parse_pairs(law_option, "--law-option")
    if x:
        if options.get("x", x) != x:
            raise ScalingLawsError(f"--x {x} and --law-option x={options['x']} disagree; give one")
        options["x"] = x
    runs = load_data(data, kind="runs", columns=parse_pairs(column, "--column"), convention=convention)
    result = fit_law(
        runs, law, target=target, loss=loss, delta=delta, residuals=residuals, bootstrap=bootstrap,
        bootstrap_method=bootstrap_method, seed=seed, level=level, law_options=options or None,
    )
    if out is not None:
        result.save(out)
    if as_json:
        doc = result.to_dict(include_draws=False)
        doc["artifact"] = str(out) if out else None
        emit_json(doc)
        return
    typer.echo(result.summary())
    if out is not None:
        typer.echo(f"fit written to {out}")


def _load_fit(path: Path):
    from scalinglaws.fit import FitResult

    return FitResult.load(path)


@app.command()
@friendly
def predict(
    fit_file: Annotated[Path, typer.Argument(metavar="FIT.json", help="A fit artifact.")],
    params: Annotated[float | None, typer.Option(help="Model parameters N.")] = None,
    tokens: Annotated[float | None, typer.Option(help="Training tokens D.")] = None,
    value: Annotated[
        list[str] | None, typer.Option("--input", help="Other inputs NAME=VALUE (repeatable).")
    ] = None,
    level: Annotated[float | None, typer.Option(help="Central level of the interval.")] = None,
    kind: Annotated[
        str,
        typer.Option(
            help="mean: the expected loss of the recipe; new-run: one new run of it (run-to-run noise added)."
        ),
    ] = "mean",
    as_json: JsonFlag = False,
) -> None:
    """Predict the loss of a run: the recipe's expected loss (--kind mean) or a new run's (--kind new-run)."""
    if kind not in ("mean", "new-run"):
        raise ScalingLawsError(f"--kind must be 'mean' or 'new-run', not {kind!r}")
    result = _load_fit(fit_file)
    inputs: dict[str, float] = {k: float(v) for k, v in parse_pairs(value, "--input").items()}
    if params is not None:
        inputs["params"] = params
    if tokens is not None:
        inputs["tokens"] = tokens
    missing = [c for c in result.law.inputs if c not in inputs]
    if missing:
        raise ScalingLawsError(f"law {result.law.name!r} needs {', '.join('--' + m for m in missing)}")
    point = float(result.predict(**inputs)[0])
    doc: dict[str, Any] = {"inputs": inputs, "prediction": point, "kind": kind, "law": result.law.name}
    if result.draws is not None:
        lo, hi = result.predict_interval(level=level, kind=kind, **inputs)
        doc |= {"lo": float(lo[0]), "hi": float(hi[0]), "level": level or result.level}
    if kind == "new-run":
        doc["noise"] = result.noise
    ranges = result.data.get("ranges", {})
    beyond = {k: v / ranges[k][1] for k, v in inputs.items() if k in ranges and v > ranges[k][1]}
    doc["extrapolation"] = beyond
    if as_json:
        emit_json(doc)
        return
    band = f"  [{doc['lo']:.4g}, {doc['hi']:.4g}] ({doc['level']:.0%})" if "lo" in doc else ""
    what = "expected, mean of the recipe" if kind == "mean" else "a new run, run-to-run noise included"
    typer.echo(f"predicted {result.settings.get('target', 'loss')} ({what}): {point:.4g}{band}")
    for k, f in beyond.items():
        typer.echo(f"  extrapolating {k}: {f:.3g}x beyond the largest fitted value")


@app.command()
@friendly
def plan(
    fit_file: Annotated[Path, typer.Argument(metavar="FIT.json", help="A fit artifact.")],
    compute: Annotated[
        float | None, typer.Option(help="Training compute in FLOPs: the compute-optimal run.")
    ] = None,
    target_loss: Annotated[
        float | None, typer.Option(help="Target loss: the compute it needs (the inverse).")
    ] = None,
    level: Annotated[float | None, typer.Option(help="Central level of the intervals.")] = None,
    shape: Annotated[
        bool,
        typer.Option(
            "--shape", help="Also plan the shape (universality-law fit): width, depth, params, tokens, loss."
        ),
    ] = False,
    width_multiple: Annotated[
        int | None, typer.Option(help="With --shape: snap the width to a multiple of this (64, 128).")
    ] = None,
    head_dim: Annotated[
        int | None, typer.Option(help="With --shape: snap to heads of this size (width a multiple of it).")
    ] = None,
    heads: Annotated[
        int | None, typer.Option(help="With --shape: snap to this many heads (dividing the width).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Compute-optimal params, tokens and loss for a budget, or the budget for a target loss."""
    from scalinglaws.plan import compute_for_loss, compute_optimal

    if compute is None and target_loss is None:
        raise ScalingLawsError("give --compute FLOPS or --target-loss L")
    snapping = [o for o, v in (("--width-multiple", width_multiple), ("--head-dim", head_dim),
                               ("--heads", heads)) if v is not None]  # fmt: skip
    if snapping and not shape:
        raise ScalingLawsError(f"{', '.join(snapping)} snap a shape: add --shape")
    result = _load_fit(fit_file)
    if shape:
        from scalinglaws.plan import shape_optimal

        if compute is None or target_loss is not None:
            raise ScalingLawsError("--shape plans a compute budget: give --compute FLOPS, not --target-loss")
        the_plan = shape_optimal(
            result, compute, level=level, width_multiple=width_multiple, head_dim=head_dim, heads=heads
        )
        if as_json:
            width, depth = round(the_plan.width.value), round(the_plan.depth.value)
            emit_json(
                {
                    "fit": str(fit_file),
                    "law": result.law.name,
                    "plan": the_plan.to_dict(),
                    # the integer shape to build (rounded, or snapped when asked)
                    "shape": {"width": width, "depth": depth, "aspect_ratio": width / depth,
                              "heads": the_plan.heads, "snapped": the_plan.snapped},
                }
            )
        else:
            typer.echo(the_plan.describe())
        return
    if result.law.name == "universality":
        raise ScalingLawsError("a universality-law fit plans width and depth too: add --shape")
    doc: dict[str, Any] = {"fit": str(fit_file), "law": result.law.name}
    if compute is not None:
        doc["plan"] = compute_optimal(result, compute, level=level).to_dict()
    if target_loss is not None:
        doc["target"] = compute_for_loss(result, target_loss, level=level).to_dict()
    if as_json:
        emit_json(doc)
        return
    if "plan" in doc:
        typer.echo(_describe_plan(compute_optimal(result, compute, level=level)))
    if "target" in doc:
        t = compute_for_loss(result, target_loss, level=level)
        typer.echo(
            f"target loss {t.target:g} needs {t.compute} FLOPs: {t.params} params on {t.tokens} tokens"
        )


def _describe_plan(p: Any) -> str:
    band = f" ({p.level:.0%} intervals)" if p.level else ""
    return (
        f"compute-optimal run for C = {p.compute:.3g} FLOPs ({p.convention}){band}:\n"
        f"  params           {p.params}\n"
        f"  tokens           {p.tokens}\n"
        f"  tokens/param     {p.tokens_per_param}\n"
        f"  loss             {p.loss}"
    )


# ----- the demo ---------------------------------------------------------------------------------------------
@app.command()
@friendly
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the results.")] = Path("results/demo"),
    bootstrap: Annotated[int, typer.Option(help="Cluster-bootstrap resamples.")] = 1000,
    compute: Annotated[float, typer.Option(help="Budget to plan for, in FLOPs.")] = 5.76e23,
) -> None:
    """Fit Chinchilla's law to the bundled Chinchilla runs and plan a budget, forecast a Pythia run with the
    neural forecaster, backtest a few laws; write JSON, plots and an HTML report."""
    from scalinglaws import datasets as ds
    from scalinglaws.commands._demo import DEMO_RUN, demo_backtest, demo_forecast, describe_forecast
    from scalinglaws.fit import fit as fit_law
    from scalinglaws.plan import compute_optimal

    runs = ds.load("chinchilla")
    typer.echo(f"data: bundled chinchilla, {len(runs.table)} runs used, {len(runs.excluded)} excluded:")
    for _, row in runs.excluded.iterrows():
        typer.echo(f"  excluded {row.get('run', '?')} (loss {row['loss']:.3f}): {row['reason']}")
    result = fit_law(runs, "chinchilla", bootstrap=bootstrap, seed=0)
    typer.echo(result.summary())
    the_plan = compute_optimal(result, compute)
    typer.echo(_describe_plan(the_plan))
    out.mkdir(parents=True, exist_ok=True)
    fit_path = result.save(out / "fit.json")
    (out / "plan.json").write_text(json.dumps(the_plan.to_dict(), indent=1) + "\n")
    written = [fit_path.name, "plan.json"]
    try:
        from scalinglaws.report.plots import plot_fit
    except ImportError as exc:  # matplotlib is an extra
        typer.echo(f"no plots: {exc} (pip install 'scalinglaws[plot]')")
    else:
        plot_fit(result, runs, plans=[the_plan]).savefig(out / "fit.png", dpi=120)
        written.append("fit.png")
    forecasts, skipped = demo_forecast()
    if forecasts is None:
        typer.echo(f"forecast: skipped. {skipped}")
    else:
        describe_forecast(forecasts, typer.echo)
        written.append(forecasts.save(out / "forecast.json").name)
    backtested = demo_backtest()
    board = backtested.leaderboard
    typer.echo(f"backtest on chinchilla (compute split): best of {board['method'].nunique()} methods: "
               f"{board['method'].iloc[0]}, mean absolute error {board['mae'].iloc[0]:.4g} loss")
    backtested.save(out / "backtest")
    written.append("backtest/")
    from scalinglaws.report import Prediction, Report
    from scalinglaws.report.forecast_section import skipped_forecast_section

    report = Report(
        title="Scaling laws demo: fit, plan, forecast, backtest",
        subtitle=f"{result.law.name} law fitted to the bundled Chinchilla runs (Hoffmann et al. 2022, "
        f"digitised by Epoch AI); plan for C = {compute:.3g} FLOPs; neural forecast of {DEMO_RUN}; "
        "compute-split backtest".replace("e+", "e"),
    )
    report.add(result, data=runs, plans=[the_plan],
               predictions=[Prediction(7e10, 1.4e12, "Chinchilla (70B params, 1.4T tokens)")])
    report.add(forecasts if forecasts is not None else skipped_forecast_section(skipped or ""))
    report.add(backtested)
    report_path, json_path = report.write(out / "report.html")
    written += [report_path.name, json_path.name]
    typer.echo(f"results written to {out}/: {', '.join(written)}")
    typer.echo(f"report: {report_path}")


def _register_command_groups() -> None:
    """Add the commands of every module in :mod:`scalinglaws.commands` (each has ``register(app)``)."""
    import importlib
    import pkgutil

    from scalinglaws import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"scalinglaws.commands.{info.name}").register(app)


_register_command_groups()


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
