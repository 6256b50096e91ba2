"""Paired comparison of fitted systems (data mixes, optimisers, architectures) at scales none has run at.

Two overlapping intervals are perfectly compatible with one system being reliably better: what decides is
the distribution of the *difference*, draw by draw. Systems trained at the same configurations share much
of their deviation from the law (a size that came out well for one tends to for the other), and that shared
part cancels in the difference only if the two fits are resampled *together*.

So, given each system's data, :func:`compare` refits every system on the same resampled clusters: cluster
keys (values of the fits' ``cluster_by`` column, e.g. model sizes) that the systems share are drawn with one
multinomial per bootstrap draw, and each system's draw ``b`` is its fit to the clusters of resample ``b``
(warm-started at its estimate, :func:`scalinglaws.fit.engine.refine_batch`), in its own residual space.
When every fit used the wild bootstrap, the systems share one multiplier per cluster key and draw instead
(:mod:`scalinglaws.fit.bootstrap`). Without the data, fits made with the same seed, bootstrap method, number
of resamples and cluster layout are already paired (their resamples drew the same
clusters) and their draws are used as they are; otherwise the draws are treated as independent (shuffled),
which is conservative: the difference's interval is then as wide as the two levels' together.

The result answers "B beats A at 1e24 with probability p": for losses lower is better, for metric laws
higher; for ``N*`` and ``D*`` it gives the probability that the difference is positive.

Example:
    >>> import numpy as np
    >>> from scalinglaws.fit import fit
    >>> from scalinglaws.laws import get_law
    >>> N = np.repeat(np.geomspace(5e7, 5e9, 8), 4); D = np.tile([2e9, 6e9, 2e10, 6e10], 8)
    >>> shared = 0.01 * np.random.default_rng(0).normal(size=N.size)  # what the two systems share
    >>> def system(alpha, seed):
    ...     theta = np.array([1.7, 400, 1500, alpha, 0.3])
    ...     y = get_law("chinchilla").predict({"params": N, "tokens": D}, theta)
    ...     own = 0.002 * np.random.default_rng(seed).normal(size=N.size)
    ...     return {"params": N, "tokens": D, "loss": y * np.exp(shared + own)}
    >>> a, b = system(0.34, 1), system(0.36, 2)
    >>> fits = {"A": fit(a, bootstrap=200), "B": fit(b, bootstrap=200)}
    >>> cmp = compare(fits, compute=1e24, data={"A": a, "B": b})
    >>> row = cmp.table.query("system == 'B'").iloc[0]
    >>> bool(row["diff"] < 0), bool(row["p_better"] > 0.9), cmp.paired
    (True, True, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from scalinglaws.cost import CostLaw
from scalinglaws.errors import ScalingLawsError
from scalinglaws.fit.result import FitResult

__all__ = ["CompareError", "Comparison", "compare"]

Quantity = Literal["loss", "params", "tokens"]

#: Systems are resampled together when each shares at least this fraction of its clusters with the others.
MIN_SHARED = 0.5


class CompareError(ScalingLawsError, ValueError):
    """Fits that cannot be compared (different targets or FLOP conventions, no draws, bad points)."""


@dataclass(frozen=True)
class Comparison:
    """Per point and system: the quantity, and its difference from the reference system, draw by draw.

    Attributes:
        table: one row per point and system: ``point``, ``system``, ``value`` (at the point estimates),
            ``lo``/``hi`` (its interval), ``diff`` (value minus the reference's), ``diff_lo``/``diff_hi``,
            ``p_better`` (probability the system beats the reference: lower loss, higher metric; for
            ``params``/``tokens`` the probability the difference is positive) and ``p_best``.
        reference: the system differences are taken from.
        quantity: ``loss`` (at a configuration, or ``L*`` at a budget), ``params`` (``N*``) or ``tokens``.
        paired: whether the draws were paired; ``pairing`` says how.
    """

    table: pd.DataFrame
    reference: str
    quantity: str
    paired: bool
    pairing: str
    level: float
    n_draws: int
    settings: dict[str, Any] = field(default_factory=dict)

    def probability(self, system: str, point: str | None = None) -> float:
        """``p_better`` of ``system`` (at ``point``, default the first)."""
        rows = self.table[self.table["system"] == system]
        if point is not None:
            rows = rows[rows["point"] == point]
        if rows.empty:
            raise CompareError(f"no system {system!r}" + (f" at {point!r}" if point else ""))
        return float(rows["p_better"].iloc[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "reference": self.reference,
            "paired": self.paired,
            "pairing": self.pairing,
            "level": self.level,
            "n_draws": self.n_draws,
            "settings": self.settings,
            "rows": self.table.to_dict(orient="records"),
        }

    def summary(self) -> str:
        what = {"loss": "loss", "params": "N*", "tokens": "D*"}[self.quantity]
        verb = "beats" if self.settings.get("direction") in ("lower", "higher") else "exceeds"
        lines = [
            f"{what} by system, and its difference from {self.reference} ({self.level:.0%} intervals, "
            f"{self.n_draws} draws, {'paired' if self.paired else 'independent'}: {self.pairing})"
        ]
        for point, group in self.table.groupby("point", sort=False):
            lines.append(f"  at {point}:")
            for r in group.itertuples():
                line = f"    {r.system:<16} {r.value:.5g} [{r.lo:.5g}, {r.hi:.5g}]"
                if r.system != self.reference:
                    line += (
                        f"  diff {r.diff:+.4g} [{r.diff_lo:+.4g}, {r.diff_hi:+.4g}]  "
                        f"{r.system} {verb} {self.reference} with probability {r.p_better:.3f}"
                    )
                lines.append(line)
        return "\n".join(lines)


def _named(fits: Mapping[str, FitResult] | Sequence[FitResult]) -> dict[str, FitResult]:
    named = dict(fits) if isinstance(fits, Mapping) else {f"system_{i}": f for i, f in enumerate(fits)}
    if len(named) < 2:
        raise CompareError(f"a comparison needs at least two fits, got {len(named)}")
    for name, f in named.items():
        if not isinstance(f, FitResult):
            raise CompareError(f"system {name!r} is not a fit (FitResult) but {type(f).__name__}")
    return named


def _check_comparable(named: dict[str, FitResult]) -> None:
    targets = {n: f.settings.get("target", "loss") for n, f in named.items()}
    if len(set(targets.values())) > 1:
        shown = ", ".join(f"{n}: {t}" for n, t in targets.items())
        raise CompareError(f"the fits predict different targets ({shown}); compare fits of one target")
    conventions = {n: f.data.get("convention", "6ND") for n, f in named.items()}
    if len(set(conventions.values())) > 1:
        shown = ", ".join(f"{n}: {c}" for n, c in conventions.items())
        raise CompareError(f"the fits count FLOPs differently ({shown}); refit them under one convention")
    kinds = {f.law.target for f in named.values()}
    if len(kinds) > 1:
        raise CompareError("the fits mix loss laws and metric laws; their values are not comparable")


def _paired_refits(
    named: dict[str, FitResult], data: Mapping[str, Any], n_draws: int, seed: int
) -> tuple[dict[str, np.ndarray] | None, str]:
    """Refit every system on the same resampled clusters; None when they share too few clusters."""
    from scalinglaws.fit.api import arrays_of, frame_of, hash_arrays
    from scalinglaws.fit.bootstrap import cluster_ids, wild_multipliers, wild_targets
    from scalinglaws.fit.engine import refine_batch
    from scalinglaws.fit.objective import Objective, Problem

    problems, keys = {}, {}
    for name, f in named.items():
        if name not in data:
            raise CompareError(f"data are given for some systems but not for {name!r}")
        frame, meta = frame_of(data[name])
        X, y = arrays_of(frame, f.law, f.settings.get("target", "loss"), meta["source"], f.residual_space)
        digest = meta["sha256"] or hash_arrays(X, y)
        if f.data.get("sha256") and digest != f.data["sha256"]:
            raise CompareError(f"the data given for {name!r} are not the data its fit used (sha256 differs)")
        col = f.settings.get("cluster_by") or f.law.inputs[0]
        if col not in frame.columns:
            raise CompareError(f"the data of {name!r} lack its cluster column {col!r}")
        keys[name] = pd.to_numeric(frame[col]).to_numpy(dtype=float)
        objective = Objective(f.objective["kind"], f.objective["delta"])
        problems[name] = Problem(f.law, X, y, objective, space=f.residual_space)
    names = list(named)
    ids = cluster_ids(np.concatenate([keys[n] for n in names]))
    bounds = np.cumsum([0] + [keys[n].size for n in names])
    per = {n: ids[bounds[i] : bounds[i + 1]] for i, n in enumerate(names)}
    sets = {n: set(per[n].tolist()) for n in names}
    shared = set.intersection(*sets.values())
    if min(len(shared) / len(s) for s in sets.values()) < MIN_SHARED:
        return None, f"the systems share only {len(shared)} cluster(s)"
    union = sorted(set.union(*sets.values()))
    index = {c: i for i, c in enumerate(union)}
    wild = all(f.settings.get("bootstrap_method") == "wild" for f in named.values())
    if wild:  # one multiplier per cluster and draw, shared by the systems
        shared_draws = wild_multipliers(np.arange(len(union)), n_draws, seed=seed)
    else:
        rng = np.random.default_rng(seed)
        shared_draws = rng.multinomial(len(union), np.full(len(union), 1.0 / len(union)), size=n_draws)
    out = {}
    for n in names:
        cols = np.array([index[c] for c in per[n]])
        f, problem = named[n], problems[n]
        starts = np.repeat(f.theta[None], n_draws, 0)
        if wild:
            v = shared_draws[:, cols]
            obs = wild_targets(problem, f.theta, per[n], v)
            theta, _, ok, _ = refine_batch(problem, starts, np.ones_like(v), obs=obs)
        else:
            theta, _, ok, _ = refine_batch(problem, starts, shared_draws[:, cols].astype(float))
        theta[~ok] = np.nan
        out[n] = theta
    col = named[names[0]].settings.get("cluster_by")
    how = (
        f"refitted on the same {n_draws} {'wild ' if wild else ''}resamples of {len(union)} {col} clusters "
        f"({len(shared)} shared by all)"
    )
    return out, how


def _draws_as_given(named: dict[str, FitResult], seed: int) -> tuple[dict[str, np.ndarray], bool, str]:
    for n, f in named.items():
        if f.draws is None or len(f.draws) == 0:
            raise CompareError(f"fit {n!r} has no bootstrap draws: refit it with bootstrap, or pass its data")
    fits = list(named.values())

    def layout(f: FitResult) -> tuple[Any, ...]:
        col = f.settings.get("cluster_by")
        return (
            f.settings.get("seed"),
            f.settings.get("bootstrap_method", "cluster"),
            len(f.draws),
            col,
            f.settings.get("n_clusters"),
            tuple(f.data.get("ranges", {}).get(col, ())),
        )

    out = {}
    if all(layout(f) == layout(fits[0]) for f in fits):
        for n, f in named.items():
            d = f.draws.copy()
            if f.draws_converged is not None:
                d[~f.draws_converged] = np.nan
            out[n] = d
        return out, True, "same seed, resamples and cluster layout (pass the data to verify)"
    b = min(len(f.draws) for f in fits)
    for i, (n, f) in enumerate(named.items()):
        rng = np.random.default_rng([seed, i])
        d = f.draws[rng.permutation(len(f.draws))[:b]].copy()
        out[n] = d
    return out, False, "the fits' resamples differ (seed, count or clusters): draws treated as independent"


def _values(
    f: FitResult,
    thetas: np.ndarray,
    quantity: str,
    compute: Sequence[float],
    at: Mapping[str, np.ndarray] | None,
    cost: CostLaw | None,
) -> np.ndarray:
    """``(B, P)`` values of the quantity for each parameter row (NaN where undefined)."""
    from scalinglaws.plan.compute_optimal import optimum

    finite = np.all(np.isfinite(thetas), axis=1)
    safe = np.where(finite[:, None], thetas, f.theta[None])
    if at is not None:
        with np.errstate(all="ignore"):
            vals = f.law.predict(at, safe)
        return np.where(finite[:, None], vals, np.nan)
    cols = []
    for c in compute:
        n, d, ok = optimum(f, float(c), safe, cost)
        ok &= finite
        if quantity == "params":
            cols.append(np.where(ok, n, np.nan))
        elif quantity == "tokens":
            cols.append(np.where(ok, d, np.nan))
        else:
            X = {"params": np.where(ok, n, 1.0)[:, None], "tokens": np.where(ok, d, 1.0)[:, None]}
            with np.errstate(all="ignore"):
                cols.append(np.where(ok, f.law.predict(X, safe)[:, 0], np.nan))
    return np.column_stack(cols)


def compare(
    fits: Mapping[str, FitResult] | Sequence[FitResult],
    *,
    compute: float | Sequence[float] | None = None,
    at: Mapping[str, Any] | None = None,
    quantity: Quantity = "loss",
    data: Mapping[str, Any] | Sequence[Any] | None = None,
    reference: str | None = None,
    level: float = 0.95,
    n_draws: int | None = None,
    seed: int = 0,
    cost: CostLaw | None = None,
) -> Comparison:
    """The difference of each system from ``reference`` in ``quantity``, with paired draws where possible.

    Args:
        fits: the systems' fits, by name (or a sequence: ``system_0``, ...).
        compute: budgets: the quantity is each system's compute-optimal ``L*`` (``loss``), ``N*``
            (``params``) or ``D*`` (``tokens``) there.
        at: configurations (inputs of the laws, e.g. params and tokens): the predicted loss there.
        quantity: ``loss``, ``params`` or ``tokens`` (the last two with ``compute`` only).
        data: each system's data (same names, or in order): the systems are then refitted on the same
            resampled clusters (exact pairing); without, fits with the same seed and cluster layout are
            paired as they are, others treated as independent.
        reference: the system the others are compared with (default: the first).
        level: central level of the intervals.
        n_draws: resamples of the paired refit (default: the first fit's number of draws, else 1000).
        seed: seed of the paired resamples and of the shuffling of independent draws.
        cost: cost law of the budgets (None: C = 6ND).
    """
    named = _named(fits)
    _check_comparable(named)
    if quantity not in ("loss", "params", "tokens"):
        raise CompareError(f"quantity must be 'loss', 'params' or 'tokens', not {quantity!r}")
    if (compute is None) == (at is None):
        raise CompareError("give either compute= (budgets) or at= (configurations), not both or neither")
    if not 0 < level < 1:
        raise CompareError(f"level must lie in (0, 1), got {level}")
    names = list(named)
    reference = names[0] if reference is None else reference
    if reference not in named:
        raise CompareError(f"no system {reference!r}; systems: {', '.join(names)}")
    budgets: list[float] = []
    at_arrays = None
    if compute is not None:
        budgets = [float(c) for c in np.atleast_1d(compute)]
        if any(not (np.isfinite(c) and c > 0) for c in budgets):
            raise CompareError(f"budgets must be positive numbers, got {budgets}")
        for n, f in named.items():
            if not {"params", "tokens"} <= set(f.law.inputs):
                raise CompareError(f"system {n!r}: law {f.law.name!r} is not in params and tokens; use at=")
        points = [f"C={c:.3g}" for c in budgets]
    else:
        if quantity != "loss":
            raise CompareError(f"quantity {quantity!r} (a compute-optimal size) needs compute=, not at=")
        at_arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in at.items()}
        for f in named.values():
            f.law.check_inputs(at_arrays)
        size = len(next(iter(at_arrays.values())))
        points = [", ".join(f"{k}={float(v[i]):.3g}" for k, v in at_arrays.items()) for i in range(size)]

    if data is not None:
        if not isinstance(data, Mapping):
            if len(data) != len(names):
                raise CompareError(f"{len(data)} data for {len(names)} systems")
            data = dict(zip(names, data, strict=True))
        first = named[names[0]]
        b = n_draws or (len(first.draws) if first.draws is not None and len(first.draws) else 1000)
        thetas, how = _paired_refits(named, data, b, seed)
        paired = thetas is not None
        if thetas is None:
            thetas, _, why = _draws_as_given(named, seed)
            how = f"{how}: {why}"
    else:
        thetas, paired, how = _draws_as_given(named, seed)

    direction = (
        ("lower" if next(iter(named.values())).law.target == "log" else "higher")
        if quantity == "loss"
        else "none"
    )
    values = {n: _values(named[n], thetas[n], quantity, budgets, at_arrays, cost) for n in names}
    points_val = {
        n: _values(named[n], named[n].theta[None], quantity, budgets, at_arrays, cost)[0] for n in names
    }
    tail = 100.0 * (1.0 - level) / 2.0
    stacked = np.stack([values[n] for n in names])  # (S, B, P)
    sign = 1.0 if direction != "higher" else -1.0
    with np.errstate(invalid="ignore"):
        best = np.nanargmin(np.where(np.isfinite(stacked), sign * stacked, np.inf), axis=0)
    all_ok = np.all(np.isfinite(stacked), axis=0)
    rows = []
    for j, point in enumerate(points):
        for s, n in enumerate(names):
            v = values[n][:, j]
            diff = v - values[reference][:, j]
            ok = np.isfinite(diff)
            lo, hi = np.nanpercentile(v, [tail, 100 - tail]) if np.isfinite(v).any() else (np.nan, np.nan)
            dlo, dhi = np.percentile(diff[ok], [tail, 100 - tail]) if ok.any() else (np.nan, np.nan)
            if direction == "lower":
                p = float(np.mean(diff[ok] < 0)) if ok.any() else np.nan
            elif direction == "higher":
                p = float(np.mean(diff[ok] > 0)) if ok.any() else np.nan
            else:
                p = float(np.mean(diff[ok] > 0)) if ok.any() else np.nan
            rows.append(
                {
                    "point": point,
                    "system": n,
                    "value": float(points_val[n][j]),
                    "lo": float(lo),
                    "hi": float(hi),
                    "diff": float(points_val[n][j] - points_val[reference][j]),
                    "diff_median": float(np.median(diff[ok])) if ok.any() else np.nan,
                    "diff_lo": float(dlo),
                    "diff_hi": float(dhi),
                    "p_better": np.nan if n == reference else p,
                    "p_best": float(np.mean(best[all_ok[:, j], j] == s)) if all_ok[:, j].any() else np.nan,
                }
            )
    settings = {
        "compute": budgets,
        "at": None if at_arrays is None else {k: v.tolist() for k, v in at_arrays.items()},
        "seed": seed,
        "direction": direction,
        "laws": {n: f.law.name for n, f in named.items()},
        "cost": cost.label if cost is not None else "6ND",
    }
    n_used = int(min(len(t) for t in thetas.values()))
    return Comparison(pd.DataFrame(rows), reference, quantity, paired, how, level, n_used, settings)
