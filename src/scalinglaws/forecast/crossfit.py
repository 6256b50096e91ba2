"""Cross-fitted interval calibration of the shipped forecaster (``scalinglaws forecast-calibrate``).

The shipped ensemble's intervals are calibrated on forecasts it could not have memorised: each training
size (160m, 410m, 1b, 12b) is forecast by an ensemble of the same recipe trained without that size (its
references and loss curves too), through the backtest harness's time split at the context fractions
0.1, 0.2 and 0.4, on the size's standard zero-shot run (the benchmark's protocol). The pooled forecasts
give one factor per task group and level (:func:`scalinglaws.forecast.calibration.fit_calibration`),
written into the ensemble's manifest. The held-out sizes are never read. Torch loads on first use.

Example:
    >>> training_sizes()
    ['12b', '160m', '1b', '410m']
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from scalinglaws.errors import ArtifactError
from scalinglaws.forecast.calibration import IntervalCalibration, fit_calibration
from scalinglaws.forecast.data import HELD_OUT_SIZES, SHIPPED_SEEDS

__all__ = ["calibrate", "calibration_from_results", "cross_fitted_results", "training_sizes"]

QUANTILE_COLUMNS = ("q10", "q25", "pred", "q75", "q90")


def _frame() -> pd.DataFrame:
    from scalinglaws import datasets

    return datasets.load("pythia").table


def training_sizes() -> list[str]:
    """The Pythia sizes the shipped model trains on (every bundled size but the held-out ones)."""
    sizes = set(_frame()["size"].astype(str)) - set(HELD_OUT_SIZES)
    return sorted(sizes)


def _standard_run(size: str) -> str:
    """The standard (non-deduped) zero-shot run of a size (1b: its bf16 run, the only one)."""
    f = _frame()
    keep = (
        (f["size"].astype(str) == size) & ~f["deduped"].astype(bool) & f["variant"].isin(["standard", "bf16"])
    )
    runs = sorted(set(f.loc[keep, "run"].astype(str)))
    if len(runs) != 1:
        raise ArtifactError(f"pythia size {size}: expected one standard run, found {runs}")
    return runs[0]


def _train_without(size: str, workdir: str, seeds: Sequence[int]) -> str:
    """Train (or reuse) the ensemble without ``size``; returns its manifest path."""
    from scalinglaws.forecast.train import train_shipped

    path = Path(workdir) / f"without-{size}.json"
    if not path.is_file():
        fc, _ = train_shipped(seeds=list(seeds), exclude_sizes=(size,))
        fc.save(path)
    return str(path)


def cross_fitted_results(
    models: dict[str, str | Path], fractions: Sequence[float] = (0.1, 0.2, 0.4)
) -> pd.DataFrame:
    """Backtest results (the harness's tidy rows, with ``fraction`` and ``size``) of each size's standard
    run forecast by ``models[size]``, a model trained without that size."""
    from scalinglaws import datasets
    from scalinglaws.backtest import TimeSplit, backtest, select_data
    from scalinglaws.forecast.baselines import NeuralMethod

    parts = []
    for size, path in models.items():
        evals = select_data(datasets.load("pythia"), where={"run": [_standard_run(size)]})
        for f in fractions:
            res = backtest(evals, TimeSplit(f), [NeuralMethod(weights=str(path))], executor="serial").results
            parts.append(res.assign(fraction=f, size=size))
    return pd.concat(parts, ignore_index=True)


def calibration_from_results(
    results: pd.DataFrame, quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9), note: str = ""
) -> IntervalCalibration:
    """:func:`fit_calibration` on cross-fitted backtest rows (one problem per (size, fraction, problem))."""
    ok = results[results["status"] == "ok"] if "status" in results.columns else results
    preds, truths, tasks = [], [], []
    for _, g in ok.groupby(["size", "fraction", "problem"], sort=True):
        preds.append(g[list(QUANTILE_COLUMNS)].to_numpy(float))
        truths.append(g["truth"].to_numpy(float))
        tasks.append(str(g["task"].iloc[0]))
    return fit_calibration(preds, truths, tasks, quantiles, note=note)


def calibrate(
    manifest: str | Path,
    workdir: str | Path,
    seeds: Sequence[int] = SHIPPED_SEEDS,
    fractions: Sequence[float] = (0.1, 0.2, 0.4),
    workers: int = 1,
    log: Callable[[str], None] | None = None,
) -> IntervalCalibration:
    """Train the cross-fitted ensembles into ``workdir`` (reusing any already there), fit the calibration
    and write it into the ensemble ``manifest`` (its members are left as they are)."""
    manifest = Path(manifest).with_suffix(".json")
    try:
        doc = json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{manifest}: not a readable forecaster manifest ({exc})") from None
    if doc.get("format") != "scalinglaws.forecast-ensemble/1":
        raise ArtifactError(
            f"{manifest}: not an ensemble manifest (write one with forecast-train --seeds 0,1,2)"
        )
    Path(workdir).mkdir(parents=True, exist_ok=True)
    sizes = training_sizes()
    if log:
        log(f"cross-fitting: {len(sizes)} ensembles of seeds {list(seeds)}, each without one of {sizes}")
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            paths = list(
                pool.map(_train_without, sizes, [str(workdir)] * len(sizes), [list(seeds)] * len(sizes))
            )
    else:
        paths = [_train_without(s, str(workdir), seeds) for s in sizes]
    results = cross_fitted_results(dict(zip(sizes, paths, strict=True)), fractions)
    note = (
        f"cross-fitted on the training sizes {', '.join(sizes)} (each forecast by an ensemble of seeds "
        f"{', '.join(map(str, seeds))} trained without it), context fractions "
        f"{', '.join(map(str, fractions))}"
    )
    cal = calibration_from_results(results, tuple(doc["config"]["quantiles"]), note)
    doc["calibration"] = cal.to_dict()
    manifest.write_text(json.dumps(doc, indent=1) + "\n")
    if log:
        for pattern, factors in cal.groups:
            log(f"{pattern}: " + ", ".join(f"{lv:.0%} x{fac:.3f}" for lv, fac in factors.items()))
    return cal
