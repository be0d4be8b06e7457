"""What every step of the advisory mode shares: its error, the drug it is for, its windows."""

from __future__ import annotations

from idds.errors import IddsError

#: The drug the controllers' dose-response and oral:IT ladder are for.
DRUG = "morphine"
#: Diary, presses per day and side-effect burden are averaged over this many days (as in trials).
WINDOW_DAYS = 3
#: Sedation and respiratory readings older than this are stale (the controllers read
#: "yesterday's" highest POSS and lowest rate), h.
READING_HOURS = 24.0
#: Seconds per day (pump time is in seconds; the controllers count days).
DAY_S = 86_400.0


class AdvisoryError(IddsError):
    """Bad advisory input (observations file, options, state file) or a pump it cannot use."""
