"""The page around the sections: HTML skeleton and inline stylesheet (system fonts, no external resource).

A Content-Security-Policy in the page forbids every fetch (``default-src 'none'``), so even a stray
reference could not reach the network.

Example:
    >>> html = page("T", "", "", [("s", "S", "<p>x</p>")])
    >>> html.startswith("<!doctype html>") and 'id="s"' in html
    True
"""

from __future__ import annotations

import html as _html
from collections.abc import Sequence

from scalinglaws.report.style import INK, MUTED, OKABE_ITO

__all__ = ["CSS", "page"]

CSS = f"""
:root {{ --ink: {INK}; --muted: {MUTED}; --line: #E4E7EB; --bg: #F5F7FA; --accent: {OKABE_ITO["blue"]};
  --ok: {OKABE_ITO["green"]}; --warn: {OKABE_ITO["orange"]}; --err: {OKABE_ITO["vermillion"]}; }}
* {{ box-sizing: border-box; }}
html {{ -webkit-text-size-adjust: 100%; }}
body {{ margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }}
.wrap {{ max-width: 1120px; margin: 0 auto; padding: 0 24px; }}
header.top {{ background: #102A43; color: #F0F4F8; padding: 28px 0 24px; }}
header.top .eyebrow {{ text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: #9FB3C8; }}
header.top h1 {{ margin: 4px 0 6px; font-size: 28px; font-weight: 650; letter-spacing: -.01em; }}
header.top .sub {{ margin: 0; color: #BCCCDC; }}
nav.toc {{ display: flex; flex-wrap: wrap; gap: 6px 18px; padding: 12px 0; font-size: 14px;
  border-bottom: 1px solid var(--line); }}
nav.toc a {{ color: var(--accent); text-decoration: none; }}
nav.toc a:hover {{ text-decoration: underline; }}
main {{ padding-bottom: 40px; }}
h2 {{ font-size: 21px; margin: 34px 0 12px; letter-spacing: -.01em; }}
h3 {{ font-size: 15px; margin: 0 0 10px; text-transform: uppercase; letter-spacing: .05em; color: #334E68; }}
section.part {{ background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 4px 24px 20px;
  margin-top: 22px; }}
section.part > h2 {{ margin-top: 18px; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(330px, 1fr)); gap: 16px; }}
.card {{ background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; }}
.card.wide {{ grid-column: 1 / -1; }}
.card p {{ margin: 6px 0; }}
.formula {{ font: 17px/1.4 "Cambria Math", "STIX Two Math", Georgia, serif; }}
.cite, .muted {{ color: var(--muted); font-size: 13px; }}
.table-wrap {{ overflow-x: auto; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; margin: 6px 0 4px; }}
caption {{ text-align: left; color: var(--muted); font-size: 13px; padding-bottom: 4px; }}
th, td {{ text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }}
th {{ font-weight: 600; color: #334E68; background: #F8FAFC; white-space: nowrap; }}
td.n, th.n {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
.num {{ font-variant-numeric: tabular-nums; }}
.ci {{ color: var(--muted); }}
td .ci {{ display: block; font-size: 12.5px; }}
.stats {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }}
.stat {{ border-left: 3px solid var(--accent); padding: 4px 0 4px 12px; }}
.stat .label {{ font-size: 12.5px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }}
.stat .value {{ font-size: 24px; font-weight: 650; line-height: 1.25; margin: 2px 0; }}
.stat .sub {{ font-size: 13px; color: var(--muted); }}
section.part h3 {{ margin: 22px 0 8px; }}
dl.kv {{ display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 8px 0;
  font-size: 14px; }}
dl.kv dt {{ color: var(--muted); }}
dl.kv dd {{ margin: 0; overflow-wrap: anywhere; }}
ul.notes {{ list-style: none; padding: 0; margin: 4px 0; }}
li.note {{ display: flex; gap: 10px; align-items: baseline; padding: 6px 0;
  border-bottom: 1px solid var(--line); }}
li.note:last-child {{ border-bottom: 0; }}
.badge {{ flex: none; font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .04em;
  padding: 2px 7px; border-radius: 999px; color: #fff; min-width: 64px; text-align: center; }}
.badge.ok {{ background: var(--ok); }}
.badge.info {{ background: #829AB1; }}
.badge.warning {{ background: var(--warn); color: #1F1300; }}
.badge.error {{ background: var(--err); }}
figure.fig {{ margin: 18px 0 8px; }}
figure.fig svg.plot {{ display: block; width: 100%; max-width: 940px; height: auto; margin: 0 auto; }}
figcaption {{ color: var(--muted); font-size: 13.5px; max-width: 900px; margin: 6px auto 0; }}
details.more {{ border: 1px solid var(--line); border-radius: 8px; padding: 4px 12px; margin: 6px 0; }}
details.more > summary {{ cursor: pointer; color: var(--accent); font-size: 14px; padding: 2px 0; }}
footer {{ color: var(--muted); font-size: 13px; padding: 18px 0 36px; border-top: 1px solid var(--line); }}
code {{ font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #EEF2F6;
  padding: 1px 4px; border-radius: 4px; }}
@media print {{ body {{ background: #fff; }} section.part, .card {{ break-inside: avoid; }} }}
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def page(title: str, subtitle: str, cards: str, sections: Sequence[tuple[str, str, str]],
         json_name: str = "report.json") -> str:
    """The full HTML document: header, summary cards, contents, the sections ``(id, title, body)``,
    footer."""
    esc = _html.escape
    toc = "".join(f'<a href="#{esc(i)}">{esc(t)}</a>' for i, t, _ in sections)
    parts = "".join(
        f'<section class="part" id="{esc(i)}"><h2>{esc(t)}</h2>{body}</section>' for i, t, body in sections
    )
    summary = (f'<section id="summary"><h2>Summary</h2><div class="cards">{cards}</div></section>'
               if cards else "")
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><div class="wrap"><div class="eyebrow">scalinglaws report</div>'
        f"<h1>{esc(title)}</h1>" + (f'<p class="sub">{esc(subtitle)}</p>' if subtitle else "") +
        '</div></header><main class="wrap">'
        f'<nav class="toc" aria-label="Contents"><a href="#summary">Summary</a>{toc}</nav>'
        f"{summary}{parts}</main>"
        f'<footer><div class="wrap">Written by scalinglaws. Every number on this page is also in '
        f"<code>{esc(json_name)}</code>, beside this file.</div></footer>"
        "</body></html>\n"
    )
