"""The clinic's HTTP API: `create_app(clinic)` -> a FastAPI app with every route under
`/api/v1`, its OpenAPI at `/api/v1/openapi.json` (docs at `/api/v1/docs`), and every refusal
as typed JSON (`idds.api.errors`). See docs/api.md.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from idds.api import (
    errors,
    routes_admin,
    routes_care,
    routes_patients,
    routes_programs,
    routes_pumps,
    routes_session,
)
from idds.api.clinic import Clinic

PREFIX = "/api/v1"
DESCRIPTION = ("The clinic's record and its pumps: patients, implants, therapy programs "
               "(propose, confirm, send over the secure link, read back), refills, pump logs, "
               "the pain diary, side effects, alarms, recommendations, users and the audit "
               "trail. Research and training software, not a medical device.")
#: The route modules' routers, each included under `PREFIX`.
ROUTERS = tuple(m.router for m in (routes_session, routes_patients, routes_programs,
                                    routes_pumps, routes_care, routes_admin))


def create_app(clinic: Clinic) -> FastAPI:
    app = FastAPI(title="IDDS clinic API", version="1", description=DESCRIPTION,
                  openapi_url=f"{PREFIX}/openapi.json", docs_url=f"{PREFIX}/docs",
                  redoc_url=None)
    app.state.clinic = clinic
    api = APIRouter(prefix=PREFIX)
    for router in ROUTERS:
        api.include_router(router)
    app.include_router(api)
    errors.install(app)
    return app
