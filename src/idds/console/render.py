"""The console's templates (Jinja2, autoescaped) and the filters that keep units on screen:
every number is shown with its unit, "mcg" never "µg" (ISMP), no trailing zeros, a leading
zero, thousands separators (`idds.units.Quantity.display`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from idds.api.errors import refusal_of
from idds.console.session import CSRF_FIELD, PageSession
from idds.errors import IddsError
from idds.store import PERMISSIONS, Action
from idds.store.canonical import parse_json
from idds.store.model import RecommendationRecord, TherapyProgram
from idds.store.quantities import concentration_of, daily_dose_of, volume_of
from idds.store.therapy import program_therapy
from idds.units import Quantity

DISCLAIMER = "Research and training software, not a medical device."


def quantity(value: Quantity | None, unit: str | None = None) -> str:
    return "-" if value is None else value.display(unit)


def when(value: datetime | date | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    return value.isoformat()


def ml(nl: int | None) -> str:
    """A volume kept in whole nL, in mL."""
    return "-" if nl is None else volume_of(nl).display("mL")


def concentration(row: Any) -> str:
    """The concentration of a program, refill or reading row."""
    return concentration_of(row.concentration_num, row.concentration_den).display("mg/mL")


def therapy(row: TherapyProgram) -> str:
    return program_therapy(row).describe()


def daily(row: TherapyProgram) -> str:
    return quantity(daily_dose_of(row.daily_dose_num, row.daily_dose_den))


def recommended(row: RecommendationRecord) -> str:
    data = parse_json(row.recommended)
    if isinstance(data, dict):
        return "; ".join(f"{k.replace('_', ' ')} {v}" for k, v in data.items())
    return str(data)


def reasons(row: RecommendationRecord) -> list[str]:
    data = parse_json(row.reasons)
    return [str(r) for r in data] if isinstance(data, list) else [str(data)]


ENV = Environment(loader=PackageLoader("idds.console", "templates"),
                  autoescape=select_autoescape(("html",)), trim_blocks=True,
                  lstrip_blocks=True)
ENV.filters.update(q=quantity, when=when, ml=ml, concentration=concentration, therapy=therapy,
                   daily=daily, recommended=recommended, reasons=reasons)
ENV.globals.update(disclaimer=DISCLAIMER, csrf_field=CSRF_FIELD)


def html(template: str, session: PageSession | None, status: int = 200,
         **context: Any) -> HTMLResponse:
    """A page; `session` (None: logged out) gives the navigation and the forms' token."""
    actor = None if session is None else session.actor
    body = ENV.get_template(template).render(
        session=session, actor=actor,
        live=actor is not None and actor.role in PERMISSIONS[Action.READ_RECORD],
        csrf=Markup("") if session is None else session.csrf, **context)
    return HTMLResponse(body, status_code=status)


def page(request: Request, template: str, session: PageSession | None, status: int = 200,
         **context: Any) -> HTMLResponse:
    """`html` with the request's path (the navigation marks where the user is)."""
    return html(template, session, status, path=request.url.path, **context)


def refusal_page(request: Request, session: PageSession | None, exc: IddsError,
                 back: str | None = None) -> HTMLResponse:
    """A refusal as a page, with its own status and code (`api.errors.refusal_of`): the
    headline says whether nothing was changed, or whether the pump's state is unknown."""
    r = refusal_of(exc)
    return page(request, "error.html", session, r.status, status_code=r.status,
                code=str(r.code), message=r.message, back=back)


def whole(text: str | None) -> int | None:
    """`text` as a whole number of ASCII digits (an id in a form or an address), else None."""
    return int(text) if text and text.isascii() and text.isdigit() else None
