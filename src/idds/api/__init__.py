"""The clinic's HTTP API over the record (`idds.store`) and the pumps on the secure link
(`idds.programmer`): `create_app(Clinic(...))`. See docs/api.md."""

from idds.api.app import PREFIX, create_app
from idds.api.clinic import Clinic
from idds.api.pumps import DevicePumps, PumpLinks

__all__ = ["PREFIX", "Clinic", "DevicePumps", "PumpLinks", "create_app"]
