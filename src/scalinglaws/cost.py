"""Cost laws: what a training run of ``N`` parameters on ``D`` tokens costs, as a named model.

A cost law is declared (its parameters given) or fitted to runs that recorded their cost (FLOPs, GPU-hours,
dollars: any positive column) by a robust (Huber) fit of log cost. Planning uses it through
``compute_optimal(result, budget, cost=law)``, which then minimises the loss along the iso-cost curve.

Models (``N`` parameters, ``D`` tokens; ``l, m, s`` depth, width and sequence length):

* ``6ND``: ``C = 6 N D`` (no parameters; FLOPs).
* ``power``: ``C = k N^a D^b``.
* ``per-example``: ``C = D (k N^a + c)``: a per-token (per-example) cost with a fixed overhead ``c`` that does
  not shrink with the model (data loading, communication, optimizer steps).
* ``attention``: ``C = k (6 N + 6 l s m) D``, :mod:`scalinglaws.compute`'s ``6ND-attention`` count scaled
  by ``k`` (``k = 1`` for FLOPs; cost units per FLOP otherwise). Fitting uses each run's ``width``, ``depth``
  and ``seq_len`` where the data have them; planning, which knows only ``N``, takes the shape from the
  aspect ratio ``m / l = aspect`` and ``N = 12 l m^2`` (non-embedding count, the ``13 l m`` term dropped).

Example:
    >>> law = cost_law("per-example", k=6.0, a=1.0, c=2e9)
    >>> round(float(law.cost(1e9, 2e10)) / (2e10 * (6e9 + 2e9)), 12)
    1.0
    >>> float(law.tokens_for(1e9, 1.6e20))
    20000000000.0
    >>> cost_law("power", k=6.0, a=1.0)
    Traceback (most recent call last):
    ...
    scalinglaws.cost.CostError: cost law 'power' is missing parameter(s) b: declare them or fit the law
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import brentq, least_squares

from scalinglaws.compute import flops
from scalinglaws.errors import ScalingLawsError

__all__ = ["COST_MODELS", "CostError", "CostLaw", "CostModel", "available_cost_laws", "cost_law", "fit_cost"]

SHAPE_COLUMNS = ("width", "depth", "seq_len")


class CostError(ScalingLawsError, ValueError):
    """A cost law is unknown, incompletely declared, or cannot be fitted to the data given."""


Shape = Mapping[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class CostModel:
    """A family of cost laws.

    Attributes:
        name: registry key.
        formula: the law, for people.
        params: every parameter, in order.
        fitted: the parameters :func:`fit_cost` estimates (the others must be declared or read off the data).
        log_cost: ``(p, N, D, shape) -> log C`` for a parameter dict ``p``.
        tokens_for: ``(p, N, budget) -> D`` on the iso-cost curve ``C(N, D) = budget``.
    """

    name: str
    formula: str
    params: tuple[str, ...]
    fitted: tuple[str, ...]
    log_cost: Callable[[Mapping[str, float], np.ndarray, np.ndarray, Shape], np.ndarray]
    tokens_for: Callable[[Mapping[str, float], np.ndarray, np.ndarray], np.ndarray]


def _planned_shape(p: Mapping[str, float], n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(width, depth) of a model of ``n`` parameters with width = aspect x depth and n = 12 l m^2."""
    depth = (n / (12.0 * p["aspect"] ** 2)) ** (1.0 / 3.0)
    return p["aspect"] * depth, depth


def _attention_per_token(p: Mapping[str, float], n: np.ndarray, shape: Shape) -> np.ndarray:
    if "width" in shape and "depth" in shape:
        width, depth = shape["width"], shape["depth"]
    else:
        width, depth = _planned_shape(p, n)
    seq = shape.get("seq_len", p["seq_len"])
    return p["k"] * np.asarray(flops(n, 1.0, "6ND-attention", width=width, depth=depth, seq_len=seq))


COST_MODELS: dict[str, CostModel] = {
    m.name: m
    for m in (
        CostModel(
            "6ND", "C = 6 N D", (), (),
            lambda p, n, d, s: np.log(6.0 * n * d),
            lambda p, n, c: c / (6.0 * n),
        ),
        CostModel(
            "power", "C = k N^a D^b", ("k", "a", "b"), ("k", "a", "b"),
            lambda p, n, d, s: np.log(p["k"]) + p["a"] * np.log(n) + p["b"] * np.log(d),
            lambda p, n, c: (c / (p["k"] * n ** p["a"])) ** (1.0 / p["b"]),
        ),
        CostModel(
            "per-example", "C = D (k N^a + c)", ("k", "a", "c"), ("k", "a", "c"),
            lambda p, n, d, s: np.log(d) + np.log(p["k"] * n ** p["a"] + p["c"]),
            lambda p, n, c: c / (p["k"] * n ** p["a"] + p["c"]),
        ),
        CostModel(
            "attention", "C = k (6 N + 6 depth seq_len width) D", ("k", "seq_len", "aspect"), ("k",),
            lambda p, n, d, s: np.log(_attention_per_token(p, n, s)) + np.log(d),
            lambda p, n, c: c / _attention_per_token(p, n, {}),
        ),
    )
}


def available_cost_laws() -> list[str]:
    """Names of the cost models."""
    return list(COST_MODELS)


def _model(name: str) -> CostModel:
    try:
        return COST_MODELS[name]
    except KeyError:
        raise CostError(f"unknown cost law {name!r}; available: {', '.join(COST_MODELS)}") from None


@dataclass(frozen=True)
class CostLaw:
    """A cost model with all its parameters: declared with :func:`cost_law` or fitted with :func:`fit_cost`.

    Attributes:
        model: the cost model's name (a key of :data:`COST_MODELS`).
        params: its parameters by name.
        unit: what the cost counts (``"FLOPs"``, ``"GPU-hours"``...); planning budgets are in this unit.
        fit: how it was fitted (points, Huber delta, residual scale in log cost), or None if declared.
    """

    model: str
    params: Mapping[str, float]
    unit: str = "FLOPs"
    fit: Mapping[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        spec = _model(self.model)
        missing = [p for p in spec.params if p not in self.params]
        if missing:
            raise CostError(
                f"cost law {self.model!r} is missing parameter(s) {', '.join(missing)}: "
                "declare them or fit the law"
            )
        extra = sorted(set(self.params) - set(spec.params))
        if extra:
            raise CostError(f"cost law {self.model!r} has no parameter(s) {', '.join(extra)}")
        bad = [k for k, v in self.params.items() if not np.isfinite(v) or v < 0 or (v == 0 and k != "c")]
        if bad:
            raise CostError(
                f"cost law {self.model!r}: parameter(s) {', '.join(bad)} must be finite and positive"
            )
        object.__setattr__(self, "params", {k: float(self.params[k]) for k in spec.params})

    @property
    def label(self) -> str:
        """The law with its parameters, for plans and reports."""
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        values = f" ({values})" if values else ""
        return f"{self.model}: {_model(self.model).formula}{values} [{self.unit}]"

    def cost(self, params: ArrayLike, tokens: ArrayLike, **shape: ArrayLike) -> np.ndarray:
        """Cost of training ``params`` parameters on ``tokens`` tokens (``width``, ``depth``, ``seq_len``
        are used by ``attention`` where given)."""
        n, d = np.asarray(params, dtype=float), np.asarray(tokens, dtype=float)
        extra = {k: np.asarray(v, dtype=float) for k, v in shape.items() if k in SHAPE_COLUMNS}
        return np.exp(_model(self.model).log_cost(self.params, n, d, extra))

    def tokens_for(self, params: ArrayLike, budget: ArrayLike) -> np.ndarray:
        """Tokens ``D`` with ``cost(params, D) = budget``: the iso-cost curve as a function of ``N``."""
        n, c = np.asarray(params, dtype=float), np.asarray(budget, dtype=float)
        return _model(self.model).tokens_for(self.params, n, c)

    def square(self, budget: float) -> float:
        """The model size whose iso-cost run has as many tokens as parameters (where planning searches from).

        Example:
            >>> round(cost_law("6ND").square(6e20))
            10000000000
        """

        def gap(log_n: float) -> float:
            return float(np.log10(self.tokens_for(10.0**log_n, budget))) - log_n

        try:
            return 10.0 ** brentq(gap, -10.0, 40.0, xtol=1e-12)
        except ValueError:
            raise CostError(
                f"{self.label}: no model size spends a budget of {budget:g} on as many tokens"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "params": dict(self.params), "unit": self.unit, "fit": self.fit}


def cost_law(name: str, *, unit: str = "FLOPs", **params: float) -> CostLaw:
    """Declare a cost law with its parameters, e.g. ``cost_law("power", k=6, a=1, b=1)``."""
    return CostLaw(name, params, unit)


# ----- fitting ---------------------------------------------------------------------------------------------
def _columns(data: Any, target: str, needed: tuple[str, ...]) -> tuple[dict[str, np.ndarray], str]:
    source = getattr(data, "source", "<in-memory>")
    if hasattr(data, "table"):
        data = data.table
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(
        {k: np.atleast_1d(np.asarray(v)) for k, v in dict(data).items()}
    )
    missing = [c for c in (*needed, target) if c not in frame.columns]
    if missing:
        raise CostError(
            f"{source}: fitting a cost law needs column(s) {missing}; the data has {list(frame.columns)}"
        )
    out = {}
    for c in (*needed, target, *(s for s in SHAPE_COLUMNS if s in frame.columns and s not in needed)):
        values = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values) | (values <= 0))
        if bad.size:
            rows = ", ".join(str(i + 1) for i in bad[:10])
            raise CostError(f"{source}: column {c!r} needs finite positive values; bad rows {rows}")
        out[c] = values
    return out, source


def _starts(name: str, n: np.ndarray, d: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
    """Data-adapted starting points of the free parameters (``k`` placed by the median, others gridded)."""
    if name == "power":
        design = np.column_stack([np.ones_like(n), np.log(n), np.log(d)])
        coef = np.linalg.lstsq(design, np.log(y), rcond=None)[0]
        return [{"k": float(np.exp(coef[0])), "a": float(coef[1]), "b": float(coef[2])}]
    if name == "per-example":
        per_token = y / d
        out = []
        for a in (0.5, 1.0, 1.5):
            for frac in (1e-3, 0.1, 0.5, 0.9):
                c = frac * float(per_token.min())
                out.append({"a": a, "c": c, "k": float(np.median((per_token - c) / n**a))})
        return out
    return [{"k": 1.0}]


def fit_cost(
    data: Any,
    name: str,
    *,
    target: str = "flops",
    unit: str | None = None,
    delta: float = 0.05,
    **fixed: float,
) -> CostLaw:
    """Fit a cost law to runs that recorded their cost, robustly in log space.

    Args:
        data: a runs table, DataFrame or dict with ``params``, ``tokens`` and the ``target`` cost column
            (plus ``width``, ``depth``, ``seq_len`` for ``attention`` where known).
        name: the cost model.
        target: the cost column (``flops``, ``gpu_hours``...).
        unit: the unit recorded on the law (default: ``"FLOPs"`` for ``flops``, else the column name).
        delta: Huber threshold on log-cost residuals (0.05: runs more than ~5% off count linearly).
        **fixed: parameters held at given values (e.g. ``b=1``; ``seq_len``, ``aspect`` for ``attention``,
            which otherwise come from the data's median ``seq_len`` and ``width / depth``).

    Example:
        >>> import numpy as np
        >>> N, D = np.repeat([1e8, 1e9, 1e10], 3), np.tile([1e9, 1e10, 1e11], 3)
        >>> law = fit_cost({"params": N, "tokens": D, "flops": 6.5 * N * D}, "power", b=1.0)
        >>> {k: round(v, 6) for k, v in law.params.items()}
        {'k': 6.5, 'a': 1.0, 'b': 1.0}
    """
    spec = _model(name)
    unknown = sorted(set(fixed) - set(spec.params))
    if unknown:
        raise CostError(f"cost law {name!r} has no parameter(s) {', '.join(unknown)}")
    cols, source = _columns(data, target, ("params", "tokens"))
    n, d, y = cols["params"], cols["tokens"], cols[target]
    shape = {k: cols[k] for k in SHAPE_COLUMNS if k in cols}
    fixed = {k: float(v) for k, v in fixed.items()}
    if name == "attention":
        if "seq_len" not in fixed and "seq_len" in shape:
            fixed["seq_len"] = float(np.median(shape["seq_len"]))
        if "aspect" not in fixed and "width" in shape and "depth" in shape:
            fixed["aspect"] = float(np.median(shape["width"] / shape["depth"]))
    free = [p for p in spec.params if p not in fixed]
    not_fittable = [p for p in free if p not in spec.fitted]
    if not_fittable:
        raise CostError(
            f"{source}: cost law {name!r} needs {', '.join(not_fittable)} declared or as data columns"
        )
    if not free:
        raise CostError(f"cost law {name!r} has no free parameter to fit: declare it with cost_law()")
    positive = [p not in ("a", "b") for p in free]

    def unpack(x: np.ndarray) -> dict[str, float]:
        vals = np.where(positive, np.exp(np.minimum(x, 700.0)), x)
        return {**fixed, **dict(zip(free, vals, strict=True))}

    def residuals(x: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            r = spec.log_cost(unpack(x), n, d, shape) - np.log(y)
        return np.where(np.isfinite(r), r, 1e3)

    best = None
    for start in _starts(name, n, d, y):
        x0 = np.array([np.log(max(start[p], 1e-300)) if pos else start[p] for p, pos in zip(free, positive,
                                                                                             strict=True)])
        res = least_squares(residuals, x0, loss="huber", f_scale=delta, xtol=1e-15, ftol=1e-15, gtol=1e-15)
        if best is None or res.cost < best.cost:
            best = res
    r = residuals(best.x)
    info = {
        "source": source,
        "target": target,
        "n_points": int(y.size),
        "delta": delta,
        "fixed": sorted(fixed),
        "objective": float(best.cost),
        "residual_scale": float(1.4826 * np.median(np.abs(r - np.median(r)))),
        "max_abs_residual": float(np.max(np.abs(r))),
    }
    return CostLaw(name, unpack(best.x), unit or ("FLOPs" if target == "flops" else target), info)
