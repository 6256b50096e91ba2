"""The leaderboard: the results table scored per (dataset, split, method, task group), as tables, markdown
and JSON, and the :class:`BacktestResult` that holds them.

Scores (errors in loss units for runs, in accuracy points for evals):

* ``mae`` / ``mae_median``: mean / median over problems of each problem's mean absolute error (a problem is
  one run, or one run x task, within one fold); ``rel_err``: the same for |error| / truth, in % (runs).
* ``rank_acc``: pairwise ranking accuracy: pairs of test runs within a fold (cross folds), or pairs of
  checkpoints within a problem (trajectory folds).
* ``rank_runs``: cross-run ranking accuracy, "which model is better": pairs of test runs predicted for the
  same series (task, metric, ...; evals) at the same checkpoint (equal ``tokens``, or ``step``, value: runs
  on another checkpoint grid are not paired) within a fold. NaN when no two runs share one (a single run).
* ``cov50``, ``width50``, ``cov80``, ``width80``: empirical coverage and mean width of the central 50% and 80%
  intervals (methods that give quantiles).
* ``floor_stderr``, ``floor_seeds``, ``floor_jitter``: the error a perfect forecast would still show given the
  targets' reported stderr, the spread between seeds, and the checkpoint-to-checkpoint jitter (NaN where
  the data cannot tell).

Example:
    >>> nan = np.nan
    >>> results = pd.DataFrame({"dataset": "d", "kind": "runs", "split": "compute", "fold": "f",
    ...     "method": "m", "status": "ok", "note": "", "mode": "cross", "problem": ["a", "b"], "group": None,
    ...     "distance": [1.5, 3.0], "truth": [2.0, 2.5], "pred": [2.2, 2.4], "q10": nan, "q25": nan,
    ...     "q75": nan, "q90": nan, "floor_stderr": nan, "floor_seeds": nan, "floor_jitter": nan})
    >>> board = leaderboard(results)
    >>> board[["method", "mae", "rel_err", "rank_acc"]].round(4).values.tolist()
    [['m', 0.15, 7.0, 1.0]]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.backtest.metrics import (
    absolute_error,
    coverage,
    distance_bin,
    mean_width,
    problem_mean,
    problem_median,
    ranking_accuracy,
    relative_error,
)

__all__ = ["FORMAT", "BacktestResult", "build_result", "by_distance", "leaderboard", "load_result"]

FORMAT = "scalinglaws.backtest/1"

SCORES = (
    "mae",
    "mae_median",
    "rel_err",
    "rank_acc",
    "rank_runs",
    "cov50",
    "width50",
    "cov80",
    "width80",
    "floor_stderr",
    "floor_seeds",
    "floor_jitter",
)
KEYS = ["dataset", "split", "method"]


def _scale(kind: str) -> float:
    return 100.0 if kind == "evals" else 1.0


def _nan_mean(values: np.ndarray, problems: np.ndarray) -> float:
    return problem_mean(values, problems) if np.isfinite(values).any() else float("nan")


def _scores(col: Mapping[str, np.ndarray], idx: np.ndarray, scale: float) -> dict[str, Any]:
    """The scores of the result rows ``idx`` (their predictions that are finite)."""
    idx = idx[np.isfinite(col["pred"][idx])]
    problems, pred, truth = col["_problem"][idx], col["pred"][idx], col["truth"][idx]
    err = scale * absolute_error(pred, truth)
    out: dict[str, Any] = {
        "n_folds": len(set(col["fold"][idx])),
        "n_problems": len(np.unique(problems)),
        "n_targets": len(idx),
        "mae": problem_mean(err, problems),
        "mae_median": problem_median(err, problems),
        "rel_err": 100.0 * problem_mean(relative_error(pred, truth), problems) if scale == 1 else np.nan,
        "rank_acc": ranking_accuracy(pred, truth, col["_pairs"][idx]),
        "rank_runs": ranking_accuracy(pred, truth, col["_runs"][idx]),
    }
    for level, lo, hi in ((50, "q25", "q75"), (80, "q10", "q90")):
        qlo, qhi = col[lo][idx], col[hi][idx]
        has = len(idx) > 0 and np.isfinite(qlo).all() and np.isfinite(qhi).all()
        out[f"cov{level}"] = coverage(qlo, qhi, truth) if has else np.nan
        out[f"width{level}"] = scale * mean_width(qlo, qhi) if has else np.nan
    for floor in ("floor_stderr", "floor_seeds", "floor_jitter"):
        out[floor] = scale * _nan_mean(col[floor][idx], problems)
    return out


def _run_pairs(results: pd.DataFrame) -> np.ndarray:
    """Per row, a code shared by the rows whose runs ``rank_runs`` compares: one (dataset, split, fold)
    series (the problem less its run: task, metric, ...; ``''`` for runs tables) at one checkpoint (the
    same time value). Rows of tables without ``run`` or ``time`` get a code each (nothing to compare)."""
    if not {"run", "time"} <= set(results.columns):
        return np.arange(len(results))
    series = [str(p)[len(str(r)) + 1:] if str(p).startswith(f"{r}/") else ""
              for p, r in zip(results["problem"], results["run"], strict=True)]
    keys = results[[*KEYS[:2], "fold", "time"]].assign(_series=series)
    return keys.groupby([*KEYS[:2], "fold", "_series", "time"], sort=False, dropna=False).ngroup().to_numpy()


def leaderboard(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, split, method, group): ``all``, plus each task group when there are several.

    Methods that were skipped (or failed) on every fold get one row with ``status`` and the reason in
    ``note``; ``status`` is ``partial`` when some folds failed. Sorted by dataset, split, group, mae.
    """
    problem = results.groupby([*KEYS[:2], "fold", "problem"], sort=False, dropna=False).ngroup().to_numpy()
    fold = results.groupby([*KEYS[:2], "fold"], sort=False).ngroup().to_numpy()
    col = {c: results[c].to_numpy() for c in ("kind", "fold", "status", "note", "group")}
    col |= {c: results[c].to_numpy(float) for c in ("pred", "truth", "q10", "q25", "q75", "q90",
                                                   "floor_stderr", "floor_seeds", "floor_jitter")}
    col["_problem"] = problem
    # ranking pairs: checkpoints within a problem (trajectory folds), runs within a fold (cross folds)
    col["_pairs"] = np.where(results["mode"].to_numpy() == "trajectory", problem, -1 - fold)
    col["_runs"] = _run_pairs(results)
    rows = []
    for (dataset, split, method), idx in results.groupby(KEYS, sort=False).indices.items():
        status = col["status"][idx]
        ran, other = idx[status == "ok"], idx[status != "ok"]
        notes = sorted({f"{col['fold'][i]}: {col['note'][i]}" if st == "failed" else col["note"][i]
                        for i, st in zip(other, col["status"][other], strict=True)})
        head = {"dataset": dataset, "split": split, "method": method, "unit": "", "note": "; ".join(notes)}
        if ran.size == 0:
            every = "skipped" if (status == "skipped").all() else "failed"
            rows.append(head | {"group": "all", "status": every})
            continue
        kind = str(col["kind"][ran[0]])
        head |= {"unit": "pp" if kind == "evals" else "loss", "status": "partial" if notes else "ok"}
        present = sorted({g for g in col["group"][ran] if isinstance(g, str)})
        for group in ["all", *(present if len(present) > 1 else [])]:
            sub = ran if group == "all" else ran[col["group"][ran] == group]
            rows.append(head | {"group": group} | _scores(col, sub, _scale(kind)))
    board = pd.DataFrame(rows)
    for col in ("n_folds", "n_problems", "n_targets", *SCORES):
        if col not in board.columns:
            board[col] = np.nan
    order = [
        "dataset",
        "split",
        "group",
        "method",
        "status",
        "unit",
        "n_folds",
        "n_problems",
        "n_targets",
        *SCORES,
        "note",
    ]
    board = board[order]
    board["_rank"] = board["status"].isin(["skipped", "failed"])
    board = board.sort_values(
        ["dataset", "split", "_rank", "group", "mae", "method"], kind="stable", na_position="last"
    )
    return board.drop(columns="_rank").reset_index(drop=True)


def by_distance(results: pd.DataFrame) -> pd.DataFrame:
    """MAE (and relative error for runs, in %) per method and extrapolation-distance bin (factors of two
    beyond the largest training compute, or beyond the last observed checkpoint of a trajectory)."""
    ran = results[(results["status"] == "ok").to_numpy() & np.isfinite(results["pred"].to_numpy(float))]
    distance, pred, truth = (ran[c].to_numpy(float) for c in ("distance", "pred", "truth"))
    runs = ran["kind"].to_numpy() == "runs"
    rel = np.full(len(ran), np.nan)
    rel[runs] = 100.0 * relative_error(pred[runs], truth[runs])  # losses only: scores can be 0
    rows = pd.DataFrame({k: ran[k].to_numpy() for k in KEYS} | {
        "distance": distance_bin(distance),
        "lo": distance,
        "err": np.where(runs, 1.0, 100.0) * absolute_error(pred, truth),
        "rel": rel,
    })
    table = rows.groupby([*KEYS, "distance"], sort=False).agg(
        n_targets=("err", "size"), mae=("err", "mean"), rel_err=("rel", "mean"), lo=("lo", "min")
    )
    table = table.reset_index().sort_values([*KEYS, "lo"], kind="stable")
    return table.drop(columns="lo").reset_index(drop=True)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN -> None, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _fmt(value: Any, digits: int = 4) -> str:
    if isinstance(value, float | np.floating):
        return "–" if not np.isfinite(value) else f"{value:.{digits}g}"
    return str(value)


def _bin_start(label: str) -> float:
    """Where a :func:`distance_bin` label starts, for ordering (``<=1x`` first)."""
    return 0.0 if label.startswith("<=") else float(label.split("-")[0]) if "-" in label else math.inf


def _markdown_table(frame: pd.DataFrame) -> list[str]:
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return lines


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """A finished backtest.

    Attributes:
        results: the tidy table: one row per (dataset, split, fold, method, test row) with truth, prediction,
            quantiles, extrapolation distance, stderr and noise floors; one row per skipped or failed
            (fold, method) with the reason.
        leaderboard: :func:`leaderboard` of the results.
        by_distance: :func:`by_distance` of the results.
        folds: one row per fold: train/test sizes, mode, notes.
        datasets: name, kind, source, rows and notes of each dataset.
        settings: splits, methods, seed, quantile levels.
    """

    results: pd.DataFrame
    leaderboard: pd.DataFrame
    by_distance: pd.DataFrame
    folds: pd.DataFrame
    datasets: tuple[dict[str, Any], ...]
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The leaderboard document (format ``scalinglaws.backtest/1``), JSON-ready (NaN as null)."""
        return _clean(
            {
                "format": FORMAT,
                "settings": self.settings,
                "datasets": list(self.datasets),
                "folds": self.folds.to_dict(orient="records"),
                "leaderboard": self.leaderboard.to_dict(orient="records"),
                "by_distance": self.by_distance.to_dict(orient="records"),
            }
        )

    def to_markdown(self) -> str:
        """The leaderboard per (dataset, split) as markdown tables, skipped methods with their reasons, and
        the error by extrapolation distance."""
        out: list[str] = []
        for (dataset, split), board in self.leaderboard.groupby(["dataset", "split"], sort=False):
            folds = self.folds[(self.folds["dataset"] == dataset) & (self.folds["split"] == split)]
            out += [f"## {dataset}: {split} split ({len(folds)} fold(s): {', '.join(folds['fold'])})", ""]
            ran = board[~board["status"].isin(["skipped", "failed"])]
            if not ran.empty:
                unit = ran["unit"].iloc[0]
                shown = ran[["method", "group", "n_problems", "n_targets", *SCORES]].dropna(axis=1, how="all")
                floors = [c for c in shown.columns if c.startswith("floor_")]
                out += [f"Errors in {'accuracy points' if unit == 'pp' else 'loss (rel_err in %)'}; "
                        + ("noise floors: " + ", ".join(floors) if floors else "no noise floor available "
                           "(no stderr, seed replicates or checkpoints in the targets)") + ".", ""]
                out += _markdown_table(shown) + [""]
            for r in board[board["status"] != "ok"].itertuples():
                out.append(f"- {r.method}: {r.status}: {r.note}")
            dist = self.by_distance[
                (self.by_distance["dataset"] == dataset) & (self.by_distance["split"] == split)
            ]
            if not dist.empty:
                wide = dist.pivot(index="method", columns="distance", values="mae")
                wide = wide[sorted(wide.columns, key=_bin_start)].reset_index()
                out += ["", "MAE by extrapolation distance:", ""] + _markdown_table(wide)
            out.append("")
        return "\n".join(out)

    @classmethod
    def load(cls, path: str | Path) -> BacktestResult:
        """Read a saved backtest back: see :func:`load_result`."""
        return load_result(path)

    def save(self, folder: str | Path) -> list[Path]:
        """Write ``results.csv``, ``leaderboard.md`` and ``leaderboard.json`` into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / "results.csv", folder / "leaderboard.md", folder / "leaderboard.json"]
        self.results.to_csv(paths[0], index=False)
        paths[1].write_text(self.to_markdown() + "\n")
        paths[2].write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return paths


def build_result(
    results: pd.DataFrame, folds: pd.DataFrame, datasets: list[dict[str, Any]], settings: dict[str, Any]
) -> BacktestResult:
    """Score a results table into a :class:`BacktestResult`."""
    return BacktestResult(
        results, leaderboard(results), by_distance(results), folds, tuple(datasets), settings
    )


def load_result(path: str | Path) -> BacktestResult:
    """A saved backtest: a folder written by :meth:`BacktestResult.save` (``scalinglaws backtest --out``),
    its ``leaderboard.json``, or the output of ``scalinglaws backtest --json``. The leaderboard and the
    errors by distance are read as saved; the per-target ``results.csv`` beside the JSON, where present,
    comes back too. Missing, empty or malformed input raises a one-line :class:`ArtifactError`."""
    from scalinglaws.errors import ArtifactError

    path = Path(path)
    folder = path if path.is_dir() else path.parent
    doc_path = path / "leaderboard.json" if path.is_dir() else path
    if not doc_path.is_file():
        where = f"{path}: no leaderboard.json in this folder" if path.is_dir() else f"{path}: no such file"
        raise ArtifactError(f"{where} (write a backtest with `scalinglaws backtest ... --out FOLDER`)")
    text = doc_path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise ArtifactError(f"{doc_path}: the backtest file is empty")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ArtifactError(f"{doc_path}: not a readable JSON leaderboard ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ArtifactError(f"{doc_path}: not a {FORMAT} leaderboard (write one with `scalinglaws backtest "
                            "... --out FOLDER` or --json)")
    if not doc.get("leaderboard"):
        raise ArtifactError(f"{doc_path}: the leaderboard is empty")
    csv = folder / "results.csv"
    results = pd.DataFrame()
    if (path.is_dir() or doc_path.name == "leaderboard.json") and csv.is_file():
        try:
            results = pd.read_csv(csv)
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{csv}: unreadable backtest results ({exc})") from None
    return BacktestResult(
        results,
        pd.DataFrame(doc["leaderboard"]),
        pd.DataFrame(doc.get("by_distance") or [],
                     columns=[*KEYS, "distance", "n_targets", "mae", "rel_err"]),
        pd.DataFrame(doc.get("folds") or []),
        tuple(doc.get("datasets") or ()),
        dict(doc.get("settings") or {}),
    )
