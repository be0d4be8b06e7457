"""The drug library (signed, editable data) and the checks a therapy must pass against it."""

from idds.drugs.checks import (
    Breach,
    CheckResult,
    HardLimitError,
    Proposal,
    SoftLimitError,
    check_therapy,
    enforce,
)
from idds.drugs.library import (
    ConversionPolicy,
    DoseRange,
    DrugEntry,
    DrugLibrary,
    DrugLimit,
    LibraryError,
    LibraryHolder,
    LimitKind,
    Route,
    load_library,
    reference_library_path,
)
from idds.drugs.overrides import (
    REASON_CODES,
    OverrideReasonError,
    check_reason,
    reason_problem,
)
from idds.drugs.rollback import RollbackError, VersionRecord
from idds.drugs.signing import SignatureError, generate_keypair, sign_file, verify_file
from idds.drugs.truststore import TrustStore, TrustStoreError

__all__ = [
    "REASON_CODES",
    "Breach",
    "CheckResult",
    "ConversionPolicy",
    "DoseRange",
    "DrugEntry",
    "DrugLibrary",
    "DrugLimit",
    "HardLimitError",
    "LibraryError",
    "LibraryHolder",
    "LimitKind",
    "OverrideReasonError",
    "Proposal",
    "RollbackError",
    "Route",
    "SignatureError",
    "SoftLimitError",
    "TrustStore",
    "TrustStoreError",
    "VersionRecord",
    "check_reason",
    "check_therapy",
    "enforce",
    "generate_keypair",
    "load_library",
    "reason_problem",
    "reference_library_path",
    "sign_file",
    "verify_file",
]
