"""The report: sections built from result objects, rendered to one self-contained HTML page plus a JSON file
beside it with every number the page shows.

Extension point: a capability registers a builder for its result type with
:func:`register_section_builder`; then ``Report().add(its_result)`` (or ``write_report(path, ...,
its_result)``) adds its sections. A builder returns :class:`Section` objects made of
:mod:`~scalinglaws.report.blocks`; numbers shown must be :class:`~scalinglaws.report.blocks.Num` /
``Est`` whose values also appear in the section's ``numbers`` (what goes into ``report.json``).

Example:
    >>> from scalinglaws.report.blocks import Card, Num, Text
    >>> s = Section("notes", "Notes", [Text("seed ", Num(7, "int"))], numbers={"seed": 7},
    ...             summary=[Card("Seed", [Text(Num(7, "int"))])])
    >>> page = Report(title="Demo").add(s).html()
    >>> 'data-value="7"' in page and "http://" not in page and "https://" not in page
    True
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scalinglaws.errors import ArtifactError, ScalingLawsError
from scalinglaws.report.blocks import Block, Card, FigureBlock
from scalinglaws.report.page import page

__all__ = [
    "FORMAT",
    "Report",
    "Section",
    "register_section_builder",
    "write_report",
]

FORMAT = "scalinglaws.report/1"

Builder = Callable[..., "Section | Sequence[Section]"]
_BUILDERS: list[tuple[type | str, Builder]] = []


@dataclass
class Section:
    """One part of the report.

    Attributes:
        id: anchor of the section (made unique within a report).
        title: heading.
        blocks: the body (:mod:`~scalinglaws.report.blocks`).
        numbers: every number the section shows (JSON-ready), written to ``report.json``.
        summary: cards this section adds to the summary at the top of the page.
        kind: what produced it (``fit``, ``plan``, ``backtest``, ...).
    """

    id: str
    title: str
    blocks: Sequence[Block] = ()
    numbers: dict[str, Any] = field(default_factory=dict)
    summary: Sequence[Card] = ()
    kind: str = "section"


def register_section_builder(kind: type | str, builder: Builder) -> None:
    """Make :meth:`Report.add` turn objects of ``kind`` (a class, or a class name ``"module.Class"``
    matched without importing it) into sections with ``builder(obj, **options)``. Later registrations
    win over earlier ones.
    """
    _BUILDERS.insert(0, (kind, builder))


def _builder_for(obj: Any) -> Builder:
    names = {f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__}
    for kind, builder in _BUILDERS:
        if (isinstance(kind, str) and kind in names) or (isinstance(kind, type) and isinstance(obj, kind)):
            return builder
    raise ScalingLawsError(
        f"the report has no section for {type(obj).__name__} objects (register one with "
        "scalinglaws.report.register_section_builder)"
    )


def _fit_builder(obj: Any, **options: Any) -> list[Section]:
    from scalinglaws.report.fit_section import fit_sections

    return fit_sections(obj, **options)


def _forecast_builder(obj: Any, **options: Any) -> list[Section]:
    from scalinglaws.report.forecast_section import forecast_sections

    return forecast_sections(obj, **options)


def _backtest_builder(obj: Any, **options: Any) -> list[Section]:
    from scalinglaws.report.backtest_section import backtest_sections

    return backtest_sections(obj, **options)


register_section_builder("scalinglaws.fit.result.FitResult", _fit_builder)
register_section_builder("scalinglaws.forecast.result.ForecastSet", _forecast_builder)
register_section_builder("scalinglaws.backtest.report.BacktestResult", _backtest_builder)


@dataclass
class Report:
    """A report under construction: add result objects or sections, then :meth:`write`."""

    title: str = "Scaling-law report"
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def add(self, obj: Any, **options: Any) -> Report:
        """Add a :class:`Section`, or the sections built from a result object (a ``FitResult``, a
        ``ForecastSet``, a ``BacktestResult``, or any type with a registered builder); ``options`` go to the
        builder (for a fit: ``data``, ``compute``, ``predictions``, ``level``, ``figures``)."""
        if isinstance(obj, Section):
            built: Sequence[Section] = [obj]
        else:
            options.setdefault("index", 1 + sum(s.kind == "fit" for s in self.sections))
            out = _builder_for(obj)(obj, **options)
            built = [out] if isinstance(out, Section) else list(out)
        taken = {s.id for s in self.sections}
        for s in built:
            base, n = s.id, 2
            while s.id in taken:
                s.id, n = f"{base}-{n}", n + 1
            taken.add(s.id)
            self.sections.append(s)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The JSON document written beside the page: every number shown, by section."""
        from scalinglaws.fit.result import versions

        return {
            "format": FORMAT,
            "title": self.title,
            "subtitle": self.subtitle,
            "versions": versions(),
            "sections": [
                {"id": s.id, "kind": s.kind, "title": s.title, "numbers": s.numbers} for s in self.sections
            ],
        }

    def html(self, json_name: str = "report.json") -> str:
        """The self-contained page (inline styles and SVG figures; no scripts, no external resources)."""
        if not self.sections:
            raise ScalingLawsError("the report is empty: add a fit or a section first")
        keys: set[str] = set()
        for s in self.sections:  # unique figure keys, hence unique SVG element ids
            for b in s.blocks:
                if isinstance(b, FigureBlock):
                    b.key = f"{s.id}-{b.key}" if not b.key.startswith(s.id) else b.key
                    while b.key in keys:
                        b.key += "-x"
                    keys.add(b.key)
        cards = sorted((c for s in self.sections for c in s.summary), key=lambda c: c.rank)
        body = [
            (s.id, s.title, "".join(b.html() for b in s.blocks)) for s in self.sections
        ]
        return page(
            title=self.title,
            subtitle=self.subtitle,
            cards="".join(c.html() for c in cards),
            sections=body,
            json_name=json_name,
        )

    def write(self, path: str | Path, json_path: str | Path | None = None) -> tuple[Path, Path]:
        """Write the page to ``path`` and its numbers to ``json_path`` (default: ``report.json`` beside it,
        or ``<stem>.json`` when the page is not named ``report.html``). Returns both paths."""
        path = Path(path)
        json_path = Path(json_path) if json_path else path.with_name(
            "report.json" if path.name == "report.html" else f"{path.stem}.json"
        )
        check_writable(path)
        text = self.html(json_name=os.path.relpath(json_path, path.parent))
        doc = json.dumps(self.to_dict(), indent=1, allow_nan=True, default=_json_default) + "\n"
        for target, content in ((path, text), (json_path, doc)):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8")
            except OSError as exc:
                raise ArtifactError(f"{target}: cannot write the report ({exc.strerror or exc})") from None
        return path, json_path


def check_writable(path: Path) -> None:
    """Raise :class:`ArtifactError` (one line) when ``path`` cannot be written as a file."""
    path = Path(path)
    if path.is_dir():
        raise ArtifactError(f"{path}: is a directory; give a file name such as {path / 'report.html'}")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ArtifactError(f"{path}: cannot write the report ({parent} is not a directory)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ArtifactError(f"{path}: cannot write the report (no write permission in {parent})")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_report(
    path: str | Path, *results: Any, title: str = "Scaling-law report", subtitle: str = "", **options: Any
) -> tuple[Path, Path]:
    """Build a report from result objects (fits, or anything with a registered builder) and write it with
    its JSON beside it; ``options`` go to every builder (builders ignore options they do not know).
    Returns the two paths."""
    report = Report(title=title, subtitle=subtitle)
    for r in results:
        report.add(r, **options)
    return report.write(path)
