"""Reports: the one-page patient summary (a print style sheet, and as PDF), and the
patient's whole record as CSV (one file per table, zipped; `idds.store.backup`)."""

from __future__ import annotations

import io
import zipfile

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from idds.api.clinic import clinic_of
from idds.console import charts
from idds.console.patientview import TYPICAL_DAY_TITLE, patient_page
from idds.console.render import page
from idds.console.report_pdf import report_pdf, summary_lines
from idds.console.session import page_session
from idds.store.backup import as_csv, export_patient

router = APIRouter()


@router.get("/patients/{patient_id}/report")
async def report(request: Request, patient_id: int) -> Response:
    session = page_session(request)
    db = clinic_of(request).db
    view = await run_in_threadpool(patient_page, db, session.actor, patient_id, db.now())
    return page(request, "report.html", session, view=view,
                lines=summary_lines(view, db.now()),
                day_chart=charts.bands_svg(view.diary_day, TYPICAL_DAY_TITLE))


@router.get("/patients/{patient_id}/report.pdf")
async def report_as_pdf(request: Request, patient_id: int) -> Response:
    session = page_session(request)
    db = clinic_of(request).db
    view = await run_in_threadpool(patient_page, db, session.actor, patient_id, db.now())
    body = await run_in_threadpool(report_pdf, view, db.now())
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="summary-patient-{patient_id}.pdf"'})


@router.get("/patients/{patient_id}/export.zip")
async def export_csv(request: Request, patient_id: int) -> Response:
    session = page_session(request)
    document = await run_in_threadpool(export_patient, clinic_of(request).db, session.actor,
                                       patient_id)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in as_csv(document).items():
            archive.writestr(name, text)
    return Response(out.getvalue(), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="patient-{patient_id}-csv.zip"'})
