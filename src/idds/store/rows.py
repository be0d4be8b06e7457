"""Reading rows: one by id, or refused with `NotFoundError` naming what was looked for."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from idds.store.errors import NotFoundError
from idds.store.model import Base

_Row = TypeVar("_Row", bound=Base)


def fetch(session: Session, model: type[_Row], key: int) -> _Row:
    """The `model` row with primary key `key`."""
    row = session.get(model, key)
    if row is None:
        raise NotFoundError(f"no {model.__tablename__.replace('_', ' ')} with id {key}")
    return row
