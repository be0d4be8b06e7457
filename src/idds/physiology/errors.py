"""Typed errors of the virtual patient. Each is a refusal with a message a person can read."""

from idds.errors import IddsError


class PhysiologyError(IddsError):
    """Bad input to the virtual patient (unknown drug, route or archetype, bad shape)."""


class UnknownDrugError(PhysiologyError):
    """A drug the patient model has no parameters for."""


class UnknownRouteError(PhysiologyError):
    """A route that is not oral, iv or intrathecal, or not available for the drug."""


class UnknownArchetypeError(PhysiologyError):
    """An archetype name that is not defined in `idds.physiology.archetypes`."""
