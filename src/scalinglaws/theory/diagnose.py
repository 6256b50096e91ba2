"""Which bottleneck limits each run: the frontiers of a fitted ``frontier`` law, run by run.

For a fit of :class:`scalinglaws.laws.frontier.Frontier`, every run has a capacity frontier ``k_N = N``, a
coverage frontier ``k_D = G D^(1/alpha)`` and, with steps, an optimisation frontier ``k_T = H T^(1/alpha)``
(all in parameter units). The smallest is the *active* bottleneck (Max-Bottleneck principle); the others'
ratios to it say how far they are from binding. ``share_<name>`` is each bottleneck's loss alone,
``A k_i^-(alpha-1)``, as a fraction of their sum. With bootstrap draws, ``agreement`` is the fraction of
draws that name the same active bottleneck.

Example:
    >>> import numpy as np
    >>> from scalinglaws.fit import fit
    >>> from scalinglaws.laws import get_law
    >>> N = np.repeat([1e8, 1e9, 1e10], 3); D = np.tile([1e9, 3e10, 1e12], 3)
    >>> y = get_law("frontier").predict({"params": N, "tokens": D}, np.array([1.7, 400.0, 1.35, 30.0]))
    >>> table = diagnose(fit({"params": N, "tokens": D, "loss": y}, "frontier"), {"params": N, "tokens": D})
    >>> table.loc[[2, 6], ["active", "share_capacity", "slack"]].round(2).values.tolist()
    [['capacity', 0.87, 232.28], ['coverage', 0.18, 71.81]]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from scalinglaws.errors import ScalingLawsError
from scalinglaws.theory.frontier import TheoryError

if TYPE_CHECKING:
    from scalinglaws.fit.result import FitResult

__all__ = ["diagnose"]


def _frame(runs: Any) -> tuple[pd.DataFrame, str]:
    if hasattr(runs, "table") and hasattr(runs, "source"):  # a validated Runs table: the fitted rows
        final = runs.final() if hasattr(runs, "final") else runs
        return final.table, str(runs.source)
    if isinstance(runs, pd.DataFrame):
        return runs, "<table>"
    if isinstance(runs, Mapping):
        return pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in runs.items()}), "<table>"
    raise TheoryError(
        f"diagnose needs a Runs table, a DataFrame or a dict of columns, not {type(runs).__name__}"
    )


def diagnose(result: FitResult, runs: Any) -> pd.DataFrame:
    """The active bottleneck of every row of ``runs`` under a fitted ``frontier`` law.

    Args:
        result: a fit of the ``frontier`` law (:func:`scalinglaws.fit.fit` or a loaded artifact).
        runs: a validated Runs table (its last checkpoint per run, the rows a fit uses), or a DataFrame or
            dict of columns (every row) with the law's inputs (``params``, ``tokens``, and ``step`` for the
            steps variant).

    Returns:
        One row per input row: ``run`` (and ``family``, ``loss`` where given), the inputs, ``predicted``,
        ``active``, ``share_<name>``, ``k_<name>`` (frontiers in parameter units), ``k_star``,
        ``ratio_<name>`` (``k_<name> / min_i k_i``: 1 for the active bottleneck), ``slack`` (the runner-up's
        ratio: how much the active resource must grow before another one binds), ``balance_tokens``
        (the ``D`` that would put coverage on a par with capacity, ``(N / G)^alpha``) and ``agreement``
        (fraction of bootstrap draws with the same active bottleneck; NaN without draws).
    """
    from scalinglaws.laws.frontier import Frontier

    law = result.law
    if not isinstance(law, Frontier):
        raise ScalingLawsError(f"diagnose needs a fit of the 'frontier' law; this fit is of {law.name!r}")
    frame, source = _frame(runs)
    missing = [c for c in law.inputs if c not in frame.columns]
    if missing:
        raise ScalingLawsError(
            f"{source}: the frontier law needs column(s) {missing}; the data has {list(frame.columns)}"
        )
    X: dict[str, np.ndarray] = {}
    for c in law.inputs:
        values = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
        if bad.size:
            rows = ", ".join(str(i + 1) for i in bad[:10])
            raise ScalingLawsError(f"{source}: column {c!r} needs finite positive values; bad rows {rows}")
        X[c] = values
    n = len(frame)
    theta = np.asarray(result.theta, dtype=float)
    parts = law.bottlenecks(X, theta)
    names = law.bottleneck_names
    out = pd.DataFrame(
        {"run": frame["run"].astype(str).to_numpy() if "run" in frame else [f"row-{i + 1}" for i in range(n)]}
    )
    for c in ("family",):
        if c in frame:
            out[c] = frame[c].to_numpy()
    for c in law.inputs:
        out[c] = X[c]
    if "loss" in frame:
        out["loss"] = pd.to_numeric(frame["loss"], errors="coerce").to_numpy(dtype=float)
    out["predicted"] = law.predict(X, theta)
    out["active"] = parts["active"].astype(str)
    losses = np.stack([parts[f"loss_{k}"] for k in names])
    for i, k in enumerate(names):
        out[f"share_{k}"] = losses[i] / losses.sum(axis=0)
    log_k = np.stack([parts[f"log_k_{k}"] for k in names])
    low = log_k.min(axis=0)
    for i, k in enumerate(names):
        out[f"k_{k}"] = np.exp(log_k[i])
    out["k_star"] = np.exp(parts["log_k_star"])
    for i, k in enumerate(names):
        out[f"ratio_{k}"] = np.exp(log_k[i] - low)
    out["slack"] = np.exp(np.sort(log_k, axis=0)[1] - low)
    alpha, g = theta[2], theta[3]
    out["balance_tokens"] = (X["params"] / g) ** alpha
    agreement = np.full(n, np.nan)
    draws = getattr(result, "draws", None)
    if draws is not None and len(draws):
        with np.errstate(all="ignore"):
            draw_active = law.bottlenecks(X, np.asarray(draws, dtype=float))["active"]
        agreement = np.mean(draw_active == out["active"].to_numpy()[None, :], axis=0)
    out["agreement"] = agreement
    return out
