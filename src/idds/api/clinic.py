"""What every route works on: the record, the drug library in force, the pumps on the link,
the pending proposals. One `Clinic` per server, on `app.state.clinic`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date

from fastapi import Request

from idds.api.proposals import Proposals
from idds.api.pumps import PumpLinks
from idds.drugs import DrugLibrary
from idds.store import Database


@dataclass
class Clinic:
    """The server's world. `library_version_id`: the record's row of `library` (installed
    at start, `idds.store.therapy.install_library`)."""

    db: Database
    library: DrugLibrary
    library_version_id: int
    pumps: PumpLinks
    proposals: Proposals = field(default_factory=Proposals)
    #: One conversation per pump at a time (`idds.api.linked.talking_to`).
    pump_locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def today(self) -> date:
        """The calendar date (UTC) from the record's injected clock."""
        return self.db.now().date()


def clinic_of(request: Request) -> Clinic:
    clinic = request.app.state.clinic
    assert isinstance(clinic, Clinic)
    return clinic
