"""The report as a PDF for sharing (matplotlib's PDF backend; no browser or system library).

A4 pages in the HTML report's order: title, disclaimer, methods and interpretation; the
checks against published findings; the tables; then each figure on its own page with its
title and caption; the chosen patient's day view last.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib import pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from idds import DISCLAIMER
from idds.trial.figures import ReportFigure
from idds.trial.tables import Table

A4 = (8.27, 11.69)  # inches
WIDTH_CHARS = 100
LINES_PER_PAGE = 64
Section = tuple[str, list[str]]


def _lines(sections: list[Section]) -> list[tuple[str, bool]]:
    """(text, is_heading) lines of wrapped paragraphs."""
    out: list[tuple[str, bool]] = []
    for heading, paragraphs in sections:
        out.append((heading, True))
        for paragraph in paragraphs:
            out += [(line, False) for line in textwrap.wrap(paragraph, WIDTH_CHARS)]
            out.append(("", False))
    return out


def _text_pages(pdf: PdfPages, title: str, sections: list[Section]) -> None:
    lines = _lines(sections)
    for start in range(0, len(lines), LINES_PER_PAGE):
        fig = plt.figure(figsize=A4)
        if start == 0:
            fig.text(0.07, 0.955, title, fontsize=16, weight="bold")
            fig.text(0.07, 0.935, DISCLAIMER, fontsize=8, color="#8a6d00")
        y = 0.90
        for text, heading in lines[start:start + LINES_PER_PAGE]:
            fig.text(0.07, y, text, fontsize=11 if heading else 8.5,
                     weight="bold" if heading else "normal", family="sans-serif")
            y -= 0.0135
        pdf.savefig(fig)  # type: ignore[no-untyped-call]
        plt.close(fig)


def _table_page(pdf: PdfPages, table: Table) -> None:
    fig = plt.figure(figsize=A4)
    fig.text(0.07, 0.955, table.title, fontsize=13, weight="bold")
    ax = fig.add_axes((0.04, 0.08, 0.92, 0.84))
    ax.set_axis_off()
    rows = [[textwrap.fill(row[0], 48), *row[1:]] for row in table.rows]
    drawn = ax.table(cellText=rows, colLabels=table.header, loc="upper center",
                     cellLoc="left", colLoc="left")
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(6.5 if len(table.header) > 3 else 7.5)
    drawn.auto_set_column_width(list(range(len(table.header))))
    for (row, _), cell in drawn.get_celld().items():
        lines = rows[row - 1][0].count("\n") + 1 if row > 0 else 1
        cell.set_height(0.018 * lines)
    if table.note:
        fig.text(0.07, 0.04, textwrap.fill(table.note, 120), fontsize=7.5)
    pdf.savefig(fig)  # type: ignore[no-untyped-call]
    plt.close(fig)


def _figure_page(pdf: PdfPages, item: ReportFigure) -> None:
    figure: Figure = item.figure
    figure.suptitle(item.title, fontsize=12, weight="bold")
    width, height = figure.get_size_inches()
    caption = textwrap.fill(item.caption, int(width * 15))
    lines = caption.count("\n") + 1
    figure.set_size_inches(width, height + 0.2 * lines + 0.3)
    figure.subplots_adjust(bottom=(0.2 * lines + 0.6) / (height + 0.2 * lines + 0.3))
    figure.text(0.02, 0.01, caption, fontsize=8, va="bottom")
    pdf.savefig(figure)  # type: ignore[no-untyped-call]


def write_pdf(path: Path, title: str, sections: list[Section], tables: list[Table],
              figures: list[ReportFigure]) -> Path:
    """Write the PDF report; `sections` are (heading, paragraphs) of the text pages."""
    with PdfPages(path) as pdf:
        _text_pages(pdf, title, sections)
        for table in tables:
            _table_page(pdf, table)
        for item in figures:
            _figure_page(pdf, item)
        info = pdf.infodict()
        info["Title"] = title
        info["Subject"] = DISCLAIMER
        info["Creator"] = "IDDS"
        info["CreationDate"] = None
        info["ModDate"] = None
    return path
