"""Report sections of a fit and its compute-optimal plans: summary cards (the law, the plan, key
predictions, diagnostics in plain words, exclusions), figures and details, and the JSON numbers.

Example:
    >>> import numpy as np
    >>> from scalinglaws.fit import fit
    >>> from scalinglaws.laws import get_law
    >>> N = np.repeat([1e8, 3e8, 1e9, 3e9], 4); D = np.tile([2e9, 6e9, 2e10, 6e10], 4)
    >>> y = get_law("chinchilla").predict({"params": N, "tokens": D}, np.array([1.7, 400, 1500, 0.34, 0.3]))
    >>> sections = fit_sections(fit({"params": N, "tokens": D, "loss": y}), compute=[1e22], figures=False)
    >>> [s.id for s in sections], sorted(sections[1].numbers)
    (['fit-1', 'plan-1'], ['largest_compute', 'plans', 'predictions'])
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from scalinglaws.errors import PlanError
from scalinglaws.report.blocks import (
    Block,
    Card,
    Est,
    FigureBlock,
    Heading,
    KeyValues,
    Notes,
    Num,
    Raw,
    Stats,
    Table,
    Text,
    formula_html,
)
from scalinglaws.report.curves import Prediction, largest_compute, predict_point, run_table
from scalinglaws.report.document import Section

__all__ = ["fit_sections", "plain"]

_GREEK_NAMES = {"alpha": "α", "beta": "β", "gamma": "γ"}


def plain(parts: Sequence[Any]) -> str:
    """Text of a sentence made of strings and numbers, as written to the JSON.

    Example:
        >>> plain(["C = ", Num(5.76e23), " FLOPs"])
        'C = 5.76 × 10^23 FLOPs'
    """
    def one(p: Any) -> str:
        if isinstance(p, str):
            return p
        if hasattr(p, "text"):
            return p.text()
        return html.unescape(re.sub(r"<[^>]+>", "", p.html()))

    return "".join(one(p) for p in parts)


def _has_draws(result: Any) -> bool:
    return result.draws is not None and len(result.draws) > 0


def _is_nd(result: Any) -> bool:
    return set(result.law.inputs) == {"params", "tokens"}


def _matches(result: Any, data: Any) -> bool | None:
    fitted = result.data.get("sha256")
    given = data.data_hash() if hasattr(data, "data_hash") else None
    return None if fitted is None or given is None else fitted == given


def _figure(blocks: list[Block], notes: list, key: str, caption: list, alt: str, draw) -> None:
    """Draw a figure into ``blocks``; a missing matplotlib or an undrawable input becomes a note."""
    try:
        fig = draw()
    except ImportError as exc:
        notes.append(("warning", [f"No figures: {exc} (pip install 'scalinglaws[plot]')."]))
        return
    except Exception as exc:  # a figure must not sink the whole report
        notes.append(("warning", [f"Figure '{alt}' could not be drawn: {exc}"]))
        return
    blocks.append(FigureBlock.of(fig, caption, alt, key))


def _param_table(result: Any, level: float | None) -> Table:
    ints = result.intervals(level) if _has_draws(result) else {}
    rows = []
    for p in result.law.params:
        name = f"{_GREEK_NAMES[p.name]} ({p.name})" if p.name in _GREEK_NAMES else p.name
        lo, hi = ints.get(p.name, (None, None))
        interval = Raw(f'{Num(lo, digits=3).html()} – {Num(hi, digits=3).html()}') if ints else "—"
        rows.append([name, p.description or "", Num(result.params[p.name]), interval])
    level_cell: list[Any] = [Num(level or result.level, "pct"), " interval"] if ints else ["interval"]
    return Table(["parameter", "meaning", "value", level_cell], rows, css="params")


def _plan_rows(plans: list[Any], c_max: float) -> list[list[Any]]:
    return [
        [Num(p.compute), Est.of(p.params, digits=3), Est.of(p.tokens, digits=3),
         Est.of(p.tokens_per_param, digits=3), Est.of(p.loss), Num(p.compute / c_max, "factor")]
        for p in plans
    ]


def _prediction_rows(plans: list[Any], points: list[dict[str, Any]], c_max: float) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for p in plans:
        rows.append(["compute-optimal run", Num(p.params.value, digits=3), Num(p.tokens.value, digits=3),
                     Num(p.compute), Est.of(p.loss), Raw(f"C {Num(p.compute / c_max, 'factor').html()}")])
    for d in points:
        b = d["beyond"]
        symbol = {"params": "N", "tokens": "D", "compute": "C"}
        far = ", ".join(f"{symbol.get(k, k)} {Num(v, 'factor').html()}" for k, v in b.items())
        rows.append([d["label"] or "—", Num(d["params"], digits=3), Num(d["tokens"], digits=3),
                     Num(d["compute"]), Est(d["loss"], d["lo"], d["hi"]), Raw(far)])
    return rows


def _notes(result: Any, plans: list[Any], points: list[dict[str, Any]], c_max: float, data: Any,
           matches: bool | None, extra: list) -> list[tuple[str, list[Any]]]:
    notes: list[tuple[str, list[Any]]] = []
    issues = [d for d in result.diagnostics if d.severity != "info"]
    if not issues:
        notes.append(("ok", ["The fit passed its checks: convergence, parameters at bounds, multiple "
                             "starts, identifiability and residual trends."]))
    for d in sorted(result.diagnostics, key=lambda d: {"error": 0, "warning": 1}.get(d.severity, 2)):
        sev = "ok" if d.code == "converged" else d.severity
        notes.append((sev, [d.message[0].upper() + d.message[1:] + ("" if d.message.endswith(".") else ".")]))
    if not _has_draws(result):
        notes.append(("warning", ["The fit has no bootstrap draws, so no number has an interval: refit with "
                                  "bootstrap resamples (for example --bootstrap 1000)."]))
    for p in plans:
        f = p.compute / c_max
        if f > 1:
            sev = "warning" if f > 10 else "info"
            notes.append((sev, ["The plan for C = ", Num(p.compute), " FLOPs extrapolates ", Num(f, "factor"),
                                " beyond the largest fitted run; its interval covers the fit's uncertainty, "
                                "not a change of regime at scale."]))
        if p.draws_without_optimum:
            notes.append(("warning", [Num(p.draws_without_optimum, "int"), " bootstrap draws have no optimum "
                                      "at C = ", Num(p.compute), " FLOPs and are left out of its interval."]))
    for d in points:
        f = d["beyond"]["compute"]
        if f > 10:
            notes.append(("warning", [f"The prediction '{d['label'] or 'point'}' is ", Num(f, "factor"),
                                      " beyond the largest fitted compute."]))
    if data is None:
        notes.append(("info", ["The runs were not given, so figures show the fitted law without the points "
                               "and the residuals are not drawn (give --data)."]))
    elif matches is False:
        notes.append(("warning", ["The runs given are not those fitted (their data hash differs): points "
                                  "and residuals may not match the fit."]))
    return notes + extra


def fit_sections(
    result: Any,
    *,
    data: Any = None,
    compute: Sequence[float] = (),
    plans: Sequence[Any] = (),
    predictions: Sequence[Any] = (),
    level: float | None = None,
    figures: bool = True,
    index: int = 1,
    notes: Sequence[tuple[str, str]] = (),
    **_ignored: Any,
) -> list[Section]:
    """The sections of one fit: the fit itself and, for laws of params and tokens, its plans.

    Args:
        result: a :class:`~scalinglaws.fit.FitResult`.
        data: the fitted runs (``Runs``, DataFrame or dict), or None (figures then show the law only).
        compute: budgets (FLOPs) to plan; with neither ``compute`` nor ``plans``, 10x and 100x the largest
            fitted compute.
        plans: already computed :class:`~scalinglaws.plan.ComputePlan` objects to show.
        predictions: points to predict, :class:`~scalinglaws.report.curves.Prediction` or
            ``(params, tokens[, label])``.
        level: central level of the intervals (default: the fit's).
        figures: draw the figures (needs matplotlib).
        index: number of the fit in the report (section ids ``fit-<index>``, ``plan-<index>``).
        notes: more ``(severity, sentence)`` findings for the diagnostics card (from the caller).
    """
    from scalinglaws.plan import compute_optimal

    level = level or result.level
    frame = run_table(data, (*result.law.inputs, result.settings.get("target", "loss"))) if data is not None \
        else None
    matches = None if data is None else _matches(result, data)
    nd = _is_nd(result)
    extra_notes: list = [(sev, [text]) for sev, text in notes]
    c_max = basis = None
    all_plans: list[Any] = list(plans)
    points: list[dict[str, Any]] = []
    if nd:
        c_max, basis = largest_compute(result, None if frame is None else frame["flops"].to_numpy(float))
        defaults = [float(f"{10 * c_max:.2g}"), float(f"{100 * c_max:.2g}")]
        budgets = list(compute) or ([] if plans else defaults)
        if not compute and not plans:
            extra_notes.append(("info", ["No budget was given: the plans are for ", Num(budgets[0]), " and ",
                                         Num(budgets[1]), " FLOPs, 10 and 100 times the largest fitted "
                                         "compute."]))
        for c in budgets:
            try:
                all_plans.append(compute_optimal(result, float(c), level=level))
            except PlanError as exc:
                extra_notes.append(("error", [f"No plan for C = {c:.3g} FLOPs: {exc}."]))
        pts = [p if isinstance(p, Prediction) else Prediction(*p) for p in predictions]
        points = [predict_point(result, p, c_max, level) for p in pts]
    found = _notes(result, all_plans, points, c_max or np.nan, data, matches, extra_notes)

    fit_id, plan_id = f"fit-{index}", f"plan-{index}"
    has = _has_draws(result)
    d = result.data
    numbers: dict[str, Any] = {
        "law": {"name": result.law.name, "description": result.law.description, "note": result.law.note,
                "params": result.params, "intervals": result.intervals(level) if has else None,
                "level": level if has else None},
        "bootstrap": {"resamples": len(result.draws), "clusters": result.settings.get("n_clusters"),
                      "cluster_by": result.settings.get("cluster_by"),
                      "converged_fraction": float(np.mean(result.draws_converged))} if has else None,
        "objective": result.objective,
        "settings": result.settings,
        "data": {k: d.get(k) for k in ("source", "sha256", "n_points", "n_excluded", "convention", "ranges",
                                       "target_range")}
        | {"runs_given": data is not None, "runs_match_fit": matches, "largest_compute": c_max,
           "largest_compute_basis": basis},
        "exclusions": d.get("exclusions", []),
        "notes": [{"severity": s, "message": plain(t)} for s, t in found],
        "diagnostics": [x.to_dict() for x in result.diagnostics],
        "versions": result.versions,
    }

    # ----- summary cards ------------------------------------------------------------------------------
    about: list[Any] = ["Fitted to ", Num(d.get("n_points"), "int"), " runs of ", str(d.get("source")), " (",
                        Num(d.get("n_excluded"), "int"), " excluded), ", f"{result.objective['kind']} loss",
                        f" on {result.residual_space} residuals"]
    if has:
        method = result.settings.get("bootstrap_method", "cluster")
        about += ["; ", Num(level, "pct"), f" {method}-bootstrap intervals from ",
                  Num(numbers["bootstrap"]["resamples"], "int"), " resamples of ",
                  Num(numbers["bootstrap"]["clusters"], "int"), " model sizes (",
                  Num(numbers["bootstrap"]["converged_fraction"], "pct"), " converged)"]
    about.append(".")
    law_blocks = [Text(Raw(formula_html(result.law.description))), _param_table(result, level),
                  Text(*about, css="muted")]
    law_card = Card(f"Fitted law: {result.law.name}", law_blocks, rank=10, wide=True)
    diag_card = Card("Diagnostics and warnings", [Notes(found)], rank=40, wide=True)
    excl = d.get("exclusions", [])
    if excl:
        excl_block: Block = Table(
            ["run", "params", "tokens", "loss", "reason"],
            [[str(e.get("run", "—")), Num(e.get("params"), digits=3), Num(e.get("tokens"), digits=3),
              Num(e.get("loss")), str(e.get("reason", ""))] for e in excl],
        )
    else:
        excl_block = Text("No run was excluded.")
    excl_card = Card(["Exclusions (", Num(d.get("n_excluded"), "int"), ")"], [excl_block], rank=50, wide=True)
    n_warn = sum(sev in ("warning", "error") for sev, _ in found)
    fit_tile = ("Runs fitted", [Num(d.get("n_points"), "int")],
                [Num(d.get("n_excluded"), "int"), " excluded · ", Num(n_warn, "int"), " warnings"])
    numbers["warnings"] = n_warn

    # ----- fit body -------------------------------------------------------------------------------------
    body: list[Block] = [Text("Law: ", Raw(formula_html(result.law.description)), ". ", result.law.note)]
    fig_notes: list = []
    band_words: list[Any] = [" with its ", Num(level, "pct"), " bootstrap band"] if has else []
    if figures:
        from_plots = _plot_module
        if nd:
            _figure(body, fig_notes, "loss-vs-compute",
                    ["Loss against training compute. Dots: the fitted runs, coloured by model size. "
                     "Line: the fitted law along the compute-optimal allocation, L*(C)", *band_words,
                     ". Stars: the plans; diamonds: the key predictions; each labelled with how far beyond "
                     "the largest fitted run it lies."], "loss vs compute",
                    lambda: from_plots().plot_loss_vs_compute(result, frame, plans=all_plans,
                                                              predictions=predictions, level=level))
            _figure(body, fig_notes, "isoflop",
                    ["IsoFLOP curves: the fitted loss of models of each size trained with a fixed compute "
                     "budget (D = C / 6N)", *band_words, ", the optimum of each (triangles) and the runs "
                     "near each budget in the same colour."], "IsoFLOP curves",
                    lambda: from_plots().plot_isoflop(result, frame, level=level))
        elif frame is not None:
            _figure(body, fig_notes, "parity", ["Fitted against observed values of the runs."], "parity",
                    lambda: from_plots().plot_parity(result, frame))
        if frame is not None:
            by_words = "model size" if "params" in result.law.inputs else result.law.inputs[0]
            _figure(body, fig_notes, "residuals",
                    [f"Residuals of the fitted runs against {by_words}, coloured by tokens per parameter, "
                     "with the median in bins: a trend or a fan shows where the law misfits."],
                    "residuals", lambda: from_plots().plot_residuals(result, frame))
    if fig_notes:
        body.append(Notes(fig_notes))
        numbers["notes"] += [{"severity": s, "message": plain(t)} for s, t in fig_notes]
    body += [Heading("Fit details"), _details(result, numbers)]
    cards = [law_card, diag_card, excl_card]
    if not nd:
        cards.append(Card("At a glance", [Stats([fit_tile])], rank=5, wide=True))
    fit_section = Section(fit_id, f"Fit {index}: {result.law.name} law on {d.get('source')}", body, numbers,
                          cards, kind="fit")
    if not nd:
        return [fit_section]

    # ----- plan -----------------------------------------------------------------------------------------
    plan_header: list[Any] = ["budget C (FLOPs)", "N* (params)", "D* (tokens)", "D*/N*", "L* (loss)",
                              "beyond the data"]
    plan_table = Table(plan_header, _plan_rows(all_plans, c_max),
                       caption=["Each draw of the bootstrap re-planned; ", Num(level, "pct"), " intervals."]
                       if has else None)
    pred_table = Table(["run", "N (params)", "D (tokens)", "C (FLOPs)", "expected loss", "beyond the data"],
                       _prediction_rows(all_plans, points, c_max))
    plan_numbers = {
        "largest_compute": {"value": c_max, "basis": basis},
        "plans": [p.to_dict() | {"beyond": p.compute / c_max} for p in all_plans],
        "predictions": points,
    }
    plan_body: list[Block] = [Text(
        "The compute-optimal model size N* and token count D* minimise the fitted loss under C = 6ND; "
        "every bootstrap draw is planned on its own, so the intervals carry the fit's uncertainty. "
        "“Beyond the data” is the budget divided by the largest fitted compute, ", Num(c_max, digits=3),
        f" FLOPs ({basis}).")]
    plan_notes: list = []
    if figures:
        _figure(plan_body, plan_notes, "compute-optimal",
                ["Compute-optimal model size N*(C) and training tokens D*(C) under the fitted law",
                 *band_words, "; grey: the fitted runs and the compute range they span; stars: the plans."],
                "N*(C) and D*(C)",
                lambda: _plot_module().plot_compute_optimal(result, frame, plans=all_plans, level=level))
    if plan_notes:
        plan_body.append(Notes(plan_notes))
        plan_numbers["notes"] = [{"severity": s, "message": plain(t)} for s, t in plan_notes]
    plan_body += [Heading("Plans"), plan_table, Heading("Key predictions"), pred_table]
    plan_cards = [Card("Compute-optimal plan", [plan_table], rank=20, wide=True),
                  Card("Key predictions", [pred_table], rank=30, wide=True)]
    if all_plans:
        p = all_plans[0]

        def interval(e: Any, unit: str, digits: int = 3) -> list[Any]:
            if e.lo is None:
                return [unit]
            return [Num(e.lo, digits=digits), " – ", Num(e.hi, digits=digits), unit]

        tiles = [
            ("Budget C", [Num(p.compute, digits=3)], ["FLOPs, ", Num(p.compute / c_max, "factor"),
                                                      " beyond the data"]),
            ("Model size N*", [Num(p.params.value, digits=3)], interval(p.params, " params")),
            ("Training tokens D*", [Num(p.tokens.value, digits=3)], interval(p.tokens, " tokens")),
            ("Expected loss L*", [Num(p.loss.value)], interval(p.loss, "", 4)),
            fit_tile,
        ]
        plan_cards.append(Card("At a glance", [Stats(tiles)], rank=5, wide=True))
    else:
        plan_cards.append(Card("At a glance", [Stats([fit_tile])], rank=5, wide=True))
    plan_section = Section(plan_id, f"Plan {index}: compute-optimal runs under the {result.law.name} fit",
                           plan_body, plan_numbers, plan_cards, kind="plan")
    return [fit_section, plan_section]


def _plot_module():
    from scalinglaws.report import plots

    return plots


def _details(result: Any, numbers: dict[str, Any]) -> KeyValues:
    o, s, d = result.objective, result.settings, result.data
    items: list[tuple[Any, Any]] = [
        ("objective", [f"{o['kind']} (delta ", Num(o["delta"]), ") = ", Num(o["value"], digits=6)]),
        ("method", [f"{s.get('method')}, ", Num(s.get("n_starts"), "int"), " starts, ",
                    Num(s.get("grid_points"), "int"), " grid points"]),
        ("bootstrap", [Num(s.get("bootstrap"), "int"), f" resamples by {s.get('cluster_by')}, seed ",
                       Num(s.get("seed"), "int")]),
        ("data", f"{d.get('source')}, sha256 {d.get('sha256')}"),
        ("FLOP convention", str(d.get("convention"))),
    ]
    for k, (lo, hi) in (d.get("ranges") or {}).items():
        items.append((f"{k} range", [Num(lo, digits=3), " – ", Num(hi, digits=3)]))
    lc = numbers["data"]["largest_compute"]
    if lc is not None:
        basis = numbers["data"]["largest_compute_basis"]
        items.append(("largest fitted compute", [Num(lc, digits=3), f" FLOPs ({basis})"]))
    items.append(("versions", ", ".join(f"{k} {v}" for k, v in result.versions.items())))
    return KeyValues(items)
