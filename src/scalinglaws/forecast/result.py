"""A set of forecasts with what produced them: :class:`ForecastSet` (what ``scalinglaws forecast --json``
prints, the demo's ``forecast.json`` and what the report draws), its JSON round trip
(:func:`load_forecasts`) and :func:`forecast_set`, which runs the forecaster. Numpy only, except
:func:`forecast_set`, which imports torch.

Example:
    >>> import numpy as np
    >>> f = TaskForecast(("m", "piqa"), np.array([1e9, 2e9]), np.array([.55, .57]), np.array([4e9]),
    ...                  np.array([[.56, .57, .58, .59, .60]]), (0.1, 0.25, 0.5, 0.75, 0.9), np.array([.59]))
    >>> doc = ForecastSet((f,), source="ev.csv", context_fraction=0.5).to_dict()
    >>> back = ForecastSet.from_dict(doc)
    >>> back.runs, back.forecasts[0].q(0.9).tolist(), back.forecasts[0].truth.tolist()
    (['m'], [0.6], [0.59])
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scalinglaws.errors import ArtifactError
from scalinglaws.forecast.api import TaskForecast
from scalinglaws.forecast.data import HELD_OUT_SIZES

__all__ = ["FORMAT", "ForecastSet", "forecast_set", "load_forecasts", "model_info"]

FORMAT = "scalinglaws.forecasts/1"
_KEYS = ("run", "task", "metric", "num_fewshot")
_LEVEL = re.compile(r"^q(\d{2})$")


@dataclass(frozen=True, eq=False)
class ForecastSet:
    """Forecasts of one or more runs' tasks, with the setting that produced them.

    Attributes:
        forecasts: one :class:`~scalinglaws.forecast.api.TaskForecast` per (run, task[, metric, shots]).
        source: the evals table forecast (a file or ``bundled:pythia``).
        context_fraction: the observed part of each run's final tokens (None with ``until``).
        until: forecast up to this many tokens beyond the table (None with a context fraction).
        model: what the forecaster is (:func:`model_info`): ``name``, ``trained_on``, ``held_out_sizes``.
        notes: sentences for the reader (for example why these runs).
    """

    forecasts: tuple[TaskForecast, ...]
    source: str = ""
    context_fraction: float | None = None
    until: float | None = None
    model: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def runs(self) -> list[str]:
        """The runs forecast, in order of first appearance."""
        return list(dict.fromkeys(f.key[0] for f in self.forecasts))

    def held_out(self, run: str) -> bool:
        """Whether ``run``'s size is one the forecaster was kept from seeing in training."""
        sizes = set(self.model.get("held_out_sizes") or ())
        return bool(sizes & set(run.lower().split("-")))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready document (format ``scalinglaws.forecasts/1``)."""
        return {
            "format": FORMAT,
            "source": self.source,
            "context_fraction": self.context_fraction,
            "until": self.until,
            "model": self.model,
            "notes": list(self.notes),
            "forecasts": [f.to_dict() for f in self.forecasts],
        }

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON to ``path``."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, doc: Any, where: str = "forecast document") -> ForecastSet:
        """Rebuild from :meth:`to_dict` output, or from ``scalinglaws forecast --json`` output of any
        version (``{"forecasts": [...]}``). Raises :class:`ArtifactError` naming ``where``."""
        if not isinstance(doc, dict) or not isinstance(doc.get("forecasts"), list):
            raise ArtifactError(f"{where}: not a forecast file (expected the JSON written by `scalinglaws "
                                "forecast --json` or by the demo, with a 'forecasts' list)")
        if not doc["forecasts"]:
            raise ArtifactError(f"{where}: the file holds no forecasts")
        try:
            forecasts = tuple(_task_forecast(f) for f in doc["forecasts"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ArtifactError(f"{where}: a forecast is malformed ({type(exc).__name__}: {exc})") from None
        return cls(
            forecasts,
            source=str(doc.get("source") or ""),
            context_fraction=doc.get("context_fraction"),
            until=doc.get("until"),
            model=dict(doc.get("model") or {}),
            notes=tuple(doc.get("notes") or ()),
        )


def _task_forecast(doc: dict[str, Any]) -> TaskForecast:
    """One :class:`TaskForecast` from its ``to_dict`` form."""
    key = tuple(str(doc[k]) for k in _KEYS if doc.get(k) is not None)
    if len(key) < 2:
        raise ValueError("each forecast needs a run and a task")
    rows = doc["forecast"]
    if not rows:
        raise ValueError(f"{'/'.join(key)} forecasts no checkpoint")
    names = sorted(k for k in rows[0] if _LEVEL.match(k))
    if "q50" not in names:
        raise ValueError(f"{'/'.join(key)} has no median (q50)")
    has_truth = any("truth" in r for r in rows)

    def num(v: Any) -> float:
        return np.nan if v is None else float(v)

    return TaskForecast(
        key,
        np.asarray(doc["context"]["tokens"], float),
        np.asarray(doc["context"]["values"], float),
        np.array([float(r["tokens"]) for r in rows]),
        np.array([[float(r[n]) for n in names] for r in rows]),
        tuple(int(n[1:]) / 100 for n in names),
        np.array([num(r.get("truth")) for r in rows]) if has_truth else None,
    )


def load_forecasts(path: str | Path) -> ForecastSet:
    """Read a forecast file (``scalinglaws forecast --json`` output, or the demo's ``forecast.json``);
    missing, empty or malformed files raise a one-line :class:`ArtifactError` naming the file."""
    path = Path(path)
    if path.is_dir():
        path = path / "forecast.json"
    if not path.is_file():
        raise ArtifactError(f"{path}: no such forecast file (write one with `scalinglaws forecast ... --json "
                            "> forecast.json`)")
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise ArtifactError(f"{path}: the forecast file is empty")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ArtifactError(f"{path}: not a readable JSON forecast file ({exc})") from None
    return ForecastSet.from_dict(doc, str(path))


def model_info(model: str | Path | None = None) -> dict[str, Any]:
    """What a saved forecaster is, read from its config JSON (no torch): ``name``, ``trained_on``,
    ``held_out_sizes`` (the shipped model's) and ``quantiles``; None: the shipped Pythia model."""
    base = Path(model) if model is not None else Path(__file__).resolve().parent / "weights" / "pythia"
    base = base.with_suffix("") if base.suffix in (".pt", ".json") else base
    try:
        config = json.loads(base.with_suffix(".json").read_text())["config"]
    except (OSError, ValueError, KeyError, TypeError):
        config = {}
    return {
        "name": "the shipped Pythia forecaster" if model is None else str(model),
        "trained_on": (config.get("meta") or {}).get("data", ""),
        "held_out_sizes": list(HELD_OUT_SIZES) if model is None else [],
        "quantiles": config.get("quantiles"),
    }


def forecast_set(
    evals: Any,
    *,
    tasks: Sequence[str] | None = None,
    runs: Sequence[str] | None = None,
    context_fraction: float | None = None,
    until: float | None = None,
    points: int = 8,
    profile: Any = None,
    model: str | Path | None = None,
    loss_frame: Any = None,
    notes: Sequence[str] = (),
) -> ForecastSet:
    """Run :func:`~scalinglaws.forecast.api.forecast_evals` (same arguments; imports torch) and keep the
    setting with the forecasts."""
    from scalinglaws.forecast.api import forecast_evals

    out = forecast_evals(evals, tasks=tasks, runs=runs, context_fraction=context_fraction, until=until,
                         points=points, profile=profile, model=model, loss_frame=loss_frame)
    return ForecastSet(tuple(out), source=str(getattr(evals, "source", "")),
                       context_fraction=context_fraction, until=until, model=model_info(model),
                       notes=tuple(notes))
