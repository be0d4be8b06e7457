"""What every FHIR module of IDDS shares: the versions (R5, R4B), the typed error, exact
quantities in UCUM (`quantity`, `rate`), references, the validator (fhir.resources 8.x) and
JSON text that keeps every decimal digit.

Quantities stay exact: a value with a finite decimal is a FHIR decimal written with every
digit; a rate without one (1/3 mg/day) is a `Ratio` of two integers; a dose without one is
refused. UCUM codes come from `idds.interop.codes` ("ug", never "mcg")."""

from __future__ import annotations

import importlib
import json
from decimal import Decimal, localcontext
from enum import StrEnum
from fractions import Fraction
from typing import Any

from pydantic import ValidationError

from idds.errors import IddsError
from idds.interop.codes import UCUM, ucum
from idds.units import Quantity, terminates


class FhirError(IddsError):
    """A resource that is not valid FHIR of the version asked for; the message names the
    element."""


class FhirVersion(StrEnum):
    R5 = "R5"
    R4B = "R4B"


def number(value: Fraction, what: str) -> Decimal:
    """The exact decimal of `value` (refused when it has none)."""
    if not terminates(value.denominator):
        raise FhirError(f"{what} ({value}) has no exact decimal form")
    with localcontext() as context:
        context.prec = 60  # every digit of a finite decimal of a 64-bit fraction
        return Decimal(value.numerator) / Decimal(value.denominator)


def quantity(q: Quantity, unit: str) -> dict[str, Any]:
    """A FHIR Quantity in `unit` (shown as IDDS writes it) with its UCUM code; exact."""
    return {"value": number(q.value_in(unit), f"{q} in {unit}"), "unit": unit,
            "system": UCUM, "code": ucum(unit)}


def rate(q: Quantity, unit: str) -> dict[str, Any]:
    """`rateQuantity` when the rate has an exact decimal, else the exact `rateRatio`."""
    value = q.value_in(unit)
    if terminates(value.denominator):
        return {"rateQuantity": quantity(q, unit)}
    mass, per = unit.split("/")
    return {"rateRatio": {
        "numerator": {"value": value.numerator, "unit": mass, "system": UCUM,
                      "code": ucum(mass)},
        "denominator": {"value": value.denominator, "unit": per, "system": UCUM,
                        "code": ucum(per)}}}


def ref(kind: str, rid: str) -> dict[str, str]:
    """A literal reference "Kind/id" to a resource of the same Bundle."""
    return {"reference": f"{kind}/{rid}"}


def _model(kind: str, version: FhirVersion, where: str) -> Any:
    """The fhir.resources class of resource `kind` in `version` (`FhirError` at `where`)."""
    package = "fhir.resources" if version is FhirVersion.R5 else "fhir.resources.R4B"
    try:
        return importlib.import_module(f"{package}.{kind.lower()}").__dict__[kind]
    except (ImportError, KeyError):
        raise FhirError(f"{where}: {kind[:60]!r} is not a FHIR {version} resource") from None


def validated(resource: object, version: FhirVersion) -> dict[str, Any]:
    """`resource` (any FHIR resource as JSON data), once fhir.resources accepts it as
    `version`, returned as given (its decimals exact); `FhirError` naming the first element
    that is wrong (in a Bundle, an entry's resource of another version is named first:
    fhir.resources does not say where that is)."""
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str) \
            or not resource["resourceType"].isalpha():
        raise FhirError("resourceType: not a FHIR resource")
    kind = resource["resourceType"]
    model = _model(kind, version, "resourceType")
    entries = resource.get("entry") if kind == "Bundle" else None
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        inner = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(inner, dict) and isinstance(inner.get("resourceType"), str):
            _model(inner["resourceType"], version,
                   f"Bundle.entry.{index}.resource.resourceType")
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "resource"
        raise FhirError(f"{kind}.{where}: {first['msg']} (FHIR {version})") from None
    except (KeyError, TypeError) as exc:  # a resource type fhir.resources cannot look up
        raise FhirError(f"{kind}: a resource inside is not one of FHIR {version} ({exc})"
                        ) from None
    return resource


def fhir_json(value: object) -> str:
    """FHIR data as JSON text with every decimal digit kept (the json module would write a
    Decimal as a float, or not at all)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {fhir_json(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(fhir_json(v) for v in value) + "]"
    return json.dumps(value)


def read_fhir_json(text: str | bytes) -> object:
    """JSON text as FHIR data, decimals as exact Decimals; `FhirError` if it is not JSON."""
    try:
        return json.loads(text, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FhirError(f"body: not JSON ({exc})") from None
