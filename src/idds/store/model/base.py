"""The declarative base, the column types every table shares, and a row as audit data.

Quantities are never floats: whole base units (nL, ng, s) go in integer columns; an exact
fraction goes in two integer columns `<name>_num` / `<name>_den` (`fraction_of`,
`split_fraction`). Times are aware UTC datetimes (`UtcDateTime`: a naive time is refused on
the way in, and every time read back is UTC on SQLite as on PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from typing import ClassVar

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from idds.store.clock import utc
from idds.store.errors import StoreError

#: Constraint names both backends agree on, so migrations and the models compare equal.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
#: The range of a 64-bit signed integer column (numerators, denominators, nL, ng).
INT64_MAX = 2**63 - 1

#: A primary key column type that autoincrements on SQLite (INTEGER) and PostgreSQL (BIGINT).
Key = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, microseconds kept, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = utc(value)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Every table of the clinic's record."""

    metadata = MetaData(naming_convention=NAMING)
    #: Columns whose value the audit trail shows as "<redacted>" (a password hash).
    audit_redacted: ClassVar[frozenset[str]] = frozenset()

    def audit_data(self) -> dict[str, object]:
        """The row as JSON-ready data for the audit trail: every column by name."""
        data: dict[str, object] = {}
        for column in self.__table__.columns:
            value = getattr(self, column.key)
            data[column.key] = "<redacted>" if column.key in self.audit_redacted \
                and value is not None else json_ready(value)
        return data


def json_ready(value: object) -> object:
    """A column value as JSON data: times and dates as ISO text, bytes as hex."""
    if isinstance(value, datetime):
        return utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def split_fraction(value: Fraction, what: str) -> tuple[int, int]:
    """(numerator, denominator) of an exact value, each within a 64-bit column."""
    if abs(value.numerator) > INT64_MAX or value.denominator > INT64_MAX:
        raise StoreError(f"{what} {value} has too many digits to store exactly")
    return value.numerator, value.denominator


def whole(value: Fraction | int, what: str, unit: str) -> int:
    """An exact value that must be a whole number of `unit` (a volume in nL, a dose in ng)."""
    exact = Fraction(value)
    if exact.denominator != 1:
        raise StoreError(f"{what} is {exact} {unit}, not a whole number of {unit}: "
                         "give it with fewer decimals")
    if abs(exact.numerator) > INT64_MAX:
        raise StoreError(f"{what} {exact} {unit} is too large to store")
    return exact.numerator


def fraction_of(numerator: int, denominator: int) -> Fraction:
    """The exact value of a numerator/denominator column pair."""
    return Fraction(numerator, denominator)
