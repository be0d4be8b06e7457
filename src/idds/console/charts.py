"""Charts as inline SVG, drawn on the server (no script needed): the pain diary as
percentile bands over a typical day (the ambulatory glucose profile's layout, Battelino 2019,
docs/references.md: median, 25-75 % and 10-90 % bands by hour) and over weeks, and counts by
hour of day (patient boluses given and refused). Numbers come out with their units beside
them; every chart has a title and a text summary for screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

import numpy as np

#: The percentiles of the bands (AGP: 10, 25, 50, 75, 90).
PERCENTILES = (10, 25, 50, 75, 90)
WIDTH, HEIGHT, PAD = 640, 220, 36


@dataclass(frozen=True)
class Bands:
    """Percentiles (NRS 0-10) of each bin that has data; `labels` name the bins."""

    labels: tuple[str, ...]
    counts: tuple[int, ...]
    values: tuple[tuple[float, ...] | None, ...]  # PERCENTILES of each bin, None: no data


def bands(values_by_bin: Sequence[Sequence[float]], labels: Sequence[str]) -> Bands:
    """The percentile bands of each bin (linear interpolation, numpy's default)."""
    return Bands(tuple(labels), tuple(len(v) for v in values_by_bin), tuple(
        tuple(float(x) for x in np.percentile(np.asarray(v, dtype=float), PERCENTILES))
        if len(v) else None for v in values_by_bin))


def by_hour(entries: Sequence[tuple[datetime, int]]) -> Bands:
    """Pain over a typical day: entries binned by their UTC hour of day."""
    bins: list[list[float]] = [[] for _ in range(24)]
    for at, pain in entries:
        bins[at.hour].append(pain)
    return bands(bins, [f"{h:02d}:00" for h in range(24)])


def by_week(entries: Sequence[tuple[datetime, int]]) -> Bands:
    """Pain over weeks: entries binned by ISO week, oldest first."""
    weeks: dict[tuple[int, int], list[float]] = {}
    for at, pain in sorted(entries):
        year, week, _ = at.isocalendar()
        weeks.setdefault((year, week), []).append(pain)
    return bands(list(weeks.values()), [f"{y}-W{w:02d}" for y, w in weeks])


def _x(i: int, n: int) -> float:
    return PAD + (WIDTH - 2 * PAD) * (i + 0.5) / max(n, 1)


def _y(value: float, top: float) -> float:
    return HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top


def _frame(title: str, summary: str, body: list[str], top: float, unit: str,
           labels: Sequence[str]) -> str:
    n = len(labels)
    ticks = [f'<text x="{PAD - 6}" y="{_y(v, top) + 4:.1f}" text-anchor="end">{v:g}</text>'
             for v in np.linspace(0, top, 6)]
    step = max(1, n // 8)
    xs = [f'<text x="{_x(i, n):.1f}" y="{HEIGHT - PAD + 16}" text-anchor="middle">'
          f'{escape(label)}</text>' for i, label in enumerate(labels) if i % step == 0]
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
            f'<desc>{escape(summary)}</desc>'
            f'<text x="{PAD}" y="14" class="axis-title">{escape(unit)}</text>'
            + "".join(ticks) + "".join(xs) + "".join(body) + "</svg>")


def bands_svg(b: Bands, title: str) -> str:
    """The bands: 10-90 % light, 25-75 % darker, the median as a line; NRS 0-10."""
    n = len(b.labels)
    shown = [(i, v) for i, v in enumerate(b.values) if v is not None]
    if not shown:
        return f'<p class="empty">{escape(title)}: no diary entries yet.</p>'
    body = [f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{_y(3, 10):.1f}" y2="{_y(3, 10):.1f}" '
            'class="target"/>']
    for low, high, css in ((0, 4, "band-outer"), (1, 3, "band-inner")):
        upper = " ".join(f"{_x(i, n):.1f},{_y(v[high], 10):.1f}" for i, v in shown)
        lower = " ".join(f"{_x(i, n):.1f},{_y(v[low], 10):.1f}" for i, v in reversed(shown))
        body.append(f'<polygon class="{css}" points="{upper} {lower}"/>')
    body.append('<polyline class="median" points="' + " ".join(
        f"{_x(i, n):.1f},{_y(v[2], 10):.1f}" for i, v in shown) + '"/>')
    medians = [v[2] for _, v in shown]
    summary = (f"{sum(b.counts)} entries in {len(shown)} of {n} bins; median NRS from "
               f"{min(medians):g} to {max(medians):g} (target: 3 or less)")
    return _frame(title, summary, body, 10, "pain NRS (0-10)", b.labels)


def counts_svg(series: Sequence[tuple[str, str, Sequence[int]]], labels: Sequence[str],
               title: str, unit: str) -> str:
    """Side-by-side bars per bin for each (name, css class, counts) series."""
    n, k = len(labels), len(series)
    top = float(max([1, *[max(c, default=0) for _, _, c in series]]))
    width = (WIDTH - 2 * PAD) / max(n, 1) / (k + 1)
    body = []
    for s, (name, css, counts) in enumerate(series):
        for i, c in enumerate(counts):
            if c:
                x = _x(i, n) - width * k / 2 + s * width
                body.append(f'<rect class="{css}" x="{x:.1f}" y="{_y(c, top):.1f}" '
                            f'width="{width:.1f}" height="{_y(0, top) - _y(c, top):.1f}">'
                            f'<title>{escape(labels[i])}: {c} {escape(name)}</title></rect>')
    summary = "; ".join(f"{name}: {sum(c)} in all" for name, _, c in series)
    return _frame(title, summary, body, top, unit, labels)
