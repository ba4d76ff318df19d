"""Audit events as sentences in the reader's language (docs/product.md §6): "赵静 changed
华东制造's SLA policy from 标准 to 金牌", never ``organisation.updated {...}``.

An event is its action (``<object>.<verb>``), the type and display label of its object, the
actor's name and the changed fields (``before`` / ``after``, display values). Each known action
has a sentence; an action of a known verb (``*.created``, ``*.updated``, ``*.deactivated`` …)
takes that verb's sentence whatever its object; anything else still reads as a sentence
("赵静 did «organisation merged» on organisation ACME"). Changes read as one sentence listing
them, and the details of an event are a field / before / after table, never JSON.

Contact data is masked as on the audit page before (an admin reads the log without seeing
contacts in full): the contact's fields (``contact_name``, ``phone``, ``email``, a signer's
typed name …) are masked wherever they appear, ``name`` when the object is a contact, the
names of contacts acting or acted on, and every other text has its personal data redacted.

No session and no services here: the page builder (portal.services.audit.audit_page) gives the
names, this module says them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain import pii
from portal.domain.masking import mask_email, mask_name, mask_phone
from portal.presentation import labels
from portal.presentation.formatting import desk_time

# --- objects -------------------------------------------------------------------------------------

OBJECT_TYPES = {
    "organisation": _l("organisation"),
    "contact": _l("contact"),
    "staff": _l("staff member"),
    "account": _l("account"),
    "department": _l("department"),
    "category": _l("category"),
    "skill": _l("skill"),
    "sla_policy": _l("SLA policy"),
    "vague_phrase": _l("vague phrase"),
    "calendar": _l("calendar"),
    "mailbox": _l("mailbox"),
    "desk_setting": _l("desk setting"),
    "service_request": _l("service request"),
    "attachment": _l("attachment"),
    "inbound_mail": _l("inbound mail"),
    "delivery": _l("delivery"),
    "feedback": _l("feedback"),
    "improvement_measure": _l("improvement measure"),
    "group_bot": _l("group bot"),
    "service_plan": _l("service plan"),
    "report": _l("report"),
    "feedback_report": _l("feedback analysis report"),
}

# objects whose ``name`` is a customer contact's (masked like every contact name)
CONTACT_OBJECTS = frozenset({"contact"})

# --- sentences -----------------------------------------------------------------------------------
# %(actor)s is who acted ("System" for the scheduler), %(object)s the object with its type
# ("organisation 华东制造", "service request SR-20260101-001"), %(label)s the object alone.

CHANGE_VERBS = frozenset(
    {"updated", "changed", "renamed", "roles_changed", "skills_changed", "status"}
)

# by the verb of ``<object>.<verb>``, for any object
VERBS = {
    "created": _l("%(actor)s created %(object)s"),
    "deactivated": _l("%(actor)s deactivated %(object)s"),
    "reactivated": _l("%(actor)s reactivated %(object)s"),
    "invited": _l("%(actor)s invited %(object)s"),
    "added": _l("%(actor)s added %(object)s"),
    "removed": _l("%(actor)s removed %(object)s"),
    "on_leave": _l("%(actor)s marked %(object)s as on leave"),
    "back_on_duty": _l("%(actor)s marked %(object)s as back on duty"),
    "made_org_admin": _l("%(actor)s made %(object)s an organisation admin"),
    "unmade_org_admin": _l("%(actor)s removed %(object)s as an organisation admin"),
}

# whole actions, where the verb alone would say too little
ACTIONS = {
    # accounts and sessions
    "account.logged_in": _l("%(actor)s signed in"),
    "account.logged_out": _l("%(actor)s signed out"),
    "account.logged_out_everywhere": _l("%(actor)s ended every session of %(object)s"),
    "account.password_changed": _l("%(actor)s changed the password of %(object)s"),
    "account.session_renewed": _l("%(actor)s went on under a new session"),
    "account.session_ended": _l("%(actor)s ended a session of %(object)s"),
    "account.locked": _l("%(object)s was locked after repeated failed logins (%(actor)s)"),
    "account.password_set_by_link": _l(
        "%(actor)s set the password of %(object)s through an e-mailed link"
    ),
    "contact_import.imported": _l("%(actor)s imported a file of contacts"),
    # requests: intake and lifecycle (portal.domain.lifecycle)
    "request.submitted": _l("%(actor)s submitted %(object)s"),
    "request.classify": _l("%(actor)s classified %(object)s"),
    "request.reclassify": _l("%(actor)s reclassified %(object)s"),
    "request.assign": _l("%(actor)s assigned %(object)s"),
    "request.plan_classify": _l("%(actor)s classified %(object)s as its service plan says"),
    "request.plan_assign": _l("%(actor)s assigned %(object)s to its service plan's handler"),
    "request.reassign": _l("%(actor)s reassigned %(object)s"),
    "request.confirm_assignment": _l("%(actor)s confirmed the assignment of %(object)s"),
    "request.add_collaborator": _l("%(actor)s added a collaborator to %(object)s"),
    "request.log_step": _l("%(actor)s logged a step on %(object)s"),
    "request.update_record": _l("%(actor)s updated the handling record of %(object)s"),
    "request.ask_customer": _l("%(actor)s asked the customer to cooperate on %(object)s"),
    "request.answer_customer": _l("%(actor)s answered the desk's question on %(object)s"),
    "request.deliver": _l("%(actor)s delivered %(object)s for acceptance"),
    "request.accept_pass": _l("%(actor)s accepted the delivery of %(object)s"),
    "request.accept_fail": _l("%(actor)s rejected the delivery of %(object)s"),
    "request.countersign": _l("%(actor)s countersigned the acceptance of %(object)s"),
    "request.give_feedback": _l("%(actor)s rated the service of %(object)s"),
    "request.record_feedback": _l("%(actor)s recorded the customer's rating of %(object)s"),
    "request.close_timeout": _l("%(actor)s closed %(object)s: the rating window ended"),
    "request.cancel": _l("%(actor)s cancelled %(object)s"),
    "request.reply_public": _l("%(actor)s replied on %(object)s"),
    "request.note_internal": _l("%(actor)s added an internal note to %(object)s"),
    # the SLA clock
    "request.sla_recomputed": _l("%(actor)s recomputed the SLA due times of %(object)s"),
    "request.sla_resumed": _l("%(actor)s resumed the SLA clock of %(object)s"),
    "request.sla_calendar_moved": _l(
        "%(actor)s moved the due times of %(object)s after a calendar change"
    ),
    "sla.response_warn": _l("%(actor)s warned that the response time of %(object)s runs out"),
    "sla.resolution_warn": _l("%(actor)s warned that the resolution time of %(object)s runs out"),
    "sla.response_breach": _l(
        "%(actor)s escalated %(object)s to level 1: the response target was missed"
    ),
    "sla.resolution_breach": _l(
        "%(actor)s escalated %(object)s to level 1: the resolution target was missed"
    ),
    "sla.response_escalation": _l("%(actor)s escalated %(object)s to level 2: still no response"),
    "sla.resolution_escalation": _l(
        "%(actor)s escalated %(object)s to level 2: still not resolved"
    ),
    "sla.not_started": _l("%(actor)s flagged %(object)s as overdue, not started"),
    "sla.feedback_invite": _l("%(actor)s invited the customer to rate %(object)s"),
    "sla.feedback_reminder": _l("%(actor)s reminded the customer to rate %(object)s"),
    "sla.feedback_close": _l("%(actor)s ended the rating window of %(object)s"),
    "sla.measure_overdue": _l("%(actor)s flagged an overdue improvement measure of %(object)s"),
    "sla.explanation": _l("%(actor)s explained a delay to the customer of %(object)s"),
    # privacy and records
    "contact.revealed": _l("%(actor)s revealed the contact of %(object)s"),
    "record.archived": _l("%(actor)s exported the archive of %(object)s"),
    "record.purged": _l("%(actor)s purged %(object)s"),
    "export": _l("%(actor)s exported a form of %(object)s"),
    # files, deliveries, feedback
    "attachment.added": _l("%(actor)s attached %(object)s"),
    "inbound_mail.triaged": _l("%(actor)s made %(object)s a request"),
    "inbound_mail.discarded": _l("%(actor)s discarded %(object)s"),
    "delivery.delivered": _l("%(actor)s delivered %(object)s"),
    "delivery.signed": _l("%(actor)s signed %(object)s"),
    "feedback.given": _l("%(actor)s recorded %(object)s"),
    "measure.added": _l("%(actor)s added %(object)s"),
    # reports
    "report.exported": _l("%(actor)s exported the report of %(object)s"),
    "feedback_report.generated": _l("%(actor)s generated %(object)s"),
    "feedback_report.exported": _l("%(actor)s exported %(object)s"),
    "review_meeting.recorded": _l("%(actor)s recorded the service review meeting of %(object)s"),
    # group bots
    "group_bot.test_sent": _l("%(actor)s sent a test message to %(object)s"),
    # calendars
    "calendar.override_set": _l("%(actor)s marked %(day)s as %(kind)s in %(object)s"),
    "calendar.override_removed": _l("%(actor)s removed the exception of %(day)s from %(object)s"),
    "service_plan.paused": _l("%(actor)s paused %(object)s: it opens no request until resumed"),
    "service_plan.resumed": _l("%(actor)s resumed %(object)s"),
    "calendar.notice_imported": _l(
        "%(actor)s imported the holiday notice of %(year)s into %(object)s"
    ),
}

# the object type of actions whose prefix is not an object type
ACTION_OBJECTS = {
    "measure": "improvement_measure",
    "request": "service_request",
    "sla": "service_request",
    "record": "service_request",
    "export": "service_request",
    "review_meeting": "feedback_report",
}

# the administration's actions (docs: the conventions every admin page follows), for the filter
ADMIN_ACTIONS = {
    "organisation": ("created", "updated", "deactivated", "reactivated"),
    "contact": (
        "created",
        "updated",
        "invited",
        "made_org_admin",
        "unmade_org_admin",
        "deactivated",
        "reactivated",
        "revealed",
    ),
    "staff": (
        "created",
        "invited",
        "updated",
        "roles_changed",
        "skills_changed",
        "on_leave",
        "back_on_duty",
        "deactivated",
        "reactivated",
    ),
    "department": ("created", "updated", "deactivated", "reactivated"),
    "category": ("created", "updated", "deactivated", "reactivated"),
    "skill": ("created", "updated", "deactivated", "reactivated"),
    "sla_policy": ("created", "updated", "renamed", "deactivated"),
    "vague_phrase": ("added", "removed"),
    "calendar": ("created", "changed", "override_set", "override_removed", "notice_imported"),
    "desk_setting": ("updated",),
    "mailbox": ("created", "updated", "deactivated", "reactivated"),
    "group_bot": ("created", "updated", "deactivated", "reactivated", "test_sent"),
    "service_plan": ("created", "updated", "paused", "resumed"),
    "measure": ("added", "status"),
    "account": (
        "logged_in",
        "logged_out",
        "logged_out_everywhere",
        "updated",
        "password_changed",
        "password_set_by_link",
        "session_renewed",
        "session_ended",
        "locked",
    ),
}

CHANGED_ONE = _l("%(actor)s changed %(label)s's %(field)s from %(before)s to %(after)s")
SET_ONE = _l("%(actor)s set %(label)s's %(field)s to %(after)s")
CLEARED_ONE = _l("%(actor)s cleared %(label)s's %(field)s (was %(before)s)")
CHANGED_MANY = _l("%(actor)s changed %(label)s: %(changes)s")
CHANGED_NONE = _l("%(actor)s changed %(object)s")
CHANGE = _l("%(field)s from %(before)s to %(after)s")
CHANGE_SET = _l("%(field)s to %(after)s")
CHANGE_CLEARED = _l("%(field)s cleared (was %(before)s)")
UNKNOWN = _l("%(actor)s did «%(action)s» on %(object)s")
OBJECT = _l("%(type)s %(label)s")
OBJECT_OF_REQUEST = _l("%(type)s %(label)s of service request %(number)s")

# --- fields and values ---------------------------------------------------------------------------

FIELDS = {
    "name": _l("name"),
    "code": _l("code"),
    "sla_policy": _l("SLA policy"),
    "calendar": _l("calendar"),
    "colleagues_may_view": _l("colleagues may view"),
    "colleagues_may_reply": _l("colleagues may reply"),
    "notify_org_admins": _l("org admins told of hand-offs"),
    "feedback_window_days": _l("feedback window (working days)"),
    "email": _l("e-mail"),
    "phone": _l("phone"),
    "roles": _l("roles"),
    "program_types": _l("program types allowed as attachments"),
    "department": _l("department"),
    "level": _l("level"),
    "staff_level": _l("level"),
    "available": _l("availability"),
    "availability": _l("availability"),
    "active": _l("active"),
    "is_org_admin": _l("organisation admin"),
    "organisation_admin": _l("organisation admin"),
    "organisation": _l("organisation"),
    "targets": _l("targets"),
    "skills": _l("skills"),
    "on_leave_until": _l("on leave until"),
    "locale": _l("language"),
    "status": _l("status"),
    "type": _l("type"),
    "category": _l("category"),
    "priority": _l("priority"),
    "urgency": _l("urgency"),
    "channel": _l("channel"),
    "reason": _l("reason"),
    "expires_at": _l("expires at"),
    "due_at": _l("due at"),
    "timezone": _l("time zone"),
    "working_hours": _l("working hours"),
    "day": _l("day"),
    "kind": _l("kind"),
    "note": _l("note"),
    "year": _l("year"),
    "holidays": _l("holidays"),
    "workdays": _l("make-up working days"),
    "escalation_level": _l("escalation level"),
    "contact_name": _l("contact name"),
    "contact_phone": _l("contact phone"),
    "contact_email": _l("contact e-mail"),
    "phrase": _l("phrase"),
    "position": _l("position"),
    "request_type": _l("request type"),
    "name_zh": _l("name (Chinese)"),
    "name_en": _l("name (English)"),
    "warn_percent": _l("warning threshold (percent)"),
    "escalate_after_minutes": _l("escalate after (minutes)"),
    "size": _l("size"),
    "request": _l("service request"),
    "value": _l("value"),
    "side": _l("signed in on"),
    # the mailboxes (the password itself is never audited: only that it changed)
    "host": _l("host"),
    "port": _l("port"),
    "use_ssl": _l("TLS"),
    "username": _l("user name"),
    "password": _l("password"),
    "folder": _l("folder"),
    "after_taking": _l("once taken"),
    "taken_folder": _l("taken folder"),
    "platform": _l("platform"),
    "webhook_host": _l("webhook host"),
    "webhook_url": _l("webhook address"),
    "events": _l("events"),
    "language": _l("language"),
    "secret": _l("secret"),
    "secret_set": _l("secret set"),
    # the periodic service plans
    "title": _l("title"),
    "service_item": _l("service item"),
    "checklist": _l("checklist"),
    "contact": _l("contact"),
    "handler": _l("default handler"),
    "rule": _l("recurrence"),
    "shift": _l("on a day off"),
    "lead_days": _l("lead time (working days)"),
    "starts_on": _l("starts on"),
    "ends_on": _l("ends on"),
}

KINDS = {"holiday": _l("a holiday"), "workday": _l("a make-up working day")}
SIDES = {"staff": _l("the staff side"), "customer": _l("the customer side")}

VALUE_LABELS = {
    "status": {**labels.STATUS_LABELS, **labels.MEASURE_STATUS_LABELS},
    "type": labels.TYPE_LABELS,
    "request_type": labels.TYPE_LABELS,
    "priority": labels.PRIORITY_LABELS,
    "suggested_priority": labels.PRIORITY_LABELS,
    "urgency": labels.PRIORITY_LABELS,
    "channel": labels.CHANNEL_LABELS,
    "roles": labels.ROLE_LABELS,
    "kind": KINDS,
    "side": SIDES,
    "password": {"changed": _l("a new one")},
    "after_taking": {"move": _l("moved to the taken folder"), "delete": _l("deleted")},
    "platform": labels.BOT_PLATFORM_LABELS,
    "events": labels.BOT_EVENT_LABELS,
    "language": labels.BOT_LANGUAGE_LABELS,
}

# contact data wherever it appears (as the audit page has always masked it)
CONTACT_KEYS = {
    "contact_name": mask_name,
    "customer_confirmed_name": mask_name,
    "typed_name": mask_name,
    "contact_phone": mask_phone,
    "phone": mask_phone,
    "contact_email": mask_email,
    "email": mask_email,
    "contact": mask_name,
}

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
NOTHING = "—"


def _fmt(template, **params) -> str:
    """A lazy sentence in the reader's language with its placeholders filled."""
    return str(template) % params


def humanise(key: str) -> str:
    """``feedback_window_days`` → "feedback window days"; ``organisation.merged`` →
    "organisation merged"."""
    return re.sub(r"[._:\-]+", " ", str(key)).strip()


def field_label(key: str) -> str:
    label = FIELDS.get(key)
    return str(label) if label is not None else humanise(key)


def type_label(object_type: str) -> str:
    label = OBJECT_TYPES.get(object_type)
    return str(label) if label is not None else humanise(object_type)


def _zh() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "zh"


def masked(value, key: str | None = None, contact_object: bool = False):
    """Before/after as an admin reads them in the log: contact fields masked, PII redacted."""
    if isinstance(value, dict):
        return {k: masked(v, k, contact_object) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, key, contact_object) for v in value]
    if isinstance(value, str):
        if key in CONTACT_KEYS:
            return CONTACT_KEYS[key](value)
        if key == "name" and contact_object:
            return mask_name(value)
        return pii.redact(value)
    return value


def display(value, key: str | None = None) -> str:
    """One value as a reader reads it: 是/否, lists joined, dates and times in the desk's zone,
    vocabulary by its label."""
    if value is None or value == "" or value == []:
        return NOTHING
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {display(v, k)}" for k, v in value.items())
    if isinstance(value, list):
        return ("、" if _zh() else ", ").join(display(v, key) for v in value)
    text = str(value)
    known = VALUE_LABELS.get(key or "", {})
    if text in known:
        return str(known[text])
    if _DAY.match(text):
        return text
    if _INSTANT.match(text):
        try:
            return desk_time(datetime.fromisoformat(text))
        except ValueError:
            return text
    return text


@dataclass(frozen=True)
class Event:
    """What the renderer needs of one audit row (names already as the reader may see them are
    not required: ``render`` masks contacts itself)."""

    action: str
    object_type: str
    object_id: str = ""
    object_label: str | None = None
    actor_name: str | None = None  # None: the system
    before: dict | None = None
    after: dict | None = None
    request_number: str | None = None
    actor_is_contact: bool = False
    object_is_contact: bool = False


@dataclass(frozen=True)
class Detail:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Rendered:
    sentence: str
    actor: str
    details: list[Detail] = field(default_factory=list)


def _object_type(event: Event) -> str:
    prefix = event.action.split(".", 1)[0]
    if event.object_type:
        return event.object_type
    return ACTION_OBJECTS.get(prefix, prefix)


def _label(event: Event, contact: bool) -> str:
    label = event.object_label
    if not label:
        data = event.after or event.before or {}
        label = data.get("name") if isinstance(data.get("name"), str) else None
    if not label:
        label = event.object_id
    if event.object_type == "desk_setting" and label == event.object_id:
        label = field_label(label)
    if contact:
        return mask_name(label)
    return pii.redact(str(label))


def _changes(event: Event, before: dict, after: dict) -> list[tuple[str, object, object]]:
    """The fields that changed (compared unmasked: 王小明 → 王晓明 changed, though both read
    王*), with their values as shown."""
    raw_before, raw_after = event.before or {}, event.after or {}
    keys = list(after) + [k for k in before if k not in after]
    return [(k, before.get(k), after.get(k)) for k in keys if raw_before.get(k) != raw_after.get(k)]


def _change_sentence(
    event: Event, actor: str, obj: str, label: str, before: dict, after: dict
) -> str:
    changes = _changes(event, before, after)
    if not changes:
        return _fmt(CHANGED_NONE, actor=actor, object=obj)
    if len(changes) == 1:
        key, old, new = changes[0]
        params = {
            "actor": actor,
            "label": label,
            "field": field_label(key),
            "before": display(old, key),
            "after": display(new, key),
        }
        if old is None:
            return _fmt(SET_ONE, **params)
        if new is None:
            return _fmt(CLEARED_ONE, **params)
        return _fmt(CHANGED_ONE, **params)
    parts = []
    for key, old, new in changes:
        params = {
            "field": field_label(key),
            "before": display(old, key),
            "after": display(new, key),
        }
        template = CHANGE_SET if old is None else CHANGE_CLEARED if new is None else CHANGE
        parts.append(_fmt(template, **params))
    return _fmt(
        CHANGED_MANY, actor=actor, label=label, changes=("," if _zh() else ", ").join(parts)
    )


def known(action: str) -> bool:
    """Whether ``action`` has a sentence of its own (not the generic one)."""
    verb = action.rsplit(".", 1)[-1]
    return action in ACTIONS or ("." in action and (verb in VERBS or verb in CHANGE_VERBS))


def _sentence(event: Event, actor: str, obj: str, label: str, before: dict, after: dict) -> str:
    verb = event.action.rsplit(".", 1)[-1]
    template = ACTIONS.get(event.action)
    if template is None and "." in event.action:
        if verb in CHANGE_VERBS:
            return _change_sentence(event, actor, obj, label, before, after)
        template = VERBS.get(verb)
    if template is not None:
        params = {k: display(v, k) for k, v in {**before, **after}.items()}
        if "kind" in params and str(after.get("kind") or before.get("kind")) in KINDS:
            params["kind"] = str(KINDS[str(after.get("kind") or before.get("kind"))])
        params.update(actor=actor, object=obj, label=label)
        try:
            return _fmt(template, **params)
        except (KeyError, ValueError, TypeError):
            pass  # a field the sentence needs is missing: the generic sentence says it
    return _fmt(UNKNOWN, actor=actor, action=humanise(event.action), object=obj)


def render(event: Event, locale: str | None = None) -> Rendered:
    """The sentence and the details of one event, in ``locale`` (default: the reader's)."""
    if locale is not None:
        with force_locale(locale):
            return render(event)
    contact = event.object_is_contact or _object_type(event) in CONTACT_OBJECTS
    before = masked(event.before or {}, contact_object=contact)
    after = masked(event.after or {}, contact_object=contact)
    if event.actor_name is None:
        actor = _("System")
    elif event.actor_is_contact:
        actor = mask_name(event.actor_name)
    else:
        actor = event.actor_name
    label = _label(event, contact)
    type_ = type_label(_object_type(event))
    if event.request_number and _object_type(event) != "service_request":
        obj = _fmt(OBJECT_OF_REQUEST, type=type_, label=label, number=event.request_number)
    else:
        obj = _fmt(OBJECT, type=type_, label=label)
    details = [
        Detail(field_label(k), display(before.get(k), k), display(after.get(k), k))
        for k in list(before) + [k for k in after if k not in before]
    ]
    return Rendered(_sentence(event, actor, obj, label, before, after), actor, details)


def sentence(event: Event, locale: str | None = None) -> str:
    return render(event, locale).sentence


# --- the filter's choices ------------------------------------------------------------------------

ACTION_VERB_LABELS = {
    "created": _l("created"),
    "updated": _l("changed"),
    "changed": _l("changed"),
    "renamed": _l("renamed"),
    "deactivated": _l("deactivated"),
    "reactivated": _l("reactivated"),
    "invited": _l("invited"),
    "added": _l("added"),
    "removed": _l("removed"),
    "revealed": _l("contact revealed"),
    "roles_changed": _l("roles changed"),
    "skills_changed": _l("skills changed"),
    "status": _l("status changed"),
    "on_leave": _l("on leave"),
    "back_on_duty": _l("back on duty"),
    "made_org_admin": _l("made organisation admin"),
    "unmade_org_admin": _l("no longer organisation admin"),
    "override_set": _l("exception day set"),
    "override_removed": _l("exception day removed"),
    "notice_imported": _l("holiday notice imported"),
    "logged_in": _l("signed in"),
    "logged_out": _l("signed out"),
    "logged_out_everywhere": _l("every session ended"),
    "password_changed": _l("password changed"),
    "password_set_by_link": _l("password set through a link"),
    "session_renewed": _l("new session"),
    "session_ended": _l("session ended"),
    "locked": _l("locked after failed logins"),
}

ALL_OF = _l("every %(type)s event")


def action_label(action: str) -> str:
    """A short label of an action for the filter: "created", "classified service request"."""
    prefix, _sep, verb = action.partition(".")
    type_ = type_label(ACTION_OBJECTS.get(prefix, prefix))
    label = ACTION_VERB_LABELS.get(verb)
    if label is not None:
        return str(label)
    template = ACTIONS.get(action)
    if template is None:
        return humanise(action)
    # the sentence without its actor: "classified service request" names the action
    return _fmt(template, actor="", object=type_, day="…", kind="…", year="…").strip()


GROUPS = {
    "sla": _l("SLA clock"),
    "record": _l("retention"),
    "export": _l("exports"),
}


def action_choices() -> dict[str, list[tuple[str, str]]]:
    """The filter's known actions as (value, label), grouped by their object; each group of
    several opens with its "all" entry (the prefix, which the filter matches as such)."""
    actions: dict[str, list[str]] = {}
    for prefix, verbs in ADMIN_ACTIONS.items():
        actions.setdefault(prefix, []).extend(f"{prefix}.{v}" for v in verbs)
    for action in ACTIONS:
        prefix = action.split(".", 1)[0]
        if action not in actions.setdefault(prefix, []):
            actions[prefix].append(action)
    out: dict[str, list[tuple[str, str]]] = {}
    for prefix, names in actions.items():
        group = str(GROUPS.get(prefix) or type_label(ACTION_OBJECTS.get(prefix, prefix)))
        entries = out.setdefault(group[:1].upper() + group[1:], [])
        if len(names) > 1:
            entries.append((f"{prefix}.", _fmt(ALL_OF, type=group)))
        entries.extend((name, action_label(name)) for name in names)
    return out
