"""`python -m idds`: the same as the `idds` command."""

from idds.cli.main import run

run()
