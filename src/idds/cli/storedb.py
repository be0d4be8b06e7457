"""`idds store upgrade|downgrade|status`: the record's migrations, run in code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from alembic.util import CommandError
from sqlalchemy import Engine
from sqlalchemy.engine import URL

from idds.cli.database import DbOption, chosen_url, reached, shown
from idds.store import StoreError, migrate
from idds.store.engine import make_engine

app = typer.Typer(help="The clinic's database: upgrade, downgrade, status.",
                  no_args_is_help=True)

RevisionOption = Annotated[str, typer.Option("--revision", help="Target revision.")]


def _revision_after(url: URL, step: Callable[[Engine], None]) -> str | None:
    """Run `step` on the database at `url` and return the revision it is at then."""
    engine = make_engine(url)
    try:
        with reached(url):
            try:
                step(engine)
            except CommandError as exc:  # an unknown or unreachable revision: nothing ran
                raise StoreError(f"migration refused: {exc}") from None
            return migrate.current(engine)
    finally:
        engine.dispose()


@app.command()
def upgrade(db: DbOption = None, revision: RevisionOption = "head") -> None:
    """Migrate the database up (default: to the newest revision)."""
    url = chosen_url(db)
    now = _revision_after(url, lambda engine: migrate.upgrade(engine, revision))
    print(f"{shown(url)} is at revision {now}")


@app.command()
def downgrade(
    revision: Annotated[str, typer.Option("--revision", help="Target revision ('base': no "
                                          "tables).")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: a downgrade drops tables "
                                      "and the records in them.")] = False,
    db: DbOption = None,
) -> None:
    """Migrate the database down to a revision (drops data: needs --yes)."""
    if not yes:
        raise StoreError("a downgrade drops tables and their records: add --yes to confirm")
    url = chosen_url(db)
    now = _revision_after(url, lambda engine: migrate.downgrade(engine, revision))
    print(f"{shown(url)} is at revision {now or 'base (no tables)'}")


@app.command()
def status(db: DbOption = None) -> None:
    """Which database, at which revision, and the newest revision."""
    url = chosen_url(db)
    now = _revision_after(url, lambda engine: None)
    print(f"{shown(url)}: revision {now or 'none (empty)'}; newest {migrate.head()}")
