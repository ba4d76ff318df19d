"""The SLA policy pages of the administration area: the list ``/staff/admin/sla-policies`` (name,
version, organisations using it, targets, and the form for a new policy) and a policy's page
``/staff/admin/sla-policies/<id>`` (its targets per priority, which make a new version when
saved, its name, deactivation, and the organisations using it). Supervisors read them; admins
change them (portal.services.sla_policies).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.db import db
from portal.domain import sla as rules
from portal.models import SlaPolicy, utcnow
from portal.presentation.sla import UNIT_LABELS
from portal.services import sla_policies
from portal.staff.admin import bp, may_change, require_admin
from portal.web.auth import actor
from portal.web.forms import TOO_LONG, PortalForm

PRIORITIES = sla_policies.PRIORITIES
AMOUNT_MESSAGE = _l("A whole number from 1 to %(max)d.", max=rules.MAX_AMOUNT)
PERCENT_MESSAGE = _l("A percentage from 1 to 99.")
MINUTES_MESSAGE = _l("A number of minutes from 1 to %(max)d.", max=rules.ESCALATE_MINUTES_RANGE[1])
UNIT_CHOICES = [SelectChoice(u, UNIT_LABELS[u]) for u in rules.UNITS]


def _policy_or_404(policy_id: int) -> SlaPolicy:
    policy = db.session.get(SlaPolicy, policy_id)
    if policy is None:
        abort(404)
    return policy


def _name_field():
    return StringField(
        _l("Policy name"),
        validators=[
            DataRequired(message=_l("Give the policy a name.")),
            Length(max=sla_policies.NAME_MAX, message=TOO_LONG),
        ],
    )


NAME_ERRORS = {
    "duplicate": _l("Another policy has this name."),
    "empty": _l("Give the policy a name."),
    "too-long": _l("At most %(max)d characters.", max=sla_policies.NAME_MAX),
    "builtin": _l("The built-in policy keeps its name."),
}


class NewPolicyForm(PortalForm):
    name = _name_field()
    copy_from = SelectField(_l("Start from the targets of"), coerce=int, choices=[])


class RenameForm(PortalForm):
    name = _name_field()


class ActionForm(PortalForm):
    """A button that changes a policy (deactivate, reactivate): the CSRF token only."""


class WholeNumberField(IntegerField):
    """An integer field that says ``invalid_message`` for what is not a whole number."""

    def __init__(self, label=None, validators=None, *, invalid_message, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(str(self.invalid_message)) from None


def _amount(label):
    return WholeNumberField(
        label,
        invalid_message=AMOUNT_MESSAGE,
        validators=[
            InputRequired(message=AMOUNT_MESSAGE),
            NumberRange(min=1, max=rules.MAX_AMOUNT, message=AMOUNT_MESSAGE),
        ],
    )


class TargetsForm(PortalForm):
    """The targets of P1, P2 and P3: fields ``P1_respond_amount`` … ``P3_escalate_after_minutes``
    (added below)."""

    def rows(self):
        """Per priority: (priority, [its fields in the order of the table's columns])."""
        return [
            (p, [self[f"{p}_{name}"] for name in sla_policies.TARGET_FIELDS]) for p in PRIORITIES
        ]

    def targets(self) -> list[sla_policies.Targets]:
        return [
            sla_policies.Targets(
                p, *(self[f"{p}_{name}"].data for name in sla_policies.TARGET_FIELDS)
            )
            for p in PRIORITIES
        ]

    @classmethod
    def of(cls, targets: list[sla_policies.Targets]) -> TargetsForm:
        data = {
            f"{t.priority}_{name}": getattr(t, name)
            for t in targets
            for name in sla_policies.TARGET_FIELDS
        }
        return cls(formdata=None, **data)


for _p in PRIORITIES:
    setattr(TargetsForm, f"{_p}_respond_amount", _amount(_l("%(p)s response", p=_p)))
    setattr(
        TargetsForm,
        f"{_p}_respond_unit",
        SelectField(_l("%(p)s response clock", p=_p), choices=UNIT_CHOICES),
    )
    setattr(TargetsForm, f"{_p}_resolve_amount", _amount(_l("%(p)s resolution", p=_p)))
    setattr(
        TargetsForm,
        f"{_p}_resolve_unit",
        SelectField(_l("%(p)s resolution clock", p=_p), choices=UNIT_CHOICES),
    )
    setattr(
        TargetsForm,
        f"{_p}_warn_percent",
        WholeNumberField(
            _l("%(p)s warning at (%%)", p=_p),
            invalid_message=PERCENT_MESSAGE,
            validators=[
                InputRequired(message=PERCENT_MESSAGE),
                NumberRange(*rules.WARN_PERCENT_RANGE, message=PERCENT_MESSAGE),
            ],
        ),
    )
    setattr(
        TargetsForm,
        f"{_p}_escalate_after_minutes",
        WholeNumberField(
            _l("%(p)s escalation interval (minutes)", p=_p),
            invalid_message=MINUTES_MESSAGE,
            validators=[
                InputRequired(message=MINUTES_MESSAGE),
                NumberRange(*rules.ESCALATE_MINUTES_RANGE, message=MINUTES_MESSAGE),
            ],
        ),
    )
del _p

TARGET_ERRORS = {
    "positive": AMOUNT_MESSAGE,
    "unit": _l("Choose a clock."),
    "percent": PERCENT_MESSAGE,
    "minutes": MINUTES_MESSAGE,
}


def _new_form(formdata=True) -> NewPolicyForm:
    form = NewPolicyForm(prefix="new") if formdata else NewPolicyForm(formdata=None, prefix="new")
    form.copy_from.choices = sla_policies.choices(db.session)
    return form


# --- the list ---------------------------------------------------------------------------------


def _list_page(new_form: NewPolicyForm | None = None, status: int = 200):
    return render_template(
        "staff/admin/sla_policies.html",
        rows=sla_policies.list_policies(db.session),
        new_form=new_form or _new_form(formdata=False),
        may_change=may_change(),
    ), status


@bp.get("/sla-policies", endpoint="sla_policies")
def admin_sla_policies():
    return _list_page()


@bp.post("/sla-policies", endpoint="sla_policy_create")
def admin_sla_policy_create():
    require_admin()
    form = _new_form()
    if not form.validate_on_submit():
        return _list_page(form, 422)
    source = db.session.get(SlaPolicy, form.copy_from.data)
    try:
        policy = sla_policies.create(db.session, actor(), utcnow(), form.name.data, source)
    except sla_policies.PolicyError as exc:
        db.session.rollback()
        form.name.errors = [NAME_ERRORS[exc.problems.get("name", "duplicate")]]
        return _list_page(form, 422)
    db.session.commit()
    flash(
        _("Policy “%(name)s” created as a copy; set its targets below.", name=policy.name),
        "success",
    )
    return redirect(url_for("staff.admin.sla_policy", policy_id=policy.id))


# --- one policy -------------------------------------------------------------------------------


def _policy_page(
    policy: SlaPolicy, status: int = 200, targets_form=None, rename_form=None, action_error=None
):
    page = sla_policies.policy_page(db.session, policy)
    targets = sla_policies.current_targets(db.session, policy)
    return render_template(
        "staff/admin/sla_policy.html",
        page=page,
        policy=policy,
        on_current=sla_policies.open_requests_on_version(db.session, page.row.version_id),
        targets_form=targets_form or TargetsForm.of(targets),
        rename_form=rename_form or RenameForm(formdata=None, name=policy.name),
        action_form=ActionForm(formdata=None),
        action_error=action_error,
        may_change=may_change(),
    ), status


@bp.get("/sla-policies/<int:policy_id>", endpoint="sla_policy")
def admin_sla_policy(policy_id: int):
    return _policy_page(_policy_or_404(policy_id))


@bp.post("/sla-policies/<int:policy_id>", endpoint="sla_policy_save")
def admin_sla_policy_save(policy_id: int):
    """New targets: a new version of the policy."""
    require_admin()
    policy = _policy_or_404(policy_id)
    form = TargetsForm()
    if not form.validate_on_submit():
        return _policy_page(policy, 422, targets_form=form)
    try:
        version = sla_policies.update_targets(db.session, actor(), utcnow(), policy, form.targets())
    except sla_policies.PolicyError as exc:
        db.session.rollback()
        for key, code in exc.problems.items():
            form[key.replace("-", "_", 1)].errors = [TARGET_ERRORS[code]]
        return _policy_page(policy, 422, targets_form=form)
    db.session.commit()
    if version is None:
        flash(_("Nothing changed."), "info")
    else:
        flash(
            _(
                "Saved as version %(version)d: it applies to requests submitted from now on.",
                version=version.number,
            ),
            "success",
        )
    return redirect(url_for("staff.admin.sla_policy", policy_id=policy.id))


@bp.post("/sla-policies/<int:policy_id>/rename", endpoint="sla_policy_rename")
def admin_sla_policy_rename(policy_id: int):
    require_admin()
    policy = _policy_or_404(policy_id)
    form = RenameForm()
    if not form.validate_on_submit():
        return _policy_page(policy, 422, rename_form=form)
    try:
        changed = sla_policies.rename(db.session, actor(), utcnow(), policy, form.name.data)
    except sla_policies.PolicyError as exc:
        db.session.rollback()
        form.name.errors = [NAME_ERRORS[exc.problems.get("name", "duplicate")]]
        return _policy_page(policy, 422, rename_form=form)
    db.session.commit()
    if changed:
        flash(_("Renamed to “%(name)s”.", name=policy.name), "success")
    return redirect(url_for("staff.admin.sla_policy", policy_id=policy.id))


@bp.post("/sla-policies/<int:policy_id>/deactivate", endpoint="sla_policy_deactivate")
def admin_sla_policy_deactivate(policy_id: int):
    require_admin()
    policy = _policy_or_404(policy_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _policy_page(policy, 422)
    try:
        sla_policies.deactivate(db.session, actor(), utcnow(), policy)
    except sla_policies.PolicyError as exc:
        db.session.rollback()
        code = exc.problems.get("policy")
        message = (
            _("The built-in policy cannot be deactivated.")
            if code == "builtin"
            else _("Organisations use this policy: put them on another one first.")
        )
        return _policy_page(policy, 422, action_error=message)
    db.session.commit()
    flash(_("Policy “%(name)s” deactivated.", name=policy.name), "success")
    return redirect(url_for("staff.admin.sla_policy", policy_id=policy.id))


@bp.post("/sla-policies/<int:policy_id>/reactivate", endpoint="sla_policy_reactivate")
def admin_sla_policy_reactivate(policy_id: int):
    require_admin()
    policy = _policy_or_404(policy_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _policy_page(policy, 422)
    sla_policies.reactivate(db.session, actor(), utcnow(), policy)
    db.session.commit()
    flash(_("Policy “%(name)s” is active again.", name=policy.name), "success")
    return redirect(url_for("staff.admin.sla_policy", policy_id=policy.id))
