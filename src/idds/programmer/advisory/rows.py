"""The advice as screen rows and as plain data: what the CLI and the console show.

`setting_rows`: (setting, current, recommended, to program), the basal dose per DAY and per
HOUR on separate labelled rows; `flex_rows`: the basal rate by hour when any column has a flex
shape; `advice_summary`: the advice as JSON-ready data (CLI `--json` and the device log).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from idds.control.advice import Setting
from idds.control.prescription import HOURS
from idds.programmer.advisory.run import AdvisoryRun
from idds.programmer.therapyform import hourly_mg, is_flat


def _mg(x: float, unit: str) -> str:
    return f"{x:.4g} {unit}"


def setting_rows(run: AdvisoryRun) -> list[tuple[str, str, str, str]]:
    """(setting, current, recommended, to program) rows; per DAY and per HOUR separate."""
    a = run.advice
    out: list[tuple[str, str, str, str]] = []

    def row(name: str, get: Callable[[Setting], str]) -> None:
        out.append((name, get(a.current), get(a.recommended), get(a.allowed)))

    def mode(s: Setting) -> str:
        if s.daily_mg <= 0:
            return "stopped"
        return "continuous" if is_flat(s.flex) else "flex (see by hour)"

    row("Basal dose per DAY (mg/day)", lambda s: _mg(s.daily_mg, "mg/day"))
    row("Basal dose per HOUR (mg/h)", lambda s: _mg(s.daily_mg / 24, "mg/h"))
    row("Mode", mode)
    row("Patient bolus dose (mg)",
        lambda s: _mg(s.bolus_mg, "mg") if s.max_boluses_per_day else "off")
    row("Lockout (min)", lambda s: f"{s.lockout_min:g} min" if s.max_boluses_per_day else "-")
    row("Max boluses per 24 h", lambda s: str(s.max_boluses_per_day))
    row("Most per day (basal + all boluses)",
        lambda s: _mg(s.daily_mg + s.bolus_mg * s.max_boluses_per_day, "mg/day"))
    program = run.proposed.describe() if run.changes else "(no change)"
    out.append(("Program sent on acceptance", run.current.describe(), "-", program))
    return out


def flex_rows(run: AdvisoryRun) -> list[tuple[str, str, str, str]]:
    """(hour, current, recommended, to program) basal rates by hour of day as mg/day rates
    with the multiplier; empty when no column has a flex shape."""
    a = run.advice
    shaped = [s for s in (a.current, a.recommended, a.allowed)
              if s.daily_mg > 0 and not is_flat(s.flex)]
    if not shaped:
        return []
    sent = hourly_mg(run.proposed)

    def cell(s: Setting, h: int) -> str:
        return f"{s.daily_mg * s.flex[h]:.3f} mg/day rate (x{s.flex[h]:.2f})"

    return [(f"{h:02d}:00", cell(a.current, h), cell(a.recommended, h),
             f"{sent[h]:.3f} mg/day rate") for h in range(HOURS)]


def advice_summary(run: AdvisoryRun) -> dict[str, Any]:
    """The advice as plain data (JSON output and the device log)."""
    a = run.advice

    def setting(s: Setting) -> dict[str, Any]:
        return {"daily_mg_per_day": round(s.daily_mg, 6),
                "hourly_mg_per_h": round(s.daily_mg / 24, 6),
                "flex": [round(m, 4) for m in s.flex], "bolus_mg": round(s.bolus_mg, 6),
                "lockout_min": s.lockout_min, "max_boluses_per_day": s.max_boluses_per_day}

    return {
        "pump": run.status.pump_id,
        "controller": run.controller,
        "pump_day": a.day,
        "current": setting(a.current),
        "recommended": setting(a.recommended),
        "allowed": setting(a.allowed),
        "reason": a.reason.name.lower(),
        "reason_text": a.reason_text,
        "verdict": a.verdict.name.lower(),
        "limits": list(a.limits),
        "interlock": list(run.interlock),
        "predicted_nrs": None if a.predicted_nrs is None else round(a.predicted_nrs, 2),
        "explanation": None if run.explanation is None else run.explanation.as_json(),
        "data": list(run.data_notes),
        "program": run.proposed.describe() if run.changes else None,
        "state_resumed": run.resumed,
    }


