"""The `idds` command line: Typer commands over the library modules, Rich on screen."""
