"""The store's typed refusals: each names what was wrong, for one line on the CLI."""

from __future__ import annotations

from idds.errors import IddsError


class StoreError(IddsError):
    """A refusal of the clinic's record: bad input, a missing row, a database that cannot be
    opened."""


class DatabaseUrlError(StoreError):
    """A `--db` / `IDDS_DATABASE_URL` that is not a usable database URL, or a database that
    cannot be reached."""


class NotFoundError(StoreError):
    """No row of that kind with that id."""


class StaleWriteError(StoreError):
    """An update based on an old version of a row: someone changed it since it was read.
    Nothing was written; read the row again and redo the change."""


class DuplicateError(StoreError):
    """A row that would repeat one already recorded where only one may be (a patient
    identifier, a pump serial, a user name). Nothing was written."""


class AccessDeniedError(StoreError):
    """The actor's role may not perform the action (the permission table), or a patient
    reached for another patient's record."""


class FreshLoginRequiredError(AccessDeniedError):
    """The action needs a password entered within the fresh-authentication window."""


class LoginError(StoreError):
    """A login refused: unknown user, wrong password, disabled or locked-out account, or an
    expired or unknown session. The message does not say which of user or password was wrong."""


class PumpLogImportError(StoreError):
    """A pump log that fails its hash chain, or differs from the records already stored."""


class DatabaseBusyError(StoreError):
    """The database was busy: another writer held its lock too long, or the server broke a
    deadlock or a lock wait. Nothing was written; try the change again."""
