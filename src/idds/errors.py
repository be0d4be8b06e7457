"""The root of every typed error IDDS raises on purpose.

An `IddsError` is a refusal with a reason a person can read: the CLI prints its message on one
line and exits with status 2. Anything else escaping is a bug.
"""


class IddsError(Exception):
    """A refusal or bad input, with a message that names what was wrong."""
