"""The report section of a backtest (:class:`~scalinglaws.backtest.report.BacktestResult`): per dataset and
split, what was held out, the leaderboard with its metrics, the error against extrapolation distance, and
findings in plain words (the best method, interval coverage, skipped methods); a summary card names the
best method and its error.

Example:
    >>> import pandas as pd
    >>> from scalinglaws.backtest.report import build_result
    >>> nan = float("nan")
    >>> rows = pd.DataFrame({"dataset": "d", "kind": "runs", "split": "compute", "fold": "f", "method":
    ...     ["a", "a", "b", "b"], "status": "ok", "note": "", "mode": "cross", "problem": ["p", "q"] * 2,
    ...     "group": None, "distance": [1.5, 3.0] * 2, "truth": [2.0, 2.5] * 2, "pred": [2.1, 2.4, 2.3, 2.9],
    ...     "q10": nan, "q25": nan, "q75": nan, "q90": nan, "floor_stderr": nan, "floor_seeds": nan,
    ...     "floor_jitter": nan})
    >>> folds = pd.DataFrame({"dataset": ["d"], "split": ["compute"], "fold": ["f"], "mode": ["cross"],
    ...                       "train_rows": [4], "test_rows": [2], "test_problems": [2], "notes": [[]]})
    >>> (s,) = backtest_sections(build_result(rows, folds, [], {}), figures=False)
    >>> s.numbers["best"][0]["method"], round(s.numbers["best"][0]["mae"], 6)
    ('a', 0.1)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.report.blocks import Block, Card, Heading, Notes, Num, Stats, Table, Text
from scalinglaws.report.document import Section
from scalinglaws.report.fit_section import _figure, plain

__all__ = ["backtest_sections"]

_SPLITS = {
    "compute": "Each fold fits every method to the runs whose training compute lies under a cut and predicts "
               "the larger runs; a test run's distance is its compute over the largest training compute.",
    "size": "The largest model sizes are held out: the methods see the smaller sizes (and, where a context "
            "fraction is set, the held-out runs' early checkpoints) and predict the held-out runs.",
    "time": "Each run is observed up to a fraction of its training and its later checkpoints are predicted; "
            "a target's distance is its tokens over the last observed checkpoint's.",
    "family": "Whole model families are held out in turn and predicted from the other families.",
    "task": "Whole tasks are held out in turn and predicted from the other tasks.",
}
_COLUMNS = [  # (column, header, style, digits); headers with {unit} name the error unit
    ("mae", "MAE ({unit})", "auto", 4), ("mae_median", "median ({unit})", "auto", 4),
    ("rel_err", "rel. error (%)", "auto", 3), ("rank_acc", "rank acc.", "pct", 3),
    ("cov50", "cov. 50%", "pct", 3), ("cov80", "cov. 80%", "pct", 3),
    ("width80", "width 80% ({unit})", "auto", 3), ("floor_stderr", "floor: stderr ({unit})", "auto", 3),
    ("floor_seeds", "floor: seeds ({unit})", "auto", 3),
    ("floor_jitter", "floor: jitter ({unit})", "auto", 3),
]


def _f(value: Any) -> float | None:
    """A finite float, or None (for NaN, None and missing values)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _upper_edge(label: str) -> float:
    """The upper end of a distance bin label (``'2-4x'`` -> 4, ``'<=1x'`` -> 1)."""
    text = label.rstrip("x").removeprefix("<=")
    return float(text.split("-")[-1]) if text and text != "n/a" else math.nan


def _error_table(result: Any, dataset: str, split: str, scale: float) -> tuple[pd.DataFrame, bool]:
    """``method, distance, error`` rows for the chart: every target's error (distance: its bin's upper
    end) from the results, or else the MAE per bin of ``by_distance``; True when from the results."""
    from scalinglaws.backtest.metrics import distance_bin

    res = result.results
    if len(res) and {"pred", "truth", "distance", "status"} <= set(res.columns):
        res = res[(res["dataset"] == dataset) & (res["split"] == split) & (res["status"] == "ok")]
        pred, truth = res["pred"].to_numpy(float), res["truth"].to_numpy(float)
        ok = np.isfinite(pred) & np.isfinite(truth)
        if ok.any():
            edges = [_upper_edge(b) for b in distance_bin(res["distance"].to_numpy(float)[ok])]
            return pd.DataFrame({"method": res["method"].to_numpy()[ok], "distance": edges,
                                 "error": scale * np.abs(pred - truth)[ok]}).dropna(), True
    dist = result.by_distance
    dist = dist[(dist["dataset"] == dataset) & (dist["split"] == split)]
    edges = [_upper_edge(str(b)) for b in dist["distance"]]
    return pd.DataFrame({"method": dist["method"], "distance": edges,
                         "error": pd.to_numeric(dist["mae"], errors="coerce")}).dropna(), False


def _coverage_note(method: str, cov: float) -> tuple[str, list[Any]]:
    words: list[Any] = [f"{method}'s 80% intervals held ", Num(cov, "pct", 3), " of the held-out values"]
    if cov < 0.7:
        return "warning", [*words, ": too narrow, so its intervals understate the extrapolation error."]
    if cov > 0.9:
        return "info", [*words, ": wider than needed."]
    return "ok", [*words, ": about as often as an 80% interval should."]


def _split_section(result: Any, dataset: str, split: str, board: pd.DataFrame, figures: bool,
                   body: list[Block], notes: list) -> dict[str, Any] | None:
    """Add one (dataset, split) part to ``body`` and ``notes``; returns its best method (or None)."""
    folds = result.folds
    folds = folds[(folds["dataset"] == dataset) & (folds["split"] == split)] if len(folds) else folds
    ran = board[~board["status"].isin(["skipped", "failed"])]
    unit = str(ran["unit"].iloc[0]) if len(ran) else ""
    unit_words = "accuracy points" if unit == "pp" else "loss"
    body.append(Heading(f"{dataset}: {split} split"))
    body.append(Text(_SPLITS.get(split, f"The {split} split holds part of the data out and predicts it."),
                     " Folds: ", Num(len(folds), "int"), f". Errors are in {unit_words}."))
    if len(folds):
        body.append(Table(["fold", "mode", "training rows", "test rows"],
                          [[str(r["fold"]), str(r["mode"]), Num(_f(r["train_rows"]), "int"),
                            Num(_f(r["test_rows"]), "int")] for _, r in folds.iterrows()]))
    groups = list(dict.fromkeys(ran["group"].astype(str)))
    shown = [(c, h.format(unit=unit), st, d) for c, h, st, d in _COLUMNS
             if c in ran.columns and any(_f(v) is not None for v in ran[c])]
    counts = [("targets", "n_targets")]
    if any(_f(a) != _f(b) for a, b in zip(ran["n_problems"], ran["n_targets"], strict=True)):
        counts.insert(0, ("problems", "n_problems"))
    status = not ran["status"].eq("ok").all()
    header: list[Any] = ["method", *(["tasks"] if len(groups) > 1 else []), *(["status"] if status else []),
                         *[h for h, _ in counts], *[h for _, h, _, _ in shown]]
    rows = [[str(r["method"])] + ([str(r["group"])] if len(groups) > 1 else [])
            + ([str(r["status"])] if status else []) + [Num(_f(r[c]), "int") for _, c in counts]
            + [Num(_f(r[c]), st, d) for c, _, st, d in shown]
            for _, r in ran.iterrows()]
    if rows:
        body.append(Table(header, rows,
                          caption="Methods by mean absolute error (first: the best). Coverage: the share of "
                                  "held-out values inside a method's central interval; floors: the error a "
                                  "perfect forecast would still show given the data's noise."))
    best_row = next((r for _, r in ran.iterrows() if str(r["group"]) == "all" and _f(r["mae"]) is not None),
                    None)
    best = None
    if best_row is not None:
        best = {"dataset": dataset, "split": split, "method": str(best_row["method"]), "unit": unit,
                "mae": _f(best_row["mae"]), "rel_err": _f(best_row.get("rel_err")),
                "cov80": _f(best_row.get("cov80")), "methods": int(ran["method"].nunique())}
        others = ran[(ran["group"].astype(str) == "all") & (ran["method"] != best["method"])]
        words: list[Any] = [f"Best of {best['methods']} methods on {dataset} ({split} split): "
                            f"{best['method']}, mean absolute error ", Num(best["mae"]), f" {unit_words}"]
        if best["rel_err"] is not None:
            words += [" (", Num(best["rel_err"], digits=3), "% of the true value)"]
        base = others[others["method"] == "last-value"]
        if len(base) and _f(base["mae"].iloc[0]):
            best["last_value_mae"] = _f(base["mae"].iloc[0])
            words += [", against ", Num(best["last_value_mae"]), " for carrying the last value forward"]
        notes.append(("ok", [*words, "."]))
    for _, r in ran[ran["group"].astype(str) == "all"].iterrows():
        if _f(r.get("cov80")) is not None:
            notes.append(_coverage_note(str(r["method"]), _f(r["cov80"])))
    for _, r in board[board["status"] != "ok"].iterrows():
        sev = "info" if r["status"] == "skipped" else "warning"
        why = r.get("note")
        why = f" ({why})" if isinstance(why, str) and why else ""
        notes.append((sev, [f"{r['method']}: {r['status']}{why}."]))
    if figures:
        frame, per_target = _error_table(result, dataset, split, 100.0 if unit == "pp" else 1.0)
        if len(frame):
            med = frame.groupby(["method", "distance"])["error"].median()
            log = bool((med > 0).all() and med.max() > 10 * med.min())
            beyond = "last observed checkpoint" if split in ("time", "task") else "largest training compute"
            what = ("Median absolute error of each method over the targets in each distance bin (factors of "
                    "two, drawn at the bin's upper end), with the interquartile band where a bin holds "
                    "several targets." if per_target else
                    "Mean absolute error of each method in each distance bin (factors of two, drawn at the "
                    "bin's upper end).")
            _figure(body, notes, f"backtest-error-{dataset}-{split}", [what], "backtest error vs distance",
                    lambda: _plots().plot_backtest_error(
                        frame, error_label=f"absolute error ({unit_words})", log_error=log,
                        distance_label=f"extrapolation distance, up to (× {beyond})",
                        title=f"Backtest on {dataset}: error vs extrapolation distance"))
    return best


def backtest_sections(result: Any, *, figures: bool = True, **_ignored: Any) -> list[Section]:
    """The backtest section of a :class:`~scalinglaws.backtest.report.BacktestResult`.

    Args:
        result: the backtest (run here, or loaded with :meth:`BacktestResult.load`).
        figures: draw the error-vs-distance chart (needs matplotlib).
    """
    board = result.leaderboard
    body: list[Block] = [Text("A backtest asks how each law or baseline would have done had it been used on "
                              "the data available back then: fit on part of the data, predict the held-out "
                              "part, score the predictions against what was later observed.")]
    notes: list = []
    bests = []
    for (dataset, split), part in board.groupby(["dataset", "split"], sort=False):
        best = _split_section(result, str(dataset), str(split), part, figures, body, notes)
        if best is not None:
            bests.append(best)
    body.insert(1, Notes(notes))
    numbers = {k: v for k, v in result.to_dict().items() if k != "format"}
    numbers |= {"best": bests, "notes": [{"severity": s, "message": plain(t)} for s, t in notes]}
    cards = []
    for b in bests:
        unit = "accuracy points" if b["unit"] == "pp" else "loss"
        tiles: list[tuple[Any, Any, Any]] = [
            ("Best method", b["method"], ["of ", Num(b["methods"], "int"), " compared"]),
            ("Its mean absolute error", [Num(b["mae"])],
             [unit] + ([", ", Num(b["rel_err"], digits=3), "% of the truth"] if b["rel_err"] is not None
                       else [])),
        ]
        if b["cov80"] is not None:
            tiles.append(("Its 80% coverage", [Num(b["cov80"], "pct", 3)],
                          "of held-out values in the interval"))
        if b.get("last_value_mae") is not None:
            tiles.append(("Last value carried forward", [Num(b["last_value_mae"])], [unit, " (baseline)"]))
        title = f"Backtest: {b['dataset']}, {b['split']} split"
        cards.append(Card(title, [Stats(tiles)], rank=45, wide=True))
    splits = ", ".join(f"{d} ({s} split)" for d, s in dict.fromkeys(zip(board["dataset"], board["split"],
                                                                          strict=True)))
    return [Section("backtest", f"Backtest: {splits}", body, numbers, cards, kind="backtest")]


def _plots():
    from scalinglaws.report import plots

    return plots
