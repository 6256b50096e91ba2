"""Model shape at a parameter budget under a fitted universality law: the optimal width and depth, the loss
penalty of any other shape, the range of aspect ratios within a tolerance, and practical (snapped) shapes.

The width and depth terms of ``L = L0 + c_m/m^a_m + c_l/l^a_l + ...`` trade off at a fixed parameter count
``N = 12 m^2 l``. The optimum satisfies ``a_m c_m/m^a_m = 2 a_l c_l/l^a_l``; for the universality exponents
(1, 1) that is the constant aspect ratio ``m/l = c_m/(2 c_l)``, and for any exponents a closed form
(:func:`shape_power_law`): ``m* ~ N^(a_l/(a_m + 2 a_l))`` and the shape loss at the optimum is
``c_N N^-alpha_N`` with ``alpha_N = a_m a_l/(a_m + 2 a_l)`` (1/3 for the universality class). With embeddings
counted in ``N`` (``vocab > 0``) or a depth offset, the optimum is found numerically (grid, then golden
section over log width). Every answer is computed for the point fit and for each bootstrap draw, so it comes
with an interval where the fit has draws.

Penalties are relative to a reference loss (``relative_to``): ``"shape"`` (the optimal shape terms),
``"reducible"`` (the reducible loss on the compute-optimal frontier at that N: shape terms plus the data
term at the compute-optimal token count; the authors' blog quotes "m/l from ~30 to ~180 stays within 5% of
the reducible loss"), ``"loss"`` (the total loss there) or ``"absolute"`` (nats).

Example:
    >>> import numpy as np
    >>> from scalinglaws.fit import fit
    >>> rng = np.random.default_rng(0)
    >>> m = rng.choice([512.0, 768, 1024, 1536, 2048], 60); l = rng.choice([8.0, 12, 16, 24, 32], 60)
    >>> D = 10 ** rng.uniform(9, 11, 60)
    >>> y = 1.7 + 300 / m + 2.0 / l + 500 / D ** (1 / 3)
    >>> result = fit({"width": m, "depth": l, "tokens": D, "loss": y}, "universality")
    >>> s = optimal_shape(result, 1e9)
    >>> round(s.aspect_ratio.value, 2), round(s.width.value), round(s.depth.value, 1)
    (75.0, 1842, 24.6)
    >>> lo, hi = aspect_ratio_range(result, 1e9, tolerance=0.05)
    >>> round(lo.value, 1), round(hi.value, 1)
    (27.8, 183.5)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from scalinglaws.errors import PlanError
from scalinglaws.fit.result import FitResult
from scalinglaws.laws.universality import PARAMS_PER_LAYER, Universality, shape_power_law
from scalinglaws.plan.compute_optimal import Estimate, estimate_of

__all__ = [
    "Reference",
    "Shape",
    "aspect_ratio_range",
    "optimal_shape",
    "shape_penalty",
    "shape_power_law",
    "snap_shape",
]

Reference = Literal["shape", "reducible", "loss", "absolute"]
_REFERENCES = ("shape", "reducible", "loss", "absolute")
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
#: Depth range (layers) searched by the numerical optimum.
_MIN_DEPTH_ABOVE_OFFSET, _MAX_DEPTH = 1e-3, 1e6


@dataclass(frozen=True, slots=True)
class Shape:
    """A model shape for a parameter budget.

    Attributes:
        params: the parameter count of the shape (the budget, or the snapped shape's own count).
        width, depth: d_model and layers (real numbers at the optimum; integers when snapped).
        aspect_ratio: width / depth.
        shape_loss: the width and depth terms of the law at this shape, ``c_m/m^a_m + c_l/l^a_l``.
        level: central level of the intervals (None without bootstrap draws).
        method: ``closed-form``, ``numerical`` or ``snapped``.
        heads: attention heads of a snapped shape (when a head size or count was asked for).
        vocab: vocabulary counted in ``params`` (0: non-embedding count ``12 m^2 l``).
    """

    params: float
    width: Estimate
    depth: Estimate
    aspect_ratio: Estimate
    shape_loss: Estimate
    level: float | None
    method: str
    heads: int | None = None
    vocab: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        heads = f", {self.heads} heads" if self.heads else ""
        return (
            f"width {self.width}, depth {self.depth} (m/l {self.aspect_ratio}{heads}) for "
            f"{self.params:.4g} params: shape loss {self.shape_loss}"
        )


# ----- the law's pieces, vectorised over parameter rows -----------------------------------------------------
def _law_of(result: FitResult) -> Universality:
    law = result.law
    if not isinstance(law, Universality) or not law.has_shape:
        raise PlanError(
            f"shape planning needs a fit of the 'universality' law with width and depth terms; this fit is "
            f"{law.name!r}" + (f" with terms {','.join(law.terms)}" if isinstance(law, Universality) else "")
        )
    return law


def _rows(result: FitResult) -> tuple[np.ndarray, bool]:
    """The point fit and the bootstrap draws as one ``(1 + B, p)`` array, and whether draws exist."""
    has = result.draws is not None and len(result.draws) > 0
    theta = result.theta[None] if not has else np.vstack([result.theta[None], result.draws])
    return theta, has


class _Coefs:
    """Width/depth (and time) coefficients of parameter rows, each ``(R,)``."""

    def __init__(self, law: Universality, theta: np.ndarray) -> None:
        co = law.coefficients(np.atleast_2d(theta))
        self.c_m, self.a_m = (np.ravel(v) for v in co["width"])
        self.c_l, self.a_l = (np.ravel(v) for v in co["depth"])
        self.time = tuple(np.ravel(v) for v in co["time"]) if "time" in co else None
        self.floor = np.ravel(law.floor(np.atleast_2d(theta)))
        self.offset = law.depth_offset
        self.time_axis = law.time

    def shape_loss(self, m: np.ndarray, ell: np.ndarray) -> np.ndarray:
        """Width and depth terms; ``m``, ``ell`` of shape ``(R,)`` or ``(R, G)``."""
        ex = (lambda v: v) if np.ndim(m) <= 1 else (lambda v: v[:, None])
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            d = np.asarray(ell, dtype=float) - self.offset
            out = ex(self.c_m) * m ** -ex(self.a_m) + ex(self.c_l) * np.where(d > 0, d, np.nan) ** -ex(
                self.a_l
            )
        return out


def _check_budget(params: float, vocab: int) -> float:
    if not (isinstance(params, int | float | np.number) and np.isfinite(params) and params > 0):
        raise PlanError(f"the parameter budget must be a positive number, got {params!r}")
    if isinstance(vocab, bool) or not isinstance(vocab, int | np.integer) or vocab < 0:
        raise PlanError(f"vocab must be a non-negative integer, got {vocab!r}")
    return float(params)


def _depth_for(n: np.ndarray, m: np.ndarray, emb: float) -> np.ndarray:
    """Depth that makes ``per_layer m^2 l + emb m = n``."""
    return (n - emb * m) / (PARAMS_PER_LAYER * m * m)


def _width_limits(n: np.ndarray, emb: float, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Log widths at which the depth is ``_MAX_DEPTH`` and ``offset + _MIN_DEPTH_ABOVE_OFFSET``."""

    def width_at(depth: float) -> np.ndarray:
        a = PARAMS_PER_LAYER * depth
        return (-emb + np.sqrt(emb * emb + 4.0 * a * n)) / (2.0 * a)

    return np.log(width_at(_MAX_DEPTH)), np.log(width_at(offset + _MIN_DEPTH_ABOVE_OFFSET))


def _optimum(co: _Coefs, n: np.ndarray, vocab: int, tied: bool) -> tuple[np.ndarray, np.ndarray, str]:
    """Optimal ``(width, depth)`` per row for budgets ``n (R,)``; NaN where the optimum is at a limit."""
    emb = vocab * (1.0 if tied else 2.0)
    if emb == 0 and co.offset == 0:
        s = shape_power_law(co.c_m, co.a_m, co.c_l, co.a_l)
        m = s["k"] * n ** s["p"]
        return m, _depth_for(n, m, 0.0), "closed-form"
    lo, hi = _width_limits(n, emb, co.offset)
    grid = np.linspace(0.0, 1.0, 513)
    u = lo[:, None] + (hi - lo)[:, None] * grid  # (R, G)

    def f(v: np.ndarray) -> np.ndarray:
        m = np.exp(v)
        nn = n[:, None] if v.ndim == 2 else n
        out = co.shape_loss(m, _depth_for(nn, m, emb))
        return np.where(np.isfinite(out), out, np.inf)

    values = f(u)
    i = np.argmin(values, axis=1)
    interior = (i > 0) & (i < grid.size - 1)
    rows = np.arange(len(n))
    a = u[rows, np.clip(i - 1, 0, grid.size - 1)]
    b = u[rows, np.clip(i + 1, 0, grid.size - 1)]
    for _ in range(80):  # golden section inside the bracketing grid cells
        x1, x2 = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
        left = f(x1) <= f(x2)
        a, b = np.where(left, a, x1), np.where(left, x2, b)
    m = np.where(interior, np.exp(0.5 * (a + b)), np.nan)
    return m, _depth_for(n, m, emb), "numerical"


def _shape_at_ratio(n: np.ndarray, ratio: np.ndarray, emb: float) -> tuple[np.ndarray, np.ndarray]:
    """``(width, depth)`` with ``width/depth = ratio`` and ``per_layer m^3/ratio + emb m = n``."""
    m = (ratio * n / PARAMS_PER_LAYER) ** (1.0 / 3.0)
    if emb:
        for _ in range(60):  # Newton from the right on an increasing convex cubic: monotone convergence
            g = PARAMS_PER_LAYER * m**3 / ratio + emb * m - n
            m = m - g / (3.0 * PARAMS_PER_LAYER * m * m / ratio + emb)
    return m, m / ratio


def _reference(
    co: _Coefs, n: np.ndarray, best: np.ndarray, relative_to: str, vocab: int, tied: bool
) -> np.ndarray:
    """The loss a penalty is measured against, per row (see the module docstring)."""
    if relative_to == "absolute":
        return np.ones_like(best)
    if relative_to == "shape":
        return best
    if co.time is None or co.time_axis != "tokens":
        raise PlanError(
            f"relative_to={relative_to!r} needs a law with a time term on tokens (the compute-optimal data "
            "term); use relative_to='shape' or 'absolute'"
        )
    # on the compute-optimal frontier the data term is (alpha_N / a_D) times the shape term, with alpha_N the
    # local exponent of the optimal shape loss in N (exact for the closed form; central difference otherwise)
    h = 1e-3
    up = co.shape_loss(*_optimum(co, n * math.exp(h), vocab, tied)[:2])
    down = co.shape_loss(*_optimum(co, n * math.exp(-h), vocab, tied)[:2])
    alpha_n = -(np.log(up) - np.log(down)) / (2.0 * h)
    reducible = best * (1.0 + alpha_n / co.time[1])
    return reducible if relative_to == "reducible" else reducible + co.floor


def _check_reference(relative_to: str) -> None:
    if relative_to not in _REFERENCES:
        raise PlanError(f"relative_to must be one of {', '.join(_REFERENCES)}; got {relative_to!r}")


def _level(result: FitResult, level: float | None, has: bool) -> float | None:
    return (level or result.level) if has else None


def _split(values: np.ndarray, has: bool, level: float | None) -> Estimate:
    return estimate_of(float(values[0]), values[1:] if has else None, level)


# ----- public API -------------------------------------------------------------------------------------------
def optimal_shape(
    result: FitResult, params: float, *, vocab: int = 0, tied: bool = True, level: float | None = None
) -> Shape:
    """The loss-minimising width and depth for ``params`` parameters (``12 m^2 l``, plus ``vocab * m`` per
    embedding matrix when ``vocab`` is given), with intervals from the fit's bootstrap draws.

    Example:
        >>> import numpy as np
        >>> from scalinglaws.fit import fit
        >>> m = np.repeat([512.0, 1024, 2048], 9); l = np.tile(np.repeat([8.0, 16, 32], 3), 3)
        >>> D = np.tile([1e9, 1e10, 1e11], 9)
        >>> y = 1.7 + 300 / m + 2.0 / l + 500 / D ** (1 / 3)
        >>> result = fit({"width": m, "depth": l, "tokens": D, "loss": y}, "universality")
        >>> s = optimal_shape(result, 1e9)
        >>> s.method, round(s.aspect_ratio.value, 2)
        ('closed-form', 75.0)
        >>> optimal_shape(result, 1e9, vocab=32000).method
        'numerical'
    """
    law = _law_of(result)
    n0 = _check_budget(params, vocab)
    theta, has = _rows(result)
    level = _level(result, level, has)
    co = _Coefs(law, theta)
    n = np.full(len(theta), n0)
    m, ell, method = _optimum(co, n, vocab, tied)
    if not np.isfinite(m[0]):
        raise PlanError(f"the fitted law has no interior optimal shape at {n0:.3g} params")
    loss = co.shape_loss(m, ell)
    return Shape(
        params=n0,
        width=_split(m, has, level),
        depth=_split(ell, has, level),
        aspect_ratio=_split(m / ell, has, level),
        shape_loss=_split(loss, has, level),
        level=level,
        method=method,
        vocab=vocab,
    )


def shape_penalty(
    result: FitResult,
    params: float,
    *,
    aspect_ratio: float | None = None,
    width: float | None = None,
    depth: float | None = None,
    relative_to: Reference = "reducible",
    vocab: int = 0,
    tied: bool = True,
    level: float | None = None,
) -> Estimate:
    """How much worse a shape is than the optimum at ``params`` parameters, relative to ``relative_to``.

    Give the shape as an ``aspect_ratio`` (width/depth; the width and depth then follow from the budget), or
    as ``width`` and ``depth`` (then its own parameter count is used and ``params`` only sets the reference).

    Example:
        >>> import numpy as np
        >>> from scalinglaws.fit import fit
        >>> m = np.repeat([512.0, 1024, 2048], 9); l = np.tile(np.repeat([8.0, 16, 32], 3), 3)
        >>> D = np.tile([1e9, 1e10, 1e11], 9)
        >>> y = 1.7 + 300 / m + 2.0 / l + 500 / D ** (1 / 3)
        >>> result = fit({"width": m, "depth": l, "tokens": D, "loss": y}, "universality")
        >>> round(shape_penalty(result, 1e9, aspect_ratio=150.0, relative_to="shape").value, 4)
        0.0583
    """
    law = _law_of(result)
    _check_reference(relative_to)
    n0 = _check_budget(params, vocab)
    theta, has = _rows(result)
    level = _level(result, level, has)
    co = _Coefs(law, theta)
    n = np.full(len(theta), n0)
    emb = vocab * (1.0 if tied else 2.0)
    if aspect_ratio is not None:
        if width is not None or depth is not None:
            raise PlanError("give either aspect_ratio or width and depth, not both")
        if not (np.isfinite(aspect_ratio) and aspect_ratio > 0):
            raise PlanError(f"aspect_ratio must be positive, got {aspect_ratio!r}")
        m, ell = _shape_at_ratio(n, np.full(len(theta), float(aspect_ratio)), emb)
    elif width is not None and depth is not None:
        if not (width > 0 and depth > 0):
            raise PlanError(f"width and depth must be positive, got width={width!r}, depth={depth!r}")
        if depth <= law.depth_offset:
            raise PlanError(f"depth {depth:g} must exceed the law's depth_offset {law.depth_offset:g}")
        m, ell = np.full(len(theta), float(width)), np.full(len(theta), float(depth))
    else:
        raise PlanError("give the shape as aspect_ratio=, or as width= and depth=")
    own_n = PARAMS_PER_LAYER * m * m * ell + emb * m
    best = co.shape_loss(*_optimum(co, own_n, vocab, tied)[:2])
    gap = co.shape_loss(m, ell) - best
    ref = _reference(co, n, co.shape_loss(*_optimum(co, n, vocab, tied)[:2]), relative_to, vocab, tied)
    return _split(gap / ref, has, level)


def aspect_ratio_range(
    result: FitResult,
    params: float,
    *,
    tolerance: float = 0.05,
    relative_to: Reference = "reducible",
    vocab: int = 0,
    tied: bool = True,
    level: float | None = None,
) -> tuple[Estimate, Estimate]:
    """The aspect ratios (width/depth) whose loss penalty at ``params`` stays within ``tolerance`` of the
    reference (default: 5% of the reducible loss on the compute-optimal frontier). Returns ``(low, high)``.

    Example:
        >>> import numpy as np
        >>> from scalinglaws.fit import fit
        >>> m = np.repeat([512.0, 1024, 2048], 9); l = np.tile(np.repeat([8.0, 16, 32], 3), 3)
        >>> D = np.tile([1e9, 1e10, 1e11], 9)
        >>> y = 1.7 + 300 / m + 2.0 / l + 500 / D ** (1 / 3)
        >>> result = fit({"width": m, "depth": l, "tokens": D, "loss": y}, "universality")
        >>> lo, hi = aspect_ratio_range(result, 1e9, tolerance=0.1, relative_to="shape")
        >>> round(lo.value, 1), round(hi.value, 1)
        (27.8, 183.5)
    """
    law = _law_of(result)
    _check_reference(relative_to)
    n0 = _check_budget(params, vocab)
    if not (np.isfinite(tolerance) and tolerance > 0):
        raise PlanError(f"tolerance must be positive, got {tolerance!r}")
    theta, has = _rows(result)
    level = _level(result, level, has)
    co = _Coefs(law, theta)
    n = np.full(len(theta), n0)
    emb = vocab * (1.0 if tied else 2.0)
    m_opt, l_opt, _ = _optimum(co, n, vocab, tied)
    if not np.isfinite(m_opt[0]):
        raise PlanError(f"the fitted law has no interior optimal shape at {n0:.3g} params")
    best = co.shape_loss(m_opt, l_opt)
    target = tolerance * _reference(co, n, best, relative_to, vocab, tied)
    centre = np.log(m_opt / l_opt)

    def excess(log_r: np.ndarray) -> np.ndarray:
        m, ell = _shape_at_ratio(n, np.exp(log_r), emb)
        out = co.shape_loss(m, ell) - best - target
        return np.where(np.isfinite(out), out, np.inf)

    ends = []
    for sign in (-1.0, 1.0):
        near, far = centre.copy(), centre + sign * math.log(1e6)
        unbounded = excess(far) <= 0
        for _ in range(100):  # bisection between the optimum (excess < 0) and the far end (excess > 0)
            mid = 0.5 * (near + far)
            inside = excess(mid) <= 0
            near, far = np.where(inside, mid, near), np.where(inside, far, mid)
        ends.append(np.where(unbounded | ~np.isfinite(centre), np.nan, np.exp(0.5 * (near + far))))
    return _split(ends[0], has, level), _split(ends[1], has, level)


def _practical_widths(step: int, m_opt: float) -> np.ndarray:
    """Multiples of ``step`` from a quarter to four times the optimal width (at least four of them)."""
    low = max(step, step * math.floor(m_opt / 4.0 / step))
    top = max(4.0 * m_opt, low + 3.0 * step)
    return np.arange(low, top + step, step, dtype=float)


def snap_shape(
    result: FitResult,
    params: float | None = None,
    *,
    compute: float | None = None,
    multiple: int = 128,
    head_dim: int | None = None,
    heads: int | None = None,
    vocab: int = 0,
    tied: bool = True,
    level: float | None = None,
) -> Shape:
    """The best practical shape: width a multiple of ``multiple`` (and of ``head_dim``, or divisible by
    ``heads``), integer depth.

    With ``params`` (a budget, an upper limit): the shape with at most that many parameters and the least
    shape loss. With ``compute`` (FLOPs, ``C = 6 N D``): the shape with the least total loss when trained
    on the tokens the budget leaves, ``D = C / (6 N)`` (needs a time term on tokens).

    Example:
        >>> import numpy as np
        >>> from scalinglaws.fit import fit
        >>> m = np.repeat([512.0, 1024, 2048], 9); l = np.tile(np.repeat([8.0, 16, 32], 3), 3)
        >>> D = np.tile([1e9, 1e10, 1e11], 9)
        >>> y = 1.7 + 300 / m + 2.0 / l + 500 / D ** (1 / 3)
        >>> result = fit({"width": m, "depth": l, "tokens": D, "loss": y}, "universality")
        >>> s = snap_shape(result, 1e9, multiple=128, head_dim=128)
        >>> int(s.width.value), int(s.depth.value), s.heads, s.params <= 1e9
        (1664, 30, 13, True)
    """
    law = _law_of(result)
    if (params is None) == (compute is None):
        raise PlanError("snap a shape for either a parameter budget (params=) or a compute budget (compute=)")
    for name, v in (("multiple", multiple), ("head_dim", head_dim), ("heads", heads)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1):
            raise PlanError(f"{name} must be a positive integer, got {v!r}")
    if head_dim is not None and heads is not None:
        raise PlanError("give head_dim or heads, not both")
    step = math.lcm(int(multiple), int(head_dim or 1), int(heads or 1))
    emb = vocab * (1.0 if tied else 2.0)
    theta, has = _rows(result)
    level = _level(result, level, has)
    co = _Coefs(law, theta[:1])
    if compute is not None:
        if not (np.isfinite(compute) and compute > 0):
            raise PlanError(f"compute must be a positive number of FLOPs, got {compute!r}")
        if co.time is None or co.time_axis != "tokens":
            raise PlanError("snapping for a compute budget needs a law with a time term on tokens")
        n_guess = law.compute_optimum(np.array(float(compute)), result.theta)
        n_ref = float(np.ravel(n_guess[0])[0]) if n_guess is not None else math.sqrt(compute / 6.0 / 20.0)
    else:
        n_ref = _check_budget(params, vocab)
    m_opt = float(_optimum(co, np.array([n_ref]), vocab, tied)[0][0])
    if not np.isfinite(m_opt):
        raise PlanError(f"the fitted law has no interior optimal shape at {n_ref:.3g} params")
    widths = _practical_widths(step, m_opt)
    # depths from a sixteenth to sixteen times the optimum's: the widths' range moves the best depth by <= 16x
    l_opt = max(n_ref / (PARAMS_PER_LAYER * m_opt**2), 1.0)
    l_low = max(math.floor(law.depth_offset) + 1, math.floor(l_opt / 16.0))
    depths = np.arange(l_low, math.ceil(16.0 * l_opt + law.depth_offset) + 2, dtype=float)
    mm, ll = (a.ravel() for a in np.meshgrid(widths, depths, indexing="ij"))
    nn = PARAMS_PER_LAYER * mm * mm * ll + emb * mm
    shape_loss = co.shape_loss(mm[None], ll[None])[0]
    if compute is not None:
        tokens = compute / (6.0 * nn)
        c_d, a_d = co.time
        score = shape_loss + c_d[0] * tokens ** -a_d[0]
    else:
        score = np.where(nn <= n_ref, shape_loss, np.inf)
    score = np.where(np.isfinite(score), score, np.inf)
    if not np.isfinite(score).any():
        raise PlanError(f"no shape with width a multiple of {step} fits in {n_ref:.3g} params")
    best = int(np.argmin(score))
    m, ell, n_best = float(mm[best]), float(ll[best]), float(nn[best])
    all_co = _Coefs(law, theta)
    loss = all_co.shape_loss(np.full(len(theta), m), np.full(len(theta), ell))
    n_heads = int(m // head_dim) if head_dim else (int(heads) if heads else None)
    return Shape(
        params=n_best,
        width=Estimate(m),
        depth=Estimate(ell),
        aspect_ratio=Estimate(m / ell),
        shape_loss=_split(loss, has, level),
        level=level,
        method="snapped",
        heads=n_heads,
        vocab=vocab,
    )
