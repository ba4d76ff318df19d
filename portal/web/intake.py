"""Intake from a form (the template's step 1), shared by the customer's New request and the
staff Register screen: the request, its files and any follow-up in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app

from portal.db import db
from portal.domain.lifecycle import TransitionError
from portal.domain.vocabulary import Channel
from portal.models import Account, ServiceRequest, utcnow
from portal.services import requests as sr_service
from portal.services.attachments import AttachmentRefused
from portal.services.workflow import FieldError
from portal.web.auth import actor
from portal.web.domain_errors import transition_message
from portal.web.forms import IntakeForm
from portal.web.uploads import PostedFiles


def register(
    form: IntakeForm,
    contact: Account,
    channel: Channel = Channel.PORTAL,
    then: Callable[[ServiceRequest, datetime], None] | None = None,
) -> ServiceRequest | None:
    """Submit ``form`` for ``contact`` with its files, run ``then`` (say, the initial
    classification) and commit. On a refusal nothing is saved: the message goes on the form
    (the field it names, else the form's own errors) and None is returned; the files
    written are removed again (``PostedFiles``)."""
    now = utcnow()
    who = actor()
    with PostedFiles(form.files()) as files:  # the form checked their number and sizes
        try:
            sr = sr_service.submit(
                db.session,
                who,
                contact,
                form.intake(),
                now,
                current_app.config["PORTAL_TIMEZONE"],
                channel=channel,
            )
            files.save(db.session, who, now, request_id=sr.id)
            if then is not None:
                then(sr, now)
            db.session.commit()
        except AttachmentRefused as exc:
            # a disguised file (or a stream that grew since the form's check) lands here
            db.session.rollback()
            form.attachments.errors = [exc.message]
        except FieldError as exc:
            db.session.rollback()
            _error_on(form, exc.field, str(exc.message))
        except TransitionError as exc:
            db.session.rollback()
            form.form_errors.append(transition_message(exc))
        else:
            return sr
    return None


def _error_on(form, name: str, message: str) -> None:
    field = getattr(form, name, None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)
