"""HL7 v2.6 messages as IHE PCD uses them, built and checked with hl7apy (strict validation
of the message structure): the MSH of a PCD-01 (ORU^R01) or PCD-04 (ORU^R40) message, OBX
rows, exact decimals for NM values, HL7 escaping of text, the ACK a receiver answers and its
reading by a sender.

hl7apy's v2.6 tables have no ORU_R40 structure (HL7 added ORU^R40 in v2.7; IHE PCD-04 uses it
over v2.6 with the ORU_R01 groups): an ORU^R40 message is built, parsed and validated as the
ORU_R01 structure it shares, its MSH-9 saying ORU^R40^ORU_R40.

Codes and table values come from `idds.interop.codes`; times are HL7 DTM in UTC
(YYYYMMDDHHMMSS+0000), given by the caller (the store's clock), never read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from hl7apy import find_reference
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Group, Message
from hl7apy.exceptions import HL7apyException
from hl7apy.parser import parse_message

from idds.errors import IddsError
from idds.interop.codes import (
    HL7_ACCEPT_ACK,
    HL7_APPLICATION_ACK,
    HL7_ERROR_APPLICATION,
    HL7_PROCESSING_ID,
    HL7_SENDING_APPLICATION,
    HL7_UCUM,
    HL7_VERSION,
    MDC_DIM,
    LocalHl7Code,
    MdcCode,
    hl7_ucum,
)
from idds.interop.fhir_types import FhirError
from idds.interop.fhir_types import number as exact_decimal
from idds.units import Quantity

SEGMENT_END = "\r"
_STRICT = VALIDATION_LEVEL.STRICT
_TOLERANT = VALIDATION_LEVEL.TOLERANT


class Hl7v2Error(IddsError):
    """A message that cannot be built or read as HL7 v2.6; the message says what and where."""


class AckCode(StrEnum):
    """MSA-1 (HL7 table 0008): accepted, error, rejected."""

    ACCEPTED = "AA"
    ERROR = "AE"
    REJECTED = "AR"


class Trigger(StrEnum):
    """The message types IDDS sends: PCD-01 observations and PCD-04 alarms."""

    PCD_01 = "ORU^R01^ORU_R01"
    PCD_04 = "ORU^R40^ORU_R40"


@dataclass(frozen=True)
class Hl7Message:
    """One ER7 message (segments ended by carriage returns) and its MSH-10 control id."""

    trigger: Trigger
    control_id: str
    text: str


@dataclass(frozen=True)
class Ack:
    """What a receiver answered: MSA-1, MSA-2 (the control id it acknowledges) and its
    text (MSA-3 and any ERR-8, joined)."""

    code: str
    control_id: str
    text: str


def hl7_time(moment: datetime) -> str:
    """HL7 DTM to the second, in UTC: 20261203142209+0000."""
    if moment.tzinfo is None:
        raise Hl7v2Error(f"time {moment.isoformat()} has no time zone: give a UTC time")
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def escaped(value: str) -> str:
    """`value` as HL7 text: the escape character first, then the field, component,
    subcomponent and repetition separators (HL7 v2 chapter 2 escape sequences); line breaks
    become \\.br\\."""
    for char, sequence in (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"),
                           ("~", "\\R\\")):
        value = value.replace(char, sequence)
    return value.replace("\r\n", "\\.br\\").replace("\r", "\\.br\\").replace("\n", "\\.br\\")


def number(q: Quantity, unit: str, what: str) -> str:
    """`q` in `unit` as an HL7 NM value with every digit ("0.35"); a value with no finite
    decimal (1/3) is refused, by the rule of the FHIR export (`fhir_types.number`)."""
    try:
        value = exact_decimal(q.value_in(unit), f"{what} {q} in {unit}")
    except FhirError as exc:
        raise Hl7v2Error(f"{exc}: HL7 v2 NM has no exact form for it, export refused") from None
    return format(value, "f")


def units(unit: str) -> str:
    """OBX-6: the UCUM code first (`ug`, never `mcg`), IDDS's symbol as its text, and the
    MDC_DIM code as the alternate where the IHE PCD example gives one."""
    code = hl7_ucum(unit)
    first = f"{escaped(code)}^{escaped(unit)}^{HL7_UCUM}"
    dim = MDC_DIM.get(unit)
    return f"{first}^{dim.code}^{dim.refid}^MDC" if dim else first


def new_message(trigger: Trigger, control_id: str, at: datetime, profile: str) -> Message:
    """An hl7apy message (strict) with its MSH: IDDS the sending application, `at` the
    message time, `control_id` MSH-10, original-mode acknowledgement (AL/NE), `profile`
    MSH-21."""
    message = Message("ORU_R01", version=HL7_VERSION, validation_level=_STRICT)
    msh = message.msh
    msh.msh_3 = HL7_SENDING_APPLICATION
    msh.msh_7 = hl7_time(at)
    msh.msh_9 = trigger.value
    msh.msh_10 = escaped(control_id)
    msh.msh_11 = HL7_PROCESSING_ID
    msh.msh_12 = HL7_VERSION
    msh.msh_15 = HL7_ACCEPT_ACK
    msh.msh_16 = HL7_APPLICATION_ACK
    msh.msh_21 = profile
    return message


@dataclass(frozen=True)
class Obx:
    """One OBX row: value type (NM, ST, CWE or empty for a containment row), the MDC (or,
    where no MDC term is cited, IDDS's local) observation identifier, the MDS.VMD.CHAN.METRIC
    sub-id, the value (ER7, already escaped) and its units (OBX-6), the result status, the
    interpretation codes (OBX-8, repeated), the time and the equipment instance (OBX-18)."""

    value_type: str
    code: MdcCode | LocalHl7Code
    sub_id: str
    value: str = ""
    unit: str = ""
    status: str = ""
    interpretation: tuple[str, ...] = ()
    at: str = ""
    equipment: str = ""


def add_obx(order: Group, number_: int, row: Obx) -> None:
    """Append `row` as OBX `number_` of the order group (hl7apy checks each field)."""
    obx = order.add_group("ORU_R01_OBSERVATION").obx
    obx.obx_1 = str(number_)
    if row.value_type:
        obx.obx_2 = row.value_type
    obx.obx_3 = row.code.cwe()
    obx.obx_4 = row.sub_id
    for index, value in ((5, row.value), (6, row.unit), (11, row.status), (14, row.at),
                         (18, row.equipment)):
        if value:
            setattr(obx, f"obx_{index}", value)
    for code in row.interpretation:  # OBX-8 repeats
        obx.add_field("OBX_8").value = code


def er7(message: Message) -> str:
    """The message as ER7 once hl7apy's strict validation accepts it."""
    try:
        message.validate()
        return str(message.to_er7())
    except HL7apyException as exc:
        raise Hl7v2Error(f"the {message.msh.msh_9.to_er7()} message does not validate as HL7 "
                         f"v{HL7_VERSION}: {exc}") from None


def _as_parsed(text: str) -> str:
    """ER7 with segments ended by CR, an ORU_R40 read as the ORU_R01 structure it shares."""
    segments = [s for s in text.replace("\r\n", "\r").replace("\n", "\r").split("\r") if s]
    if segments and segments[0].startswith("MSH|"):
        fields = segments[0].split("|")
        if len(fields) > 8 and fields[8] == Trigger.PCD_04.value:
            fields[8] = "ORU^R40^ORU_R01"
            segments[0] = "|".join(fields)
    return SEGMENT_END.join(segments)


def parse(text: str, strict: bool = True) -> Message:
    """An ER7 message read by hl7apy (strictly, with its structure validated, by default);
    `Hl7v2Error` saying why it is not HL7 v2."""
    try:
        message = parse_message(_as_parsed(text), validation_level=_STRICT if strict
                                else _TOLERANT, find_groups=strict)
        if strict:
            find_reference(message.name, (Message,), message.version)  # a known structure
            message.validate()
        return message
    except (HL7apyException, ValueError, IndexError, KeyError) as exc:
        raise Hl7v2Error(f"not an HL7 v2 message hl7apy reads: {exc}") from None


def msh_field(text: str, index: int) -> str:
    """MSH-`index` of an ER7 message as written ("" when absent): enough to answer a
    message hl7apy cannot read."""
    first = text.lstrip("\r\n").split("\r", 1)[0].split("\n", 1)[0]
    if not first.startswith("MSH") or len(first) < 4:
        return ""
    fields = first.split(first[3])
    position = index - 1  # MSH-1 is the separator itself
    return fields[position] if 0 < position < len(fields) else ""


def ack(received: str, code: AckCode, at: datetime, control_id: str,
        error: str | None = None) -> str:
    """The original-mode ACK to `received` (hl7apy): MSA-1 `code`, MSA-2 the received MSH-10,
    MSA-3 and an ERR segment with `error` when it is not accepted; `control_id` the ACK's own
    MSH-10. Validated strictly, unless `received` names no trigger event (not HL7, or an
    MSH-9 without one): then MSH-9 is `ACK` alone, which v2.6 strictly would not take."""
    event = msh_field(received, 9).split("^")
    known = len(event) > 1 and event[1].isalnum()
    message = Message("ACK", version=HL7_VERSION, validation_level=_STRICT if known
                      else _TOLERANT)
    msh = message.msh
    msh.msh_3 = escaped(HL7_SENDING_APPLICATION)
    msh.msh_7 = hl7_time(at)
    msh.msh_9 = f"ACK^{event[1]}^ACK" if known else "ACK"
    msh.msh_10 = escaped(control_id)
    msh.msh_11 = HL7_PROCESSING_ID
    msh.msh_12 = HL7_VERSION
    message.msa.msa_1 = code.value
    received_id = msh_field(received, 10)
    if received_id:
        message.msa.msa_2 = received_id
    if error:
        message.msa.msa_3 = escaped(error[:80])
        err = message.add_segment("ERR")
        err.err_3 = HL7_ERROR_APPLICATION
        err.err_4 = "E"
        err.err_8 = escaped(error)
    return er7(message) if known else str(message.to_er7())


def _unescaped(value: str) -> str:
    for sequence, char in (("\\F\\", "|"), ("\\S\\", "^"), ("\\T\\", "&"), ("\\R\\", "~"),
                           ("\\.br\\", "\n"), ("\\E\\", "\\")):
        value = value.replace(sequence, char)
    return value


def read_ack(text: str) -> Ack:
    """An ACK's MSA-1, MSA-2 and text (MSA-3, ERR-8); `Hl7v2Error` when it has no MSA."""
    segments = [s for s in _as_parsed(text).split(SEGMENT_END) if s]
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 4:
        raise Hl7v2Error("the answer is not an HL7 message (no MSH)")
    separator = segments[0][3]
    by_name: dict[str, list[list[str]]] = {}
    for segment in segments:
        fields = segment.split(separator)
        by_name.setdefault(fields[0], []).append(fields)
    if "MSA" not in by_name:
        raise Hl7v2Error("the answer has no MSA segment: not an acknowledgement")
    msa = by_name["MSA"][0] + ["", "", ""]
    texts = [msa[3]] + [(err + [""] * 9)[8] for err in by_name.get("ERR", [])]
    said = "; ".join(dict.fromkeys(_unescaped(t) for t in texts if t))
    return Ack(msa[1], _unescaped(msa[2]), said)
