"""Building blocks of the HTML report: numbers, text, tables, notes, figures and summary cards.

Every number on the page is a :class:`Num`, rendered as ``<span class="num" data-value="...">``, so that
tests (and readers) can check that each one is also in the JSON written beside the page. Text is escaped;
only :class:`Raw` passes HTML through.

Example:
    >>> Num(5.76e23).html()
    '<span class="num" data-value="5.76e+23">5.76&#8239;×&#8239;10<sup>23</sup></span>'
    >>> Text("loss ", Est(2.0, 1.9, 2.1)).html()
    '<p>loss <span class="num" data-value="2.0">2</span> <span class="ci">[<span class="num" data-value="1.9">1.9</span>, <span class="num" data-value="2.1">2.1</span>]</span></p>'
"""  # noqa: E501

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = [
    "Block",
    "Card",
    "Details",
    "Est",
    "FigureBlock",
    "Heading",
    "KeyValues",
    "Notes",
    "Num",
    "Raw",
    "Stats",
    "Table",
    "Text",
    "formula_html",
    "svg_of",
]

Style = Literal["auto", "int", "pct", "factor", "sci"]
Severity = Literal["ok", "info", "warning", "error"]


class Block(Protocol):
    """Anything with an ``html()`` method returning a fragment of the page."""

    def html(self) -> str: ...


Part = Any  # str (escaped) or a Block


def render(part: Part) -> str:
    """HTML of a string (escaped), a block, or a sequence of them."""
    if part is None:
        return ""
    if isinstance(part, str):
        return html.escape(part, quote=False)
    if isinstance(part, list | tuple):
        return "".join(render(p) for p in part)
    return part.html()


def _sci(v: float, digits: int) -> str:
    exp = int(math.floor(math.log10(abs(v))))
    mant = float(f"{v / 10.0**exp:.{digits}g}")
    if abs(mant) >= 10:
        mant, exp = mant / 10, exp + 1
    if mant == 1:
        return f"10<sup>{exp}</sup>"
    return f"{mant:.{digits}g}&#8239;×&#8239;10<sup>{exp}</sup>"


@dataclass(frozen=True, slots=True)
class Num:
    """A number on the page: ``auto`` (plain near 1, else ``m × 10^e``), ``int``, ``pct`` (0.95 -> 95%),
    ``factor`` (58×) or ``sci``; ``None`` shows a dash.

    Example:
        >>> [Num(v, s).text() for v, s in ((0.339, "auto"), (1000, "int"), (0.95, "pct"), (57.6, "factor"))]
        ['0.339', '1,000', '95%', '58×']
        >>> Num(5614.2, digits=3).text(), Num(3.2e10, digits=3).text()
        ('5610', '3.2 × 10^10')
    """

    value: float | int | None
    style: Style = "auto"
    digits: int = 4

    def text(self) -> str:
        """The number as it reads (``×10`` with ``^e`` spelt out for the scientific form)."""
        text = re.sub(r"<sup>(-?\d+)</sup>", r"^\1", html.unescape(self._body()))
        return text.replace("\u202f", " ")

    def _body(self) -> str:
        v = self.value
        if v is None:
            return "—"
        if isinstance(v, float) and not math.isfinite(v):
            return "n/a"
        if self.style == "int":
            return f"{int(v):,}"
        if self.style == "pct":
            return f"{100 * v:.{self.digits}g}%"
        if self.style == "factor":
            return f"{v:.2g}×" if abs(v) < 100 else f"{v:,.0f}×"
        if v == 0 or (self.style == "auto" and 1e-3 <= abs(v) < 1e5):
            text = f"{v:.{self.digits}g}"
            return f"{float(text):.0f}" if "e" in text else text
        return _sci(float(v), self.digits)

    def html(self) -> str:
        if self.value is None:
            return '<span class="num none">—</span>'
        return f'<span class="num" data-value="{self.value!r}">{self._body()}</span>'


@dataclass(frozen=True, slots=True)
class Est:
    """A value with its interval: ``2.345 [2.30, 2.38]`` (the interval dropped when ``lo`` is None)."""

    value: float
    lo: float | None = None
    hi: float | None = None
    style: Style = "auto"
    digits: int = 4

    @classmethod
    def of(cls, estimate: Any, style: Style = "auto", digits: int = 4) -> Est:
        """From anything with ``value``, ``lo``, ``hi`` (a plan's :class:`Estimate`) or such a dict."""
        get = estimate.get if isinstance(estimate, dict) else lambda k: getattr(estimate, k)
        return cls(get("value"), get("lo"), get("hi"), style, digits)

    def html(self) -> str:
        point = Num(self.value, self.style, self.digits).html()
        if self.lo is None or self.hi is None:
            return point
        lo, hi = (Num(v, self.style, self.digits).html() for v in (self.lo, self.hi))
        return f'{point} <span class="ci">[{lo}, {hi}]</span>'


@dataclass(frozen=True, slots=True)
class Raw:
    """Trusted HTML passed through unchanged (for extensions that render their own fragments)."""

    markup: str

    def html(self) -> str:
        return self.markup


class Text:
    """A paragraph of strings and inline blocks (:class:`Num`, :class:`Est`, :class:`Raw`)."""

    def __init__(self, *parts: Part, css: str = "") -> None:
        self.parts, self.css = parts, css

    def html(self) -> str:
        cls = f' class="{self.css}"' if self.css else ""
        return f"<p{cls}>{render(self.parts)}</p>"


@dataclass
class Table:
    """A table: header cells and rows of cells (strings or inline blocks); numeric cells align right."""

    header: Sequence[Part]
    rows: Sequence[Sequence[Part]]
    caption: Part = None
    css: str = ""

    def html(self) -> str:
        def cell(tag: str, c: Part, numeric: bool) -> str:
            return f'<{tag}{" class=n" if numeric else ""}>{render(c)}</{tag}>'

        numeric = [bool(self.rows) and all(isinstance(r[i], Num | Est) for r in self.rows)
                   for i in range(len(self.header))]
        head = "".join(cell("th", h, n) for h, n in zip(self.header, numeric, strict=True))
        body = "".join(
            "<tr>" + "".join(cell("td", c, isinstance(c, Num | Est)) for c in row) + "</tr>"
            for row in self.rows
        )
        cap = f"<caption>{render(self.caption)}</caption>" if self.caption is not None else ""
        cls = f' class="{self.css}"' if self.css else ""
        return f'<div class="table-wrap"><table{cls}>{cap}<thead><tr>{head}</tr></thead>' \
               f"<tbody>{body}</tbody></table></div>"


@dataclass
class Stats:
    """Headline numbers as tiles: ``(label, value, note)`` each (value and note: strings or blocks)."""

    items: Sequence[tuple[Part, Part, Part]]

    def html(self) -> str:
        tiles = "".join(
            f'<div class="stat"><div class="label">{render(k)}</div><div class="value">{render(v)}</div>'
            f'<div class="sub">{render(n)}</div></div>'
            for k, v, n in self.items
        )
        return f'<div class="stats">{tiles}</div>'


@dataclass
class Heading:
    """A sub-heading inside a section."""

    text: Part

    def html(self) -> str:
        return f"<h3>{render(self.text)}</h3>"


@dataclass
class KeyValues:
    """Label/value pairs as a compact two-column list."""

    items: Sequence[tuple[Part, Part]]

    def html(self) -> str:
        rows = "".join(f"<dt>{render(k)}</dt><dd>{render(v)}</dd>" for k, v in self.items)
        return f'<dl class="kv">{rows}</dl>'


@dataclass
class Notes:
    """Findings in plain words, each with a severity badge (``ok``, ``info``, ``warning``, ``error``)."""

    items: Sequence[tuple[Severity, Part]]

    def html(self) -> str:
        labels = {"ok": "OK", "info": "Note", "warning": "Warning", "error": "Error"}
        rows = "".join(
            f'<li class="note {sev}"><span class="badge {sev}">{labels[sev]}</span>'
            f"<span>{render(text)}</span></li>"
            for sev, text in self.items
        )
        return f'<ul class="notes">{rows}</ul>'


@dataclass
class Details:
    """A collapsed box (``<details>``, no script): a one-line summary that opens onto more blocks."""

    summary: Part
    blocks: Sequence[Block]

    def html(self) -> str:
        inner = "".join(b.html() for b in self.blocks)
        return f'<details class="more"><summary>{render(self.summary)}</summary>{inner}</details>'


_ID = re.compile(r'\bid="([^"]+)"')


def svg_of(figure: Any) -> str:
    """A matplotlib figure as standalone SVG markup (glyphs as paths, no XML prolog, DOCTYPE or
    metadata, so nothing in it points outside the page)."""
    import matplotlib

    from scalinglaws.report.style import rc

    buf = io.StringIO()
    with matplotlib.rc_context(rc()):
        figure.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)


@dataclass
class FigureBlock:
    """A figure inlined as SVG, with a caption. Build it from a matplotlib figure with :meth:`of`.

    Element ids inside the SVG get ``key`` as a prefix at render time, so several figures coexist in one
    page without clashing references (a :class:`~scalinglaws.report.document.Report` makes keys unique).
    """

    svg: str
    caption: Part = None
    alt: str = ""
    key: str = "figure"

    @classmethod
    def of(cls, figure: Any, caption: Part = None, alt: str = "", key: str = "figure") -> FigureBlock:
        return cls(svg_of(figure), caption, alt, key)

    def html(self) -> str:
        prefix = re.sub(r"[^A-Za-z0-9_-]", "-", self.key)
        svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', self.svg)
        svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)
        svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
        label = html.escape(self.alt)
        width = re.search(r'<svg[^>]*?\swidth="([\d.]+)pt"', svg)
        style = f' style="max-width: {float(width.group(1)) * 125 / 72:.0f}px"' if width else ""
        svg = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"',
                     lambda m: f'<svg{m.group(1)} class="plot" role="img" aria-label="{label}"{style}', svg,
                     count=1)
        cap = f"<figcaption>{render(self.caption)}</figcaption>" if self.caption is not None else ""
        return f'<figure class="fig" data-figure="{html.escape(self.key)}">{svg}{cap}</figure>'


@dataclass
class Card:
    """A box of the summary at the top of the page; cards are shown by ``rank`` (law 10, plan 20,
    predictions 30, diagnostics 40, forecast 42, backtest 45, exclusions 50, anything else 60 by default),
    then in insertion order."""

    title: Part
    blocks: Sequence[Block]
    rank: int = 60
    wide: bool = False

    def html(self) -> str:
        cls = "card wide" if self.wide else "card"
        inner = "".join(b.html() for b in self.blocks)
        return f'<div class="{cls}"><h3>{render(self.title)}</h3>{inner}</div>'


_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "kappa": "κ", "sigma": "σ", "tau": "τ"}


def formula_html(description: str) -> str:
    """A law's description with Greek letters and superscripts (the citation after it left as text).

    Example:
        >>> formula_html("E + A/N^alpha + B/D^beta (Hoffmann et al. 2022)")
        '<span class="formula">E + A/N<sup>α</sup> + B/D<sup>β</sup></span> <span class="cite">(Hoffmann et al. 2022)</span>'
    """  # noqa: E501
    m = re.match(r"^(.*?)\s*(\([^()]*\d{4}[^()]*\))?$", description.strip())
    body, cite = (m.group(1), m.group(2)) if m else (description, None)
    text = html.escape(body, quote=False)
    text = re.sub(r"\^(\([^()]*\)|-?[A-Za-z0-9_']+)", r"<sup>\1</sup>", text)
    text = re.sub(r"\b(" + "|".join(_GREEK) + r")\b", lambda g: _GREEK[g.group(1)], text)
    out = f'<span class="formula">{text}</span>'
    if cite:
        out += f' <span class="cite">{html.escape(cite, quote=False)}</span>'
    return out
