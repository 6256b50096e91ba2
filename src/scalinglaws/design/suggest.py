"""Suggest the next runs: those that most reduce the uncertainty of what you care about, per unit cost.

**What is reduced.** One of: ``log N*`` at target budgets (``objective="n-star"``), ``log L*`` there
(``"loss-star"``), or the log loss of planned configurations (``"loss-at"``).

**How (greedy linear-Gaussian design from bootstrap draws).** The fit's bootstrap draws stand in for a
posterior over the law. Over the draws, the targets ``T`` and the loss ``F_k`` each candidate run ``k`` would
show (in the fit's residual space: log loss by default, loss for ``residuals="linear"`` fits) are computed,
and their joint covariance taken as Gaussian. A run at ``k`` observes ``F_k`` plus noise of variance ``s^2``
(the fit's run-to-run noise, in the same space), which shrinks the covariance by the
Kalman update ``S <- S - S[:, k] (S[k, k] + s^2)^-1 S[k, :]``. Each step picks the candidate with the largest
mean relative reduction of the targets' variances per unit cost, conditions on it, and repeats; a candidate
can be picked again (a replicate) up to ``max_replicates`` times. (The alternative, importance re-weighting
of the draws by the likelihood of simulated outcomes, needs many more draws for the same precision; the
linear update is exact for a linear-Gaussian law and is what is implemented.)

**Beyond one law.** A single law's draws see only that law: if it is wrong, the suggestions are confidently
wrong. With ``laws=[...]``, every candidate law (refitted to the same data, or given as fits) whose
objective (or, with ``criterion="holdout"``, whose error on the runs with the most compute when fitted to
the others) is within ``tolerance`` (relative) of the best one enters an equally weighted mixture: its
covariance adds the laws' disagreement to each law's own spread, so runs where the laws disagree about
something that matters for the target gain value automatically. In addition a *discrimination term* rewards
runs that tell the laws apart at all: for laws ``a``, ``b`` a run at ``k`` brings the expected information
``I_ab,k = (mu_a - mu_b)^2 / (2 (s^2 + v_a + v_b))`` (predicted disagreement relative to noise and to each
law's own uncertainty there); the term is the mean over pairs of the fall in ``exp(-sum I_ab)`` (a bound on
the chance of confusing the two), weighted by ``discrimination``. It saturates once a pair is told apart, so
replicates of one discriminating point stop paying.

**Checkpoints.** With ``checkpoints=True`` a candidate run of ``D`` tokens also observes its losses at
``f D`` for every ``f`` in ``checkpoint_fractions``, at no extra cost. This holds under a schedule whose
intermediate checkpoints are final losses of shorter runs (a constant or warmup-stable-decay schedule with a
short cooldown at each checkpoint); not under a cosine schedule tuned to ``D``. A run's checkpoints share its
run-to-run deviation: their noise is correlated (``checkpoint_correlation``, 0.5 by default).

Example:
    >>> import numpy as np
    >>> from scalinglaws.fit import fit
    >>> from scalinglaws.design import iso_cost_sweep
    >>> from scalinglaws.design.score import simulate_losses
    >>> from scalinglaws.laws import get_law
    >>> pilot = iso_cost_sweep([1e15, 1e16], sizes_per_budget=6, half_width=1.2).runs()
    >>> truth = np.array([1.82, 482.0, 2085.0, 0.348, 0.366])
    >>> y = simulate_losses(get_law("chinchilla"), truth, pilot, 0.01, np.random.default_rng(0))
    >>> result = fit({"params": pilot["params"], "tokens": pilot["tokens"], "loss": y}, bootstrap=200)
    >>> plan = suggest_runs(result, [1e20], n=3, candidate_budgets=[1e17, 1e18])
    >>> plan.runs.columns.tolist()[:5]
    ['order', 'budget', 'params', 'tokens', 'cost']
    >>> bool(plan.runs["remaining_variance"].is_monotonic_decreasing)
    True
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from scalinglaws.cost import CostLaw
from scalinglaws.design.laws import candidate_laws, data_for
from scalinglaws.design.layout import DesignError, cost_of, tokens_for
from scalinglaws.errors import ScalingLawsError
from scalinglaws.fit.result import FitResult

__all__ = ["Objective", "Suggestion", "suggest_runs"]

Objective = Literal["n-star", "loss-star", "loss-at"]

#: Fewest usable draws a law needs to enter the criterion.
MIN_DRAWS = 20


@dataclass(frozen=True)
class Suggestion:
    """The suggested runs, in the order chosen, and what they are expected to buy.

    Attributes:
        runs: one row per suggested run: ``order``, ``budget``, ``params``, ``tokens``, ``cost``,
            ``replicate`` (1 for the first run at a point), ``checkpoints`` (tokens also observed),
            ``gain`` (the criterion's value per unit cost), ``remaining_variance`` (mean fraction of the
            targets' variance left once this and earlier runs are in) and ``confusion`` (mean over pairs of
            laws of ``exp(-information)``; 1 when the laws are not told apart, None with one law).
        targets: per target: ``target``, ``sd_before`` and ``sd_after`` (decades for ``N*``, log loss
            otherwise; the mixture's when several laws are admitted).
        laws: per candidate law: ``law``, ``objective``, ``admitted``, ``weight``, ``draws`` used, ``note``.
        settings: the request.
    """

    runs: pd.DataFrame
    targets: pd.DataFrame
    laws: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "runs": self.runs.to_dict(orient="records"),
            "targets": self.targets.to_dict(orient="records"),
            "laws": self.laws.to_dict(orient="records"),
        }

    def summary(self) -> str:
        s = self.settings
        lines = [
            f"{len(self.runs)} suggested run(s) to reduce {s['objective']} "
            f"(noise {s['noise']:.3g} in {s['residuals']} loss, at most {s['max_replicates']} per point"
            + (", checkpoints credited" if s["checkpoints"] else "")
            + "):"
        ]
        for r in self.runs.itertuples():
            rep = f" (replicate {r.replicate})" if r.replicate > 1 else ""
            conf = "" if r.confusion is None or pd.isna(r.confusion) else f"  law confusion {r.confusion:.2f}"
            lines.append(
                f"  {r.order:>2}. params {r.params:.3g}  tokens {r.tokens:.3g}  cost {r.cost:.3g}{rep}"
                f"  -> variance left {r.remaining_variance:.0%}{conf}"
            )
        for t in self.targets.itertuples():
            lines.append(f"  {t.target}: sd {t.sd_before:.3g} -> {t.sd_after:.3g} {t.unit} (expected)")
        if len(self.laws) > 1:
            for r in self.laws.itertuples():
                flag = "admitted" if r.admitted else "left out"
                lines.append(
                    f"  law {r.law:<14} objective {r.objective:.6g}  {flag}"
                    + (f" ({r.note})" if r.note else "")
                )
        return "\n".join(lines)


def _require_draws(result: FitResult) -> np.ndarray:
    if result.draws is None or len(result.draws) == 0:
        raise DesignError(
            f"suggestions need the fit's bootstrap draws (they stand in for its posterior); this "
            f"{result.law.name} fit has none: refit with bootstrap >= 200"
        )
    ok = np.all(np.isfinite(result.draws), axis=1)
    if result.draws_converged is not None:
        ok &= result.draws_converged
    return result.draws[ok]


def _candidates(
    result: FitResult,
    candidates: Any,
    candidate_budgets: Sequence[float] | None,
    points: int,
    spread: float,
    cost: CostLaw | None,
    data_max_compute: float | None,
) -> pd.DataFrame:
    law = result.law
    if candidates is not None:
        frame = (
            candidates
            if isinstance(candidates, pd.DataFrame)
            else pd.DataFrame({k: np.atleast_1d(np.asarray(v)) for k, v in dict(candidates).items()})
        )
        missing = [c for c in law.inputs if c not in frame.columns]
        if missing:
            raise DesignError(
                f"candidates need column(s) {missing} (inputs of {law.name}); they have {list(frame.columns)}"
            )
        out = pd.DataFrame({c: pd.to_numeric(frame[c], errors="coerce").astype(float) for c in law.inputs})
        if "cost" in frame.columns:
            out["cost"] = pd.to_numeric(frame["cost"], errors="coerce").astype(float)
        elif {"params", "tokens"} <= set(law.inputs):
            out["cost"] = cost_of(out["params"], out["tokens"], cost)
        else:
            raise DesignError("candidates of a law not in params and tokens need a 'cost' column")
        out["budget"] = (
            pd.to_numeric(frame["budget"]).astype(float) if "budget" in frame.columns else out["cost"]
        )
        bad = np.flatnonzero(~np.all(np.isfinite(out.to_numpy(float)) & (out.to_numpy(float) > 0), axis=1))
        if bad.size:
            raise DesignError(
                f"candidate rows {', '.join(str(i + 1) for i in bad[:10])} need positive numbers"
            )
        return out.reset_index(drop=True)
    if not {"params", "tokens"} <= set(law.inputs):
        raise DesignError(
            f"law {law.name!r} is not in params and tokens: give the candidate runs (candidates=)"
        )
    from scalinglaws.plan.compute_optimal import optimum

    if candidate_budgets is None:
        top = (
            data_max_compute or 6.0 * result.data["ranges"]["params"][1] * result.data["ranges"]["tokens"][1]
        )
        candidate_budgets = [0.3 * top, top, 3.0 * top]
    rows = []
    draws = _require_draws(result)
    for budget in candidate_budgets:
        n_star, _, ok = optimum(result, float(budget), draws, cost)
        finite = n_star[ok & np.isfinite(n_star)]
        if finite.size >= 2:
            low, high = np.quantile(np.log10(finite), [0.025, 0.975])
        else:
            low = high = float(np.log10(np.sqrt(float(budget) / 120.0)))
        grid = 10.0 ** np.linspace(low - spread, high + spread, points)
        for n in grid:
            d = float(tokens_for(n, float(budget), cost))
            rows.append(
                {"params": float(n), "tokens": d, "cost": float(cost_of(n, d, cost)), "budget": float(budget)}
            )
    return pd.DataFrame(rows)


def _targets(
    fit: FitResult,
    draws: np.ndarray,
    objective: str,
    budgets: Sequence[float],
    at: Mapping[str, np.ndarray] | None,
    cost: CostLaw | None,
) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """``(B, m)`` targets in natural log, and (name, unit) of each."""
    from scalinglaws.plan.compute_optimal import optimum

    cols, names = [], []
    if objective in ("n-star", "loss-star"):
        for c in budgets:
            n, d, ok = optimum(fit, float(c), draws, cost)
            if objective == "n-star":
                cols.append(np.where(ok, np.log(n), np.nan))
                names.append((f"log10 N* at C={c:.3g}", "decades"))
            else:
                X = {"params": np.where(ok, n, 1.0)[:, None], "tokens": np.where(ok, d, 1.0)[:, None]}
                with np.errstate(all="ignore"):
                    loss = fit.law.predict(X, draws)[:, 0]
                cols.append(np.where(ok & (loss > 0), np.log(np.abs(loss)), np.nan))
                names.append((f"log L* at C={c:.3g}", "log loss"))
    else:
        with np.errstate(all="ignore"):
            pred = fit.law.predict(at, draws)
        for i in range(pred.shape[1]):
            cols.append(np.log(np.where(pred[:, i] > 0, pred[:, i], np.nan)))
            names.append(
                ("log loss at " + ", ".join(f"{k}={float(v[i]):.3g}" for k, v in at.items()), "log loss")
            )
    return np.column_stack(cols), names


def _observations(fit: FitResult, draws: np.ndarray, cand: pd.DataFrame, fractions: np.ndarray) -> np.ndarray:
    """``(B, K * J)`` what a candidate observes, in the fit's residual space: its final loss, and its
    checkpoints if any."""
    law = fit.law
    X = {c: cand[c].to_numpy(float) for c in law.inputs}
    if fractions.size > 1:
        X = {c: np.repeat(v, fractions.size) for c, v in X.items()}
        X["tokens"] = X["tokens"] * np.tile(fractions, len(cand))
    with np.errstate(all="ignore"):
        pred = law.predict(X, draws)
    if fit.residual_space == "linear":
        return pred
    return np.log(np.where(pred > 0, pred, np.nan))


def suggest_runs(
    result: FitResult,
    target_compute: Sequence[float] | float = (),
    n: int = 4,
    *,
    objective: Objective = "n-star",
    at: Mapping[str, Any] | None = None,
    candidates: Any = None,
    candidate_budgets: Sequence[float] | None = None,
    points: int = 21,
    spread: float = 0.75,
    cost: CostLaw | None = None,
    noise: float | None = None,
    per_cost: bool = True,
    max_replicates: int = 2,
    laws: Sequence[str | FitResult] = (),
    data: Any = None,
    tolerance: float = 0.1,
    criterion: Literal["objective", "holdout"] = "objective",
    discrimination: float = 1.0,
    checkpoints: bool = False,
    checkpoint_fractions: Sequence[float] = (0.125, 0.25, 0.5),
    checkpoint_correlation: float = 0.5,
) -> Suggestion:
    """The next ``n`` runs that most reduce the uncertainty of ``objective``, per unit cost (see module).

    Args:
        result: a fit with bootstrap draws.
        target_compute: budgets at which ``N*`` (or ``L*``) should become precise.
        n: runs to suggest.
        objective: ``"n-star"`` (log N* at the target budgets), ``"loss-star"`` (log L* there) or
            ``"loss-at"`` (log loss at the configurations ``at``).
        at: planned configurations (inputs of the law), for ``"loss-at"``.
        candidates: candidate runs (a table or dict with the law's inputs, optionally ``cost`` and
            ``budget``); default: ``points`` sizes along each of ``candidate_budgets``' iso-cost curves,
            spanning the draws' optima there and ``spread`` decades either side.
        candidate_budgets: budgets you are willing to run (default: 0.3x, 1x and 3x the largest compute of
            the data, or ``6 N_max D_max`` of the fit's ranges when the data are not at hand).
        cost: cost law of the budgets (None: C = 6ND).
        noise: run-to-run sd of a new run's loss, in the fit's residual space (log loss by default; default:
            the fit's recorded noise).
        per_cost: rank by reduction per unit cost (else in total).
        max_replicates: at most this many suggested runs at one candidate point.
        laws: other candidate laws (names, refitted to ``data``, or fits of the same data).
        data: the fit's data (default: reloaded from the source the fit recorded, when laws need it).
        tolerance: a law is admitted when its criterion is within this fraction of the best one's.
        criterion: ``"objective"`` (the fit's objective) or ``"holdout"`` (error on the top 20% of runs by
            compute, fitted to the rest): see :func:`candidate_laws`.
        discrimination: weight of the law-discrimination term (0: off).
        checkpoints: credit each run's intermediate checkpoints (``checkpoint_fractions`` of its tokens).
        checkpoint_fractions: fractions of a run's tokens observed along the way.
        checkpoint_correlation: correlation of the noise of one run's checkpoints.
    """
    draws_main = _require_draws(result)
    if n < 1:
        raise DesignError(f"n must be at least 1, got {n}")
    if max_replicates < 1:
        raise DesignError(f"max_replicates must be at least 1, got {max_replicates}")
    if objective not in ("n-star", "loss-star", "loss-at"):
        raise DesignError(f"objective must be 'n-star', 'loss-star' or 'loss-at', not {objective!r}")
    budgets = [float(c) for c in np.atleast_1d(target_compute)]
    at_arrays = None
    if objective == "loss-at":
        if not at:
            raise DesignError("objective 'loss-at' needs the planned configuration(s): at={...}")
        at_arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in at.items()}
        result.law.check_inputs(at_arrays)
    else:
        if not budgets:
            raise DesignError(f"objective {objective!r} needs target budgets (target_compute)")
        if not {"params", "tokens"} <= set(result.law.inputs):
            raise DesignError(f"objective {objective!r} needs a law of params and tokens; use 'loss-at'")
    if checkpoints and "tokens" not in result.law.inputs:
        raise DesignError("checkpoints need a law with a tokens input")
    fractions = np.array([1.0])
    if checkpoints:
        extra = sorted({float(f) for f in checkpoint_fractions if 0 < float(f) < 1})
        fractions = np.array([*extra, 1.0])
    if not 0 <= checkpoint_correlation <= 1:
        raise DesignError(f"checkpoint_correlation must lie in [0, 1], got {checkpoint_correlation}")
    if noise is None:
        rec = result.noise
        if rec is None or not np.isfinite(rec.get("value", np.nan)):
            raise DesignError(
                f"the fit records no run-to-run noise: give noise= (sd of {result.residual_space} loss)"
            )
        noise = float(rec["value"])
    noise = max(float(noise), 1e-9)

    if laws:
        if data is None and any(not isinstance(spec, FitResult) for spec in laws):
            data = data_for(result, None)
        fits, law_table = candidate_laws(result, laws, data=data, tolerance=tolerance, criterion=criterion)
    else:
        fits = [result]
        law_table = pd.DataFrame(
            [
                {
                    "law": result.law.name,
                    "objective": float(result.objective["value"]),
                    "admitted": True,
                    "note": "",
                }
            ]
        )
    data_max = None
    if data is None and candidates is None and candidate_budgets is None:
        try:
            data = data_for(result, None)
        except ScalingLawsError:
            data = None
    if data is not None and candidates is None and candidate_budgets is None:
        try:
            frame = data.final().table if hasattr(data, "final") else pd.DataFrame(data)
            data_max = float(np.max(6.0 * frame["params"].to_numpy(float) * frame["tokens"].to_numpy(float)))
        except (KeyError, TypeError, ValueError):
            data_max = None
    cand = _candidates(result, candidates, candidate_budgets, points, spread, cost, data_max)
    K, J = len(cand), fractions.size

    blocks, used = [], {}
    names: list[tuple[str, str]] = []
    for f in fits:
        draws = draws_main if f is result else _require_draws(f)
        T, names = _targets(f, draws, objective, budgets, at_arrays, cost)
        F = _observations(f, draws, cand, fractions)
        V = np.concatenate([T, F], axis=1)
        ok = np.all(np.isfinite(V), axis=1)
        if ok.sum() < MIN_DRAWS:
            if f is result:
                raise DesignError(
                    f"only {int(ok.sum())} of {len(draws)} draws of the {f.law.name} fit give finite targets "
                    "(an interior optimum at every target budget): the law does not determine them there"
                )
            law_table.loc[law_table["law"] == f.law.name, ["admitted", "note"]] = [
                False,
                "too few usable draws",
            ]
            continue
        used[f.law.name] = int(ok.sum())
        blocks.append(V[ok])
    m = len(names)
    weights = np.full(len(blocks), 1.0 / len(blocks))
    means = np.array([b.mean(axis=0) for b in blocks])
    mu = weights @ means
    sigma = sum(
        w * (np.cov(b, rowvar=False) + np.outer(mb - mu, mb - mu))
        for w, b, mb in zip(weights, blocks, means, strict=True)
    )
    sigma = np.atleast_2d(sigma)
    law_table["weight"] = [1.0 / len(blocks) if name in used else 0.0 for name in law_table["law"]]
    law_table["draws"] = [used.get(name, 0) for name in law_table["law"]]

    # noise of one candidate's observations (its checkpoints share part of the run's deviation)
    R = noise**2 * (checkpoint_correlation * np.ones((J, J)) + (1 - checkpoint_correlation) * np.eye(J))
    pairs = list(itertools.combinations(range(len(blocks)), 2))
    info = np.zeros((len(pairs), K))
    for p, (a, b) in enumerate(pairs):
        va = np.cov(blocks[a][:, m:], rowvar=False).reshape(K, J, K, J)[np.arange(K), :, np.arange(K), :]
        vb = np.cov(blocks[b][:, m:], rowvar=False).reshape(K, J, K, J)[np.arange(K), :, np.arange(K), :]
        delta = (means[a, m:] - means[b, m:]).reshape(K, J)
        S = R[None] + va + vb
        info[p] = 0.5 * np.einsum("kj,kj->k", delta, np.linalg.solve(S, delta[..., None])[..., 0])
    accumulated = np.zeros(len(pairs))

    v0 = np.diag(sigma)[:m].copy()
    scale = cand["cost"].to_numpy(float) if per_cost else np.ones(K)
    taken = np.zeros(K, dtype=int)
    rows = []
    idx = m + np.arange(K * J).reshape(K, J)
    for order in range(1, n + 1):
        allowed = taken < max_replicates
        if not allowed.any():
            break
        cross = sigma[:m][:, idx]  # (m, K, J)
        S = sigma[idx[:, :, None], idx[:, None, :]] + R[None]  # (K, J, J)
        solved = np.linalg.solve(S[None], cross[..., None])[..., 0]  # (m, K, J)
        gain = (np.einsum("tkj,tkj->tk", cross, solved) / v0[:, None]).mean(axis=0)
        if pairs and discrimination > 0:
            now = np.exp(-accumulated)[:, None]
            gain = gain + discrimination * (now - now * np.exp(-info)).mean(axis=0)
        score = np.where(allowed, gain / scale, -np.inf)
        k = int(np.argmax(score))
        taken[k] += 1
        col = sigma[:, idx[k]]
        sigma = sigma - col @ np.linalg.solve(sigma[np.ix_(idx[k], idx[k])] + R, col.T)
        sigma = 0.5 * (sigma + sigma.T)
        accumulated += info[:, k]
        row = cand.iloc[k]
        ck = [float(row["tokens"] * f) for f in fractions[:-1]] if "tokens" in cand.columns else []
        rows.append(
            {
                "order": order,
                "budget": float(row["budget"]),
                **{c: float(row[c]) for c in result.law.inputs},
                "cost": float(row["cost"]),
                "replicate": int(taken[k]),
                "checkpoints": ck,
                "gain": float(score[k]),
                "remaining_variance": float(np.mean(np.diag(sigma)[:m] / v0)),
                "confusion": float(np.mean(np.exp(-accumulated))) if pairs else None,
            }
        )
    runs = pd.DataFrame(rows)
    front = ["order", "budget", *[c for c in ("params", "tokens") if c in runs.columns]]
    runs = runs[front + [c for c in runs.columns if c not in front]]
    to_unit = [1.0 / np.log(10.0) if unit == "decades" else 1.0 for _, unit in names]
    targets = pd.DataFrame(
        {
            "target": [nm for nm, _ in names],
            "unit": [u for _, u in names],
            "sd_before": np.sqrt(v0) * to_unit,
            "sd_after": np.sqrt(np.maximum(np.diag(sigma)[:m], 0.0)) * to_unit,
        }
    )
    settings = {
        "law": result.law.name,
        "objective": objective,
        "target_compute": budgets,
        "n": n,
        "noise": noise,
        "residuals": result.residual_space,
        "per_cost": per_cost,
        "max_replicates": max_replicates,
        "laws": [f.law.name for f in fits],
        "tolerance": tolerance,
        "criterion": criterion,
        "discrimination": discrimination,
        "checkpoints": bool(checkpoints),
        "checkpoint_fractions": fractions[:-1].tolist(),
        "checkpoint_correlation": checkpoint_correlation,
        "candidates": K,
        "cost": cost.label if cost is not None else "6ND",
        "method": "greedy linear-Gaussian conditioning of the bootstrap draws' covariance",
    }
    return Suggestion(runs, targets, law_table, settings)
