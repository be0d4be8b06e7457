"""Where the CLI writes: Rich consoles for people, plain JSON for programs."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from idds import DISCLAIMER

__all__ = ["DISCLAIMER", "JsonOption", "console", "error_console", "print_json"]

#: The `--json` flag of every command that prints data.
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def console() -> Console:
    return Console(highlight=False, emoji=False)


def error_console() -> Console:
    return Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """One JSON document on stdout (no Rich markup, so it parses)."""
    print(json.dumps(data, indent=2, ensure_ascii=False))
