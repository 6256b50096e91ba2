"""Several trained forecasters used as one: the quantiles of their forecasts averaged.

Seeds of one recipe differ by more than most changes to it (BENCHMARKS.md); averaging the members'
quantile forecasts (which keeps them non-crossing) removes that lottery. An ensemble is saved as a
manifest ``X.json`` (format ``scalinglaws.forecast-ensemble/1``, the members' names, the first member's
config and an optional interval calibration, :mod:`scalinglaws.forecast.calibration`) beside the
members' own ``X-<i>.pt`` + ``X-<i>.json``; :func:`load_forecaster` reads either kind.

Example:
    >>> from scalinglaws.forecast.neural import ForecasterConfig, Forecaster
    >>> cfg = ForecasterConfig(d_model=16, n_layers=1, n_heads=2, d_ff=32)
    >>> ens = ForecasterEnsemble([Forecaster.new(cfg, seed=0), Forecaster.new(cfg, seed=1)])
    >>> ens.quantiles, len(ens.members)
    ((0.1, 0.25, 0.5, 0.75, 0.9), 2)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scalinglaws.errors import ArtifactError
from scalinglaws.forecast.calibration import IntervalCalibration
from scalinglaws.forecast.data import Problem
from scalinglaws.forecast.errors import ForecastError
from scalinglaws.forecast.neural import Forecaster, ForecasterConfig, shipped_weights

__all__ = ["ENSEMBLE_FORMAT", "ForecasterEnsemble", "load_forecaster"]

ENSEMBLE_FORMAT = "scalinglaws.forecast-ensemble/1"


class ForecasterEnsemble:
    """Forecasters of the same quantiles and inputs whose forecasts are averaged quantile by quantile.

    Args:
        members: the forecasters.
        calibration: interval factors per task group applied to the averaged forecast
            (:mod:`scalinglaws.forecast.calibration`), or None.
    """

    def __init__(self, members: Sequence[Forecaster], calibration: IntervalCalibration | None = None) -> None:
        if not members:
            raise ForecastError("an ensemble needs at least one forecaster")
        first = members[0].config
        for m in members[1:]:
            c = m.config
            if (c.quantiles, c.loss_context, c.profile, c.profile_length) != (
                first.quantiles,
                first.loss_context,
                first.profile,
                first.profile_length,
            ):
                raise ForecastError("ensemble members must share quantiles, context losses and profile input")
        self.members = list(members)
        self.calibration = calibration

    @property
    def config(self) -> ForecasterConfig:
        """The first member's config (the inputs every member takes)."""
        return self.members[0].config

    @property
    def quantiles(self) -> tuple[float, ...]:
        return self.config.quantiles

    def check_profile(self, profile: np.ndarray | None) -> np.ndarray | None:
        return self.members[0].check_profile(profile)

    def predict(self, problems: Sequence[Problem], profile: np.ndarray | None = None, **kw: Any) -> list:
        """The mean over members of :meth:`Forecaster.predict` (per problem: targets x quantiles), with the
        calibration's interval factors applied."""
        preds = [m.predict(problems, profile=profile, **kw) for m in self.members]
        out = [np.mean(np.stack(parts), axis=0) for parts in zip(*preds, strict=True)]
        if self.calibration is None:
            return out
        return [
            self.calibration.apply(q, self.quantiles, str(p.key[1]) if len(p.key) > 1 else "")
            for p, q in zip(problems, out, strict=True)
        ]

    def n_parameters(self) -> int:
        return sum(m.n_parameters() for m in self.members)

    def save(self, path: str | Path) -> Path:
        """Write the members as ``<path>-<i>.pt/.json`` and the manifest ``<path>.json``; returns it."""
        base = Path(path)
        base = base.with_suffix("") if base.suffix in (".pt", ".json") else base
        names = []
        for i, m in enumerate(self.members):
            m.save(base.with_name(f"{base.name}-{i}"))
            names.append(f"{base.name}-{i}")
        doc: dict[str, Any] = {"format": ENSEMBLE_FORMAT, "members": names, "config": self.config.to_dict()}
        if self.calibration is not None:
            doc["calibration"] = self.calibration.to_dict()
        base.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
        return base.with_suffix(".json")

    def __repr__(self) -> str:
        return f"ForecasterEnsemble({len(self.members)} x {self.members[0]!r})"


def load_forecaster(path: str | Path | None = None) -> Forecaster | ForecasterEnsemble:
    """A saved forecaster or ensemble (``X.json``, with ``X.pt`` for a single model); None: the shipped
    Pythia model.

    Example:
        >>> type(load_forecaster()).__name__ in ("Forecaster", "ForecasterEnsemble")
        True
    """
    base = Path(path) if path is not None else shipped_weights() / "pythia"
    base = base.with_suffix("") if base.suffix in (".pt", ".json") else base
    manifest = base.with_suffix(".json")
    try:
        doc = json.loads(manifest.read_text()) if manifest.is_file() else {}
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{manifest}: unreadable forecaster config ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != ENSEMBLE_FORMAT:
        return Forecaster.load(base)
    members = doc.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
        raise ArtifactError(f"{manifest}: an ensemble manifest needs a non-empty 'members' list of names")
    calibration = None
    if doc.get("calibration") is not None:
        try:
            calibration = IntervalCalibration.from_dict(doc["calibration"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{manifest}: unreadable interval calibration ({exc})") from None
    return ForecasterEnsemble([Forecaster.load(base.with_name(m)) for m in members], calibration)
