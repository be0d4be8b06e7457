"""The second confirmations of the programmer CLI: a soft-limit override (issue 13: the
Finish screen shows the override and asks again) and the priming dose with its caution."""

from __future__ import annotations

from rich.console import Console

from idds.cli.devices import confirm
from idds.errors import IddsError
from idds.programmer import TherapyPlan
from idds.programmer.priming import PrimePlan
from idds.programmer.screens import override_table

OVERRIDE_HELP = ("Reason for overriding soft drug-library limits (logged on both sides): a code "
                 "(opioid-tolerant, titration-agreed, end-of-life, specialist-advice, "
                 "trial-response) or at least 4 words and 20 letters.")
AGAIN_HELP = "With --yes: the second confirmation a soft-limit override needs."


class OverrideNotConfirmedError(IddsError):
    """A scripted override without its second confirmation (--confirm-override)."""


def confirm_override(out: Console | None, plan: TherapyPlan, yes: bool,
                     again: bool) -> TherapyPlan:
    """Show the overridden soft limits (unless `out` is None: JSON) and ask a second time;
    with `--yes` the second answer is `--confirm-override`. Returns the confirmed plan."""
    if not plan.overridden:
        return plan
    if out is not None:
        out.print(override_table(plan))
    if yes and not again:
        raise OverrideNotConfirmedError("this therapy overrides soft drug-library limits: "
                                        "with --yes it also needs --confirm-override; nothing "
                                        "sent")
    confirm("Override these soft limits, with this reason, and send?", yes and again)
    return plan.with_override_confirmed()


def show_prime(out: Console | None, plan: PrimePlan, yes: bool) -> PrimePlan:
    """Show the priming dose in mg (or mcg) of drug and the caution (not in JSON), then ask."""
    if out is not None:
        for line in plan.lines():
            out.print(line, markup=False)
    confirm("Start the priming bolus?", yes)
    return plan
