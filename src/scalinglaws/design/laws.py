"""Candidate laws for experiment design: the laws that fit the data about as well as the fitted one.

A single law's bootstrap draws see only that law; :func:`candidate_laws` refits other laws to the same data
with the same objective and bootstrap, and admits those whose objective (or held-out error) is within a
tolerance of the best, so that :func:`~scalinglaws.design.suggest_runs` can weigh the laws' disagreement.
:func:`data_for` finds a fit's data again from the source it recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from scalinglaws.design.layout import DesignError
from scalinglaws.errors import ScalingLawsError
from scalinglaws.fit.api import frame_of
from scalinglaws.fit.result import FitResult

__all__ = ["candidate_laws", "data_for"]


def _objective_options(result: FitResult) -> dict[str, Any]:
    """The objective a fit minimised, as options of :func:`~scalinglaws.fit.fit`."""
    return {
        "loss": result.objective["kind"],
        "delta": result.objective["delta"],
        "residuals": result.residual_space,
    }


def data_for(result: FitResult, data: Any) -> Any:
    """The fit's data: as given, or reloaded from the source the fit recorded (bundled name or file).

    Raises :class:`~scalinglaws.design.DesignError` when ``data`` is None and the source cannot be reloaded.

    Example:
        >>> from scalinglaws.data import load_data
        >>> from scalinglaws.fit import fit
        >>> runs = data_for(fit(load_data("chinchilla"), "chinchilla"), None)
        >>> len(runs.final().table) > 200
        True
    """
    if data is not None:
        return data
    from pathlib import Path

    from scalinglaws import datasets
    from scalinglaws.data import load_data

    source = str(result.data.get("source", ""))
    name = source.removeprefix("bundled:")
    if name in datasets.names() or Path(source).is_file():
        return load_data(source, kind="runs", convention=result.data.get("convention", "6ND"))
    raise DesignError(
        f"refitting other laws needs the fit's data, and its recorded source {source!r} cannot be "
        "reloaded: pass data="
    )


def _holdout_error(data: Any, law: str, target: str, result: FitResult, fraction: float) -> float:
    """RMS error (in ``result``'s residual space) on the top ``fraction`` of the runs by compute, of ``law``
    fitted to the rest with ``result``'s objective."""
    from scalinglaws.fit import fit

    frame = frame_of(data)[0]
    compute = 6.0 * frame["params"].to_numpy(float) * frame["tokens"].to_numpy(float)
    cut = np.quantile(compute, 1.0 - fraction)
    train, test = frame[compute <= cut], frame[compute > cut]
    try:
        r = fit(train, law, target=target, **_objective_options(result))
    except ScalingLawsError:
        return float("inf")
    pred = r.predict({c: test[c].to_numpy(float) for c in r.law.inputs})
    y = test[target].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.log(y / pred) if r.residual_space == "log" else y - pred
    return float(np.sqrt(np.mean(err**2))) if np.all(np.isfinite(err)) else float("inf")


def candidate_laws(
    result: FitResult,
    laws: Sequence[str | FitResult],
    *,
    data: Any = None,
    tolerance: float = 0.1,
    criterion: Literal["objective", "holdout"] = "objective",
    holdout_fraction: float = 0.2,
) -> tuple[list[FitResult], pd.DataFrame]:
    """The laws that fit the data about as well as the best one, within ``tolerance`` (relative).

    ``criterion="objective"``: the fit's objective on all the data (richer laws never do worse on it, so this
    admits the laws that nest the fitted one and those as good); ``"holdout"``: the RMS log error on the
    ``holdout_fraction`` of runs with the most compute, of each law fitted to the others (a backtest: it
    penalises a law that bends wrongly beyond its data, and needs the data). Laws given by name are refitted
    to ``data`` (or the fit's recorded source) with the same objective (loss, threshold and residual space),
    bootstrap (size, method, seed, clusters) as ``result``. ``result``'s own law is always kept. Returns the
    admitted fits (``result`` first) and a table of every candidate.

    Example:
        >>> import numpy as np
        >>> from scalinglaws.fit import fit
        >>> from scalinglaws.laws import get_law
        >>> N = np.repeat(np.geomspace(1e8, 3e9, 6), 4); D = np.tile([2e9, 6e9, 2e10, 6e10], 6)
        >>> truth = np.array([1.7, 400, 1500, 0.34, 0.3])
        >>> y = get_law("chinchilla").predict({"params": N, "tokens": D}, truth)
        >>> y = y * np.exp(0.01 * np.random.default_rng(0).normal(size=y.size))
        >>> data = {"params": N, "tokens": D, "loss": y}
        >>> admitted, table = candidate_laws(fit(data, bootstrap=20), ["kaplan"], data=data)
        >>> table["law"].tolist(), admitted[0].law.name
        (['chinchilla', 'kaplan'], 'chinchilla')
    """
    from scalinglaws.fit import fit

    if criterion not in ("objective", "holdout"):
        raise DesignError(f"criterion must be 'objective' or 'holdout', not {criterion!r}")
    fits = [result]
    names = {result.law.name}
    target = result.settings.get("target", "loss")
    for spec in laws:
        name = spec.law.name if isinstance(spec, FitResult) else str(spec)
        if name in names:
            continue
        names.add(name)
        if isinstance(spec, FitResult):
            other = spec
        else:
            data = data_for(result, data)
            other = fit(
                data,
                name,
                target=target,
                bootstrap=max(len(result.draws) if result.draws is not None else 0, 1),
                bootstrap_method=result.settings.get("bootstrap_method", "cluster"),
                seed=int(result.settings.get("seed", 0)),
                cluster_by=result.settings.get("cluster_by"),
                **_objective_options(result),
            )
        if other.data.get("sha256") != result.data.get("sha256"):
            raise DesignError(f"law {name!r} was fitted to other data than the {result.law.name} fit")
        if _objective_options(other) != _objective_options(result):
            raise DesignError(
                f"law {name!r} was fitted with another objective (loss, threshold or residual space); "
                "objectives are not comparable"
            )
        fits.append(other)
    if criterion == "holdout":
        data = data_for(result, data)
        scores = [_holdout_error(data, f.law.name, target, result, holdout_fraction) for f in fits]
    else:
        scores = [float(f.objective["value"]) for f in fits]
    best = min(scores)
    rows, admitted = [], []
    for f, score in zip(fits, scores, strict=True):
        ok = score <= (1.0 + tolerance) * best
        note = ""
        if f is result and not ok:
            note = f"kept (the fitted law), though {score / best - 1:.0%} above the best"
        if f is result or ok:
            admitted.append(f)
        rows.append(
            {
                "law": f.law.name,
                "objective": float(f.objective["value"]),
                "criterion_value": score,
                "admitted": bool(f is result or ok),
                "note": note,
            }
        )
    return admitted, pd.DataFrame(rows)
