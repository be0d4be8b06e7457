"""The clinic's record: patients, implants, programs, refills, pump logs, diary, alarms,
recommendations and selection, on SQLite (default) or PostgreSQL, with an append-only,
hash-chained audit trail and users, roles and sessions. See docs/store.md.

Open it with `Database.open(database_url(...), clock)`, migrate it with `migrate.upgrade`,
and write through the repository modules (`patients`, `therapy`, `refills`, `pumplogs`,
`diary`, `alarms`, `decisions`, `users`, `sessions`), each of which checks the permission
table (`permissions.authorize`) and audits its writes (`audit`).
"""

from idds.store.database import Database, Writer
from idds.store.errors import (
    AccessDeniedError,
    DatabaseBusyError,
    DatabaseUrlError,
    DuplicateError,
    FreshLoginRequiredError,
    LoginError,
    NotFoundError,
    PumpLogImportError,
    StaleWriteError,
    StoreError,
)
from idds.store.permissions import PERMISSIONS, Action, Actor, UserRole, authorize
from idds.store.url import database_url, parse_database_url

__all__ = [
    "PERMISSIONS",
    "AccessDeniedError",
    "Action",
    "Actor",
    "Database",
    "DatabaseBusyError",
    "DatabaseUrlError",
    "DuplicateError",
    "FreshLoginRequiredError",
    "LoginError",
    "NotFoundError",
    "PumpLogImportError",
    "StaleWriteError",
    "StoreError",
    "UserRole",
    "Writer",
    "authorize",
    "database_url",
    "parse_database_url",
]
