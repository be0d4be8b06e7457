"""The drug library on the command line: the one `--library` and `--trust-store` option of
every command, opening the library in force, and checking a plan against it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from idds.drugs import (
    DrugEntry,
    HardLimitError,
    Proposal,
    TrustStore,
    VersionRecord,
    check_therapy,
    load_library,
)
from idds.drugs.library import DrugLibrary

LibraryOption = Annotated[
    Path | None,
    typer.Option("--library", help="Signed drug library TOML (default: $IDDS_LIBRARY or the "
                 "reference library).", show_default=False),
]
TrustOption = Annotated[
    Path | None,
    typer.Option("--trust-store", help="Site trust-store file listing the site's public keys "
                 "(default: /etc/idds/trust-store.toml if present; only its owner may write "
                 "it).", show_default=False),
]


def open_library(path: Path | None, trust_store: Path | None) -> DrugLibrary:
    """The library in force for the CLI: verified against the shipped keys and the site
    trust store, and never older than the newest one this user accepted
    (~/.idds/library-version.json, `idds.drugs.rollback`)."""
    return load_library(path, TrustStore.default(trust_store), VersionRecord.for_user())


def soft_warnings(entry: DrugEntry, proposal: Proposal) -> list[str]:
    """Check `proposal` against every limit of `entry`: raise `HardLimitError` for a hard
    breach; return one line per soft breach, with its source, for the caller to show."""
    result = check_therapy(entry, proposal)
    if result.hard:
        raise HardLimitError(result.hard)
    return [f"soft limit: {b.message} ({b.source})" for b in result.soft]
