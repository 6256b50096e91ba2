"""IsoFLOP analysis (Chinchilla Approach 2) beside the fitted-law frontier (Approach 3), on the same runs.

Approach 2: the runs are grouped into budgets (a ``budget`` column, or ``flops`` values within a relative
tolerance of each other); per budget a parabola ``loss = a u^2 + b u + c`` in ``u = log10 N`` gives the
compute-optimal size ``N* = 10^(-b / 2a)``, and a line through ``(log10 C, log10 N*)`` gives the exponent
``N* ~ C^a``. Intervals come from a bootstrap over runs within each budget (each sweep keeps its budget).

The parabola is a local approximation of a curve that is not symmetric in ``log N``: Open-Athena's study of
Approach 2 (arXiv 2603.22339) shows that sweeps sampled off-centre around their minimum shift the vertex, and
so bias the exponent. Each budget is therefore checked, and its findings kept as coded diagnostics:

* ``too_few_sizes`` (warning): fewer than 3 distinct sizes, no parabola; the budget is left out;
* ``no_interior_minimum`` (warning): the parabola opens downwards or is flat; left out;
* ``minimum_not_bracketed`` (warning): the vertex lies outside the sampled sizes (an extrapolated minimum);
  left out;
* ``lopsided_sweep`` (warning): the vertex sits in the outer fifth of the sampled log range, fewer than two
  sizes lie on one side of it, or the lowest loss is at an edge size; kept, but its vertex is biased.

Approach 3 fits ``law`` to all runs and plans each budget under C = 6ND (:func:`compute_optimal`); the local
slope of its ``log N*`` over the same budgets is its exponent. ``approaches_disagree`` is raised when the
bootstrap interval of the difference (the two bootstraps are not paired, so it is conservative) excludes 0,
or, without bootstrap, when the exponents differ by more than 0.05.

Example:
    >>> import numpy as np
    >>> budgets = np.repeat([1e18, 1e19, 1e20], 5)
    >>> u_star = 0.5 * np.log10(budgets / 6) - 1.0          # N* = sqrt(C/6) / 10: exponent 0.5
    >>> u = u_star + np.tile([-1.0, -0.5, 0.0, 0.5, 1.0], 3)
    >>> runs = {"params": 10**u, "flops": budgets, "loss": 2.0 + 0.3 * (u - u_star) ** 2}
    >>> runs["tokens"] = runs["flops"] / (6 * runs["params"])
    >>> result = isoflop_analysis(runs, bootstrap=0)
    >>> round(result.exponent.value, 6), [round(float(np.log10(s.params.value)), 4) for s in result.sweeps]
    (0.5, [7.6109, 8.1109, 8.6109])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from scalinglaws.errors import PlanError, ScalingLawsError
from scalinglaws.fit import fit
from scalinglaws.fit.bootstrap import cluster_ids
from scalinglaws.fit.diagnostics import Diagnostic
from scalinglaws.plan.compute_optimal import Estimate, compute_optimal, estimate_of, optimum

__all__ = ["Approach3", "IsoflopAnalysis", "IsoflopSweep", "group_budgets", "isoflop_analysis"]

#: A vertex in the outer ``EDGE_FRACTION`` of a sweep's log-size range is lopsided.
EDGE_FRACTION = 0.2
#: Without bootstrap, exponents further apart than this disagree.
EXPONENT_TOLERANCE = 0.05


@dataclass(frozen=True, slots=True)
class IsoflopSweep:
    """One budget's sweep and its parabola.

    Attributes:
        budget: the budget C (FLOPs).
        n_runs, n_sizes: runs and distinct model sizes in the sweep.
        size_range: smallest and largest N sampled.
        coef: ``(a, b, c)`` of ``loss = a u^2 + b u + c``, ``u = log10 N`` (None with < 3 sizes).
        params: the vertex N* with its bootstrap interval (None when there is no interior minimum).
        loss: the parabola's loss at the vertex.
        position: where the vertex sits in the sampled log range (0: smallest size, 1: largest).
        used: whether the budget enters the N* line.
        law_params: Approach 3's N* at this budget, with its interval.
        diagnostics: findings about this sweep.
    """

    budget: float
    n_runs: int
    n_sizes: int
    size_range: tuple[float, float]
    coef: tuple[float, float, float] | None
    params: Estimate | None
    loss: float | None
    position: float | None
    used: bool
    law_params: Estimate | None = None
    diagnostics: tuple[Diagnostic, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["diagnostics"] = [d.to_dict() for d in self.diagnostics]
        return doc


@dataclass(frozen=True, slots=True)
class Approach3:
    """The frontier of a fitted law over the same budgets: its law, parameters and N* exponent."""

    law: str
    params: dict[str, float]
    exponent: Estimate


@dataclass(frozen=True)
class IsoflopAnalysis:
    """Approach 2 (parabolas per budget, line of N*) beside Approach 3 (a fitted law), with diagnostics.

    Attributes:
        sweeps: one per budget, by increasing budget.
        exponent: Approach 2's ``a`` in ``N* = G C^a`` (None with fewer than two usable budgets).
        coefficient: ``G`` (N* at C = 1 FLOP, on the line).
        approach3: the fitted law's frontier, or None when it could not be fitted or planned.
        difference: Approach 2 minus Approach 3 exponent, with a (conservative) interval.
        level: central level of the intervals, None without bootstrap.
        bootstrap: number of resamples.
        diagnostics: findings about the analysis as a whole (the sweeps carry their own).
    """

    sweeps: tuple[IsoflopSweep, ...]
    exponent: Estimate | None
    coefficient: float | None
    approach3: Approach3 | None
    difference: Estimate | None
    level: float | None
    bootstrap: int
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    @property
    def all_diagnostics(self) -> list[Diagnostic]:
        """The analysis' findings followed by every sweep's, each sweep's prefixed with its budget."""
        out = list(self.diagnostics)
        for s in self.sweeps:
            out += [Diagnostic(d.code, d.severity, f"C = {s.budget:.3g}: {d.message}") for d in s.diagnostics]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "approach2": {
                "exponent": None if self.exponent is None else asdict(self.exponent),
                "tokens_exponent": None if self.exponent is None else asdict(_tokens_exponent(self.exponent)),
                "coefficient": self.coefficient,
            },
            "approach3": None if self.approach3 is None else asdict(self.approach3),
            "difference": None if self.difference is None else asdict(self.difference),
            "level": self.level,
            "bootstrap": self.bootstrap,
            "sweeps": [s.to_dict() for s in self.sweeps],
            "diagnostics": [d.to_dict() for d in self.all_diagnostics],
        }

    def summary(self) -> str:
        """A table of the budgets and the two exponents, for people."""
        band = f" ({self.level:.0%} bootstrap intervals)" if self.level else ""
        head = f"  {'budget':>9} {'runs':>4} {'sizes':>5}  {'N* (approach 2)':<32} {'N* (approach 3)':<32}"
        head += " pos"
        lines = [f"IsoFLOP analysis: {len(self.sweeps)} budgets{band}", head]
        for s in self.sweeps:
            a2 = str(s.params) if s.params is not None else "-"
            a3 = str(s.law_params) if s.law_params is not None else "-"
            pos = f"{s.position:.2f}" if s.position is not None else "-"
            mark = "" if s.used else "  (left out)"
            lines.append(f"  {s.budget:>9.3g} {s.n_runs:>4} {s.n_sizes:>5}  {a2:<32} {a3:<32} {pos}{mark}")
        if self.exponent is not None:
            lines.append(f"  approach 2: N* ~ C^{self.exponent}  (D* ~ C^{_tokens_exponent(self.exponent)})")
        if self.approach3 is not None:
            lines.append(f"  approach 3 ({self.approach3.law}): N* ~ C^{self.approach3.exponent}")
        if self.difference is not None:
            lines.append(f"  difference (2 - 3): {self.difference}")
        for d in self.all_diagnostics:
            if d.severity != "info":
                lines.append(f"  {d.severity}: [{d.code}] {d.message}")
        return "\n".join(lines)


def _tokens_exponent(exponent: Estimate) -> Estimate:
    """Under C = 6ND, D* ~ C^(1 - a)."""
    if exponent.lo is None:
        return Estimate(1.0 - exponent.value)
    return Estimate(1.0 - exponent.value, 1.0 - exponent.hi, 1.0 - exponent.lo)


def group_budgets(flops: np.ndarray, rtol: float = 0.1) -> np.ndarray:
    """Budget index of each run: sorted FLOP counts start a new budget where they jump by more than ``rtol``.

    Example:
        >>> group_budgets(np.array([1.02e18, 1e19, 0.98e18, 1.05e19, 1e20])).tolist()
        [0, 1, 0, 1, 2]
    """
    return cluster_ids(np.asarray(flops, dtype=float), rtol=rtol)


def _parabolas(u: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted quadratic fits of ``y`` on ``u`` for each row of ``weights (B, n)``.

    Returns ``(coef (B, 3) as (a, b, c), ok (B,))``; ``ok`` is False where fewer than 3 distinct ``u`` carry
    weight. ``u`` is centred inside for conditioning and the coefficients mapped back.
    """
    center = float(np.mean(u))
    v = u - center
    design = np.stack([v**2, v, np.ones_like(v)], axis=-1)  # (n, 3)
    sizes, inverse = np.unique(np.round(u, 9), return_inverse=True)
    per_size = np.zeros((weights.shape[0], sizes.size))
    np.add.at(per_size.T, inverse, weights.T)
    ok = np.sum(per_size > 0, axis=1) >= 3
    gram = np.einsum("bn,ni,nj->bij", weights, design, design)
    rhs = np.einsum("bn,ni,n->bi", weights, design, y)
    gram[~ok] = np.eye(3)
    rhs[~ok] = 0.0
    a, b2, c2 = np.linalg.solve(gram, rhs[..., None])[..., 0].T
    # back from v = u - center: a v^2 + b2 v + c2 = a u^2 + (b2 - 2 a ctr) u + (a ctr^2 - b2 ctr + c2)
    coef = np.stack([a, b2 - 2 * a * center, a * center**2 - b2 * center + c2], axis=-1)
    return coef, ok


def _vertices(coef: np.ndarray, ok: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """log10 N* of each parabola; NaN without an interior minimum inside ``[lo, hi]``."""
    a, b = coef[:, 0], coef[:, 1]
    good = ok & (a > 0)
    vertex = np.where(good, -b / (2.0 * np.where(good, a, 1.0)), np.nan)
    return np.where((vertex >= lo) & (vertex <= hi), vertex, np.nan)


def _slopes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope and intercept of each row of ``y (B, K)`` on ``x (K,)``, skipping NaNs."""
    mask = np.isfinite(y)
    count = mask.sum(axis=1)
    yz = np.where(mask, y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = (mask * x).sum(axis=1) / count
        ym = yz.sum(axis=1) / count
        dx = np.where(mask, x - xm[:, None], 0.0)
        slope = (dx * (yz - ym[:, None])).sum(axis=1) / (dx**2).sum(axis=1)
    slope = np.where(count >= 2, slope, np.nan)
    return slope, ym - slope * xm


def _check_sweep(u: np.ndarray, y: np.ndarray, vertex: float) -> list[Diagnostic]:
    """Lopsidedness of a sweep with an interior vertex."""
    lo, hi = float(u.min()), float(u.max())
    position = (vertex - lo) / (hi - lo)
    sizes = np.unique(np.round(u, 9))
    left, right = int(np.sum(sizes < vertex)), int(np.sum(sizes > vertex))
    best = float(u[np.argmin(y)])
    reasons = []
    if min(position, 1.0 - position) < EDGE_FRACTION:
        reasons.append(f"the vertex is at {position:.0%} of the sampled log-size range")
    if min(left, right) < 2:
        reasons.append(f"only {min(left, right)} size(s) on one side of the vertex")
    if best in (lo, hi):
        reasons.append("the lowest loss is at an edge size")
    if not reasons:
        return []
    return [
        Diagnostic(
            "lopsided_sweep",
            "warning",
            f"{'; '.join(reasons)}: an off-centre sweep biases the parabola's vertex (the isoFLOP curve "
            "is asymmetric in log N); sample sizes evenly around the minimum",
        )
    ]


def _frame(data: Any) -> tuple[pd.DataFrame, str]:
    if hasattr(data, "table") and hasattr(data, "source"):
        runs = data.final() if hasattr(data, "final") else data
        return runs.table, data.source
    if isinstance(data, pd.DataFrame):
        return data, "<table>"
    return pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in dict(data).items()}), "<in-memory>"


def isoflop_analysis(
    data: Any,
    *,
    law: str = "chinchilla",
    bootstrap: int = 200,
    seed: int = 0,
    level: float = 0.95,
    rtol: float = 0.1,
    budget_column: str = "budget",
) -> IsoflopAnalysis:
    """Approach 2 on isoFLOP sweeps, with Approach 3 of ``law`` on the same runs beside it.

    Args:
        data: a runs table, DataFrame or dict with ``params``, ``loss`` and ``tokens``, and ``flops`` or a
            ``budget_column`` naming each run's nominal budget.
        law: the law fitted for Approach 3 (a law of params and tokens); ``""`` skips Approach 3.
        bootstrap: resamples of runs within each budget (and of the law's cluster bootstrap); 0: none.
        seed: seed of both bootstraps.
        level: central level of the intervals.
        rtol: runs whose FLOPs agree within this relative tolerance form one budget (without a budget column).
        budget_column: column of nominal budgets, used when present.
    """
    frame, source = _frame(data)
    group_col = budget_column if budget_column in frame.columns else "flops"
    missing = [c for c in ("params", "loss", group_col) if c not in frame.columns]
    if missing:
        raise PlanError(
            f"{source}: isoFLOP analysis needs column(s) {missing}; the data has {list(frame.columns)}"
        )
    n_all = frame["params"].to_numpy(float)
    y_all = frame["loss"].to_numpy(float)
    c_all = frame[group_col].to_numpy(float)
    good = np.isfinite(n_all) & np.isfinite(y_all) & np.isfinite(c_all) & (n_all > 0) & (c_all > 0)
    bad = np.flatnonzero(~good)
    if bad.size:
        raise PlanError(
            f"{source}: params, loss and {group_col} need finite positive values; bad rows "
            f"{', '.join(str(i + 1) for i in bad[:10])}"
        )
    if not n_all.size:
        raise PlanError(f"{source}: no runs to analyse")
    if bootstrap < 0:
        raise PlanError(f"bootstrap must be >= 0, got {bootstrap}")
    ids = group_budgets(c_all, 1e-9 if group_col == budget_column else rtol)
    rng = np.random.default_rng(seed)
    has_boot = bootstrap > 0
    lvl = level if has_boot else None

    budgets, sweep_parts, vertex_draws = [], [], []
    for g in range(int(ids.max()) + 1):
        idx = np.flatnonzero(ids == g)
        budget = float(np.median(c_all[idx]))
        u, y = np.log10(n_all[idx]), y_all[idx]
        budgets.append(budget)
        weights = np.ones((1, idx.size))
        if has_boot:
            weights = np.vstack([weights, rng.multinomial(idx.size, np.full(idx.size, 1.0 / idx.size),
                                                          size=bootstrap).astype(float)])
        coef, ok = _parabolas(u, y, weights)
        vertices = _vertices(coef, ok, float(u.min()), float(u.max()))
        sweep_parts.append((idx, u, y, coef[0], bool(ok[0])))
        vertex_draws.append(vertices)

    sweeps: list[IsoflopSweep] = []
    used = []
    for budget, (idx, u, y, coef, ok), vertices in zip(budgets, sweep_parts, vertex_draws, strict=True):
        n_sizes = int(np.unique(np.round(u, 9)).size)
        findings: list[Diagnostic] = []
        vertex = position = loss = None
        if not ok:
            findings.append(Diagnostic("too_few_sizes", "warning",
                                       f"{n_sizes} distinct size(s): a parabola needs 3; left out"))
        elif coef[0] <= 0:
            findings.append(Diagnostic("no_interior_minimum", "warning",
                                       "the parabola has no minimum (loss not convex in log N); left out"))
        else:
            vertex = -coef[1] / (2 * coef[0])
            if not u.min() <= vertex <= u.max():
                findings.append(Diagnostic(
                    "minimum_not_bracketed", "warning",
                    f"the parabola's minimum N* = {10**vertex:.3g} lies outside the sampled sizes "
                    f"[{10 ** u.min():.3g}, {10 ** u.max():.3g}]; left out",
                ))
                vertex = None
            else:
                findings += _check_sweep(u, y, vertex)
                position = float((vertex - u.min()) / (u.max() - u.min()))
                loss = float(coef[2] - coef[1] ** 2 / (4 * coef[0]))
        is_used = vertex is not None
        used.append(is_used)
        draws = 10.0 ** vertices[1:] if has_boot else None
        if is_used and has_boot:
            lost = int(np.sum(~np.isfinite(vertices[1:])))
            if lost:
                findings.append(Diagnostic(
                    "unstable_vertex",
                    "warning" if lost > 0.05 * bootstrap else "info",
                    f"{lost} of {bootstrap} resamples had no minimum inside the sweep",
                ))
        sweeps.append(IsoflopSweep(
            budget=budget,
            n_runs=int(idx.size),
            n_sizes=n_sizes,
            size_range=(float(10 ** u.min()), float(10 ** u.max())),
            coef=tuple(float(v) for v in coef) if ok else None,
            params=estimate_of(10.0**vertex, draws, lvl) if is_used else None,
            loss=loss,
            position=position,
            used=is_used,
            diagnostics=tuple(findings),
        ))

    findings = []
    log_c = np.log10(np.array(budgets))[used]
    exponent = coefficient = None
    n_used = int(np.sum(used))
    if n_used < 2:
        findings.append(Diagnostic("too_few_budgets", "error",
                                   f"{n_used} usable budget(s): the N* line needs at least 2"))
    else:
        if n_used < 3:
            findings.append(Diagnostic(
                "too_few_budgets", "warning", "only 2 usable budgets: nothing checks that N* follows a line"
            ))
        verts = np.array(vertex_draws)[np.array(used)].T  # (1 + B, K)
        slopes, intercepts = _slopes(log_c, verts)
        exponent = estimate_of(slopes[0], slopes[1:] if has_boot else None, lvl)
        coefficient = float(10 ** intercepts[0])

    approach3 = difference = None
    if law and n_used >= 2:
        approach3, a3_draws, per_budget, a3_findings = _approach3(
            frame, law, np.array(budgets), np.array(used), bootstrap, seed, lvl
        )
        findings += a3_findings
        sweeps = [replace(s, law_params=e) for s, e in zip(sweeps, per_budget, strict=True)]
        if approach3 is not None and exponent is not None:
            diff_draws = None
            if has_boot and a3_draws is not None:
                diff_draws = slopes[1:] - a3_draws
            difference = estimate_of(exponent.value - approach3.exponent.value, diff_draws, lvl)
            disagree = (
                difference.lo > 0 or difference.hi < 0
                if difference.lo is not None
                else abs(difference.value) > EXPONENT_TOLERANCE
            )
            findings.append(Diagnostic(
                "approaches_disagree" if disagree else "approaches_agree",
                "warning" if disagree else "info",
                f"N* exponent: approach 2 {exponent.value:.3f}, approach 3 ({approach3.law}) "
                f"{approach3.exponent.value:.3f}, difference {difference}"
                + (": check the sweeps' diagnostics and the law's fit" if disagree else ""),
            ))
    return IsoflopAnalysis(
        sweeps=tuple(sweeps),
        exponent=exponent,
        coefficient=coefficient,
        approach3=approach3,
        difference=difference,
        level=lvl,
        bootstrap=bootstrap,
        diagnostics=tuple(findings),
    )


def _approach3(
    frame: pd.DataFrame,
    law: str,
    budgets: np.ndarray,
    used: np.ndarray,
    bootstrap: int,
    seed: int,
    level: float | None,
) -> tuple[Approach3 | None, np.ndarray | None, list[Estimate | None], list[Diagnostic]]:
    """Fit ``law`` to every run and plan each budget; the exponent is log N*'s slope over the used budgets."""
    table = frame.copy()
    if "tokens" not in table.columns:
        table["tokens"] = table["flops"] / (6.0 * table["params"])
    try:
        result = fit(table[["params", "tokens", "loss"]], law, bootstrap=bootstrap, seed=seed)
        per_budget = [compute_optimal(result, float(c)).params for c in budgets]
    except ScalingLawsError as exc:
        return None, None, [None] * len(budgets), [
            Diagnostic("approach3_failed", "warning", f"approach 3 with law {law!r}: {exc}")
        ]
    log_c = np.log10(budgets[used])
    thetas = result.theta[None] if result.draws is None else np.vstack([result.theta[None], result.draws])
    optima = [optimum(result, float(c), thetas) for c in budgets[used]]
    log_n = np.stack([np.where(ok, np.log10(n), np.nan) for n, _, ok in optima], axis=-1)
    slopes, _ = _slopes(log_c, log_n)
    draws = slopes[1:] if result.draws is not None else None
    findings = [d for d in result.diagnostics if d.severity != "info"]
    findings = [Diagnostic(d.code, d.severity, f"approach 3 fit: {d.message}") for d in findings]
    return (
        Approach3(law=result.law.name, params=result.params, exponent=estimate_of(slopes[0], draws, level)),
        draws,
        per_budget,
        findings,
    )
