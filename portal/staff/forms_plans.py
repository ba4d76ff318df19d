"""The periodic service plan's form (portal/staff/admin/plans.py): the recurrence in plain
choices, with the typed RRULE as an advanced choice."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from portal.domain import plans as rules
from portal.presentation import plans as words
from portal.presentation.labels import PRIORITY_LABELS
from portal.services import plans as plan_service
from portal.web.forms import TOO_LONG, PortalForm

NONE = ""


def _int_or_none(value):
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None


class PlanForm(PortalForm):
    title = StringField(_l("Title"), validators=[Length(max=200, message=TOO_LONG)])
    service_item = StringField(
        _l("Service item"),
        description=_l("What is delivered each time (服务项目), e.g. 系统巡检服务."),
        validators=[Length(max=200, message=TOO_LONG)],
    )
    contact_id = SelectField(
        _l("Customer contact"),
        description=_l("Who the requests are registered for and who accepts each delivery."),
        coerce=_int_or_none,
        validate_choice=False,
    )
    checklist = TextAreaField(
        _l("Checklist"),
        description=_l("One item a line: the acceptance criteria (验收标准) of each delivery."),
        validators=[Length(max=20000, message=TOO_LONG)],
    )
    handler_id = SelectField(_l("Default handler"), coerce=_int_or_none, validate_choice=False)
    department_id = SelectField(
        _l("Department"),
        description=_l("Without a default handler, the dispatcher assigns each request."),
        coerce=_int_or_none,
        validate_choice=False,
    )
    kind = SelectField(
        _l("How often"),
        choices=[SelectChoice(k, v) for k, v in words.KIND_LABELS.items()],
    )
    interval = IntegerField(
        _l("Every how many (months or weeks)"),
        default=1,
        validators=[Optional(), NumberRange(1, 12, message=_l("Between 1 and 12."))],
    )
    day = SelectField(
        _l("Day of the month"),
        coerce=int,
        choices=[SelectChoice(d, str(d)) for d in range(1, 29)]
        + [SelectChoice(-1, _l("The last day"))],
    )
    ordinal = SelectField(
        _l("Which"),
        coerce=int,
        choices=[SelectChoice(k, v) for k, v in words.ORDINAL_LABELS.items()],
    )
    weekday = SelectField(
        _l("Weekday"), choices=[SelectChoice(k, v) for k, v in words.WEEKDAY_LABELS.items()]
    )
    advanced = StringField(
        _l("RRULE (advanced)"),
        description=_l("RFC 5545, without DTSTART: e.g. FREQ=MONTHLY;BYDAY=+1MO."),
        validators=[Length(max=rules.MAX_RULE_LENGTH, message=TOO_LONG)],
    )
    shift = SelectField(
        _l("A date on a day off moves"),
        choices=[SelectChoice(k, v) for k, v in words.SHIFT_LABELS.items()],
    )
    lead_days = IntegerField(
        _l("Lead time (working days)"),
        description=_l("The request opens this many working days before the due day."),
        default=0,
        validators=[Optional(), NumberRange(0, 60, message=_l("Between 0 and 60 working days."))],
    )
    priority = SelectField(
        _l("Priority"),
        default="P3",
        choices=[SelectChoice(p.value, PRIORITY_LABELS[p]) for p in PRIORITY_LABELS],
    )
    sla_policy_id = SelectField(_l("SLA policy"), coerce=_int_or_none, validate_choice=False)
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])

    def set_choices(self, lists: plan_service.Choices) -> None:
        chinese = str(get_locale() or "").startswith("zh")
        self.contact_id.choices = [SelectChoice(NONE, "—")] + [
            SelectChoice(i, label) for i, label in lists.contacts
        ]
        self.handler_id.choices = [SelectChoice(NONE, _l("None: the dispatcher assigns"))] + [
            SelectChoice(i, name) for i, name in lists.handlers
        ]
        self.department_id.choices = [SelectChoice(NONE, "—")] + [
            SelectChoice(d.id, d.name_zh if chinese else d.name_en) for d in lists.departments
        ]
        self.sla_policy_id.choices = [SelectChoice(NONE, _l("The organisation's policy"))] + [
            SelectChoice(i, name) for i, name in lists.policies
        ]

    def data_in(self) -> plan_service.PlanInput:
        rule = rules.RuleChoice(
            kind=self.kind.data or rules.MONTHLY_DAY,
            interval=self.interval.data if self.interval.data is not None else 1,
            day=self.day.data if self.day.data is not None else 1,
            ordinal=self.ordinal.data if self.ordinal.data is not None else 1,
            weekday=self.weekday.data or "MO",
            advanced=self.advanced.data or "",
        )
        return plan_service.PlanInput(
            title=self.title.data or "",
            service_item=self.service_item.data or "",
            checklist=self.checklist.data or "",
            contact_id=self.contact_id.data,
            rule=rule,
            shift=self.shift.data or "",
            lead_days=self.lead_days.data if self.lead_days.data is not None else 0,
            priority=self.priority.data or "",
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            handler_id=self.handler_id.data,
            department_id=self.department_id.data,
            sla_policy_id=self.sla_policy_id.data,
        )

    def refused(self, exc: plan_service.PlanInputError) -> None:
        name = words.ERROR_FIELDS.get(exc.field, exc.field)
        field = getattr(self, name, None) or self.title
        field.errors = [words.error_message(exc.field, exc.code)]

    @classmethod
    def of(cls, plan) -> PlanForm:
        data = plan_service.input_of(plan)
        return cls(
            formdata=None,
            title=data.title,
            service_item=data.service_item,
            checklist=data.checklist,
            contact_id=data.contact_id,
            handler_id=data.handler_id,
            department_id=data.department_id,
            kind=data.rule.kind,
            interval=data.rule.interval,
            day=data.rule.day,
            ordinal=data.rule.ordinal,
            weekday=data.rule.weekday,
            advanced=data.rule.advanced,
            shift=data.shift,
            lead_days=data.lead_days,
            priority=data.priority,
            sla_policy_id=data.sla_policy_id,
            starts_on=data.starts_on,
            ends_on=data.ends_on,
        )
