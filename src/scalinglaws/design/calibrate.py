"""Calibrated prediction intervals: a small-sample correction, and the law's error beyond the fitted range.

:meth:`FitResult.predict_interval <scalinglaws.fit.FitResult.predict_interval>` reads intervals off the
cluster-bootstrap draws. Two things make those too narrow, and :func:`calibrated_interval` corrects both:

1. **Few clusters.** A bootstrap over ``G`` clusters (model sizes, or configurations) of a law with ``p``
   parameters understates the sampling spread by about ``sqrt((G - p) / G)`` (the residual degrees of
   freedom the fit consumed): with a 4x4 grid, 16 configurations and 5 parameters, by a fifth. The draws'
   deviations from the point prediction are scaled by ``sqrt(G / (G - p))`` (``small_sample=True``).
   Measured on simulated 4x4 and 5x5 grids (``bench/peer_ssl.py``) this takes the coverage of nominal 80%
   intervals from 67-76% to 74-81%, and of nominal 95% ones from 88-96% to 90-99%. On the same grids, whose
   noise has a fixed size, a least-squares fit on linear residuals with the wild bootstrap
   (``fit(..., residuals="linear", loss="l2", bootstrap_method="wild")``) corrected the same way covers
   79-89% and 89-98%, with intervals at most 1.5% wider than simple-scaling-laws' (up to 7% narrower).
2. **The law's own error beyond the data.** A bootstrap sees only the scatter inside the fitted range, not
   how wrong the law's shape becomes out there. :func:`measure_extrapolation_error` backtests the law on
   the data themselves (fit below a compute cut, predict above it, at several cuts) and models the held-out
   log error as normal with variance ``noise^2 + parameter variance + (k d)^2``, ``d`` the decades of
   compute beyond the largest fitted run; ``k`` (log loss per decade) is estimated by maximum likelihood.
   ``calibrated_interval(..., extrapolation=err)`` then convolves each draw's prediction with a normal of
   sd ``k d`` (and, for ``kind="new-run"``, the run-to-run noise too). Inside the fitted range ``d = 0`` and
   nothing changes; the widening grows linearly in decades, as the error of a slightly wrong exponent does.
   Errors are measured in the fit's residual space (log loss by default; loss units for fits with
   ``residuals="linear"``), and an :class:`ExtrapolationError` applies only to fits of the same space.
   The errors of one cut share that cut's bias, so the pooled likelihood overstates how much evidence a
   handful of cuts carry: treat ``k`` as a rough, honest-in-direction scale, not a precise one. On compute
   splits of the bundled Chinchilla runs it takes the coverage of nominal 80% new-run intervals of held-out
   runs from 50% to 72% (``bench/peer_ssl.py``).

Example:
    >>> import numpy as np
    >>> from scalinglaws.fit import fit
    >>> from scalinglaws.laws import get_law
    >>> N = np.repeat([1e8, 3e8, 1e9, 3e9], 4); D = np.tile([2e9, 6e9, 2e10, 6e10], 4)
    >>> y = get_law("chinchilla").predict({"params": N, "tokens": D}, np.array([1.7, 400, 1500, 0.34, 0.3]))
    >>> y = y * np.exp(0.01 * np.random.default_rng(0).normal(size=y.size))
    >>> result = fit({"params": N, "tokens": D, "loss": y}, bootstrap=200)
    >>> err = ExtrapolationError(per_decade=0.02, max_scale=float(np.max(6 * N * D)))
    >>> lo, hi = result.predict_interval(params=7e10, tokens=1.4e12, level=0.8)
    >>> clo, chi = calibrated_interval(result, params=7e10, tokens=1.4e12, level=0.8, extrapolation=err)
    >>> bool(chi[0] - clo[0] > hi[0] - lo[0])
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import ndtr

from scalinglaws.design.layout import DesignError
from scalinglaws.errors import ScalingLawsError
from scalinglaws.fit.api import frame_of
from scalinglaws.fit.result import FitResult
from scalinglaws.laws.base import Law

__all__ = ["ExtrapolationError", "calibrated_interval", "measure_extrapolation_error", "scale_of"]


def scale_of(X: Mapping[str, Any], law: Law) -> np.ndarray:
    """The scale extrapolation is measured along: compute (``flops``, else ``6 N D``) for laws of params and
    tokens, else the law's first input.

    Example:
        >>> from scalinglaws.laws import get_law
        >>> float(scale_of({"params": 1e9, "tokens": 2e10}, get_law("chinchilla")))
        1.2e+20
    """
    if "flops" in X:
        return np.asarray(X["flops"], dtype=float)
    if "params" in X and "tokens" in X:
        return 6.0 * np.asarray(X["params"], dtype=float) * np.asarray(X["tokens"], dtype=float)
    return np.asarray(X[law.inputs[0]], dtype=float)


@dataclass(frozen=True)
class ExtrapolationError:
    """The law's error beyond its data: sd ``per_decade * d`` (log loss, or loss units in linear ``space``),
    ``d`` the decades of scale beyond ``max_scale`` (compute for laws of params and tokens, :func:`scale_of`).

    Attributes:
        per_decade: sd added per decade of extrapolation, in residual ``space``.
        max_scale: the largest scale of the data a fit saw (set it to the fit's when reusing ``per_decade``).
        n_points: held-out predictions it was estimated from (0 when declared).
        folds: per cut: the cut, training and held-out rows, and the RMS held-out error.
        space: the residual space of the fits it applies to (``"log"`` or ``"linear"``).
    """

    per_decade: float
    max_scale: float
    n_points: int = 0
    folds: tuple[dict[str, Any], ...] = field(default=())
    space: str = "log"

    def decades(self, scale: Any) -> np.ndarray:
        """Decades beyond ``max_scale`` (0 inside)."""
        return np.maximum(np.log10(np.asarray(scale, dtype=float) / self.max_scale), 0.0)

    def sd(self, scale: Any) -> np.ndarray:
        """The added sd at ``scale``, in residual :attr:`space`."""
        return self.per_decade * self.decades(scale)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure_extrapolation_error(
    data: Any,
    law: str | Law = "chinchilla",
    *,
    quantiles: Sequence[float] = (0.4, 0.55, 0.7),
    bootstrap: int = 50,
    seed: int = 0,
    small_sample: bool = True,
    **fit_options: Any,
) -> ExtrapolationError:
    """Backtest ``law`` on ``data`` itself and estimate its error per decade of extrapolation (in the fits'
    residual space: log loss unless ``fit_options`` ask for ``residuals="linear"``).

    For each quantile ``q`` of the data's scale (log), the law is fitted (with ``bootstrap`` resamples) to the
    rows at or below that scale and predicts the rows above; the held-out log errors ``e`` at distances ``d``
    (decades beyond the cut fold's largest training scale) are modelled as ``N(0, s^2 + v + (k d)^2)``, ``s``
    the fold's run-to-run noise and ``v`` its bootstrap variance of the prediction, and ``k`` is the
    maximum-likelihood value. Returns it with ``max_scale`` set to the whole data's largest scale.

    Example:
        >>> from scalinglaws.data import load_data
        >>> err = measure_extrapolation_error(load_data("chinchilla"), "chinchilla", bootstrap=20)
        >>> 0.0 < err.per_decade < 0.1, err.n_points > 50
        (True, True)
    """
    from scalinglaws.fit import fit
    from scalinglaws.laws import get_law

    frame = frame_of(data)[0]
    law_obj = law if isinstance(law, Law) else get_law(law, **(fit_options.get("law_options") or {}))
    target = fit_options.get("target", "loss")
    scale = scale_of(
        {c: frame[c].to_numpy(float) for c in frame.columns if c in (*law_obj.inputs, "flops")}, law_obj
    )
    errors, variances, distances, folds = [], [], [], []
    space = fit_options.get("residuals") or law_obj.target
    for q in quantiles:
        cut = float(10 ** np.quantile(np.log10(scale), q))
        train, test = frame[scale <= cut], frame[scale > cut]
        if len(test) == 0 or len(train) < 2 * len(law_obj.params):
            continue
        try:
            r = fit(train, law_obj, bootstrap=bootstrap, seed=seed, **fit_options)
        except ScalingLawsError:
            continue
        X = {c: test[c].to_numpy(float) for c in law_obj.inputs}
        pred = r.predict(X)
        y = test[target].to_numpy(float)
        e = np.log(y / pred) if space == "log" else y - pred
        v = np.zeros_like(e)
        if bootstrap and r.draws is not None:
            d = r.predict_draws(X)
            d = np.log(d) if space == "log" else d
            factor = _small_sample_factor(r) if small_sample else 1.0
            v = factor**2 * np.nanvar(d, axis=0)
        noise = r.noise["value"] if r.noise is not None else 0.0
        train_max = float(scale[scale <= cut].max())
        dist = np.log10(scale[scale > cut] / train_max)
        ok = np.isfinite(e) & np.isfinite(v)
        errors.append(e[ok])
        variances.append(v[ok] + noise**2)
        distances.append(dist[ok])
        folds.append(
            {
                "cut": cut,
                "train": int(len(train)),
                "test": int(ok.sum()),
                "rms_error": float(np.sqrt(np.mean(e[ok] ** 2))) if ok.any() else float("nan"),
            }
        )
    if not errors:
        raise DesignError(
            "no compute cut leaves enough runs on both sides to measure the extrapolation error"
        )
    e, v, d = (np.concatenate(a) for a in (errors, variances, distances))

    def nll(log_k: float) -> float:
        total = v + (np.exp(log_k) * d) ** 2
        return float(np.sum(np.log(total) + e**2 / total))

    best = minimize_scalar(nll, bounds=(np.log(1e-6), np.log(1.0)), method="bounded")
    k = float(np.exp(best.x))
    if nll(np.log(1e-6)) <= best.fun:  # no evidence of any error beyond the model's own
        k = 0.0
    return ExtrapolationError(k, float(scale.max()), int(e.size), tuple(folds), space)


def _small_sample_factor(result: FitResult) -> float:
    """``sqrt(G / (G - p))`` for ``G`` bootstrap clusters and ``p`` parameters (``sqrt(G)`` if ``G <= p``)."""
    g = int(result.settings.get("n_clusters") or 0)
    p = len(result.law.params)
    if g <= 0:
        return 1.0
    return float(np.sqrt(g / max(g - p, 1)))


def _mixture_quantiles(centres: np.ndarray, scale: np.ndarray, probs: Sequence[float]) -> list[np.ndarray]:
    """Quantiles of the equal mixture over rows of ``N(centres[b, j], scale[j])``, per column ``j``."""
    ok = np.isfinite(centres)
    count = np.maximum(ok.sum(axis=0), 1)
    filled = np.where(ok, centres, 0.0)
    s = np.maximum(scale, 1e-12)
    low = np.where(ok, centres, np.inf).min(axis=0) - 10.0 * s
    high = np.where(ok, centres, -np.inf).max(axis=0) + 10.0 * s
    out = []
    for p in probs:
        a, b = low.copy(), high.copy()
        for _ in range(80):
            mid = 0.5 * (a + b)
            cdf = np.sum(ok * ndtr((mid - filled) / s), axis=0) / count
            below = cdf < p
            a, b = np.where(below, mid, a), np.where(below, b, mid)
        out.append(0.5 * (a + b))
    return out


def calibrated_interval(
    result: FitResult,
    X: Mapping[str, Any] | None = None,
    *,
    level: float | None = None,
    kind: str = "mean",
    small_sample: bool = True,
    extrapolation: ExtrapolationError | None = None,
    **inputs: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """Central ``level`` interval of a prediction: bootstrap draws with the small-sample correction, widened
    beyond the data by ``extrapolation`` (see the module), plus run-to-run noise for ``kind="new-run"``;
    all in the fit's residual space (:attr:`~scalinglaws.fit.FitResult.residual_space`).

    Args:
        result: a fit with bootstrap draws.
        X, inputs: where to predict (as :meth:`FitResult.predict`).
        level: central level (default: the fit's).
        kind: ``"mean"`` (the recipe's expected loss) or ``"new-run"`` (one new run of it).
        small_sample: scale the draws' deviations by ``sqrt(G / (G - p))``.
        extrapolation: the law's error beyond the data (:func:`measure_extrapolation_error`); None: none.
    """
    if kind not in ("mean", "new-run"):
        raise DesignError(f"unknown prediction kind {kind!r}; use 'mean' or 'new-run'")
    level = level or result.level
    if not 0 < level < 1:
        raise DesignError(f"interval level must be in (0, 1), got {level}")
    log_space = result.residual_space == "log"
    if extrapolation is not None and extrapolation.space != result.residual_space:
        raise DesignError(
            f"the extrapolation error was measured in {extrapolation.space} space, the fit's residuals are "
            f"{result.residual_space}: measure it with the fit's residuals"
        )
    merged = {**(X or {}), **inputs}
    draws = result.predict_draws(merged)
    point = result.predict(merged)
    with np.errstate(divide="ignore", invalid="ignore"):
        centres = np.log(np.where(draws > 0, draws, np.nan)) if log_space else draws
        middle = np.log(point) if log_space else point
    if small_sample:
        centres = middle + _small_sample_factor(result) * (centres - middle)
    var = np.zeros(np.shape(point))
    if kind == "new-run":
        noise = result.noise
        if noise is None or not np.isfinite(noise.get("value", np.nan)):
            raise DesignError("this fit has no run-to-run noise estimate: refit it for new-run intervals")
        var = var + float(noise["value"]) ** 2
    if extrapolation is not None:
        arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in merged.items()}
        var = var + extrapolation.sd(scale_of(arrays, result.law)) ** 2
    tail = (1.0 - level) / 2.0
    lo, hi = _mixture_quantiles(centres, np.sqrt(var), (tail, 1.0 - tail))
    return (np.exp(lo), np.exp(hi)) if log_space else (lo, hi)
