"""Reading a user's TOML file, with one-line refusals that name the file and what it is."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from idds.errors import IddsError


def read_toml(path: Path, what: str, error: type[IddsError]) -> dict[str, Any]:
    """The table in `path`; `error` ("cannot read {what} PATH: reason", "... is not UTF-8
    text", "... is not valid TOML: ...") when it cannot be read or parsed."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{what} {path} is not valid TOML: {exc}") from None
