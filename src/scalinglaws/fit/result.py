"""The fit result and its JSON artifact.

A :class:`FitResult` holds everything needed to use, audit and reproduce a fit: the law, the parameters, the
bootstrap draws, the objective and settings, a hash and summary of the data, the diagnostics and the
versions. ``save`` writes it as plain JSON (floats written with ``repr``, so reloading is bit-identical) and
``load`` reads it back.

Artifact format ``scalinglaws.fit/1`` (keys): ``format``, ``law`` (name, options, parameter names),
``params``, ``intervals`` + ``level``, ``objective`` (kind, delta, value), ``settings``, ``data`` (source,
sha256, points, exclusions, FLOP convention, input ranges), ``diagnostics``, ``bootstrap`` (draws, seed,
clusters), ``starts``, ``versions``.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scalinglaws.errors import ArtifactError, FitError, LawError
from scalinglaws.fit.diagnostics import Diagnostic
from scalinglaws.laws import get_law
from scalinglaws.laws.base import Law

__all__ = ["FORMAT", "FitResult", "versions"]

FORMAT = "scalinglaws.fit/1"


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
        objective: ``{"kind", "delta", "value"}`` of the minimised objective.
        settings: how the fit was run (method, starts, bootstrap size, seed, cluster column, level).
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

    def predict_interval(
        self, X: Mapping[str, Any] | None = None, *, level: float | None = None, **inputs: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """Central ``level`` interval of the expected prediction (the law's mean), from the draws."""
        return _percentiles(self.predict_draws(X, **inputs), level or self.level, axis=0)

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
            lines.append(
                f"  ({self.level:.0%} cluster-bootstrap intervals, {len(self.draws)} resamples of "
                f"{self.settings.get('n_clusters')} sizes)"
            )
        lines.append(
            f"  objective {self.objective['kind']}(delta={self.objective['delta']:g}) = "
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


def _percentiles(a: np.ndarray, level: float, axis: int) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < level < 1:
        raise FitError(f"interval level must be in (0, 1), got {level}")
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.nanpercentile(a, [tail, 100.0 - tail], axis=axis)
    return lo, hi
