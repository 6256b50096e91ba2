"""Measuring scaling exponents: time along each loss curve, width and depth across runs.

Liu & Gore (arXiv 2606.25008) claim universal exponents: the loss falls as ``t^(-1/3)`` in (dynamic) time,
as ``1/m`` in width and as ``1/l`` in depth. This module measures them on data, with intervals:

* :func:`time_exponent`: fit ``L = L0 + c t^-a`` (the ``power`` law) to one curve, on the steps, tokens or
  dynamic time ``tau`` (the integral of the learning rate, :mod:`scalinglaws.theory.schedules`) of its
  checkpoints. The first ``start`` fraction of the run (warmup, early transient) is left out and long curves
  are averaged into log-spaced bins. Intervals: a block bootstrap (contiguous blocks of the curve resampled,
  which respects the correlation of neighbouring checkpoints; the default) or the profile likelihood
  (assumes independent residuals: narrower).
* :func:`across_runs`: the width and depth exponents from the final losses of many runs (or their losses at a
  common time ``at``), by a free-exponent fit of the universality law with the terms the runs vary (width,
  depth, and tokens when those differ too), with cluster-bootstrap intervals over model shapes.
* :func:`measure_exponents`: both for a table of curves, as an :class:`ExponentReport`
  (``scalinglaws exponents``).
* :func:`fit_universality`: the universality law on final losses, with the authors' protocol as an option
  (least squares on log loss after dropping the 40 highest losses, ``protocol="liu-gore"``).

Example:
    >>> import numpy as np
    >>> t = np.arange(1, 2001, dtype=float)
    >>> loss = (2.0 + 5.0 * t ** (-1 / 3)) * (1 + 0.001 * np.sin(t))
    >>> e = time_exponent(t, loss, interval="profile")
    >>> round(e.value, 2), round(e.claimed, 4), e.consistent
    (0.33, 0.3333, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from scalinglaws.errors import ScalingLawsError
from scalinglaws.laws.universality import CLAIMED
from scalinglaws.theory.schedules import Schedule, schedule_from_name, tau_at

__all__ = [
    "AXES",
    "Exponent",
    "ExponentError",
    "ExponentReport",
    "across_runs",
    "curve_exponents",
    "dynamic_time_of",
    "fit_universality",
    "measure_exponents",
    "time_exponent",
]

#: Time axes a curve can be measured on.
AXES = ("step", "tokens", "tau")
Interval = Literal["block", "profile"]
#: Fewest points a curve needs (after the start cut and binning) for a time exponent.
MIN_POINTS = 8


class ExponentError(ScalingLawsError, ValueError):
    """The data cannot give the exponent asked for (too few points, missing columns, bad values)."""


@dataclass(frozen=True, slots=True)
class Exponent:
    """A measured exponent with its interval and the value the universality class claims.

    Attributes:
        quantity: ``time``, ``width`` or ``depth``.
        value, lo, hi: the estimate and its central ``level`` interval (None where none was computed).
        claimed: the universality-class value (1/3, 1, 1).
        method: how it was measured.
        n_points: points (checkpoints, or runs) behind it.
        run: the run, for a time exponent.
        axis: the time axis (``step``, ``tokens``, ``tau``) or the input of a size exponent.
        floor, amplitude: the fitted ``L0`` and coefficient.
        warnings: the fit's warnings (parameters on a bound, residual trends): where a coefficient sits at
            zero the exponent is not identified.
    """

    quantity: str
    value: float
    lo: float | None
    hi: float | None
    level: float
    claimed: float
    method: str
    n_points: int
    run: str | None = None
    axis: str | None = None
    floor: float | None = None
    amplitude: float | None = None
    warnings: tuple[str, ...] = ()

    @property
    def consistent(self) -> bool | None:
        """Whether the interval contains the claimed value (None without an interval)."""
        if self.lo is None or self.hi is None:
            return None
        return bool(self.lo <= self.claimed <= self.hi)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "consistent": self.consistent}

    def __str__(self) -> str:
        band = "" if self.lo is None else f" [{self.lo:.3g}, {self.hi:.3g}]"
        return f"{self.quantity} exponent {self.value:.3g}{band} (claimed {self.claimed:.3g})"


# ----- one curve --------------------------------------------------------------------------------------------
def _prepare(t: Any, loss: Any, start: float, stop: float, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(t, dtype=float).ravel()
    y = np.asarray(loss, dtype=float).ravel()
    if t.shape != y.shape:
        raise ExponentError(f"time and loss differ in length ({t.size} vs {y.size})")
    if not (0.0 <= start < stop <= 1.0):
        raise ExponentError(f"need 0 <= start < stop <= 1 (fractions of the final time), got {start}, {stop}")
    bad = ~np.isfinite(t) | ~np.isfinite(y)
    if np.any(y[~bad] <= 0):
        raise ExponentError("losses must be positive")
    if np.any(t[~bad] < 0):
        raise ExponentError("times must be non-negative")
    t, y = t[~bad], y[~bad]
    keep = t > 0
    t, y = t[keep], y[keep]
    if t.size == 0:
        raise ExponentError("no checkpoint with a positive time")
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    t_max = t[-1]
    window = (t >= start * t_max) & (t <= stop * t_max)
    t, y = t[window], y[window]
    if t.size > max_points:  # log-spaced bins, so that every part of the curve counts alike
        edges = np.geomspace(t[0], t[-1] * (1 + 1e-12), max_points + 1)
        idx = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, max_points - 1)
        counts = np.bincount(idx, minlength=max_points)
        filled = counts > 0
        t = np.exp(np.bincount(idx, weights=np.log(t), minlength=max_points)[filled] / counts[filled])
        y = np.bincount(idx, weights=y, minlength=max_points)[filled] / counts[filled]
    if t.size < MIN_POINTS:
        raise ExponentError(
            f"{t.size} checkpoints between {start:g} and {stop:g} of the final time: a time exponent needs "
            f"at least {MIN_POINTS}"
        )
    return t, y


def _profile_sse(t: np.ndarray, y: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Least log-space squared error over ``(L0, c)`` at each exponent in ``a`` (inf where infeasible)."""
    logy = np.log(y)
    with np.errstate(all="ignore"):
        basis = t[None, :] ** -a[:, None]  # (G, n)
        # weighted linear solve (relative residuals ~ log residuals), then Gauss-Newton steps on log residuals
        w = 1.0 / y
        design = np.stack([np.ones_like(basis), basis], axis=-1) * w[None, :, None]
        gram = np.einsum("gni,gnj->gij", design, design)
        rhs = np.einsum("gni,n->gi", design, y * w)
        coef = np.linalg.solve(gram + 1e-300 * np.eye(2), rhs[..., None])[..., 0]
        for _ in range(6):
            pred = coef[:, :1] + coef[:, 1:] * basis
            r = np.log(pred) - logy
            jac = np.stack([np.ones_like(basis), basis], axis=-1) / pred[..., None]
            jtj = np.einsum("gni,gnj->gij", jac, jac)
            jtr = np.einsum("gni,gn->gi", jac, r)
            coef = coef - np.linalg.solve(jtj + 1e-12 * np.eye(2), jtr[..., None])[..., 0]
        pred = coef[:, :1] + coef[:, 1:] * basis
        sse = np.sum((np.log(pred) - logy) ** 2, axis=1)
    return np.where(np.isfinite(sse) & (coef[:, 0] >= 0) & (coef[:, 1] > 0), sse, np.inf)


def _profile_interval(t: np.ndarray, y: np.ndarray, a_hat: float, level: float) -> tuple[float, float]:
    """Profile-likelihood interval of ``a`` for Gaussian log residuals: ``n log(SSE(a)/SSE_min) <= chi2_1``
    (the ends located on a grid, then by bisection)."""
    grid = np.unique(np.concatenate([np.linspace(0.0, a_hat, 400)[1:], a_hat * np.geomspace(1, 20, 600)]))
    sse = _profile_sse(t, y, grid)
    best = float(np.min(sse))
    crit = stats.chi2.ppf(level, 1)

    def inside(a: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        v = _profile_sse(t, y, a) if values is None else values
        with np.errstate(divide="ignore", invalid="ignore"):
            return t.size * np.log(v / max(best, 1e-300)) <= crit

    ok = inside(grid, sse)
    if not ok.any():
        return a_hat, a_hat
    first, last = np.flatnonzero(ok)[[0, -1]]
    ends = []
    for i_in, i_out in ((first, first - 1), (last, last + 1)):
        if i_out < 0 or i_out >= grid.size:
            ends.append(float(grid[i_in]))
            continue
        a_in, a_out = float(grid[i_in]), float(grid[i_out])
        for _ in range(50):
            mid = 0.5 * (a_in + a_out)
            if inside(np.array([mid]))[0]:
                a_in = mid
            else:
                a_out = mid
        ends.append(a_in)
    return ends[0], ends[1]


def time_exponent(
    t: Any,
    loss: Any,
    *,
    start: float = 0.05,
    stop: float = 1.0,
    max_points: int = 200,
    interval: Interval = "block",
    blocks: int = 10,
    bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
    objective: Literal["huber", "l2"] = "huber",
    run: str | None = None,
    axis: str | None = None,
) -> Exponent:
    """The exponent ``a`` of ``L = L0 + c t^-a`` fitted to one loss curve, with an interval.

    Args:
        t, loss: checkpoint times (steps, tokens or dynamic time; zeros are dropped) and losses.
        start, stop: the part of the run fitted, as fractions of its final time.
        max_points: longer curves are averaged into this many log-spaced bins.
        interval: ``"block"`` (block bootstrap of ``blocks`` contiguous pieces, ``bootstrap`` resamples) or
            ``"profile"`` (profile likelihood).
        objective: the fit's loss on log residuals (see :func:`scalinglaws.fit.fit`).

    Example:
        >>> import numpy as np
        >>> t = np.geomspace(10, 1e5, 60)
        >>> y = 1.5 + 4.0 * t ** -0.3 * (1 + 0.002 * np.sin(t))
        >>> e = time_exponent(t, y, start=0.0, bootstrap=50)
        >>> round(e.value, 2), e.lo < 0.3 < e.hi
        (0.3, True)
    """
    from scalinglaws.fit import fit

    if interval not in ("block", "profile"):
        raise ExponentError(f"interval must be 'block' or 'profile', got {interval!r}")
    if not 0 < level < 1:
        raise ExponentError(f"level must be in (0, 1), got {level}")
    x, y = _prepare(t, loss, start, stop, max_points)
    frame = {"x": x, "loss": y, "block": 1.0 + np.floor(np.arange(x.size) * blocks / x.size)}
    use_boot = interval == "block" and bootstrap > 0
    result = fit(
        frame, "power", law_options={"x": "x"}, loss=objective, bootstrap=bootstrap if use_boot else 0,
        seed=seed, cluster_by="block", level=level,
    )  # fmt: skip
    p = result.params
    lo = hi = None
    if use_boot:
        lo, hi = result.intervals(level)["alpha"]
        method = f"power fit, block bootstrap ({blocks} blocks x {bootstrap})"
    elif interval == "profile":
        lo, hi = _profile_interval(x, y, p["alpha"], level)
        method = "power fit, profile likelihood"
    else:
        method = "power fit"
    return Exponent(
        quantity="time", value=p["alpha"], lo=lo, hi=hi, level=level, claimed=CLAIMED["time"], method=method,
        n_points=int(x.size), run=run, axis=axis, floor=p["E"], amplitude=p["A"],
        warnings=_warnings(result),
    )  # fmt: skip


def _warnings(result: Any) -> tuple[str, ...]:
    return tuple(d.message for d in result.diagnostics if d.severity != "info")


# ----- dynamic time -----------------------------------------------------------------------------------------
def dynamic_time_of(
    table: pd.DataFrame,
    *,
    schedule: Schedule | str | None = None,
    eta_max: float | None = None,
    total_steps: int | None = None,
    run_column: str = "run",
) -> np.ndarray:
    """Dynamic time ``tau`` of every row of a curves table.

    From ``schedule`` (a :class:`~scalinglaws.theory.schedules.Schedule` or a spec such as
    ``"cosine:warmup=0.01,floor=0.1"``) and each row's ``step``; the run's length is ``total_steps`` or, when
    not given, its last step; the peak rate is ``eta_max``, else the run's largest ``lr``, else 1 (the
    exponent does not depend on the scale of tau). Without a schedule: the ``lr`` column integrated over steps
    (trapezoids, with a linear warmup from 0 assumed before the first logged step).

    Example:
        >>> df = pd.DataFrame({"step": [0, 1, 2, 3, 4]})
        >>> dynamic_time_of(df, schedule="step:gamma=0.5,every=2", eta_max=1.0).tolist()
        [0.0, 1.0, 2.0, 2.5, 3.0]
    """
    if "step" not in table.columns:
        raise ExponentError("dynamic time needs a 'step' column")
    runs = (
        table[run_column].astype(str) if run_column in table.columns else pd.Series("run", index=table.index)
    )
    steps = pd.to_numeric(table["step"], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(steps)) or np.any(steps < 0) or np.any(steps != np.round(steps)):
        raise ExponentError("'step' must hold whole, non-negative numbers of updates")
    tau = np.empty(len(table))
    if schedule is not None:
        sched = schedule_from_name(schedule) if isinstance(schedule, str) else schedule
        if total_steps is not None and (isinstance(total_steps, bool) or int(total_steps) < 1):
            raise ExponentError(f"total_steps must be a positive integer, got {total_steps!r}")
        for _, idx in runs.groupby(runs, sort=False).indices.items():
            s = steps[idx].astype(np.int64)
            length = int(total_steps) if total_steps is not None else max(int(s.max()), 1)
            if s.max() > length:
                raise ExponentError(
                    f"run {runs.iloc[idx[0]]!r} has checkpoints up to step {int(s.max())} but the schedule's "
                    f"run length is {length} steps"
                )
            eta = eta_max if eta_max is not None else _peak_lr(table, idx)
            tau[idx] = tau_at(sched, s, eta, total_steps=length)
        return tau
    if "lr" not in table.columns:
        raise ExponentError("dynamic time needs a 'tau' column, an 'lr' column, or a schedule (--schedule)")
    lr = pd.to_numeric(table["lr"], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(lr)) or np.any(lr < 0):
        raise ExponentError("'lr' must hold finite, non-negative learning rates")
    for _, idx in runs.groupby(runs, sort=False).indices.items():
        order = idx[np.argsort(steps[idx], kind="stable")]
        s, r = steps[order], lr[order]
        area = np.concatenate([[0.5 * s[0] * r[0]], 0.5 * np.diff(s) * (r[1:] + r[:-1])])
        tau[order] = np.cumsum(area)
    return tau


def _peak_lr(table: pd.DataFrame, idx: np.ndarray) -> float:
    if "lr" in table.columns:
        lr = pd.to_numeric(table["lr"].iloc[idx], errors="coerce").to_numpy(float)
        if np.any(np.isfinite(lr) & (lr > 0)):
            return float(np.nanmax(lr))
    return 1.0


def _time_axis(
    table: pd.DataFrame,
    axis: str,
    schedule: Schedule | str | None,
    eta_max: float | None,
    total_steps: int | None,
    run_column: str,
) -> np.ndarray:
    if axis not in AXES:
        raise ExponentError(f"axis must be one of {', '.join(AXES)}, got {axis!r}")
    if axis == "tau":
        if schedule is None and "tau" in table.columns:
            return pd.to_numeric(table["tau"], errors="coerce").to_numpy(float)
        return dynamic_time_of(
            table, schedule=schedule, eta_max=eta_max, total_steps=total_steps, run_column=run_column
        )
    if schedule is not None:
        raise ExponentError(f"a schedule sets the dynamic time: use --axis tau with it, not {axis!r}")
    if axis not in table.columns:
        raise ExponentError(
            f"the table has no {axis!r} column; columns: {', '.join(map(str, table.columns))}"
        )
    return pd.to_numeric(table[axis], errors="coerce").to_numpy(float)


def curve_exponents(
    table: pd.DataFrame,
    *,
    axis: str = "step",
    schedule: Schedule | str | None = None,
    eta_max: float | None = None,
    total_steps: int | None = None,
    run_column: str = "run",
    **options: Any,
) -> list[Exponent]:
    """The time exponent of every run's curve (runs with too few checkpoints are skipped).

    ``options`` go to :func:`time_exponent` (``start``, ``interval``, ``bootstrap``, ``level``, ...).

    Example:
        >>> t = np.tile(np.arange(1.0, 501.0), 2)
        >>> df = pd.DataFrame({"run": np.repeat(["a", "b"], 500), "step": t,
        ...                    "loss": 1.0 + np.repeat([3.0, 5.0], 500) * t ** (-1 / 3)})
        >>> [round(e.value, 3) for e in curve_exponents(df, interval="profile")]
        [0.333, 0.333]
    """
    if "loss" not in table.columns:
        raise ExponentError(f"the table has no 'loss' column; columns: {', '.join(map(str, table.columns))}")
    time = _time_axis(table, axis, schedule, eta_max, total_steps, run_column)
    loss = pd.to_numeric(table["loss"], errors="coerce").to_numpy(float)
    runs = (
        table[run_column].astype(str) if run_column in table.columns else pd.Series("run", index=table.index)
    )
    out = []
    for name, idx in runs.groupby(runs, sort=False).indices.items():
        try:
            out.append(time_exponent(time[idx], loss[idx], run=str(name), axis=axis, **options))
        except ExponentError as exc:
            if "checkpoints between" not in str(exc):
                raise
    return out


# ----- across runs ------------------------------------------------------------------------------------------
def _finals(
    table: pd.DataFrame, run_column: str, axis: str, time: np.ndarray | None, at: float | None
) -> pd.DataFrame:
    """One row per run: its last checkpoint, or its loss interpolated (log-log) at time ``at``."""
    if run_column not in table.columns:
        frame = table.copy()
        frame[run_column] = np.arange(len(frame)).astype(str)
        return frame
    frame = table.assign(_t=time if time is not None else np.arange(len(table), dtype=float))
    if at is None:
        last = frame.groupby(run_column, sort=False)["_t"].idxmax()
        return frame.loc[last.to_numpy()].drop(columns="_t").reset_index(drop=True)
    rows = []
    for _, g in frame.groupby(run_column, sort=False):
        g = g[(g["_t"] > 0) & np.isfinite(g["_t"])].sort_values("_t")
        if len(g) < 2 or not (g["_t"].iloc[0] <= at <= g["_t"].iloc[-1]):
            continue
        row = g.iloc[-1].copy()
        row["loss"] = float(np.exp(np.interp(np.log(at), np.log(g["_t"]), np.log(g["loss"].astype(float)))))
        rows.append(row)
    if not rows:
        raise ExponentError(f"no run has checkpoints on both sides of {axis} = {at:g}")
    return pd.DataFrame(rows).drop(columns="_t").reset_index(drop=True)


def _distinct(values: pd.Series) -> int:
    v = pd.to_numeric(values, errors="coerce").to_numpy(float)
    v = v[np.isfinite(v) & (v > 0)]
    return int(np.unique(np.round(np.log(v), 6)).size) if v.size else 0


def across_runs(
    table: pd.DataFrame,
    *,
    run_column: str = "run",
    axis: str = "tokens",
    time: np.ndarray | None = None,
    at: float | None = None,
    bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
    objective: Literal["huber", "l2"] = "huber",
) -> list[Exponent]:
    """Width and depth exponents from the runs' final losses (or losses at time ``at`` on ``time``).

    Fits the universality law with free exponents and the terms the runs vary: width and depth (each with at
    least 3 distinct values), and a tokens term when the final token counts differ (not with ``at``: at a
    common time the time term is a constant), whose exponent is reported too (quantity ``time``, axis
    ``tokens``). Intervals: cluster bootstrap over model shapes.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> m = rng.choice([256.0, 512, 1024, 2048], 40); l = rng.choice([4.0, 8, 16, 32], 40)
        >>> D = 10 ** rng.uniform(8, 10, 40)
        >>> df = pd.DataFrame({"run": np.arange(40), "width": m, "depth": l, "tokens": D,
        ...                    "loss": 1.5 + 200 / m + 2 / l + 300 / D ** (1 / 3)})
        >>> [(e.quantity, round(e.value, 3)) for e in across_runs(df, bootstrap=0)]
        [('width', 1.0), ('depth', 1.0), ('time', 0.333)]
    """
    from scalinglaws.fit import fit

    finals = _finals(table, run_column, axis, time, at)
    terms = [t for t in ("width", "depth") if t in finals.columns and _distinct(finals[t]) >= 3]
    if not terms:
        return []
    use_tokens = at is None and "tokens" in finals.columns and _distinct(finals["tokens"]) >= 3
    names = terms + (["time"] if use_tokens else [])
    law_options = {"exponents": "free", "terms": ",".join(names), "time": "tokens"}
    keys = [c for c in ("width", "depth") if c in finals.columns]
    shape_id = pd.factorize(pd.MultiIndex.from_frame(finals[keys].astype(float)))[0] + 1.0
    frame = finals.assign(_shape=shape_id)
    result = fit(
        frame, "universality", law_options=law_options, bootstrap=bootstrap, seed=seed, cluster_by="_shape",
        level=level, loss=objective,
    )  # fmt: skip
    ints = result.intervals(level) if bootstrap else {}
    where = "final losses" if at is None else f"losses at {axis} = {at:g}"
    what = "universality fit (free exponents; terms " + ", ".join(names) + f") on {where}"
    if bootstrap:
        what += f", cluster bootstrap over {int(shape_id.max())} shapes x {bootstrap}"
    out = []
    for term in names:
        a_name, c_name = {"width": ("a_m", "c_m"), "depth": ("a_l", "c_l"), "time": ("a_D", "c_D")}[term]
        lo, hi = ints.get(a_name, (None, None))
        out.append(
            Exponent(
                quantity=term,
                value=result.params[a_name],
                lo=lo,
                hi=hi,
                level=level,
                claimed=CLAIMED[term],
                method=what,
                n_points=len(finals),
                axis="tokens" if term == "time" else term,
                floor=result.params["L0"],
                amplitude=result.params[c_name],
                warnings=_warnings(result),
            )  # fmt: skip
        )
    return out


# ----- the report -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExponentReport:
    """Time exponents per run and width/depth exponents across runs, against the claimed 1/3, 1 and 1."""

    source: str
    axis: str
    time: tuple[Exponent, ...]
    across: tuple[Exponent, ...]
    level: float
    notes: tuple[str, ...] = field(default=())

    def time_summary(self) -> dict[str, Any]:
        """Median, quartiles and spread of the per-run time exponents, and how many intervals hold 1/3."""
        if not self.time:
            return {"n_runs": 0}
        v = np.array([e.value for e in self.time])
        held = [e.consistent for e in self.time if e.consistent is not None]
        return {
            "n_runs": int(v.size),
            "median": float(np.median(v)),
            "q25": float(np.quantile(v, 0.25)),
            "q75": float(np.quantile(v, 0.75)),
            "mean": float(v.mean()),
            "sd": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "consistent": int(sum(held)),
            "with_interval": len(held),
            "claimed": CLAIMED["time"],
        }

    def table(self) -> pd.DataFrame:
        """One row per exponent (per-run time exponents first)."""
        return pd.DataFrame([e.to_dict() for e in (*self.time, *self.across)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "axis": self.axis,
            "level": self.level,
            "time": [e.to_dict() for e in self.time],
            "time_summary": self.time_summary(),
            "across": [e.to_dict() for e in self.across],
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        """A few lines for people."""
        lines = [f"exponents of {self.source} ({self.level:.0%} intervals)"]
        if self.time:
            lines.append(f"time exponent per run, on {self.axis} (claimed 1/3):")
            for e in self.time:
                band = "" if e.lo is None else f" [{e.lo:.3f}, {e.hi:.3f}]"
                lines.append(f"  {e.run:<28} {e.value:.3f}{band}  ({e.n_points} points)")
            s = self.time_summary()
            lines.append(
                f"  median {s['median']:.3f} (quartiles {s['q25']:.3f}-{s['q75']:.3f}) "
                f"over {s['n_runs']} runs; "
                f"{s['consistent']} of {s['with_interval']} intervals contain 1/3"
            )
        for e in self.across:
            band = "" if e.lo is None else f" [{e.lo:.3f}, {e.hi:.3f}]"
            what = "time exponent (tokens)" if e.quantity == "time" else f"{e.quantity} exponent"
            lines.append(f"{what} across {e.n_points} runs: {e.value:.3f}{band} (claimed {e.claimed:.3g})")
            lines += [f"  warning: {w}" for w in e.warnings if "bound" in w]
        if self.across:
            lines.append(f"  ({self.across[0].method})")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def measure_exponents(
    data: Any,
    *,
    axis: str = "step",
    schedule: Schedule | str | None = None,
    eta_max: float | None = None,
    total_steps: int | None = None,
    run_column: str = "run",
    at: float | None = None,
    start: float = 0.05,
    interval: Interval = "block",
    bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
    source: str | None = None,
) -> ExponentReport:
    """Time exponents of every curve and width/depth exponents across runs (see the module docstring).

    ``data`` is a DataFrame, a validated runs table, or a mapping of columns: ``loss``, the time axis
    (``step``/``tokens``/``tau``, or ``step`` with a ``schedule`` or an ``lr`` column for ``tau``), and
    optionally ``run``, ``width``, ``depth``, ``tokens``. Runs with a single checkpoint (final losses, such as
    the bundled Chinchilla points) contribute to the width/depth exponents only.
    """
    if hasattr(data, "table") and hasattr(data, "source"):
        frame, source = data.table, source or data.source
    elif isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, Mapping):
        frame = pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in data.items()})
    else:
        raise ExponentError(f"cannot measure exponents of {type(data).__name__}: pass a table or a DataFrame")
    source = source or "<table>"
    if "loss" not in frame.columns:
        raise ExponentError(f"{source}: no 'loss' column; columns: {', '.join(map(str, frame.columns))}")
    for c in ("width", "depth"):
        if c in frame.columns:
            v = pd.to_numeric(frame[c], errors="coerce").to_numpy(float)
            bad = np.flatnonzero(~np.isfinite(v) | (v <= 0))
            if bad.size:
                rows = ", ".join(str(i + 1) for i in bad[:10])
                raise ExponentError(f"{source}: column {c!r} needs finite positive values; bad rows {rows}")
    notes = []
    has_curves = run_column in frame.columns and frame.groupby(run_column).size().max() >= MIN_POINTS
    time = None
    per_run: list[Exponent] = []
    if has_curves or axis in frame.columns or schedule is not None:
        time = _time_axis(frame, axis, schedule, eta_max, total_steps, run_column)
    if has_curves:
        per_run = curve_exponents(
            frame.assign(**{axis: time}), axis=axis, run_column=run_column,
            start=start, interval=interval, bootstrap=bootstrap, level=level, seed=seed,
        )  # fmt: skip
        skipped = frame[run_column].nunique() - len(per_run)
        if skipped:
            notes.append(
                f"{skipped} run(s) with fewer than {MIN_POINTS} checkpoints in the fitted window skipped"
            )
    else:
        notes.append("no run has a loss curve (one checkpoint per run): no time exponents")
    across = across_runs(
        frame, run_column=run_column, axis=axis, time=time, at=at, bootstrap=bootstrap, level=level, seed=seed
    )
    if not across:
        notes.append("width and depth do not vary across runs (3+ distinct values needed): no size exponents")
    return ExponentReport(source, axis, tuple(per_run), tuple(across), level, tuple(notes))


# ----- the universality fit on final losses -----------------------------------------------------------------
def fit_universality(
    data: Any,
    *,
    exponents: str = "free",
    protocol: Literal["ours", "liu-gore"] = "ours",
    drop_highest: int = 40,
    bootstrap: int = 0,
    seed: int = 0,
    law_options: Mapping[str, str] | None = None,
    **fit_options: Any,
) -> Any:
    """Fit the universality law to final losses with shapes (width, depth, tokens), as a ``FitResult``.

    ``protocol="ours"``: the toolkit's default fit (Huber on log loss, the data's own exclusions).
    ``protocol="liu-gore"``: the authors' ``fit-5`` set-up: drop the ``drop_highest`` highest losses of the
    whole table (excluded rows included) and minimise the mean squared log residual (``loss="l2"``).
    Bootstrap clusters are model sizes (``params``) where the data have them, else shapes.

    Example:
        >>> from scalinglaws import datasets
        >>> r = fit_universality(datasets.load("chinchilla"), protocol="liu-gore")
        >>> r.data["n_points"], round(r.params["a_D"], 2)
        (205, 0.3)
    """
    from scalinglaws.fit import fit

    if protocol not in ("ours", "liu-gore"):
        raise ExponentError(f"protocol must be 'ours' or 'liu-gore', got {protocol!r}")
    options = {"exponents": exponents, **(law_options or {})}
    if hasattr(data, "table") and hasattr(data, "excluded"):
        frame = data.table
        if protocol == "liu-gore" and len(data.excluded):
            frame = pd.concat([frame, data.excluded[list(frame.columns)]], ignore_index=True)
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        frame = pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in dict(data).items()})
    if protocol == "liu-gore":
        if drop_highest < 0 or drop_highest >= len(frame):
            raise ExponentError(f"drop_highest must be in [0, {len(frame)}), got {drop_highest}")
        frame = frame.sort_values("loss", kind="stable").iloc[: len(frame) - drop_highest]
        fit_options.setdefault("loss", "l2")
    if "params" in frame.columns:
        fit_options.setdefault("cluster_by", "params")
    if protocol == "ours" and hasattr(data, "table") and hasattr(data, "source"):
        frame = data  # keeps the table's source and exclusions in the fit's record
    return fit(frame, "universality", law_options=options, bootstrap=bootstrap, seed=seed, **fit_options)
