"""The report section of a neural forecast (:class:`~scalinglaws.forecast.result.ForecastSet`): what was
observed and which model forecast it, the fans (observed checkpoints, median, 50% and 80% bands, the truth
where known), the forecast at each task's final checkpoint against the truth, the error and interval
coverage over the future checkpoints, and summary cards. Imports neither torch nor (until a figure is
drawn) matplotlib.

Example:
    >>> import numpy as np
    >>> from scalinglaws.forecast.api import TaskForecast
    >>> from scalinglaws.forecast.result import ForecastSet
    >>> med = np.array([.60, .62])
    >>> f = TaskForecast(("pythia-1.4b", "piqa"), np.array([1e9, 2e9]), np.array([.55, .58]),
    ...                  np.array([4e9, 8e9]), np.stack([med - .04, med - .02, med, med + .02, med + .04], 1),
    ...                  (0.1, 0.25, 0.5, 0.75, 0.9), np.array([.61, .70]))
    >>> (s,) = forecast_sections(ForecastSet((f,), context_fraction=0.25), figures=False)
    >>> t = s.numbers["tasks"][0]
    >>> t["name"], t["final"]["median"], round(t["future"]["mae"], 6), t["future"]["covered80"]
    ('PIQA', 0.62, 4.5, 1)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scalinglaws.report.blocks import (
    Block,
    Card,
    Details,
    Est,
    Heading,
    Notes,
    Num,
    Raw,
    Stats,
    Table,
    Text,
)
from scalinglaws.report.document import Section
from scalinglaws.report.fit_section import _figure, plain

__all__ = ["TASK_NAMES", "forecast_numbers", "forecast_sections", "skipped_forecast_section", "task_name"]

#: Display names of the lm-eval-harness tasks of the bundled Pythia evals.
TASK_NAMES = {"arc_easy": "ARC-Easy", "arc_challenge": "ARC-Challenge", "lambada_openai": "LAMBADA",
              "logiqa": "LogiQA", "piqa": "PIQA", "sciq": "SciQ", "winogrande": "WinoGrande", "wsc": "WSC"}
PANELS = 12  # fans per figure


def task_name(task: str) -> str:
    """Display name of a task.

    Example:
        >>> task_name("arc_easy"), task_name("hendrycksTest-anatomy"), task_name("my_task")
        ('ARC-Easy', 'MMLU: anatomy', 'my_task')
    """
    if task in TASK_NAMES:
        return TASK_NAMES[task]
    if task.startswith("hendrycksTest-"):
        return "MMLU: " + task.removeprefix("hendrycksTest-").replace("_", " ")
    return task


def _band(f: Any, level: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The central ``level`` interval of a forecast, where its quantiles include the two ends."""
    levels = [round(v, 6) for v in f.levels]
    lo, hi = round(0.5 - level / 2, 6), round(0.5 + level / 2, 6)
    if lo in levels and hi in levels:
        return f.quantiles[:, levels.index(lo)], f.quantiles[:, levels.index(hi)]
    return None


def _value(v: Any) -> float | None:
    return float(v) if v is not None and np.isfinite(v) else None


def _task_numbers(f: Any, scale: float) -> dict[str, Any]:
    """Everything shown about one forecast: the final checkpoint, the errors and coverage over the future
    checkpoints (errors in score units times ``scale``: accuracy points for scores in [0, 1])."""
    med = f.q(0.5)
    b80, b50 = _band(f, 0.8), _band(f, 0.5)
    truth = f.truth if f.truth is not None else np.full(len(f.tokens), np.nan)
    known = np.isfinite(truth)
    n = int(known.sum())
    err = np.abs(med - truth)[known]
    last = f.context_values[-1]

    def inside(band: tuple[np.ndarray, np.ndarray] | None) -> int | None:
        return None if band is None or not n else int(((band[0] <= truth) & (truth <= band[1]))[known].sum())

    covered80, covered50 = inside(b80), inside(b50)
    names = ("run", "task", "metric", "num_fewshot")
    return dict(zip(names, f.key, strict=False)) | {
        "name": task_name(f.key[1]),
        "observed": {"checkpoints": len(f.context_tokens), "last_tokens": float(f.context_tokens[-1]),
                     "last_value": float(last)},
        "final": {"tokens": float(f.tokens[-1]), "median": float(med[-1]),
                  "lo80": None if b80 is None else float(b80[0][-1]),
                  "hi80": None if b80 is None else float(b80[1][-1]),
                  "truth": _value(truth[-1]),
                  "error": _value(scale * abs(med[-1] - truth[-1]))},
        "future": {"checkpoints": len(f.tokens), "with_truth": n,
                   "mae": float(scale * err.mean()) if n else None,
                   "last_value_mae": float(scale * np.abs(last - truth[known]).mean()) if n else None,
                   "covered80": covered80, "coverage80": None if covered80 is None else covered80 / n,
                   "covered50": covered50, "coverage50": None if covered50 is None else covered50 / n},
        "forecast": f.to_dict()["forecast"],
    }


def _score(v: float | None, pct: bool) -> Num:
    return Num(v, "pct", 3) if pct else Num(v)


def _panel(f: Any, scale: float, title: str) -> dict[str, Any]:
    b80, b50 = _band(f, 0.8), _band(f, 0.5)
    return {"title": title, "observed_x": f.context_tokens, "observed_y": scale * f.context_values,
            "forecast_x": f.tokens, "median": scale * f.q(0.5),
            "band80": None if b80 is None else (scale * b80[0], scale * b80[1]),
            "band50": None if b50 is None else (scale * b50[0], scale * b50[1]),
            "truth": None if f.truth is None else (f.tokens, scale * f.truth)}


def _checkpoint_table(f: Any, t: dict[str, Any], pct: bool) -> Table:
    rows = []
    for r in t["forecast"]:
        truth = r.get("truth")
        lo80, hi80, lo50, hi50 = (r.get(k) for k in ("q10", "q90", "q25", "q75"))
        held = "—" if truth is None or lo80 is None else ("yes" if lo80 <= truth <= hi80 else "no")
        rows.append([Num(r["tokens"], digits=3), _score(r["q50"], pct),
                     Raw(f"{_score(lo50, pct).html()} – {_score(hi50, pct).html()}") if lo50 is not None
                     else "—",
                     Raw(f"{_score(lo80, pct).html()} – {_score(hi80, pct).html()}") if lo80 is not None
                     else "—",
                     _score(truth, pct), held])
    return Table(["tokens", "median", "50% interval", "80% interval", "truth", "inside the 80%"], rows)


def _final_table(tasks: list[dict[str, Any]], pct: bool, unit: str, many: bool) -> tuple[Table, list]:
    """The table of forecasts at the final checkpoints (columns that are the same for every task left out,
    and said in the heading instead); returns it with the distinct final token counts."""
    finals = sorted({t["final"]["tokens"] for t in tasks})
    observed = {t["observed"]["checkpoints"] for t in tasks}
    columns: list[tuple[Any, Any]] = [
        *([("run", lambda t: t["run"])] if many else []),
        ("task", lambda t: t["name"]),
        ("metric", lambda t: t.get("metric", "")),
        *([("observed", lambda t: Num(t["observed"]["checkpoints"], "int"))] if len(observed) > 1 else []),
        ("last observed", lambda t: _score(t["observed"]["last_value"], pct)),
        *([("final (tokens)", lambda t: Num(t["final"]["tokens"], digits=3))] if len(finals) > 1 else []),
        ("forecast [80%]", lambda t: Est(t["final"]["median"], t["final"]["lo80"], t["final"]["hi80"],
                                         "pct" if pct else "auto", 3)),
        ("truth", lambda t: _score(t["final"]["truth"], pct)),
        (f"error ({unit})", lambda t: Num(t["final"]["error"], digits=3)),
        (f"MAE ({unit})", lambda t: Num(t["future"]["mae"], digits=3)),
        ("80% coverage", lambda t: Num(t["future"]["coverage80"], "pct", 3)),
        (f"last-value MAE ({unit})", lambda t: Num(t["future"]["last_value_mae"], digits=3)),
    ]
    table = Table([h for h, _ in columns], [[cell(t) for _, cell in columns] for t in tasks],
                  caption="Each task's median forecast at its final checkpoint with the 80% interval, the "
                          "truth there and the error; then, over every future checkpoint with a known score: "
                          "the mean absolute error (MAE) of the median, the share of scores inside the 80% "
                          "intervals, and the MAE of carrying the last observed score forward.")
    return table, finals


def _run_numbers(tasks: list[dict[str, Any]], run: str) -> dict[str, Any]:
    """What was observed and forecast of one run."""
    mine = [t for t in tasks if t["run"] == run]
    return {"run": run, "tasks": len(mine),
            "observed_checkpoints": max(t["observed"]["checkpoints"] for t in mine),
            "last_observed_tokens": max(t["observed"]["last_tokens"] for t in mine),
            "final_tokens": max(t["final"]["tokens"] for t in mine),
            "future_checkpoints": max(t["future"]["checkpoints"] for t in mine)}


def _run_words(fset: Any, r: dict[str, Any]) -> list[Any]:
    words: list[Any] = [f"Run {r['run']}: its scores on ", Num(r["tasks"], "int"), " task(s) at ",
                        Num(r["observed_checkpoints"], "int"), " checkpoints with up to ",
                        Num(r["last_observed_tokens"], digits=3), " training tokens"]
    if fset.context_fraction is not None:
        words += [" (the context: every checkpoint up to a fraction ", Num(fset.context_fraction),
                  " of its ", Num(r["final_tokens"], digits=3), " tokens)"]
    words += ["; forecast at its ", Num(r["future_checkpoints"], "int"), " later checkpoints"]
    if fset.until is not None:
        words += [" up to ", Num(fset.until, digits=3), " tokens (beyond the table, so no truth)"]
    return [*words, "."]


def _notes(fset: Any, tasks: list[dict[str, Any]], overall: dict[str, Any], unit: str) -> list:
    notes: list[tuple[str, list[Any]]] = []
    sizes = fset.model.get("held_out_sizes") or []
    for run in fset.runs:
        if not sizes:
            continue
        if fset.held_out(run):
            notes.append(("ok", [f"{run}'s model size was kept out of the forecaster's training data "
                                 f"(held-out sizes {', '.join(sizes)}): these forecasts are out of sample."]))
        else:
            notes.append(("warning", [f"{run}'s model size was in the forecaster's training data: the "
                                      "forecast is in sample and flatters the model (held-out sizes: "
                                      f"{', '.join(sizes)})."]))
    n = overall["with_truth"]
    if not n:
        notes.append(("info", ["The later scores are not in the table, so the errors and the coverage of "
                               "the intervals cannot be measured."]))
    else:
        cov = overall["coverage80"]
        if cov is not None:
            words: list[Any] = ["The 80% intervals held ", Num(overall["covered80"], "int"), " of the ",
                                Num(n, "int"), " known later scores (", Num(cov, "pct", 3), ")"]
            if cov < 0.7:
                notes.append(("warning", [*words, ": too narrow, the forecaster is overconfident here."]))
            elif cov > 0.9:
                notes.append(("info", [*words, ": wider than needed, the forecaster is cautious here."]))
            else:
                notes.append(("ok", [*words, ": about as often as an 80% interval should."]))
        mae, base = overall["mae"], overall["last_value_mae"]
        better = mae <= base
        verdict = " (the forecast is better)." if better else " (it is not better)."
        notes.append(("ok" if better else "warning",
                      ["Mean absolute error of the median over the future checkpoints: ", Num(mae, digits=3),
                       f" {unit}, against ", Num(base, digits=3), f" {unit} for carrying the last observed "
                       "score forward" + verdict]))
    notes += [("info", [n]) for n in fset.notes]
    return notes


def forecast_numbers(fset: Any) -> dict[str, Any]:
    """The numbers of a forecast set: per task (the final checkpoint, errors and coverage over the future
    checkpoints) and ``overall``; errors are in accuracy points (``unit`` ``pp``) when every score lies in
    [0, 1] (``pct``), else in score units."""
    forecasts = list(fset.forecasts)
    values = np.concatenate([np.concatenate([f.context_values, f.quantiles.ravel()]) for f in forecasts])
    pct = bool(np.all((values >= 0) & (values <= 1)))
    unit = "pp" if pct else "score units"
    tasks = [_task_numbers(f, 100.0 if pct else 1.0) for f in forecasts]
    judged = [t for t in tasks if t["future"]["with_truth"]]
    cov = [t for t in judged if t["future"]["covered80"] is not None]
    covered = sum(t["future"]["covered80"] for t in cov)
    overall = {
        "with_truth": sum(t["future"]["with_truth"] for t in tasks),
        "mae": float(np.mean([t["future"]["mae"] for t in judged])) if judged else None,
        "last_value_mae": float(np.mean([t["future"]["last_value_mae"] for t in judged])) if judged else None,
        "covered80": covered if cov else None,
        "coverage80": covered / sum(t["future"]["with_truth"] for t in cov) if cov else None,
        "unit": unit,
    }
    return {"pct": pct, "unit": unit, "tasks": tasks, "overall": overall}


def forecast_sections(fset: Any, *, figures: bool = True, **_ignored: Any) -> list[Section]:
    """The forecast section of a :class:`~scalinglaws.forecast.result.ForecastSet`.

    Args:
        fset: the forecasts and their setting.
        figures: draw the fans (needs matplotlib).
    """
    forecasts = list(fset.forecasts)
    computed = forecast_numbers(fset)
    pct, unit, tasks, overall = computed["pct"], computed["unit"], computed["tasks"], computed["overall"]
    scale = 100.0 if pct else 1.0
    n = overall["with_truth"]
    found = _notes(fset, tasks, overall, unit)
    runs = fset.runs
    many = len(runs) > 1
    label = (lambda t: f"{t['run']} · {t['name']}") if many else (lambda t: t["name"])
    model = fset.model or {}
    numbers: dict[str, Any] = {
        "method": "neural forecaster after NeuNeu, arXiv 2601.19831",
        "source": fset.source, "context_fraction": fset.context_fraction, "until": fset.until,
        "runs": [_run_numbers(tasks, run) for run in runs],
        "model": model, "overall": overall, "tasks": tasks,
        "notes": [{"severity": s, "message": plain(t)} for s, t in found],
    }

    # ----- body ---------------------------------------------------------------------------------------
    about = model.get("name") or "a saved forecaster"
    trained = model.get("trained_on")
    body: list[Block] = [
        Text("The neural forecaster (a small transformer with a quantile head, after NeuNeu, arXiv "
             "2601.19831) reads a run's scores at its early checkpoints and predicts the distribution of "
             "each task's score at the later ones: the median, and the 50% and 80% intervals."),
        *[Text(*_run_words(fset, r)) for r in numbers["runs"]],
        Text(f"Model: {about}" + (f", trained on {trained}." if trained else "."), css="muted"),
    ]
    if fset.source:
        body.append(Text(f"Data: {fset.source}.", css="muted"))
    fig_notes: list = []
    if figures:
        for i in range(0, len(forecasts), PANELS):
            chunk = list(zip(forecasts[i:i + PANELS], tasks[i:i + PANELS], strict=True))
            panels = [_panel(f, scale, label(t)) for f, t in chunk]
            _figure(body, fig_notes, f"forecast-fan-{i // PANELS + 1}",
                    ["Black dots: the observed checkpoints; dotted line: where the forecast starts; blue "
                     "line: the median forecast, with its 50% (dark) and 80% (light) bands; red crosses: the "
                     "true later scores (held out from the forecaster)."],
                    "forecast fans", lambda p=panels: _plots().plot_forecast_fans(
                        p, ylabel="score (%)" if pct else "score"))
    if fig_notes:
        numbers["notes"] += [{"severity": s, "message": plain(t)} for s, t in fig_notes]
        found = found + fig_notes
    table, finals = _final_table(tasks, pct, unit, many)
    heading: list[Any] = ["Forecast at the final checkpoint"]
    if len(finals) == 1:
        heading += [" (", Num(finals[0], digits=3), " tokens)"]
    body += [Notes(found), Heading(heading), table,
             Heading("Every forecast checkpoint, by task")]
    body += [Details([label(t), " — ", Num(t["future"]["checkpoints"], "int"), " checkpoints"],
                     [_checkpoint_table(f, t, pct)]) for f, t in zip(forecasts, tasks, strict=True)]

    # ----- summary ------------------------------------------------------------------------------------
    tiles = []
    for t in tasks[:PANELS]:
        fin = t["final"]
        sub: list[Any] = ["80%: ", _score(fin["lo80"], pct), " – ", _score(fin["hi80"], pct)]
        if fin["truth"] is not None:
            sub += [" · truth ", _score(fin["truth"], pct)]
        tiles.append((label(t), [_score(fin["median"], pct)], sub))
    intro: list[Any] = ["Median forecast at the final checkpoint"]
    intro += [" (", Num(finals[0], digits=3), " tokens)"] if len(finals) == 1 else []
    intro += [" with its 80% interval"]
    intro += [", from the checkpoints up to a fraction ", Num(fset.context_fraction), " of training."] \
        if fset.context_fraction is not None else ["."]
    card_blocks: list[Block] = [Text(*intro), Stats(tiles)]
    if len(tasks) > PANELS:
        card_blocks.append(Text("The other tasks are in the forecast section.", css="muted"))
    if n and overall["coverage80"] is not None:
        card_blocks.append(Text(
            "Over the ", Num(n, "int"), " future checkpoints with known scores: mean absolute error ",
            Num(overall["mae"], digits=3), f" {unit} (last value carried forward: ",
            Num(overall["last_value_mae"], digits=3), f" {unit}); the 80% intervals held ",
            Num(overall["coverage80"], "pct", 3), " of them.", css="muted"))
    who = runs[0] if not many else f"{len(runs)} runs"
    frac = f" from {fset.context_fraction:.0%} of training" if fset.context_fraction is not None else ""
    card = Card(f"Forecast: {who}{frac}", card_blocks, rank=42, wide=True)
    title = f"Forecast: {', '.join(runs)}" + (f" from {fset.context_fraction:.0%} of its training"
                                               if fset.context_fraction is not None and not many else "")
    return [Section("forecast", title, body, numbers, [card], kind="forecast")]


def skipped_forecast_section(reason: str) -> Section:
    """A forecast section that says why no forecast was made (for example: torch is not installed)."""
    notes = Notes([("warning", [reason])])
    return Section("forecast", "Forecast (skipped)", [notes], {"skipped": True, "reason": reason},
                   [Card("Forecast: skipped", [notes], rank=42, wide=True)], kind="forecast")


def _plots():
    from scalinglaws.report import plots

    return plots
