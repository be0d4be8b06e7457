"""Patient selection for intrathecal therapy: the candidate record, the signed candidacy
criteria and the pure candidacy decision (docs/selection.md)."""

from idds.selection.assess import assess
from idds.selection.criteria import (
    CandidacyCriteria,
    CriteriaError,
    Criterion,
    CriterionKind,
    criteria_version_record,
    load_criteria,
    parse_criteria,
    reference_criteria_path,
)
from idds.selection.patientfile import load_candidate, parse_candidate
from idds.selection.record import (
    CandidateFileError,
    CandidateRecord,
    Coagulation,
    Conditions,
    CurrentRegimen,
    Infection,
    Pain,
    PainDistribution,
    PainType,
    PriorScreen,
    Psychosocial,
    SideEffects,
    parse_duration,
)
from idds.selection.verdict import CandidacyOutcome, CandidacyVerdict, CriterionStatus, Finding

__all__ = [
    "CandidacyCriteria",
    "CandidacyOutcome",
    "CandidacyVerdict",
    "CandidateFileError",
    "CandidateRecord",
    "Coagulation",
    "Conditions",
    "CriteriaError",
    "Criterion",
    "CriterionKind",
    "CriterionStatus",
    "CurrentRegimen",
    "Finding",
    "Infection",
    "Pain",
    "PainDistribution",
    "PainType",
    "PriorScreen",
    "Psychosocial",
    "SideEffects",
    "assess",
    "criteria_version_record",
    "load_candidate",
    "load_criteria",
    "parse_candidate",
    "parse_criteria",
    "parse_duration",
    "reference_criteria_path",
]
