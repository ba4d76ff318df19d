"""The customer organisations (客户) of the administration area: the list at
``/staff/admin/organisations`` (search by code or name, active / inactive / all, pages, the form
for a new one) and an organisation's page (its settings, deactivate or reactivate, links to its
calendar and its contacts). Admins change; supervisors read (``may_change``).
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp

from portal.db import db
from portal.models import Organisation, utcnow
from portal.services import calendars as calendar_service
from portal.services import organisations as org_service
from portal.services import sla_policies
from portal.staff.admin import bp, may_change, require_admin
from portal.web.auth import actor
from portal.web.forms import TOO_LONG, PortalForm
from portal.web.params import page_number

PAGE_SIZE = 50
ACTIVE_FILTERS = {"active": True, "inactive": False, "all": None}


def _optional_id(value) -> int | None:
    if value in (None, "", "None"):
        return None
    number = int(value)
    if number <= 0:
        raise ValueError("not an id")
    return number


class OrganisationForm(PortalForm):
    code = StringField(
        _l("Organisation code"),
        validators=[
            DataRequired(message=_l("Give the organisation a code.")),
            Length(max=40, message=TOO_LONG),
            Regexp(
                org_service.CODE_PATTERN,
                message=_l(
                    "2 to 40 letters, digits, hyphens or underscores, e.g. ACME or EAST-01."
                ),
            ),
        ],
        description=_l("Short and unique; stored in capitals."),
    )
    name = StringField(
        _l("Organisation name"),
        validators=[
            DataRequired(message=_l("Give the organisation's name.")),
            Length(max=org_service.NAME_MAX, message=TOO_LONG),
        ],
    )
    colleagues_may_view = BooleanField(_l("Colleagues may view each other's requests"))
    colleagues_may_reply = BooleanField(_l("Colleagues may also reply to each other's requests"))
    notify_org_admins = BooleanField(
        _l("Tell the organisation's admins of every hand-off, as the contact is told"),
        description=_l("Replies, deliveries to accept, reminders and closing, by their settings."),
    )
    calendar = SelectField(_l("Business calendar"), coerce=_optional_id)
    feedback_window_days = IntegerField(
        _l("Feedback window (working days)"),
        validators=[
            InputRequired(message=_l("Between 1 and 30 working days.")),
            NumberRange(
                org_service.MIN_FEEDBACK_DAYS,
                org_service.MAX_FEEDBACK_DAYS,
                message=_l("Between 1 and 30 working days."),
            ),
        ],
        default=org_service.DEFAULT_FEEDBACK_DAYS,
        description=_l("How long the customer may rate a completed request (the template: 3)."),
    )
    sla_policy = SelectField(
        _l("SLA policy"),
        coerce=_optional_id,
        # absent or empty: the built-in policy; the service refuses an unknown or inactive one
        validate_choice=False,
        description=_l("A change applies to requests submitted afterwards."),
    )

    def fields_in_order(self) -> list:
        """The settings as the page shows them; a field added at merge goes in this list."""
        return [
            self.code,
            self.name,
            self.colleagues_may_view,
            self.colleagues_may_reply,
            self.notify_org_admins,
            self.calendar,
            self.sla_policy,
            self.feedback_window_days,
        ]

    def set_calendars(self) -> None:
        rows = calendar_service.all_calendars(db.session)
        default = rows[0].name if rows else _("built-in")
        self.calendar.choices = [
            SelectChoice("", _("The desk's default (%(name)s)", name=default))
        ] + [SelectChoice(str(r.id), r.name) for r in rows]
        self.sla_policy.choices = [
            SelectChoice(str(pid), str(name)) for pid, name in sla_policies.choices(db.session)
        ]

    def settings(self) -> org_service.OrganisationSettings:
        return org_service.OrganisationSettings(
            code=self.code.data or "",
            name=self.name.data or "",
            colleagues_may_view=bool(self.colleagues_may_view.data),
            colleagues_may_reply=bool(self.colleagues_may_reply.data),
            notify_org_admins=bool(self.notify_org_admins.data),
            calendar_id=self.calendar.data,
            feedback_window_days=self.feedback_window_days.data,
            sla_policy_id=self.sla_policy.data,
        )

    @classmethod
    def of(cls, org: Organisation) -> OrganisationForm:
        return cls(
            formdata=None,
            code=org.code,
            name=org.name,
            colleagues_may_view=org.colleagues_may_view,
            colleagues_may_reply=org.colleagues_may_reply,
            notify_org_admins=org.notify_org_admins,
            calendar=org.calendar_id,
            feedback_window_days=org.feedback_window_days,
            sla_policy=org.sla_policy_id or sla_policies.builtin_id(db.session),
        )


def _org_or_404(organisation_id: int) -> Organisation:
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        abort(404)
    return org


def _save(form: OrganisationForm, org: Organisation | None) -> Organisation | None:
    """Validate and save; on a refusal the errors are on the form and nothing is kept."""
    form.set_calendars()
    if not form.validate_on_submit():
        return None
    try:
        if org is None:
            org = org_service.create(db.session, actor(), utcnow(), form.settings())
        else:
            org_service.update(db.session, actor(), utcnow(), org, form.settings())
    except org_service.OrganisationError as exc:
        db.session.rollback()
        field = getattr(form, exc.field, None)
        (field.errors if field is not None else form.form_errors).append(exc.message)
        return None
    db.session.commit()
    return org


# --- the list ----------------------------------------------------------------------------------


def _list_args() -> tuple[str, str, int]:
    q = (request.args.get("q") or "").strip()[:200]
    shown = request.args.get("active", "active")
    if shown not in ACTIVE_FILTERS:
        shown = "active"
    page = page_number(request.args.get("page"))
    return q, shown, max(1, min(page, 100_000))


def _list_page(new_form: OrganisationForm | None = None, status: int = 200):
    q, shown, page = _list_args()
    result = org_service.search(db.session, q, ACTIVE_FILTERS[shown], page, PAGE_SIZE)
    if may_change() and new_form is None:
        new_form = OrganisationForm(formdata=None)
        new_form.set_calendars()
    return render_template(
        "staff/admin/organisations.html",
        result=result,
        q=q,
        shown=shown,
        new_form=new_form if may_change() else None,
    ), status


@bp.get("/organisations", endpoint="organisations")
def admin_organisations():
    return _list_page()


@bp.post("/organisations", endpoint="organisation_create")
def admin_organisation_create():
    require_admin()
    form = OrganisationForm()
    org = _save(form, None)
    if org is None:
        return _list_page(form, 422)
    flash(_("Organisation “%(name)s” created.", name=org.name), "success")
    return redirect(url_for("staff.admin.organisation", organisation_id=org.id))


# --- one organisation --------------------------------------------------------------------------


def _detail_page(org: Organisation, form: OrganisationForm | None = None, status: int = 200):
    if form is None:
        form = OrganisationForm.of(org)
        form.set_calendars()
    contacts, open_requests = org_service.contact_counts(db.session, org.id)
    calendar = calendar_service.calendar_row_for_organisation(db.session, org.id)
    return render_template(
        "staff/admin/organisation.html",
        org=org,
        form=form,
        policy_name=sla_policies.organisation_policy_name(db.session, org),
        editable=may_change(),
        contacts=contacts,
        open_requests=open_requests,
        calendar=calendar,
        contacts_link="staff.admin.contacts" in current_app.view_functions,
    ), status


@bp.get("/organisations/<int:organisation_id>", endpoint="organisation")
def admin_organisation(organisation_id: int):
    return _detail_page(_org_or_404(organisation_id))


@bp.post("/organisations/<int:organisation_id>", endpoint="organisation_update")
def admin_organisation_update(organisation_id: int):
    require_admin()
    org = _org_or_404(organisation_id)
    form = OrganisationForm()
    if _save(form, org) is None:
        return _detail_page(_org_or_404(organisation_id), form, 422)
    flash(_("Organisation “%(name)s” saved.", name=org.name), "success")
    return redirect(url_for("staff.admin.organisation", organisation_id=org.id))


class ConfirmForm(PortalForm):
    """A button: the CSRF token alone."""


@bp.post("/organisations/<int:organisation_id>/deactivate", endpoint="organisation_deactivate")
def admin_organisation_deactivate(organisation_id: int):
    require_admin()
    org = _org_or_404(organisation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if org_service.deactivate(db.session, actor(), utcnow(), org):
        db.session.commit()
        flash(
            _(
                "“%(name)s” is deactivated: its contacts cannot log in and no new request can be "
                "registered for it. Its requests stay.",
                name=org.name,
            ),
            "success",
        )
    return redirect(url_for("staff.admin.organisation", organisation_id=org.id))


@bp.post("/organisations/<int:organisation_id>/reactivate", endpoint="organisation_reactivate")
def admin_organisation_reactivate(organisation_id: int):
    require_admin()
    org = _org_or_404(organisation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if org_service.reactivate(db.session, actor(), utcnow(), org):
        db.session.commit()
        flash(_("“%(name)s” is active again.", name=org.name), "success")
    return redirect(url_for("staff.admin.organisation", organisation_id=org.id))
