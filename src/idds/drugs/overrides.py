"""What counts as a reason to override a soft drug-library limit (issue 13).

ref, devices: "a soft limit needs an explicit override with a reason; every breach is logged".
Any text used to pass ("x" overrode a 200 mg/day morphine program); now a reason is either

- one of the coded reasons of `REASON_CODES` (written exactly, like "opioid-tolerant"), or
- free text of at least `MIN_FREE_TEXT_LETTERS` letters in at least `MIN_FREE_TEXT_WORDS`
  words of two or more letters each (a sentence a colleague can read later, not "x" or
  "ok ok ok").

The same rule runs on the programmer (before the Finish screen) and on the pump (which refuses
a `program` whose reason does not pass), so a programmer that skips its own checks gains
nothing. A reason never overrides a hard limit.
"""

from __future__ import annotations

import re

from idds.errors import IddsError

#: The coded reasons: code -> what it means (shown by the programmer).
REASON_CODES: dict[str, str] = {
    "opioid-tolerant": "the patient is opioid-tolerant (systemic opioid before intrathecal)",
    "titration-agreed": "a titration step agreed by the treating team",
    "end-of-life": "end-of-life care: comfort is the goal, agreed with patient or family",
    "specialist-advice": "on the written advice of a pain or spasticity specialist",
    "trial-response": "the screening trial showed the dose is needed and tolerated",
}
MIN_FREE_TEXT_LETTERS = 20
MIN_FREE_TEXT_WORDS = 4
#: The longest reason accepted (characters): it is logged on both sides.
MAX_REASON_CHARS = 300

_WORD = re.compile(r"[A-Za-z]{2,}")


class OverrideReasonError(IddsError):
    """An override reason that is neither a coded reason nor free text of enough content."""


def reason_problem(reason: str | None) -> str | None:
    """Why `reason` is not an acceptable override reason, or None when it is."""
    text = (reason or "").strip()
    if not text:
        return "no override reason given"
    if len(text) > MAX_REASON_CHARS:
        return f"override reason longer than {MAX_REASON_CHARS} characters"
    if text in REASON_CODES:
        return None
    words = _WORD.findall(text)
    letters = sum(len(w) for w in words)
    if len(words) >= MIN_FREE_TEXT_WORDS and letters >= MIN_FREE_TEXT_LETTERS:
        return None
    return (f"override reason {text[:40]!r} is too short: give a code ("
            f"{', '.join(REASON_CODES)}) or at least {MIN_FREE_TEXT_WORDS} words and "
            f"{MIN_FREE_TEXT_LETTERS} letters saying why")


def check_reason(reason: str | None) -> str:
    """The reason, stripped; `OverrideReasonError` when it does not pass `reason_problem`."""
    problem = reason_problem(reason)
    if problem is not None:
        raise OverrideReasonError(problem)
    return (reason or "").strip()
