"""The one-page patient summary as a PDF (matplotlib's PDF backend, A4 portrait): who, the
pump and its program, the next refill dates, the pain diary's typical day as percentile
bands (AGP layout) and the time with pain controlled, side effects, open alarms. For the
chart; the same facts as the printable page."""

from __future__ import annotations

import io
from datetime import datetime

import matplotlib

matplotlib.use("Agg")
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from idds.console.patientview import TYPICAL_DAY, PatientPage
from idds.console.render import DISCLAIMER, quantity, when

A4_IN = (8.27, 11.69)


def summary_lines(view: PatientPage, now: datetime) -> list[str]:
    """The report's text, line by line (units beside every number)."""
    p = view.patient
    lines = [f"{p.name}  ({p.identifier}), born {p.birth_date.isoformat()}",
             f"Report of {when(now)}"]
    for pump in view.pumps:
        r = pump.reading
        lines += [f"Pump {pump.implant.pump_serial} ({pump.implant.pump_model}), "
                  f"catheter tip {pump.implant.catheter_tip}",
                  f"  Program: {pump.therapy_text}; daily dose {quantity(pump.daily_dose)}"]
        if r is not None:
            lines.append(f"  Last sync {when(r.read_at)}: battery {r.battery}, ERI in "
                         f"{r.battery_eri_days:,} days")
        lines.append(f"  Next refill: worst case {when(r.refill_due_on if r else None)}, "
                     f"expected {when(pump.refill_expected)}")
    counts = sum(view.diary_day.counts)
    lines.append(f"Pain diary, last {TYPICAL_DAY.days} days: {counts} entries")
    for a, grades in view.assessments[-1:]:
        shown = ", ".join(f"{k} {v}" for k, v in sorted(grades.items())) or "none"
        lines.append(f"Side effects ({when(a.assessed_at)}): grades {shown}")
    open_alarms = [a for a in view.alarms if a.acknowledged_at is None]
    lines.append(f"Alarms not acknowledged: {len(open_alarms)}"
                 + "".join(f"; {a.kind} since {when(a.raised_at)}" for a in open_alarms))
    return lines


def report_pdf(view: PatientPage, now: datetime) -> bytes:
    """The summary as PDF bytes (one page)."""
    fig = Figure(figsize=A4_IN)
    fig.text(0.07, 0.96, "IDDS patient summary", fontsize=16, weight="bold")
    fig.text(0.07, 0.94, DISCLAIMER, fontsize=8, style="italic")
    for i, line in enumerate(summary_lines(view, now)):  # the record's text, never mathtext
        fig.text(0.07, 0.91 - i * 0.022, line, fontsize=9, family="DejaVu Sans",
                 parse_math=False)
    ax = fig.add_axes((0.1, 0.08, 0.85, 0.3))
    shown = [(i, v) for i, v in enumerate(view.diary_day.values) if v is not None]
    if shown:
        xs = [i for i, _ in shown]
        ax.fill_between(xs, [v[0] for _, v in shown], [v[4] for _, v in shown],
                        color="#9ecae1", label="10-90 %")
        ax.fill_between(xs, [v[1] for _, v in shown], [v[3] for _, v in shown],
                        color="#4292c6", label="25-75 %")
        ax.plot(xs, [v[2] for _, v in shown], color="#08306b", label="median")
    ax.axhline(3, color="green", linestyle="--", linewidth=1, label="controlled (NRS 3)")
    ax.set(xlim=(0, 23), ylim=(0, 10), xlabel="hour of day (UTC)", ylabel="pain NRS (0-10)",
           title=f"Pain over a typical day (last {TYPICAL_DAY.days} days)")
    ax.legend(loc="upper right", fontsize=7)
    out = io.BytesIO()
    with PdfPages(out, metadata={"Title": f"IDDS summary {view.patient.identifier}",
                                 "Creator": "IDDS console"}) as pdf:
        pdf.savefig(fig)
    return out.getvalue()
