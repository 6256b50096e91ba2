"""The universality law of Liu & Gore (arXiv 2606.25008): ``L = L0 + c_m/m^a_m + c_l/l^a_l + c_t/t^a_t``.

Width ``m`` (d_model), depth ``l`` (layers) and training time ``t`` each add one power-law term; cross terms
are dropped. In the paper's universality class the exponents are fixed, ``(a_m, a_l, a_t) = (1, 1, 1/3)``,
and only the coefficients are fitted (all four enter linearly: the fit is one exact linear solve plus a
refinement). Options (strings, so that they round-trip through fit artifacts):

* ``exponents``: ``"fixed"`` (the claimed 1, 1, 1/3; the default), ``"free"`` (fitted, as in the authors'
  ``fit-5`` notebook), or one entry per term, each ``free`` or a number: ``"free,free,1/3"``, ``"1,1.2,0.3"``.
* ``time``: the input column of the time term: ``"tokens"`` (the single-pass form ``c_D/D^(1/3)``, the
  default, for final losses such as Chinchilla's), ``"tau"`` (dynamic time, the integral of the learning
  rate, :mod:`scalinglaws.theory.schedules`) or ``"step"``.
* ``terms``: which terms the law has, a comma list of ``width``, ``depth``, ``time`` (all three by default;
  ``"width,time"`` for runs at one depth, where a depth term would be a second constant).
* ``depth_offset``: use ``l - offset`` in the depth term (the authors' ``fit-8`` uses ``l - 2``).

Parameters: ``L0``, then ``c_m``, ``c_l``, ``c_D`` (``c_tau``, ``c_t``) for the terms present, then the free
exponents ``a_m``, ``a_l``, ``a_D`` (``a_tau``, ``a_t``). Parameter counts come from the shape with
:func:`params_from_shape` (``N = 12 m^2 l``, optionally with embeddings).

Example:
    >>> import numpy as np
    >>> law = Universality()
    >>> law.param_names, law.inputs
    (('L0', 'c_m', 'c_l', 'c_D'), ('width', 'depth', 'tokens'))
    >>> X = {"width": np.array([1024.0]), "depth": np.array([16.0]), "tokens": np.array([2e10])}
    >>> round(float(law.predict(X, np.array([1.75, 300.0, 8.0, 450.0]))[0]), 4)
    2.7088
    >>> Universality(exponents="free").param_names[-3:]
    ('a_m', 'a_l', 'a_D')
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from scalinglaws.errors import LawError
from scalinglaws.laws.base import Inputs, Law, Param

__all__ = [
    "CLAIMED",
    "PARAMS_PER_LAYER",
    "TERMS",
    "TIME_AXES",
    "Universality",
    "params_from_shape",
    "shape_power_law",
]

#: The law's terms, in parameter order.
TERMS = ("width", "depth", "time")
#: The universality-class exponents claimed by the paper.
CLAIMED = {"width": 1.0, "depth": 1.0, "time": 1.0 / 3.0}
#: Input columns the time term can use.
TIME_AXES = ("tokens", "tau", "step")
#: Non-embedding parameters per layer per d_model^2 of a standard Transformer block (4 attention + 8 MLP).
PARAMS_PER_LAYER = 12.0
#: Allowed range of an exponent, fixed or fitted.
EXPONENT_BOUNDS = (0.01, 4.0)

_SUFFIX = {"width": "m", "depth": "l"}
_TIME_SUFFIX = {"tokens": "D", "tau": "tau", "step": "t"}
_GRIDS = {
    "width": tuple(np.round(np.arange(0.1, 3.001, 0.1), 4)),
    "depth": tuple(np.round(np.arange(0.1, 3.001, 0.1), 4)),
    "time": tuple(np.round(np.arange(0.05, 1.501, 0.05), 4)),
}


def params_from_shape(
    width: np.ndarray | float,
    depth: np.ndarray | float,
    *,
    vocab: int = 0,
    tied: bool = True,
    per_layer: float = PARAMS_PER_LAYER,
) -> np.ndarray:
    """Parameters of a Transformer of width ``m`` and depth ``l``: ``per_layer * m^2 * l`` (non-embedding),
    plus ``vocab * m`` for the embedding (twice when input and output embeddings are not tied).

    Example:
        >>> float(params_from_shape(1024, 16))
        201326592.0
        >>> float(params_from_shape(1024, 16, vocab=32000, tied=False))
        266862592.0
    """
    m = np.asarray(width, dtype=float)
    ell = np.asarray(depth, dtype=float)
    if np.any(~np.isfinite(m) | (m <= 0)) or np.any(~np.isfinite(ell) | (ell <= 0)):
        raise LawError("width and depth must be finite and positive")
    if vocab < 0:
        raise LawError(f"vocab must be >= 0, got {vocab}")
    return per_layer * m * m * ell + (1.0 if tied else 2.0) * vocab * m


def _parse_exponent(text: str, term: str) -> float | None:
    """``None`` for ``free``, else the number (``1``, ``0.33``, ``1/3``), checked against the bounds."""
    text = text.strip().lower()
    if text == "free":
        return None
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise LawError(
            f"law 'universality': exponent {text!r} of the {term} term is not a number or 'free'"
        ) from None
    lo, hi = EXPONENT_BOUNDS
    if not lo <= value <= hi:
        raise LawError(
            f"law 'universality': the {term} exponent {value:g} is outside the allowed range [{lo:g}, {hi:g}]"
        )
    return value


class Universality(Law):
    """``L0 + sum_k c_k x_k^-a_k`` over width, depth and time (see the module docstring for the options)."""

    name = "universality"
    description = "L0 + c_m/m + c_l/l + c_D/D^(1/3): width, depth, time (Liu & Gore 2026)"
    note = (
        "Runs with model shapes (width, depth): coefficients at fixed exponents, optimal shape and frontier."
    )

    def __init__(
        self,
        exponents: str = "fixed",
        time: str = "tokens",
        terms: str = "width,depth,time",
        depth_offset: str | float = 0.0,
    ) -> None:
        names = tuple(t.strip().lower() for t in str(terms).split(",") if t.strip())
        if not names or any(t not in TERMS for t in names) or len(set(names)) != len(names):
            raise LawError(
                f"law 'universality': terms must be distinct entries of {', '.join(TERMS)}; got {terms!r}"
            )
        self.terms = tuple(t for t in TERMS if t in names)
        if time not in TIME_AXES:
            raise LawError(f"law 'universality': time must be one of {', '.join(TIME_AXES)}; got {time!r}")
        self.time = time
        try:
            self.depth_offset = float(depth_offset)
        except (TypeError, ValueError):
            raise LawError(
                f"law 'universality': depth_offset must be a number, got {depth_offset!r}"
            ) from None
        if not np.isfinite(self.depth_offset) or self.depth_offset < 0:
            raise LawError(f"law 'universality': depth_offset must be finite and >= 0, got {depth_offset!r}")
        spec = str(exponents).strip().lower()
        if spec in ("fixed", "free"):
            fixed = [CLAIMED[t] if spec == "fixed" else None for t in self.terms]
        else:
            parts = spec.split(",")
            if len(parts) != len(self.terms):
                raise LawError(
                    f"law 'universality': exponents {exponents!r} needs one entry per term "
                    f"({', '.join(self.terms)}), or 'fixed' / 'free'"
                )
            fixed = [_parse_exponent(p, t) for p, t in zip(parts, self.terms, strict=True)]
        self.exponent_spec = spec
        self.fixed = dict(zip(self.terms, fixed, strict=True))

        suffix = {**_SUFFIX, "time": _TIME_SUFFIX[time]}
        self.columns = {"width": "width", "depth": "depth", "time": time}
        params = [
            # with every exponent fixed the law is linear: L0's one-point grid is the whole initial search
            Param(
                "L0", 0.0, np.inf, linear=True, log_scale=True, grid=(1.0,), description="irreducible loss"
            ),
        ]
        for t in self.terms:
            params.append(
                Param(
                    f"c_{suffix[t]}", 0.0, np.inf, linear=True, log_scale=True, description=f"{t} coefficient"
                )
            )
        for t in self.terms:
            if self.fixed[t] is None:
                params.append(
                    Param(f"a_{suffix[t]}", *EXPONENT_BOUNDS, grid=_GRIDS[t], description=f"{t} exponent")
                )
        self.params = tuple(params)
        self.inputs = tuple(self.columns[t] for t in self.terms)
        self._coef_index = {t: 1 + i for i, t in enumerate(self.terms)}
        free = [t for t in self.terms if self.fixed[t] is None]
        self._exp_index = {t: 1 + len(self.terms) + i for i, t in enumerate(free)}
        shown = []
        for t in self.terms:
            a = self.fixed[t]
            power = f"^a_{suffix[t]}" if a is None else ("" if a == 1 else f"^{_fmt_exp(a)}")
            var = {"width": "m", "depth": "l" if not self.depth_offset else f"(l-{self.depth_offset:g})",
                   "time": {"tokens": "D", "tau": "tau", "step": "t"}[time]}[t]  # fmt: skip
            shown.append(f"c_{suffix[t]}/{var}{power}")
        self.description = "L0 + " + " + ".join(shown) + " (Liu & Gore 2026)"

    # ----- metadata -------------------------------------------------------------------------------------
    @property
    def options(self) -> dict[str, str]:
        return {
            "exponents": self.exponent_spec,
            "time": self.time,
            "terms": ",".join(self.terms),
            "depth_offset": repr(self.depth_offset),
        }

    @property
    def has_shape(self) -> bool:
        """Whether the law has both a width and a depth term (shape planning needs both)."""
        return "width" in self.terms and "depth" in self.terms

    def coefficients(self, theta: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``{term: (c, a)}``, each broadcasting like a column of ``theta`` (``()`` or ``(B, 1)``).

        Example:
            >>> law = Universality()
            >>> c, a = law.coefficients(np.array([1.7, 300.0, 8.0, 450.0]))["depth"]
            >>> float(c), float(a)
            (8.0, 1.0)
        """
        theta = np.asarray(theta, dtype=float)
        col = (lambda j: theta[j]) if theta.ndim == 1 else (lambda j: theta[:, j, None])
        out = {}
        for t in self.terms:
            c = col(self._coef_index[t])
            a = col(self._exp_index[t]) if self.fixed[t] is None else np.full_like(c, self.fixed[t])
            out[t] = (c, a)
        return out

    def floor(self, theta: np.ndarray) -> np.ndarray:
        """``L0`` of each parameter row (``()`` or ``(B, 1)``)."""
        theta = np.asarray(theta, dtype=float)
        return theta[0] if theta.ndim == 1 else theta[:, 0, None]

    # ----- maths ----------------------------------------------------------------------------------------
    def _x(self, X: Inputs, term: str) -> np.ndarray:
        x = np.asarray(X[self.columns[term]], dtype=float)
        if term == "depth" and self.depth_offset:
            x = x - self.depth_offset
            if np.any(x <= 0):
                raise LawError(
                    f"law 'universality': every depth must exceed depth_offset {self.depth_offset:g}"
                )
        return x

    def predict(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        out = self.floor(theta)
        for t, (c, a) in self.coefficients(theta).items():
            out = out + c * self._x(X, t) ** -a
        return out

    def jacobian(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        coefs = self.coefficients(theta)
        powers = {t: self._x(X, t) ** -a for t, (_, a) in coefs.items()}
        shape = np.broadcast(self.floor(theta), *powers.values()).shape
        cols = [np.ones(shape)]
        cols += [np.broadcast_to(powers[t], shape) for t in self.terms]
        for t in self.terms:
            if self.fixed[t] is None:
                cols.append(np.broadcast_to(-coefs[t][0] * powers[t] * np.log(self._x(X, t)), shape))
        return np.stack(cols, axis=-1)

    def basis(self, X: Inputs, theta: np.ndarray) -> np.ndarray:
        coefs = self.coefficients(theta)
        powers = [self._x(X, t) ** -coefs[t][1] for t in self.terms]
        shape = np.broadcast(*powers).shape
        return np.stack([np.ones(shape), *(np.broadcast_to(p, shape) for p in powers)], axis=-1)

    def compute_optimum(self, compute: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Compute-optimal non-embedding ``N = 12 m^2 l`` and tokens ``D`` at the optimal shape, ``C = 6ND``.

        At the optimal shape the width and depth terms add up to ``c_N N^-alpha_N`` (closed form, see
        :func:`shape_power_law`), so the frontier is Chinchilla's with ``A = c_N``,
        ``B = c_D``. None unless the law has all three terms on tokens and no depth offset.

        Example:
            >>> law = Universality()
            >>> n, d = law.compute_optimum(np.array(1e21), np.array([1.7, 300.0, 8.0, 450.0]))
            >>> f"{float(n):.3g} params, {float(d):.3g} tokens, D/N = {float(d / n):.1f}"
            '1.03e+10 params, 1.61e+10 tokens, D/N = 1.6'
        """
        if self.terms != TERMS or self.time != "tokens" or self.depth_offset:
            return None
        coefs = self.coefficients(theta)
        shape = shape_power_law(*coefs["width"], *coefs["depth"])
        c_n, alpha = shape["c_N"], shape["alpha_N"]
        c_d, beta = coefs["time"]
        c6 = np.asarray(compute, dtype=float) / 6.0
        g = (alpha * c_n / (beta * c_d)) ** (1.0 / (alpha + beta))
        n_opt = g * c6 ** (beta / (alpha + beta))
        return n_opt, c6 / n_opt


def shape_power_law(c_m: Any, a_m: Any, c_l: Any, a_l: Any, per_layer: float = PARAMS_PER_LAYER) -> dict:
    """Closed-form optimal shape at ``N = per_layer m^2 l``: ``m* = k N^p``, shape loss ``c_N N^-alpha_N``.

    Minimising ``c_m/m^a_m + c_l/l^a_l`` at fixed ``N`` gives ``a_m c_m/m^a_m = 2 a_l c_l/l^a_l``. Returns
    ``{"k", "p", "c_N", "alpha_N"}`` (arrays broadcasting like the inputs). For ``a_m = a_l = 1``:
    ``m/l = c_m / (2 c_l)``, ``alpha_N = 1/3`` and ``c_N = (3/2) 24^(1/3) c_m^(2/3) c_l^(1/3)``.

    Example:
        >>> s = shape_power_law(300.0, 1.0, 2.0, 1.0)
        >>> round(float(s["alpha_N"]), 6), round(float(s["c_N"]), 3)
        (0.333333, 244.298)
        >>> round(1.5 * 24 ** (1 / 3) * 300 ** (2 / 3) * 2 ** (1 / 3), 3)
        244.298
    """
    c_m, a_m, c_l, a_l = (np.asarray(v, dtype=float) for v in (c_m, a_m, c_l, a_l))
    total = a_m + 2.0 * a_l
    k = (a_m * c_m / (2.0 * a_l * c_l * per_layer**a_l)) ** (1.0 / total)
    return {
        "k": k,
        "p": a_l / total,
        "c_N": c_m * k**-a_m * (1.0 + a_m / (2.0 * a_l)),
        "alpha_N": a_m * a_l / total,
    }


def _fmt_exp(a: float) -> str:
    frac = Fraction(a).limit_denominator(12)
    return f"({frac})" if abs(float(frac) - a) < 1e-12 and frac.denominator != 1 else f"{a:g}"
