"""The validation report: every target with its source, target, model value and pass or fail,
as JSON and as a self-contained HTML page with the plots behind the targets."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from idds import DISCLAIMER
from idds.physiology.symptoms import Symptom
from idds.trial.survival import trial_survival
from idds.validation.lab import Lab, single_dose
from idds.validation.targets import KNOWN_FAILURES, Result


def as_json(results: list[Result]) -> dict[str, Any]:
    return {
        "disclaimer": DISCLAIMER,
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
        "targets": [r.as_json() | {"known_failure": KNOWN_FAILURES.get(r.target.key)}
                    for r in results],
    }


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=85, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _single_doses() -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4))
    s = single_dose("opioid-naive", "intrathecal", 0.5, 24.0)
    hours = s.t_min / 60
    left.plot(hours, s.analgesia, label="analgesia (0-1)")
    left.axhline(0.5 * s.analgesia.max(), color="grey", ls=":", lw=0.8)
    left.axvspan(12, 24, color="green", alpha=0.08, label="label: 12-24 h")
    left.set(xlabel="hours after 0.5 mg IT (opioid-naive)", ylabel="analgesia",
             title="Duration of one IT dose")
    left.legend(fontsize=8)
    for arch, regimen in (("typical-tolerant", True), ("opioid-naive", False)):
        od = single_dose(arch, "intrathecal", 50.0, 24.0, 5.0, regimen)
        right.plot(od.t_min / 60, od.respiratory_rate, label=arch)
    right.axhline(4, color="red", ls=":", lw=0.8, label="4/min: life-threatening")
    right.set(xlabel="hours after 50 mg IT", ylabel="breaths/min",
              title="Overdose into the CSF", ylim=(0, 22))
    right.legend(fontsize=8)
    return _png(fig)


def _symptoms(lab: Lab) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.4))
    g = lab.naive_oral_start.grades
    axes[0].plot(np.arange(1, g.shape[0] + 1), 100 * (g[:, Symptom.NAUSEA] >= 1).mean(axis=1),
                 marker="o")
    axes[0].axhline(25, color="grey", ls=":", label="Swegle: ~25% on starting")
    axes[0].set(xlabel="day of 60 mg/day oral (naive)", ylabel="% with nausea",
                title="Nausea and its tolerance")
    axes[0].legend(fontsize=8)
    f = lab.fixed_intrathecal.grades
    days = np.arange(1, f.shape[0] + 1)
    for symptom in (Symptom.PRURITUS, Symptom.URINARY_RETENTION, Symptom.CONSTIPATION):
        axes[1].plot(days, 100 * (f[:, symptom] >= 1).mean(axis=1), label=symptom.label)
    axes[1].set(xlabel="day on the starting IT dose", ylabel="% at grade >= 1",
                title="Spinal side effects resolve")
    axes[1].legend(fontsize=8)
    dose = lab.tolerant.prior_oral_morphine_mg_per_day
    grade = lab.baseline.grades[Symptom.CONSTIPATION]
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, grade.shape)
    axes[2].scatter(dose, grade + jitter, s=4, alpha=0.4)
    axes[2].set(xlabel="prior oral morphine, mg/day", ylabel="constipation grade",
                title="Constipation: no dose relation")
    return _png(fig)


def _brogan(lab: Lab) -> str:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.4))
    h = lab.standard_care.history
    alive = np.isfinite(h["pain_mean"])
    days = np.arange(1, h["pain_mean"].shape[0] + 1)

    def share(mask: np.ndarray) -> np.ndarray:
        out: np.ndarray = 100 * (mask & alive).sum(axis=1) / np.maximum(alive.sum(axis=1), 1)
        return out

    left.plot(days, share((h["oral_programmed_mg_per_day"] <= 0)
                          & (h["rescue_prescribed_mg"] <= 0)), label="off systemic (model)")
    left.plot(days, share(h["plasma_mean"] < 2.0), label="plasma < 2 ng/mL (model)")
    left.scatter([28, 56], [87.5, 92], marker="s", color="C0", label="Brogan: off systemic")
    left.scatter([28, 56], [53, 59], marker="s", color="C1", label="Brogan: undetectable")
    left.set(xlabel="day after implant (it-standard)", ylabel="% of patients alive",
             ylim=(0, 100), title="After the implant")
    left.legend(fontsize=7)
    curve = trial_survival(lab.tolerant.death_day, 365)
    right.step(curve.times, 100 * curve.survival, where="post")
    right.axvline(103, color="grey", ls=":", label="median 103 days (Smith & Coyne)")
    right.axhline(50, color="grey", lw=0.5)
    right.set(xlabel="day", ylabel="% alive", title="Survival of the refractory cohort")
    right.legend(fontsize=8)
    return _png(fig)


def figures(lab: Lab) -> dict[str, str]:
    """The plots behind the targets, base64 PNG by name."""
    return {"single doses": _single_doses(), "symptoms": _symptoms(lab),
            "after the implant and survival": _brogan(lab)}


def render_html(results: list[Result], images: dict[str, str]) -> str:
    rows = []
    for r in results:
        t = r.target
        verdict = "pass" if r.passed else "FAIL"
        note = KNOWN_FAILURES.get(t.key, "")
        rows.append(
            f"<tr class='{verdict.lower()}'><td>{html.escape(t.what)}</td>"
            f"<td>{html.escape(t.source)}</td><td>{html.escape(t.target)}</td>"
            f"<td>{r.value:.4g} {html.escape(t.unit)}</td><td>{t.basis.value}</td>"
            f"<td>{verdict}</td><td>{html.escape(note)}</td></tr>")
    passed = sum(r.passed for r in results)
    figs = "".join(f"<figure><img alt='{html.escape(k)}' src='data:image/png;base64,{v}'>"
                   f"<figcaption>{html.escape(k)}</figcaption></figure>"
                   for k, v in images.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>IDDS model validation</title>
<style>
body{{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;font-size:13px}} td,th{{border:1px solid #ccc;padding:4px 6px}}
th{{background:#f4f4f4;text-align:left}} tr.fail td{{background:#fde2e1}}
.warn{{background:#fff3cd;padding:8px;border:1px solid #e0c36b}} img{{max-width:100%}}
</style></head><body>
<h1>IDDS virtual patients: validation</h1>
<p class="warn">{html.escape(DISCLAIMER)}</p>
<p>{passed} of {len(results)} targets pass. "calibrated": a parameter was set to meet the
target (docs/physiology.md names it); "check": an independent consequence of the model;
"assumption": a figure of this model with no published source. Sources are listed in
docs/references.md.</p>
<table><tr><th>what</th><th>source</th><th>target</th><th>model</th><th>basis</th>
<th>result</th><th>why it fails</th></tr>{''.join(rows)}</table>
<h2>Plots behind the targets</h2>{figs}
</body></html>
"""
