"""Changes planned but not yet confirmed: a therapy (its Finish screen) or a refill (its
expected-versus-withdrawn check), kept in the server's memory until the clinician who planned
it confirms it, for `PROPOSAL_LIFETIME`. A proposal changes nothing: the pump and the record
change only at the confirm step. A server restart forgets proposals (plan again).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from idds.api.errors import ApiError, RefusalCode
from idds.programmer import RefillChange, TherapyPlan

#: How long a proposal waits for its confirm step: the pump status it was planned on (the
#: reservoir, the therapy in force) goes stale; a design choice, docs/api.md.
PROPOSAL_LIFETIME = timedelta(minutes=15)


@dataclass(frozen=True)
class PendingChange:
    """A planned change. `replaces`: the program in force when it was planned (therapy only;
    None: the implant had none); `library_version_id`: the library its checks ran under."""

    id: str
    patient_id: int
    implant_id: int
    pump_serial: str
    planned_by: str
    planned_at: datetime
    plan: TherapyPlan | RefillChange
    replaces: int | None = None
    library_version_id: int | None = None

    @property
    def expires_at(self) -> datetime:
        return self.planned_at + PROPOSAL_LIFETIME


class Proposals:
    """The pending proposals of one server (thread-safe: sync routes run in a pool)."""

    def __init__(self) -> None:
        self._pending: dict[str, PendingChange] = {}
        self._lock = threading.Lock()

    def add(self, proposal: PendingChange) -> PendingChange:
        with self._lock:
            self._pending[proposal.id] = proposal
        return proposal

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(12)

    def take(self, proposal_id: str, kind: type[TherapyPlan] | type[RefillChange],
             username: str, now: datetime) -> PendingChange:
        """The proposal, removed, for its confirm step; refused (and kept) unless it is of
        `kind`, planned by `username`, and not expired (an expired one is dropped)."""
        with self._lock:
            found = self._pending.get(proposal_id)
            if found is None or not isinstance(found.plan, kind):
                raise ApiError(404, RefusalCode.NOT_FOUND,
                               f"no pending proposal {proposal_id!r}: plan the change again",
                               "proposal_id")
            if found.expires_at <= now:
                del self._pending[proposal_id]
                raise ApiError(409, RefusalCode.CONFLICT,
                               f"the proposal {proposal_id} expired at "
                               f"{found.expires_at.isoformat()}: plan the change again",
                               "proposal_id")
            if found.planned_by != username:
                raise ApiError(403, RefusalCode.FORBIDDEN,
                               f"the proposal {proposal_id} was planned by {found.planned_by}:"
                               " only they confirm it", "proposal_id")
            return self._pending.pop(proposal_id)

    def peek(self, proposal_id: str) -> PendingChange:
        """The proposal, left in place (what it is about, before its confirm step)."""
        with self._lock:
            found = self._pending.get(proposal_id)
        if found is None:
            raise ApiError(404, RefusalCode.NOT_FOUND,
                           f"no pending proposal {proposal_id!r}: plan the change again",
                           "proposal_id")
        return found

    def put_back(self, proposal: PendingChange) -> None:
        """Return a proposal whose confirm step was refused before anything was sent."""
        self.add(proposal)
