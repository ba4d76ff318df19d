"""delivery_views: the handler delivers (SD) and countersigns the customer's acceptance; the
printable forms of the staff side. The panels and how an action answers:
portal/staff/delivery_area.py; feedback and measures: portal/staff/feedback_views.py.

Every POST first passes portal/web/request_actions.py (404 unknown request; 403 for a viewer who
may never take the action, before the form is read; a wrong state is the panel's message, 422).
"""

from __future__ import annotations

from flask import current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.db import db
from portal.domain import delivery as delivery_rules
from portal.domain import lifecycle
from portal.models import utcnow
from portal.services import attachments as attachment_service
from portal.services import delivery as delivery_service
from portal.staff import bp
from portal.staff.delivery_area import Panel
from portal.staff.forms_delivery import DeliverForm, SignForm
from portal.web import printable
from portal.web.auth import actor
from portal.web.request_actions import authorize, load_request


@bp.post("/requests/<number>/deliver")
def deliver(number: str):
    auth = authorize(number, "deliver")
    sr = auth.sr
    form = DeliverForm(prefix="deliver")
    panel = Panel(sr, "deliver", form, "staff/_dl_deliver.html")
    if (answer := panel.not_ready(auth)) is not None:
        return answer
    folder = current_app.config["UPLOAD_FOLDER"]
    saved: list = []
    try:
        dlv = delivery_service.deliver(
            db.session,
            actor(),
            current_user.account,
            sr,
            utcnow(),
            current_app.config["PORTAL_TIMEZONE"],
            service_item=form.service_item.data,
            items=delivery_rules.split_lines(form.items.data),
            criteria=delivery_rules.split_lines(form.criteria.data),
            demo_note=form.demo_note.data or "",
            uploads=[attachment_service.Upload(f.filename, f.stream) for f in form.uploads()],
            folder=folder,
            max_bytes=current_app.config["UPLOAD_MAX_BYTES"],
            saved=saved,
            locale=str(get_locale() or "en"),
        )
        db.session.commit()
    except (lifecycle.TransitionError, delivery_service.InvalidInput) as exc:
        attachment_service.discard(saved, folder)
        return panel.failed(exc)
    except attachment_service.AttachmentRefused as exc:
        db.session.rollback()
        attachment_service.discard(saved, folder)
        form.files.errors = [exc.message]
        return panel.invalid()
    except BaseException:
        db.session.rollback()
        attachment_service.discard(saved, folder)
        raise
    return panel.done(
        _("Delivered as %(number)s; waiting for the customer's acceptance.", number=dlv.number)
    )


@bp.post("/requests/<number>/countersign")
def countersign(number: str):
    auth = authorize(number, "countersign")
    sr = auth.sr
    form = SignForm(prefix="countersign")
    panel = Panel(sr, "countersign", form, "staff/_dl_countersign.html")
    if (answer := panel.not_ready(auth)) is not None:
        return answer
    try:
        dlv = delivery_service.countersign(
            db.session,
            actor(),
            current_user.account,
            sr,
            utcnow(),
            typed_name=form.typed_name.data,
            image=form.signature.data,
            ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent"),
        )
        db.session.commit()
    except (lifecycle.TransitionError, delivery_service.InvalidInput) as exc:
        return panel.failed(exc)
    except delivery_service.ContentChanged as exc:
        return panel.failed(
            exc, _("The delivery's content changed after signing: it cannot be countersigned.")
        )
    return panel.done(_("Countersigned %(number)s.", number=dlv.number))


# ---------------------------------------------------------------------------------------------
# Printable forms and XLSX

printable.register(bp, "staff", load_request)
