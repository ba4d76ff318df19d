"""The printable forms (SR · IR · SD · FB) and their XLSX export, for both sides: each side
registers the two routes (``register``) with its own way of loading a request (its access
rules: 404 for a request the viewer may not see)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, make_response, render_template, url_for
from flask_login import current_user

from portal.db import db
from portal.models import utcnow
from portal.services import audit as audit_service
from portal.services import forms_export, privacy
from portal.web.auth import actor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def build(sr, form: str, viewer):
    """The form's document as ``viewer`` may see it (masked where they may not)."""
    return forms_export.build(
        db.session,
        sr,
        form,
        viewer,
        access=privacy.access_for(db.session, sr, viewer, utcnow()),
        timezone=current_app.config["PORTAL_TIMEZONE"],
    )


def print_page(side: str, sr, doc):
    return render_template(
        "forms/print.html",
        base_template=f"{side}/base.html",
        sr=sr,
        doc=doc,
        forms=forms_export.FORMS,
        titles=forms_export.TITLES,
        print_endpoint=f"{side}.print_form",
        export_endpoint=f"{side}.export_form",
        back_url=url_for(f"{side}.request_detail", number=sr.number),
    )


def xlsx_response(sr, form: str, doc):
    """The XLSX of a form; every export is audited."""
    data = forms_export.to_xlsx(doc)
    audit_service.record(
        db.session,
        actor(),
        utcnow(),
        "export",
        "service_request",
        sr.number,
        after={"form": form, "format": "xlsx", "rows": len(doc.rows)},
    )
    db.session.commit()
    response = make_response(data)
    response.headers["Content-Type"] = XLSX
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{sr.number}-{form.upper()}.xlsx"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def register(bp: Blueprint, side: str, load_request: Callable[[str], object]) -> None:
    """The routes ``<side>.print_form`` and ``<side>.export_form`` on the side's blueprint."""

    def print_form(number: str, form: str):
        sr = load_request(number)
        return print_page(side, sr, build(sr, form, current_user.account))

    def export_form(number: str, form: str):
        sr = load_request(number)
        return xlsx_response(sr, form, build(sr, form, current_user.account))

    bp.add_url_rule(
        "/requests/<number>/print/<any(sr,ir,sd,fb):form>", view_func=print_form, methods=["GET"]
    )
    bp.add_url_rule(
        "/requests/<number>/export/<any(sr,ir,sd,fb):form>.xlsx",
        view_func=export_form,
        methods=["GET"],
    )
