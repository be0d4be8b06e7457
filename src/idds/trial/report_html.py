"""The report as one self-contained HTML page: inline style, figures as PNG data URIs, so
it opens offline from any folder."""

from __future__ import annotations

import base64
import html
import io

from idds import DISCLAIMER
from idds.trial.figures import ReportFigure
from idds.trial.tables import Table

STYLE = """
body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222;line-height:1.45}
table{border-collapse:collapse;font-size:13px;margin:0.5em 0} td,th{border:1px solid #ccc;
padding:4px 8px;text-align:right;vertical-align:top} th,td:first-child{text-align:left}
th{background:#f4f4f4} small,.note{color:#555;font-size:12px}
.warn{background:#fff3cd;padding:8px;border:1px solid #e0c36b} img{max-width:100%}
figure{margin:1.5em 0} figcaption{font-size:13px;color:#333;max-width:900px}
"""


def png(item: ReportFigure) -> str:
    """The figure as base64 PNG (drawn before the PDF changes its layout)."""
    buffer = io.BytesIO()
    item.figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in table.header)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in table.rows)
    note = f"<p class='note'>{html.escape(table.note)}</p>" if table.note else ""
    return (f"<h2>{html.escape(table.title)}</h2><table><tr>{head}</tr>{rows}</table>{note}")


def _section(heading: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"<h2>{html.escape(heading)}</h2>{body}"


def _figure(item: ReportFigure) -> str:
    return (f"<figure id='fig-{item.name}'><h3>{html.escape(item.title)}</h3>"
            f"<img alt='{html.escape(item.title)}' src='data:image/png;base64,{png(item)}'>"
            f"<figcaption>{html.escape(item.caption)}</figcaption></figure>")


def render_html(title: str, sections: list[tuple[str, list[str]]], tables: list[Table],
                figures: list[ReportFigure]) -> str:
    text = "".join(_section(heading, paragraphs) for heading, paragraphs in sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="warn">{html.escape(DISCLAIMER)} Virtual patients; every parameter and assumption
is documented in docs/physiology.md and docs/trial.md.</p>
{text}{''.join(_table(t) for t in tables)}
<h2>Figures</h2>{''.join(_figure(f) for f in figures)}
</body></html>
"""
