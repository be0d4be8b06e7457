"""Flow accuracy by the trumpet-curve method (IEC 60601-2-24, as summarised in ref, devices).

The pump runs a continuous program at the set rate; the delivered volume (out of the catheter
tip) is sampled every 0.5 min; for observation windows of 2, 5, 11, 19 and 31 min the largest
and smallest percentage deviation of the windowed mean flow from the set rate are found over
the analysis period (the run after its first hour, as in the standard's "second hour"). A low
rate needs a longer run: by default the run lasts at least 2 h and long enough for 60 strokes
after the first hour. The funnel shows the pump's pulsatility (2 uL strokes).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from idds.pump.clock import HOUR, MINUTE
from idds.pump.convert import flow_nl_per_s, volume_q
from idds.pump.firmware import Pump
from idds.pump.hardware import HardwareSpec
from idds.pump.program import Continuous, Drug, Therapy
from idds.units import Quantity

WINDOWS_MIN = (2, 5, 11, 19, 31)
SAMPLE_S = 30
SETTLING_S = HOUR


@dataclass(frozen=True)
class TrumpetRow:
    """Deviation of the windowed mean flow from the set rate, percent."""

    window_min: int
    max_deviation_pct: float
    min_deviation_pct: float


@dataclass(frozen=True)
class TrumpetResult:
    """A trumpet-curve run: set rate, run length (h), overall error and the table."""

    rate: Quantity
    hours: Fraction
    seed: int
    systematic_error: float
    overall_error_pct: float
    rows: tuple[TrumpetRow, ...]
    samples_nl: tuple[int, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "rate": str(self.rate),
            "hours": float(self.hours),
            "seed": self.seed,
            "sample_interval_min": SAMPLE_S / 60,
            "analysis_starts_min": float(SETTLING_S / MINUTE),
            "systematic_error_pct": round(self.systematic_error * 100, 3),
            "overall_error_pct": round(self.overall_error_pct, 3),
            "windows": [
                {"window_min": r.window_min, "max_deviation_pct": round(r.max_deviation_pct, 3),
                 "min_deviation_pct": round(r.min_deviation_pct, 3)}
                for r in self.rows
            ],
        }


def default_hours(rate: Quantity, stroke_nl: int) -> Fraction:
    """At least 2 h, and the first hour plus the time for 60 strokes, rounded up to whole h."""
    flow = flow_nl_per_s(rate, "trumpet rate")
    needed = SETTLING_S + 60 * stroke_nl / flow
    return Fraction(max(2, math.ceil(needed / HOUR)))


def run_trumpet(rate: Quantity, hours: Fraction | None = None, seed: int = 0,
                spec: HardwareSpec | None = None) -> TrumpetResult:
    """Run the pump alone at `rate` (a flow, "0.5 mL/day") and compute the trumpet table."""
    spec = spec or HardwareSpec(stall_hazard_per_day=0.0)
    flow = flow_nl_per_s(rate, "trumpet rate")
    run_h = hours if hours is not None else default_hours(rate, spec.stroke_nl)
    if run_h * HOUR < SETTLING_S + max(WINDOWS_MIN) * MINUTE:
        raise ValueError("a trumpet run needs at least 1 h 31 min")
    pump = Pump.implant(spec, seed=seed)
    drug = Drug("test fluid", Quantity.of(1, "mg/mL"))
    pump.refill(volume_q(spec.reservoir_nl), drug)
    pump.set_therapy(Therapy(Continuous(Quantity.of(rate.value_in("mL/day"), "mg/day"))))
    samples: list[int] = []
    steps = int(run_h * HOUR / SAMPLE_S)
    for k in range(steps + 1):
        pump.advance(k * SAMPLE_S)
        samples.append(pump.hardware.delivered_nl)
    first = int(SETTLING_S / SAMPLE_S)
    set_flow = float(flow)
    rows = []
    for window in WINDOWS_MIN:
        span = window * 60 // SAMPLE_S
        devs = [
            ((samples[j + span] - samples[j]) / (window * 60) - set_flow) / set_flow * 100
            for j in range(first, len(samples) - span)
        ]
        rows.append(TrumpetRow(window, max(devs), min(devs)))
    total = (samples[-1] - samples[first]) / float((len(samples) - 1 - first) * SAMPLE_S)
    return TrumpetResult(rate, run_h, seed, pump.state.systematic_error,
                         (total - set_flow) / set_flow * 100, tuple(rows), tuple(samples))


def write_outputs(result: TrumpetResult, out_dir: Path) -> list[Path]:
    """Write trumpet.csv, trumpet.json and trumpet.png into `out_dir`; return the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, json_path, png_path = (out_dir / f"trumpet.{ext}" for ext in ("csv", "json", "png"))
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["window_min", "max_deviation_pct", "min_deviation_pct"])
        for r in result.rows:
            writer.writerow([r.window_min, f"{r.max_deviation_pct:.3f}",
                             f"{r.min_deviation_pct:.3f}"])
    json_path.write_text(json.dumps(result.as_json(), indent=2) + "\n")
    fig, ax = plt.subplots(figsize=(6, 4))
    windows = [r.window_min for r in result.rows]
    ax.plot(windows, [r.max_deviation_pct for r in result.rows], "o-", label="max deviation")
    ax.plot(windows, [r.min_deviation_pct for r in result.rows], "o-", label="min deviation")
    ax.axhline(result.overall_error_pct, color="grey", ls="--", label="overall error")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("observation window (min)")
    ax.set_ylabel("deviation from set rate (%)")
    ax.set_title(f"Trumpet curve, {result.rate}, {float(result.hours):g} h run")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return [csv_path, json_path, png_path]
