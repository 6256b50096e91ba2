"""The fit result and its JSON artifact.

A :class:`FitResult` holds everything needed to use, audit and reproduce a fit: the law, the parameters, the
bootstrap draws, the objective and settings, a hash and summary of the data, the diagnostics and the
versions. ``save`` writes it as plain JSON (floats written with ``repr``, so reloading is bit-identical) and
``load`` reads it back.

Artifact format ``scalinglaws.fit/1`` (keys): ``format``, ``law`` (name, options, parameter names),
``params``, ``intervals`` + ``level``, ``objective`` (kind, delta, value, residuals), ``settings``,
``data`` (source, sha256, points, exclusions, FLOP convention, input ranges), ``diagnostics``,
``bootstrap`` (draws, seed, clusters), ``starts``, ``versions``. ``settings["residual_scale"]`` holds the
run-to-run noise used by ``predict_interval(kind="new-run")`` (see :func:`residual_scale`).
``objective["residuals"]`` is the residual space of the fit (``"log"`` or ``"linear"``) and
``settings["bootstrap_method"]`` its bootstrap; artifacts written before they existed load with the law's
own space and the cluster bootstrap, which is how they were fitted.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy.special import ndtr

from scalinglaws.errors import ArtifactError, FitError, LawError
from scalinglaws.fit.diagnostics import Diagnostic
from scalinglaws.laws import get_law
from scalinglaws.laws.base import Law

__all__ = ["FORMAT", "FitResult", "PredictionKind", "residual_scale", "versions"]

FORMAT = "scalinglaws.fit/1"

#: ``"mean"``: the expected loss of the recipe; ``"new-run"``: one new run of it, run-to-run noise included.
PredictionKind = Literal["mean", "new-run"]

#: Replicate degrees of freedom from which run-to-run noise is estimated from replicates alone.
MIN_REPLICATE_DOF = 3
#: Residuals beyond this many noise scales count as this many when the scale is estimated from residuals.
WINSOR = 3.0


def residual_scale(
    law: Law, X: Mapping[str, np.ndarray], residuals: np.ndarray, space: str | None = None
) -> dict[str, Any]:
    """The run-to-run noise of a fit, in its residual ``space`` (default the law's own: log for losses,
    linear for metrics).

    Where runs repeat a configuration (equal values of every input of the law, e.g. seeds) with at least
    ``MIN_REPLICATE_DOF`` degrees of freedom, it is the pooled standard deviation within configurations
    (``source = "replicates"``): pure noise, free of any lack of fit. Otherwise it is the root mean square
    of the residuals over ``n - p`` degrees of freedom, winsorised at ``WINSOR`` times itself (iterated) so
    that a few wild runs do not set it (``source = "residuals"``): noise plus whatever misfit the law leaves,
    so new-run intervals err on the wide side. (Not the median absolute deviation: the robust fit pulls the
    law through the bulk of the points, which shrinks the central residuals and would understate noise.)

    Example:
        >>> from scalinglaws.laws import get_law
        >>> X = {"flops": np.array([1e18, 1e18, 1e19, 1e19, 1e20, 1e20])}
        >>> r = np.array([0.01, -0.01, 0.02, -0.02, 0.0, 0.0])
        >>> noise = residual_scale(get_law("power"), X, r)
        >>> round(noise["value"], 6), noise["source"], noise["dof"], noise["space"]
        (0.018257, 'replicates', 3, 'log')
    """
    residuals = np.asarray(residuals, dtype=float)
    keys = np.stack([np.round(np.log(np.abs(X[c]) + 1e-300), 9) for c in law.inputs], axis=-1)
    _, config = np.unique(keys, axis=0, return_inverse=True)
    config = config.ravel()
    counts = np.bincount(config)
    means = np.bincount(config, weights=residuals) / counts
    dof = int(np.sum(counts - 1))
    space = space or law.target
    if dof >= MIN_REPLICATE_DOF:
        value = float(np.sqrt(np.sum((residuals - means[config]) ** 2) / dof))
        return {"value": value, "source": "replicates", "dof": dof, "space": space}
    n, p = residuals.size, len(law.params)
    if n <= p:
        return {"value": float("nan"), "source": "residuals", "dof": 0, "space": space}
    squares = residuals**2
    value = float(np.sqrt(np.sum(squares) / (n - p)))
    for _ in range(20):
        value = float(np.sqrt(np.sum(np.minimum(squares, (WINSOR * value) ** 2)) / (n - p)))
    return {"value": value, "source": "residuals", "dof": n - p, "space": space}


def versions() -> dict[str, str]:
    """Versions of the packages that determine a fit's numbers."""
    import scipy

    from scalinglaws import __version__

    return {
        "scalinglaws": __version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
    }


@dataclass(frozen=True)
class FitResult:
    """A fitted law. Learned values end in plain attributes; use :meth:`predict` and :meth:`interval`.

    Attributes:
        law: the law family (a :class:`~scalinglaws.laws.Law`).
        theta: the fitted parameters, in the law's parameter order.
        objective: ``{"kind", "delta", "value", "residuals"}`` of the minimised objective (``residuals``:
            the residual space, see :attr:`residual_space`).
        settings: how the fit was run (method, starts, bootstrap size and method, seed, cluster column,
            level).
        data: source, sha256, number of points, exclusions, FLOP convention, input ranges, target column.
        diagnostics: findings about the fit (:class:`~scalinglaws.fit.diagnostics.Diagnostic`).
        draws: bootstrap parameter draws ``(B, p)``, or None without bootstrap.
        draws_converged: which draws' refits converged.
        starts: ``(theta, objective, converged)`` of every refined start.
    """

    law: Law
    theta: np.ndarray
    objective: dict[str, Any]
    settings: dict[str, Any]
    data: dict[str, Any]
    diagnostics: tuple[Diagnostic, ...]
    draws: np.ndarray | None = None
    draws_converged: np.ndarray | None = None
    starts: tuple[dict[str, Any], ...] = ()
    versions: dict[str, str] = field(default_factory=versions)

    # ----- reading the fit --------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, float]:
        """Fitted parameters by name."""
        return {n: float(v) for n, v in zip(self.law.param_names, self.theta, strict=True)}

    @property
    def converged(self) -> bool:
        return not any(d.code == "not_converged" for d in self.diagnostics)

    @property
    def level(self) -> float:
        return float(self.settings.get("level", 0.95))

    @property
    def residual_space(self) -> str:
        """Where the fit's residuals and noise live: ``"log"`` (relative noise) or ``"linear"``."""
        return str(self.objective.get("residuals", self.law.target))

    def _require_draws(self) -> np.ndarray:
        if self.draws is None or len(self.draws) == 0:
            raise FitError("this fit has no bootstrap draws: refit with bootstrap > 0 for intervals")
        return self.draws

    def intervals(self, level: float | None = None) -> dict[str, tuple[float, float]]:
        """Percentile intervals of every parameter from the bootstrap draws (central, ``level``)."""
        lo, hi = _percentiles(self._require_draws(), level or self.level, axis=0)
        return {n: (float(a), float(b)) for n, a, b in zip(self.law.param_names, lo, hi, strict=True)}

    def _inputs(self, X: Mapping[str, Any] | None, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        merged = {**(X or {}), **inputs}
        self.law.check_inputs(merged)
        return {k: np.atleast_1d(np.asarray(merged[k], dtype=float)) for k in self.law.inputs}

    def predict(self, X: Mapping[str, Any] | None = None, **inputs: Any) -> np.ndarray:
        """Predictions at new inputs, e.g. ``predict(params=7e10, tokens=1.4e12)``."""
        return self.law.predict(self._inputs(X, inputs), self.theta)

    def predict_draws(self, X: Mapping[str, Any] | None = None, **inputs: Any) -> np.ndarray:
        """Predictions under every bootstrap draw: ``(B, n)``."""
        return self.law.predict(self._inputs(X, inputs), self._require_draws())

    @property
    def noise(self) -> dict[str, Any] | None:
        """Run-to-run noise recorded at fit time (:func:`residual_scale`), None for older artifacts."""
        return self.settings.get("residual_scale")

    def predict_interval(
        self,
        X: Mapping[str, Any] | None = None,
        *,
        level: float | None = None,
        kind: PredictionKind = "mean",
        **inputs: Any,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Central ``level`` interval of a prediction, from the bootstrap draws.

        ``kind="mean"``: the expected loss of the recipe (the law's mean: parameter uncertainty only).
        ``kind="new-run"``: the loss one new run of the recipe will show: each draw's prediction convolved
        with the fit's run-to-run noise (:attr:`noise`, normal in the fit's :attr:`residual_space`: log
        space by default for loss laws, linear for metric laws and ``residuals="linear"`` fits), and the
        interval read off that mixture.
        """
        draws = self.predict_draws(X, **inputs)
        level = level or self.level
        if kind == "mean":
            return _percentiles(draws, level, axis=0)
        if kind != "new-run":
            raise FitError(f"unknown prediction kind {kind!r}; use 'mean' or 'new-run'")
        noise = self.noise
        if noise is None or not np.isfinite(noise["value"]):
            raise FitError("this fit has no run-to-run noise estimate: refit it for new-run intervals")
        log_space = noise["space"] == "log"
        with np.errstate(divide="ignore", invalid="ignore"):
            centres = np.log(draws) if log_space else draws
        lo, hi = _mixture_interval(centres, float(noise["value"]), level)
        return (np.exp(lo), np.exp(hi)) if log_space else (lo, hi)

    def summary(self) -> str:
        """A few lines for people: the law with its parameters, intervals and warnings."""
        names = self.law.param_names
        has_draws = self.draws is not None and len(self.draws) > 0
        ints = self.intervals() if has_draws else {}
        lines = [f"law {self.law.name}: {self.law.description}"]
        for n in names:
            v = self.params[n]
            band = f"  [{ints[n][0]:.5g}, {ints[n][1]:.5g}]" if n in ints else ""
            lines.append(f"  {n:>8} = {v:.6g}{band}")
        if ints:
            method = self.settings.get("bootstrap_method", "cluster")
            lines.append(
                f"  ({self.level:.0%} {method}-bootstrap intervals, {len(self.draws)} resamples of "
                f"{self.settings.get('n_clusters')} sizes)"
            )
        space = "" if self.residual_space == self.law.target else f" on {self.residual_space} residuals"
        kind = self.objective["kind"]
        objective = f"{kind}(delta={self.objective['delta']:g})" if kind == "huber" else kind
        lines.append(
            f"  objective {objective}{space} = "
            f"{self.objective['value']:.8g} on {self.data['n_points']} points "
            f"({self.data['n_excluded']} excluded)"
        )
        exclusions = self.data.get("exclusions", [])
        reasons: dict[str, list[str]] = {}
        for row in exclusions:
            reasons.setdefault(str(row.get("reason", "excluded")), []).append(str(row.get("run", "?")))
        for reason, runs in reasons.items():
            more = f" and {len(runs) - 5} more" if len(runs) > 5 else ""
            shown = ", ".join(dict.fromkeys(runs[:5])) + more
            lines.append(f"  excluded {len(runs)} row(s) ({shown}): {reason}")
        for d in self.diagnostics:
            if d.severity != "info":
                lines.append(f"  {d.severity}: {d.message}")
        return "\n".join(lines)

    # ----- artifact -----------------------------------------------------------------------------------
    def to_dict(self, *, include_draws: bool = True) -> dict[str, Any]:
        has_draws = self.draws is not None and len(self.draws) > 0
        doc: dict[str, Any] = {
            "format": FORMAT,
            "law": {
                "name": self.law.name,
                "options": self.law.options,
                "description": self.law.description,
                "params": list(self.law.param_names),
            },
            "params": self.params,
            "level": self.level,
            "intervals": {k: list(v) for k, v in self.intervals().items()} if has_draws else None,
            "objective": self.objective,
            "settings": self.settings,
            "data": self.data,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
            "starts": list(self.starts),
            "versions": self.versions,
        }
        if has_draws:
            doc["bootstrap"] = {
                "n": int(len(self.draws)),
                "converged_fraction": float(np.mean(self.draws_converged)),
                "draws": self.draws.tolist() if include_draws else None,
                "draws_converged": self.draws_converged.tolist() if include_draws else None,
            }
        return doc

    def save(self, path: str | Path) -> Path:
        """Write the artifact as JSON; returns the path."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=True) + "\n")
        except OSError as exc:
            raise ArtifactError(f"{path}: cannot write the fit artifact ({exc.strerror})") from None
        return path

    @classmethod
    def load(cls, path: str | Path) -> FitResult:
        """Read an artifact written by :meth:`save`."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text())
        except FileNotFoundError:
            raise ArtifactError(f"{path}: no such fit file") from None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ArtifactError(f"{path}: not a readable JSON fit artifact ({exc})") from None
        return cls.from_dict(doc, source=str(path))

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, source: str = "<dict>") -> FitResult:
        if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
            found = doc.get("format") if isinstance(doc, Mapping) else type(doc).__name__
            raise ArtifactError(f"{source}: not a {FORMAT} artifact (format: {found!r})")
        try:
            law = get_law(doc["law"]["name"], **doc["law"].get("options", {}))
        except LawError as exc:
            raise ArtifactError(f"{source}: {exc} (register a user-defined law before loading)") from None
        boot = doc.get("bootstrap") or {}
        draws = boot.get("draws")
        return cls(
            law=law,
            theta=np.array([doc["params"][n] for n in law.param_names], dtype=float),
            objective=dict(doc["objective"]),
            settings=dict(doc["settings"]),
            data=dict(doc["data"]),
            diagnostics=tuple(Diagnostic(**d) for d in doc.get("diagnostics", [])),
            draws=None if draws is None else np.array(draws, dtype=float),
            draws_converged=None if draws is None else np.array(boot["draws_converged"], dtype=bool),
            starts=tuple(doc.get("starts", [])),
            versions=dict(doc.get("versions", {})),
        )


def _mixture_interval(centres: np.ndarray, scale: float, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Central interval of the equal mixture of normals ``N(centres[b], scale)`` over draws, per column.

    Solved by bisection on the mixture's distribution function (exact and deterministic, no sampling);
    non-finite draws are ignored. With ``scale = 0`` the mixture is the draws themselves.
    """
    if not scale > 0:
        return _percentiles(centres, level, axis=0)
    tail = (1.0 - level) / 2.0
    ok = np.isfinite(centres)
    count = ok.sum(axis=0)
    filled = np.where(ok, centres, 0.0)
    low = np.where(ok, centres, np.inf).min(axis=0) - 10.0 * scale
    high = np.where(ok, centres, -np.inf).max(axis=0) + 10.0 * scale
    out = []
    for p in (tail, 1.0 - tail):
        a, b = low.copy(), high.copy()
        for _ in range(100):
            mid = 0.5 * (a + b)
            cdf = np.sum(ok * ndtr((mid - filled) / scale), axis=0) / count
            below = cdf < p
            a, b = np.where(below, mid, a), np.where(below, b, mid)
        out.append(0.5 * (a + b))
    return out[0], out[1]


def _percentiles(a: np.ndarray, level: float, axis: int) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < level < 1:
        raise FitError(f"interval level must be in (0, 1), got {level}")
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.nanpercentile(a, [tail, 100.0 - tail], axis=axis)
    return lo, hi
