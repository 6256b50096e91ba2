"""``scalinglaws design``, ``suggest`` and ``compare``: plan runs, pick the next ones, compare systems.

Example:
    >>> _floats("1e18, 3e18,1e19", "--budgets")
    [1e+18, 3e+18, 1e+19]
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from scalinglaws.commands._common import JsonFlag, emit_json, friendly
from scalinglaws.errors import ScalingLawsError

__all__ = ["compare", "design", "register", "suggest"]


def _floats(text: str | None, option: str) -> list[float]:
    """A comma-separated list of numbers (``1e18,3e18``)."""
    if text is None:
        return []
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(float(part))
        except ValueError:
            raise ScalingLawsError(f"{option}: {part!r} is not a number (give e.g. 1e18,3e18)") from None
    return out


def _load_fit(path: Path) -> Any:
    from scalinglaws.fit import FitResult

    return FitResult.load(path)


def _reload_data(result: Any) -> Any | None:
    """The fit's data from its recorded source (bundled name or an existing file), or None."""
    from scalinglaws.design.laws import data_for

    try:
        return data_for(result, None)
    except ScalingLawsError:
        return None


@friendly
def design(
    budgets: Annotated[
        str | None, typer.Option(help="Budgets to sweep, comma-separated FLOPs (e.g. 1e18,3e18,1e19).")
    ] = None,
    sizes_per_budget: Annotated[int, typer.Option(help="Model sizes per budget.")] = 5,
    half_width: Annotated[float, typer.Option(help="Decades of model size either side of the centre.")] = 1.0,
    centre: Annotated[
        float | None,
        typer.Option(help="Tokens per parameter at the centre (default: the fit's N* with --law, else 20)."),
    ] = None,
    replicates: Annotated[int, typer.Option(help="Runs at the size nearest each sweep's centre.")] = 1,
    law: Annotated[
        Path | None, typer.Option(help="A fit artifact: centres the sweep and is the truth when scoring.")
    ] = None,
    design_file: Annotated[
        Path | None, typer.Option("--design", help="Score this design (CSV: params, tokens[, runs]) instead.")
    ] = None,
    target_compute: Annotated[
        str | None, typer.Option(help="Score the design: N*, D*, L* at these budgets (needs --law).")
    ] = None,
    simulations: Annotated[int, typer.Option(help="Simulated experiments when scoring.")] = 50,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples per simulated refit.")] = 100,
    noise: Annotated[
        float | None, typer.Option(help="Run-to-run sd of log loss (default: the fit's).")
    ] = None,
    level: Annotated[float, typer.Option(help="Central level of the scored intervals.")] = 0.9,
    seed: Annotated[int, typer.Option(help="Seed of the simulations.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the design (CSV) here.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Lay out a sweep along iso-FLOP curves and/or score it by simulation before running it."""
    from scalinglaws.design import Design, iso_cost_sweep, score_design

    result = _load_fit(law) if law is not None else None
    if design_file is not None:
        if budgets is not None:
            raise ScalingLawsError("give --budgets (lay out a sweep) or --design FILE (score one), not both")
        plan = Design.read(design_file)
    else:
        chosen = _floats(budgets, "--budgets")
        if not chosen:
            raise ScalingLawsError("give --budgets (e.g. 1e18,3e18,1e19) or --design FILE")
        where: Any = centre if centre is not None else (result if result is not None else 20.0)
        plan = iso_cost_sweep(
            chosen,
            sizes_per_budget=sizes_per_budget,
            half_width=half_width,
            centre=where,
            centre_replicates=replicates,
        )
    targets = _floats(target_compute, "--target-compute")
    score = None
    if targets:
        if result is None:
            raise ScalingLawsError("scoring a design simulates it from a fitted law: add --law FIT.json")
        score = score_design(
            plan,
            result,
            target_compute=targets,
            noise=noise,
            simulations=simulations,
            bootstrap=bootstrap,
            level=level,
            seed=seed,
        )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        plan.table.to_csv(out, index=False)
    if as_json:
        emit_json(
            {
                "design": plan.to_dict(),
                "score": score.to_dict() if score else None,
                "written": str(out) if out else None,
            }
        )
        return
    typer.echo(plan.summary())
    if score is not None:
        typer.echo(score.summary())
    if out is not None:
        typer.echo(f"design written to {out}")


@friendly
def suggest(
    fit_file: Annotated[
        Path, typer.Argument(metavar="FIT.json", help="A fit artifact with bootstrap draws.")
    ],
    target_compute: Annotated[
        str | None, typer.Option(help="Budgets where N* (or L*) should become precise, comma-separated.")
    ] = None,
    n: Annotated[int, typer.Option("-n", "--n", help="Runs to suggest.")] = 4,
    objective: Annotated[
        str, typer.Option(help="n-star (log N*), loss-star (log L*) or loss-at (--params/--tokens).")
    ] = "n-star",
    params: Annotated[float | None, typer.Option(help="With loss-at: the planned run's parameters.")] = None,
    tokens: Annotated[float | None, typer.Option(help="With loss-at: the planned run's tokens.")] = None,
    candidates: Annotated[
        Path | None, typer.Option(help="Candidate runs (CSV with params, tokens[, cost]).")
    ] = None,
    candidate_budgets: Annotated[
        str | None,
        typer.Option(help="Budgets you would run at, comma-separated (default: near the data's top)."),
    ] = None,
    checkpoints: Annotated[
        bool,
        typer.Option("--checkpoints", help="Credit each run's intermediate checkpoints (WSD/constant LR)."),
    ] = False,
    laws: Annotated[
        str | None,
        typer.Option(help="Candidate laws to tell apart, comma-separated (e.g. chinchilla,skaling)."),
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="The fit's data, for --laws (default: the source the fit recorded).")
    ] = None,
    max_replicates: Annotated[int, typer.Option(help="At most this many runs at one point.")] = 2,
    tolerance: Annotated[
        float, typer.Option(help="Admit laws whose objective is within this fraction of the best.")
    ] = 0.1,
    criterion: Annotated[
        str, typer.Option(help="Admit laws by 'objective' or by 'holdout' error on the top 20% of compute.")
    ] = "objective",
    discrimination: Annotated[float, typer.Option(help="Weight of the law-discrimination term.")] = 1.0,
    noise: Annotated[
        float | None, typer.Option(help="Run-to-run sd of log loss (default: the fit's).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the suggested runs (CSV) here.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The next runs that most reduce the uncertainty of N*, L* or a planned run's loss, per FLOP."""
    import pandas as pd

    from scalinglaws.data import load_data
    from scalinglaws.design import suggest_runs

    result = _load_fit(fit_file)
    at = None
    if objective == "loss-at":
        if params is None or tokens is None:
            raise ScalingLawsError("--objective loss-at needs --params and --tokens of the planned run")
        at = {"params": [params], "tokens": [tokens]}
    elif params is not None or tokens is not None:
        raise ScalingLawsError("--params/--tokens go with --objective loss-at")
    cand = None
    if candidates is not None:
        try:
            cand = pd.read_csv(candidates)
        except (OSError, ValueError) as exc:
            raise ScalingLawsError(f"{candidates}: cannot read the candidate runs ({exc})") from None
    law_list = [x.strip() for x in (laws or "").split(",") if x.strip()]
    frame = load_data(data, kind="runs", convention=result.data.get("convention", "6ND")) if data else None
    suggestion = suggest_runs(
        result,
        _floats(target_compute, "--target-compute"),
        n,
        objective=objective,
        at=at,
        candidates=cand,
        candidate_budgets=_floats(candidate_budgets, "--candidate-budgets") or None,
        noise=noise,
        max_replicates=max_replicates,
        laws=law_list,
        data=frame,
        tolerance=tolerance,
        criterion=criterion,
        discrimination=discrimination,
        checkpoints=checkpoints,
    )
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        suggestion.runs.to_csv(out, index=False)
    if as_json:
        emit_json({"fit": str(fit_file), **suggestion.to_dict(), "written": str(out) if out else None})
        return
    typer.echo(suggestion.summary())
    if out is not None:
        typer.echo(f"runs written to {out}")


@friendly
def compare(
    fit_files: Annotated[
        list[Path], typer.Argument(metavar="FIT_A.json FIT_B.json ...", help="Two or more fit artifacts.")
    ],
    compute: Annotated[
        str | None, typer.Option(help="Budgets (FLOPs), comma-separated: compare L*, N* or D* there.")
    ] = None,
    params: Annotated[
        float | None, typer.Option(help="Compare the loss of a run of this many params...")
    ] = None,
    tokens: Annotated[float | None, typer.Option(help="...on this many tokens.")] = None,
    quantity: Annotated[
        str, typer.Option(help="loss (L* at --compute, or at --params/--tokens), params (N*) or tokens (D*).")
    ] = "loss",
    data: Annotated[
        list[str] | None,
        typer.Option(help="Each fit's data, in order (repeatable); default: the sources the fits recorded."),
    ] = None,
    reference: Annotated[str | None, typer.Option(help="The system others are compared with.")] = None,
    level: Annotated[float, typer.Option(help="Central level of the intervals.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Seed of the paired resamples.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """The difference between systems at new scales, with paired bootstrap draws where they share runs."""
    from scalinglaws.compare import compare as compare_fits
    from scalinglaws.data import load_data

    if len(fit_files) < 2:
        raise ScalingLawsError("compare needs at least two fit artifacts")
    fits = [_load_fit(p) for p in fit_files]
    stems = [p.stem for p in fit_files]
    names = stems if len(set(stems)) == len(stems) else [str(p) for p in fit_files]
    if len(set(names)) < len(names):  # the same file twice: a system against itself, a sanity check
        names = [f"{n}#{i + 1}" for i, n in enumerate(names)]
    named = dict(zip(names, fits, strict=True))
    if data:
        if len(data) != len(fits):
            raise ScalingLawsError(f"{len(data)} --data for {len(fits)} fits: give one per fit, in order")
        frames = [
            load_data(d, kind="runs", convention=f.data.get("convention", "6ND"))
            for d, f in zip(data, fits, strict=True)
        ]
    else:
        frames = [_reload_data(f) for f in fits]
        if any(fr is None for fr in frames):
            frames = None
    budgets = _floats(compute, "--compute")
    at = None
    if params is not None or tokens is not None:
        if params is None or tokens is None:
            raise ScalingLawsError("give both --params and --tokens (or --compute)")
        at = {"params": [params], "tokens": [tokens]}
    result = compare_fits(
        named,
        compute=budgets or None,
        at=at,
        quantity=quantity,
        data=dict(zip(names, frames, strict=True)) if frames else None,
        reference=reference,
        level=level,
        seed=seed,
    )
    if as_json:
        emit_json({"fits": [str(p) for p in fit_files], **result.to_dict()})
        return
    typer.echo(result.summary())


def register(app: typer.Typer) -> None:
    app.command("design")(design)
    app.command("suggest")(suggest)
    app.command("compare")(compare)
