"""What the candidacy assessment says: an outcome, and every criterion with its reason.

The outcome is not called `Verdict` because `idds.control.supervisor.Verdict` is the safety
supervisor's (one name, one thing: tests/architecture).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from idds.selection.criteria import CriterionKind


class CandidacyOutcome(StrEnum):
    """The assessment's answer (docs/selection.md, "Verdicts").

    - IMPLANTED_PUMP: a totally implanted pump (after a positive screening trial, or where
      the criteria allow skipping the trial for a short prognosis);
    - EXTERNAL_CATHETER: an external (tunnelled) catheter system: life expectancy below the
      route cut (about 3 months);
    - SCREENING_TRIAL_FIRST: a candidate; a screening trial decides the implant;
    - DEFERRED: a candidate otherwise, but not now: each relative contraindication met is a
      thing to fix first (`CandidacyVerdict.to_fix`), then assess again;
    - NOT_A_CANDIDATE: an absolute contraindication, no indication, or a negative screen.
    """

    IMPLANTED_PUMP = "implanted pump"
    EXTERNAL_CATHETER = "external catheter"
    SCREENING_TRIAL_FIRST = "screening trial first"
    DEFERRED = "deferred"
    NOT_A_CANDIDATE = "not a candidate"


class CriterionStatus(StrEnum):
    """Whether a criterion holds for the patient: a contraindication met is present, an
    indication met is fulfilled, a route rule met applies."""

    MET = "met"
    NOT_MET = "not met"
    NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True)
class Finding:
    """One criterion applied to one patient: what value met (or did not meet) what threshold,
    and where the rule comes from; `fix` is what would lift a relative contraindication."""

    criterion: str
    kind: CriterionKind
    status: CriterionStatus
    value: str
    threshold: str
    reason: str
    source: str
    assumption: str = ""
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        return {"criterion": self.criterion, "kind": self.kind.label,
                "status": self.status.value, "value": self.value, "threshold": self.threshold,
                "reason": self.reason, "source": self.source, "assumption": self.assumption,
                "fix": self.fix}


@dataclass(frozen=True)
class CandidacyVerdict:
    """The outcome, the criteria that decided it (ids, in order), every finding, and what to
    fix first for a deferred patient."""

    outcome: CandidacyOutcome
    summary: str
    deciding: tuple[str, ...]
    findings: tuple[Finding, ...]
    to_fix: tuple[str, ...]
    criteria_name: str
    criteria_version: str

    def finding(self, criterion: str) -> Finding:
        return next(f for f in self.findings if f.criterion == criterion)

    @property
    def reasons(self) -> tuple[str, ...]:
        """The deciding criteria's reasons, each with its criterion id."""
        return tuple(f"{c}: {self.finding(c).reason}" for c in self.deciding)

    @property
    def indication(self) -> dict[str, CriterionStatus]:
        """Each indication criterion and whether it is met."""
        return {f.criterion: f.status for f in self.findings
                if f.kind is CriterionKind.INDICATION}

    def as_json(self) -> dict[str, object]:
        return {
            "outcome": self.outcome.value,
            "summary": self.summary,
            "deciding": list(self.deciding),
            "reasons": list(self.reasons),
            "indication": {k: v.value for k, v in self.indication.items()},
            "to_fix": list(self.to_fix),
            "criteria": {"name": self.criteria_name, "version": self.criteria_version},
            "findings": [f.as_json() for f in self.findings],
        }
