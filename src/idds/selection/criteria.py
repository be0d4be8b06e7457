"""The candidacy criteria: editable, versioned, signed data, like the drug library.

The reference file is `idds/selection/data/criteria.toml` with its signature `criteria.toml.sig`
(Ed25519 over the canonical encoding, `idds.drugs.signing`). A hospital edits a copy, signs it
with its own key and lists the public key in its site trust store; `load_criteria` verifies
every file with the drug library's own `verify_file` against the same `TrustStore`, so an
unsigned, tampered or untrusted criteria file is refused (`SignatureError`), and, as for the
library, a version never goes back: the CLI records the newest version accepted per criteria
name in ~/.idds/criteria-version.json and refuses an older one (`RollbackError`).

Each `[[criterion]]` has an `id` IDDS knows (`SPEC`), a `kind`, its `thresholds` (quantities
as text with units, scores as whole numbers, ratios as decimal text: signed data has no bare
floats), the `text` of the rule, its `source`, and, where a number is not from the sources,
an `assumption` saying so and why. A contraindication's kind may be set absolute or relative
by the site; the other kinds are fixed. Every known criterion must be present, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

from idds.drugs.rollback import RollbackError, VersionRecord, parse_version
from idds.drugs.signing import verify_file
from idds.drugs.truststore import TrustStore
from idds.errors import IddsError
from idds.selection.record import parse_duration
from idds.units import Kind, Quantity, UnitError, parse_quantity
from idds.units.numbers import parse_decimal


class CriteriaError(IddsError):
    """A criteria file that is malformed: unknown or missing criterion, bad threshold."""


class CriterionKind(StrEnum):
    """What a criterion does in the decision (docs/selection.md, "Verdicts")."""

    ABSOLUTE = "absolute"          # absolute contraindication: excludes
    RELATIVE = "relative"          # relative contraindication: not now, fix first
    INDICATION = "indication"      # one of the indications must be met
    ROUTE = "route"                # chooses external catheter or implanted pump
    SCREENING = "screening"        # the screening-trial rules
    CONSIDERATION = "consideration"  # shown and weighed by the team, never decides alone

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    CriterionKind.ABSOLUTE: "absolute contraindication",
    CriterionKind.RELATIVE: "relative contraindication",
    CriterionKind.INDICATION: "indication",
    CriterionKind.ROUTE: "route rule",
    CriterionKind.SCREENING: "screening rule",
    CriterionKind.CONSIDERATION: "consideration",
}

#: Threshold value types: a whole-number score, a yes/no, a decimal ratio, or a quantity.
SCORE, FLAG, RATIO = "score", "flag", "ratio"
TIME = "time"
Threshold = int | bool | Fraction | Quantity

_CONTRA = (CriterionKind.ABSOLUTE, CriterionKind.RELATIVE)
#: Every criterion IDDS evaluates: the kinds it may have and its thresholds' types.
SPEC: dict[str, tuple[tuple[CriterionKind, ...], dict[str, str | Kind]]] = {
    "refractory-pain": ((CriterionKind.INDICATION,),
                        {"pain_nrs_at_least": SCORE, "ome_at_least": Kind.DOSE_RATE}),
    "intolerable-side-effects": ((CriterionKind.INDICATION,),
                                 {"grade_at_least": SCORE, "persistent_grade_at_least": SCORE}),
    "site-infection": (_CONTRA, {}),
    "systemic-infection": (_CONTRA, {}),
    "bleeding-diathesis": (_CONTRA, {}),
    "anticoagulant-not-stopped": (_CONTRA, {}),
    "coagulation-values": (_CONTRA, {"inr_above": RATIO, "platelets_below": SCORE}),
    "respiratory-depression": (_CONTRA, {"side_effect_grade_at_least": SCORE}),
    "gi-obstruction": (_CONTRA, {}),
    "mao-inhibitor": (_CONTRA, {"washout": TIME}),
    "csf-flow-obstruction": (_CONTRA, {}),
    "psychological-stability": (_CONTRA, {}),
    "refill-attendance": (_CONTRA, {}),
    "vertebral-metastases": ((CriterionKind.CONSIDERATION,), {}),
    "performance-status": ((CriterionKind.CONSIDERATION,), {}),
    "life-expectancy-route": ((CriterionKind.ROUTE,), {"external_below": TIME}),
    "screening-trial": ((CriterionKind.SCREENING,),
                        {"observe_at_least": TIME, "pain_reduction_at_least_percent": SCORE}),
    "trial-skip-short-prognosis": ((CriterionKind.SCREENING,),
                                   {"allowed": FLAG, "life_expectancy_below": TIME}),
}
_CRITERION_KEYS = {"id", "kind", "text", "source", "thresholds"}
_OPTIONAL_KEYS = {"assumption"}


@dataclass(frozen=True)
class Criterion:
    """One rule: its id, kind, thresholds (with the text they were written as), the rule's
    words, its source, and the IDDS assumption behind any number the sources do not give."""

    id: str
    kind: CriterionKind
    text: str
    source: str
    thresholds: dict[str, Threshold]
    written: dict[str, str]
    assumption: str = ""

    def quantity(self, key: str) -> Quantity:
        value = self.thresholds[key]
        assert isinstance(value, Quantity), key
        return value

    def score(self, key: str) -> int:
        value = self.thresholds[key]
        assert isinstance(value, int) and not isinstance(value, bool), key
        return value

    def ratio(self, key: str) -> Fraction:
        value = self.thresholds[key]
        assert isinstance(value, Fraction), key
        return value

    def flag(self, key: str) -> bool:
        value = self.thresholds[key]
        assert isinstance(value, bool), key
        return value


@dataclass(frozen=True)
class CandidacyCriteria:
    """A verified criteria file: name, version, issuer, the criteria by id, where it came
    from and the key that signed it."""

    name: str
    version: str
    issued_by: str
    criteria: dict[str, Criterion]
    path: Path
    signed_by: str

    def __getitem__(self, criterion_id: str) -> Criterion:
        return self.criteria[criterion_id]


def reference_criteria_path() -> Path:
    """The reference criteria shipped with the package."""
    return Path(str(resources.files("idds.selection") / "data" / "criteria.toml"))


def load_criteria(path: Path | None = None, trust: TrustStore | None = None,
                  record: VersionRecord | None = None) -> CandidacyCriteria:
    """Verify (signature, against `trust`, default the shipped keys and the site trust store)
    and load a criteria file: `path`, else the reference criteria.

    With `record` (the drug library's anti-rollback record, `idds.drugs.rollback`), criteria
    older than the newest version recorded under their name are refused (`RollbackError`),
    and newer ones are recorded."""
    chosen = path or reference_criteria_path()
    raw, signer = verify_file(chosen, trust or TrustStore.default())
    criteria = parse_criteria(raw, chosen, signer)
    if record is not None:
        record.admit(criteria.name, criteria.version, signer)
    return criteria


def criteria_version_record() -> VersionRecord:
    """The CLI's record of the newest criteria accepted: ~/.idds/criteria-version.json."""
    return VersionRecord(Path.home() / ".idds" / "criteria-version.json")


def parse_criteria(raw: dict[str, Any], origin: Path, signer: str = "") -> CandidacyCriteria:
    """Check the contents of a criteria file (already verified); `CriteriaError` naming the
    file and the criterion for anything wrong."""
    unknown = sorted(set(raw) - {"criteria", "criterion"})
    if unknown:
        raise CriteriaError(f"{origin}: unknown section(s) {unknown[:4]}; allowed: criteria, "
                            "criterion")
    info = raw.get("criteria")
    if not isinstance(info, dict) or set(info) != {"name", "version", "issued_by"} or not all(
            isinstance(v, str) and v for v in info.values()):
        raise CriteriaError(f"{origin}: [criteria] needs exactly name, version and issued_by "
                            "(non-empty text)")
    try:
        parse_version(info["version"])
    except RollbackError as exc:
        raise CriteriaError(f"{origin}: [criteria] version: {exc}") from None
    items = raw.get("criterion")
    if not isinstance(items, list) or not items:
        raise CriteriaError(f"{origin}: no [[criterion]] entries")
    criteria: dict[str, Criterion] = {}
    for index, item in enumerate(items):
        criterion = _criterion(item, f"{origin}: criterion {index + 1}")
        if criterion.id in criteria:
            raise CriteriaError(f"{origin}: criterion {criterion.id!r} is given twice")
        criteria[criterion.id] = criterion
    missing = sorted(set(SPEC) - set(criteria))
    if missing:
        raise CriteriaError(f"{origin}: criterion {missing[0]!r} is missing (every criterion "
                            "IDDS evaluates must be in the file)")
    return CandidacyCriteria(info["name"], info["version"], info["issued_by"], criteria,
                             origin, signer)


def _criterion(item: object, where: str) -> Criterion:
    if not isinstance(item, dict):
        raise CriteriaError(f"{where} is not a table")
    ident = item.get("id")
    if not isinstance(ident, str) or ident not in SPEC:
        raise CriteriaError(f"{where}: id {str(ident)[:40]!r} is not a criterion IDDS "
                            f"evaluates; known: {', '.join(SPEC)}")
    where = f"{where} ({ident})"
    unknown = sorted(set(item) - _CRITERION_KEYS - _OPTIONAL_KEYS)
    missing = sorted(_CRITERION_KEYS - set(item))
    if unknown:
        raise CriteriaError(f"{where}: unknown key(s) {unknown[:4]}")
    if missing:
        raise CriteriaError(f"{where}: {missing[0]} is missing")
    kinds, wanted = SPEC[ident]
    try:
        kind = CriterionKind(item["kind"])
    except ValueError:
        kind = None
    if kind not in kinds:
        raise CriteriaError(f"{where}: kind {str(item['kind'])[:24]!r} is not allowed; "
                            f"allowed: {', '.join(k.value for k in kinds)}")
    assert kind is not None
    for key in ("text", "source", *(("assumption",) if "assumption" in item else ())):
        if not isinstance(item[key], str) or not item[key].strip():
            raise CriteriaError(f"{where}: {key} must be non-empty text")
    given = item["thresholds"]
    if not isinstance(given, dict) or set(given) != set(wanted):
        raise CriteriaError(f"{where}: thresholds must be exactly "
                            f"{sorted(wanted) or 'empty'}, not {sorted(given)[:6]}"
                            if isinstance(given, dict) else f"{where}: thresholds must be a "
                            "table")
    values = {key: _threshold(given[key], kind_of, f"{where}: thresholds.{key}")
              for key, kind_of in wanted.items()}
    return Criterion(ident, kind, item["text"], item["source"], values,
                     {key: str(given[key]).lower() if isinstance(given[key], bool)
                      else str(given[key]) for key in wanted},
                     item.get("assumption", ""))


def _threshold(value: object, kind: str | Kind, where: str) -> Threshold:
    if kind == FLAG:
        if not isinstance(value, bool):
            raise CriteriaError(f"{where} must be true or false")
        return value
    if kind == SCORE:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
            raise CriteriaError(f"{where} must be a whole number 0-100")
        return value
    if not isinstance(value, str):
        raise CriteriaError(f"{where} must be text (a quantity with its unit, or a decimal)")
    try:
        if kind == RATIO:
            return parse_decimal(value, where, low=0, high=100)
        if kind == TIME:
            time = parse_duration(value, where)
        else:
            assert isinstance(kind, Kind)
            time = parse_quantity(value, kind, where)
    except UnitError as exc:
        raise CriteriaError(str(exc) if where in str(exc) else f"{where}: {exc}") from None
    if not time.is_positive():
        raise CriteriaError(f"{where} {value!r} must be above zero")
    return time
