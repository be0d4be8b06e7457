"""A form's refusals beside its fields: each message under the field it names (the API's
`field`, the drug library's limit), one summary at the top; nothing is saved when any is
shown."""

from __future__ import annotations

from idds.drugs.checks import Breach, HardLimitError, SoftLimitError
from idds.errors import IddsError


class FieldErrors:
    """Messages by form field ('' : the form as a whole)."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str | None, message: str) -> None:
        self.by_field.setdefault(field or "", []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def get(self, field: str) -> str:
        return "; ".join(self.by_field.get(field, []))

    def summary(self) -> str:
        return "; ".join(m for messages in self.by_field.values() for m in messages)


def breach_field(breach: Breach, mode: str) -> str:
    """The therapy form's field a drug-library limit applies to."""
    name = breach.limit_name.lower()
    for word in ("lockout", "bolus", "concentration"):
        if word in name:
            return word
    return "flex" if mode == "flex" else "dose"


def errors_of(exc: IddsError, mode: str = "continuous") -> FieldErrors:
    """The refusal `exc` as field messages."""
    errors = FieldErrors()
    if isinstance(exc, HardLimitError | SoftLimitError):
        for b in exc.breaches:
            errors.add(breach_field(b, mode), f"{b.message} ({b.kind.value} limit)")
        if isinstance(exc, SoftLimitError):
            errors.add("override_reason", exc.problem or "a soft limit is passed: give the "
                       "reason for overriding it, or change the value")
        return errors
    field = getattr(exc, "field", None)
    errors.add(field.removeprefix("therapy.") if isinstance(field, str) else None, str(exc))
    return errors
