"""A pump as FHIR: the `Device` (serial, model, the latest reading's reservoir and battery
as properties) tied to the patient by a `DeviceAssociation` (R5) or `Device.patient` (R4B);
and, in the pattern of HL7's Point-of-Care Device IG, one `DeviceMetric` per quantity the pump
measures (reservoir volume, volume delivered since the fill, battery) with an `Observation`
per reading, whose `device` is the DeviceMetric: the reservoir estimate in mL (UCUM "mL",
exact from whole nL), the volume the pump delivered since its last fill in mL (readings since
store revision 0003 keep it; an older reading has no such Observation) and the battery's days
to its elective replacement indicator (UCUM "d"), its state ("ok") as the note. The reservoir
and the volume delivered are the MDC terms the HL7 v2 export sends (MDC_VOL_FLUID_TBI_REMAIN,
MDC_VOL_FLUID_DELIV, system urn:iso:std:iso:11073:10101), from the same entries of
`idds.interop.codes`; the battery's is IDDS's own (no MDC term cited, docs/interop.md)."""

from __future__ import annotations

from typing import Any

from idds.interop.codes import (
    DEVICE_ASSOCIATION_STATUS,
    FHIR_METRIC_BATTERY,
    FHIR_METRIC_DELIVERED,
    FHIR_METRIC_RESERVOIR,
    PUMP_SERIAL_SYSTEM,
    UCUM,
    Code,
    ucum,
)
from idds.interop.fhir_types import FhirVersion, quantity
from idds.interop.fhir_types import ref as _ref
from idds.store.model import Implant, PumpReading
from idds.store.quantities import volume_of
from idds.units import Quantity

#: The names of the metrics, in their resource ids ("metric-3-reservoir").
RESERVOIR, DELIVERED, BATTERY = "reservoir", "delivered", "battery"


def _properties(reading: PumpReading, version: FhirVersion) -> list[dict[str, Any]]:
    """The latest reading's reservoir volumes and battery as Device properties."""
    volumes = (("reservoir volume (estimate)", reading.reservoir_nl),
               ("low-reservoir alarm volume", reading.low_alarm_nl))
    if version is FhirVersion.R5:
        return [*({"type": {"text": name}, "valueQuantity": quantity(volume_of(nl), "mL")}
                  for name, nl in volumes),
                {"type": {"text": "battery"}, "valueString": reading.battery}]
    return [*({"type": {"text": name}, "valueQuantity": [quantity(volume_of(nl), "mL")]}
              for name, nl in volumes),
            {"type": {"text": "battery"}, "valueCode": [{"text": reading.battery}]}]


def device_resources(row: Implant, reading: PumpReading | None,
                     version: FhirVersion) -> list[dict[str, Any]]:
    """The pump as a Device, tied to the patient by a DeviceAssociation (R5) or by
    `Device.patient` (R4B)."""
    device: dict[str, Any] = {
        "resourceType": "Device", "id": f"pump-{row.id}",
        "identifier": [{"system": PUMP_SERIAL_SYSTEM, "value": row.pump_serial}],
        "serialNumber": row.pump_serial, "modelNumber": row.pump_model,
        "status": "inactive" if row.explanted_on else "active"}
    if reading is not None:
        device["property"] = _properties(reading, version)
    if version is FhirVersion.R4B:
        device["patient"] = _ref("Patient", f"patient-{row.patient_id}")
        device["deviceName"] = [{"name": row.pump_model, "type": "model-name"}]
        return [device]
    device["name"] = [{"value": row.pump_model, "type": "registered-name"}]
    period = {"start": row.implanted_on.isoformat()}
    if row.explanted_on:
        period["end"] = row.explanted_on.isoformat()
    association = {
        "resourceType": "DeviceAssociation", "id": f"implant-{row.id}",
        "device": _ref("Device", f"pump-{row.id}"),
        "subject": _ref("Patient", f"patient-{row.patient_id}"),
        "status": {"coding": [{"system": DEVICE_ASSOCIATION_STATUS,
                               "code": "explanted" if row.explanted_on else "implanted"}]},
        "period": period}
    return [device, association]


def metric_resources(row: Implant, version: FhirVersion) -> list[dict[str, Any]]:
    """The pump's three measured quantities as DeviceMetrics (category measurement), their
    `device` (R5) or `source` (R4B) the pump: the reservoir volume and the volume delivered
    since the fill in mL, and the battery's days to its elective replacement indicator
    (UCUM)."""
    pump = "device" if version is FhirVersion.R5 else "source"
    return [{"resourceType": "DeviceMetric", "id": f"metric-{row.id}-{name}",
             "type": code.concept(),
             "unit": {"coding": [{"system": UCUM, "code": ucum(unit), "display": unit}]},
             pump: _ref("Device", f"pump-{row.id}"), "operationalStatus": "on",
             "category": "measurement"}
            for name, code, unit in ((RESERVOIR, FHIR_METRIC_RESERVOIR, "mL"),
                                     (DELIVERED, FHIR_METRIC_DELIVERED, "mL"),
                                     (BATTERY, FHIR_METRIC_BATTERY, "day"))]


def reading_observations(row: PumpReading, patient_id: int) -> list[dict[str, Any]]:
    """One reading as Observations, each from its DeviceMetric: the reservoir estimate
    (exact mL from whole nL), the volume delivered since the last fill (exact mL; only where
    the reading kept it) and the battery's whole days to its elective replacement indicator
    (rounded down, as stored), the battery state as the note."""
    def observation(name: str, code: Code, value: Quantity) -> dict[str, Any]:
        return {"resourceType": "Observation", "id": f"reading-{row.id}-{name}",
                "status": "final", "code": code.concept(),
                "subject": _ref("Patient", f"patient-{patient_id}"),
                "device": _ref("DeviceMetric", f"metric-{row.implant_id}-{name}"),
                "effectiveDateTime": row.read_at.isoformat(),
                "valueQuantity": quantity(value, "day" if name == BATTERY else "mL")}
    battery = observation(BATTERY, FHIR_METRIC_BATTERY,
                          Quantity.of(row.battery_eri_days, "day"))
    battery["note"] = [{"text": f"battery {row.battery}"}]
    delivered = [] if row.pumped_nl is None else [
        observation(DELIVERED, FHIR_METRIC_DELIVERED, volume_of(row.pumped_nl))]
    return [observation(RESERVOIR, FHIR_METRIC_RESERVOIR, volume_of(row.reservoir_nl)),
            *delivered, battery]
