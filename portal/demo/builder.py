"""Builds the demo: the desk (departments, skills, calendar, the built-in SLA policy,
organisations, accounts, the organisations' own SLA policies), then every action of every scenario in time order through the services the pages
use, each at its own time, while the demo's clock (portal.demo.clock) fires the SLA timers in
between. A service that refuses an action stops the seed: the demo data would be wrong."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.demo import people
from portal.demo import scenario as texts
from portal.demo.clock import DeskClock
from portal.demo.course import Action, plan
from portal.demo.scenario import Scenario
from portal.domain import plans as plan_rules
from portal.domain.classification import urgency_from_proposal
from portal.domain.vocabulary import Channel, Priority, RequestType
from portal.models import (
    Account,
    Category,
    DeliveryCriterion,
    Department,
    Feedback,
    Organisation,
    ServiceRequest,
    Skill,
)
from portal.queue import take_after_commit
from portal.services import (
    audit,
    calendars,
    catalogue,
    defaults,
    organisations,
    plan_opener,
    skill_matrix,
    sla_policies,
    staff_admin,
    workflow,
)
from portal.services import contacts as contact_service
from portal.services import delivery as delivery_service
from portal.services import feedback as feedback_service
from portal.services import plans as plan_service
from portal.services import requests as request_service

# the supervisor's three answers that make the suggested priority (portal.domain.classification)
# the one the scenario says was recorded
IMPACT = {"P1": "core", "P2": "partial", "P3": "none"}
IMPORTANCE = {"P1": "high", "P2": "medium", "P3": "low"}
# when the desk was set up and the people got their accounts (days before seeding, desk time)
SET_UP = (30, 9, 12)
ACCOUNTS_MADE = (30, 10, 25)


class Builder:
    def __init__(self, session: Session, now: datetime, timezone: str, password_hash: str) -> None:
        self.s = session
        self.now = now
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.password_hash = password_hash
        self.clock = DeskClock(session, timezone)
        self.people: dict[str, Account] = {}
        self.requests: list[ServiceRequest] = []
        self.scenarios: list[Scenario] = []

    def build(self, scenarios: list[Scenario]) -> None:
        with self.clock:
            self.desk()
            self.accounts()
            self.work(scenarios)

    def _days_ago(self, days: int, hh: int, mm: int) -> datetime:
        day = (self.now.astimezone(self.tz) - timedelta(days=days)).date()
        return datetime.combine(day, time(hh, mm), self.tz).astimezone(UTC)

    # --- the desk -----------------------------------------------------------------------------

    def desk(self) -> None:
        s = self.s
        at = self._days_ago(*SET_UP)
        self.clock.set(at)
        self.departments = {d.code: _department(s, d, at) for d in people.DEPARTMENTS}
        for c in people.CATEGORIES:
            _category(s, c, at)
        self.skills = {k.code: _skill(s, k, at) for k in people.SKILLS}
        # the desk's defaults, made as on a fresh install (by its migration), in the desk's
        # zone: there already, unless `portal demo --reset` wiped them
        s.flush()
        defaults.ensure_defaults(s.connection(), self.timezone)
        calendar = calendars.default_calendar(s)
        self.organisations = {
            o.code: _organisation(s, o, calendar.id, at) for o in people.ORGANISATIONS
        }
        s.flush()

    def accounts(self) -> None:
        made = self._days_ago(*ACCOUNTS_MADE)
        self.clock.set(made)
        for c in people.CUSTOMERS:
            # through the contacts service, with the demo's known password and no invitation
            self.people[c.key] = contact_service.create(
                self.s,
                audit.SYSTEM,
                made,
                contact_service.ContactDetails(
                    name=c.name,
                    email=c.email,
                    phone=c.mobile,
                    organisation_id=self.organisations[c.organisation].id,
                    is_org_admin=c.org_admin,
                ),
                invite=False,
                password_hash=self.password_hash,
            )
        levels: dict[tuple[int, int], int] = {}
        for m in people.STAFF:
            # as an admin adds them (portal.services.staff_admin), with the demo's known
            # password instead of an invitation mail
            account = staff_admin.invite(
                self.s,
                audit.SYSTEM,
                self.clock.now,
                staff_admin.StaffInput(
                    name=m.name,
                    email=m.email,
                    roles=list(m.roles),
                    department_id=self.departments[m.department].id,
                ),
                password_hash=self.password_hash,
            )
            self.people[m.key] = account
            for code, level in m.skills.items():
                levels[(account.id, self.skills[code].id)] = level
        self.s.flush()
        # the skill matrix, filled in by the administrator as on its page
        skill_matrix.change(self.s, audit.SYSTEM, self.clock.now, levels)
        self.sla_policies()
        self.service_plans()

    def service_plans(self) -> None:
        """The periodic service plans, made by the supervisor through the plans service; their
        requests open in the course of the work below, each when it is due to (the opener)."""
        supervisor = self.people["supervisor"]
        for p in people.PLANS:
            plan_service.create(
                self.s,
                audit.Actor(supervisor.id),
                supervisor,
                plan_service.PlanInput(
                    title=p.title,
                    service_item=p.service_item,
                    checklist="\n".join(p.checklist),
                    contact_id=self.people[p.contact].id,
                    rule=plan_rules.RuleChoice(p.kind, day=p.day, weekday=p.weekday),
                    shift=plan_rules.SHIFT_NEXT,
                    lead_days=p.lead_days,
                    priority=p.priority,
                    starts_on=self.clock.now.astimezone(self.tz).date(),
                    handler_id=self.people[p.handler].id,
                ),
                self.clock.now,
            )
        self.s.flush()

    def sla_policies(self) -> None:
        """The organisations' own SLA policies, made by the admin through the service the SLA
        policy pages use, before any request is submitted."""
        admin = audit.Actor(self.people["admin"].id)
        at = self.clock.now
        for p in people.SLA_POLICIES:
            policy = sla_policies.create(self.s, admin, at, p.name, None)
            targets = [
                sla_policies.Targets(t.priority, *p.targets[t.priority], t.warn_percent,
                                     t.escalate_after_minutes)
                if t.priority in p.targets
                else t
                for t in sla_policies.current_targets(self.s, policy)
            ]  # fmt: skip
            sla_policies.update_targets(self.s, admin, at, policy, targets)
            for code in p.organisations:
                sla_policies.set_organisation_policy(
                    self.s, admin, at, self.organisations[code], policy
                )

    # --- the requests -------------------------------------------------------------------------

    def work(self, scenarios: list[Scenario]) -> None:
        self.scenarios, actions = plan(scenarios, self.now, self.timezone)
        self.requests = [None] * len(self.scenarios)  # type: ignore[list-item]
        planned = sorted(plan_opener.due(self.s, self.now), key=lambda d: d.open_at)
        for act in actions:
            while planned and planned[0].open_at <= act.at:
                self._open_planned(planned.pop(0))
            self.clock.advance(act.at)
            getattr(self, f"_{act.action}")(self.scenarios[act.request], act)
            self.clock.changed(self.requests[act.request])
        for item in planned:
            self._open_planned(item)
        self.clock.advance(self.now)
        # the e-mails the actions queued wait in the outbox; without a Redis yet (the embedded
        # runtime starts after the seed) nothing is enqueued and the worker's sweep sends them
        if not current_app.config.get("REDIS_URL"):
            take_after_commit(self.s)
        self.s.flush()

    def _open_planned(self, item: plan_opener.Due) -> None:
        """A plan's occurrence opens at its time, as the opener job would have opened it."""
        self.clock.advance(item.open_at)
        row = plan_opener.open_occurrence(self.s, item, self.clock.now, self.timezone)
        if row is None:
            raise RuntimeError(f"the demo's plan {item.plan_id} did not open {item.occurrence}")
        self.clock.changed(self.s.get(ServiceRequest, row.request_id))

    def _who(self, act: Action) -> tuple[audit.Actor, Account]:
        account = self.people[act.by]
        return audit.Actor(account.id), account

    def _sr(self, act: Action) -> ServiceRequest:
        return self.requests[act.request]

    def _submit(self, sc: Scenario, act: Action) -> None:
        actor, _by = self._who(act)
        sr = request_service.submit(
            self.s,
            actor,
            self.people[sc.contact],
            request_service.Intake(
                type=RequestType(sc.type),
                proposed_urgency=Priority(sc.urgency),
                title=sc.title,
                description=sc.description,
                category=sc.category,
            ),
            act.at,
            self.timezone,
            channel=Channel(sc.channel),
        )
        self.requests[act.request] = sr
        # the job after intake tells the supervisors; done here, at the time it would have run
        if take_after_commit(self.s, "portal.jobs.request_submitted"):
            request_service.tell_supervisors(self.s, sr)

    def _classify(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        sr = self._sr(act)
        priority = sc.priority or ""
        record = workflow.classify(
            self.s,
            actor,
            by,
            sr,
            workflow.ClassificationInput(
                type=sr.type,
                category=sr.category,
                impact_scope=IMPACT[priority],
                urgency=urgency_from_proposal(sc.urgency).value,
                business_importance=IMPORTANCE[priority],
                confirmed_details=texts.CONFIRMED_DETAILS.format(initial=sr.contact_name[0]),
            ),
            act.at,
        )
        if record.priority != priority:
            raise ValueError(f"demo request {sc.title}: the answers suggest {record.priority}")

    def _assign(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        sr = self._sr(act)
        workflow.assign(
            self.s,
            actor,
            by,
            sr,
            self.people[sc.handler or ""].id,
            act.at,
            self.timezone,
            reason=texts.ASSIGN_REASON,
            briefing=texts.BRIEFING.format(priority=sr.priority),
        )

    def _confirm(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        workflow.confirm_assignment(self.s, actor, by, self._sr(act), act.at, act.at)

    def _step(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        step = workflow.StepInput(
            occurred_at=act.args["occurred"],
            operation=act.args["operation"],
            hours=Decimal(act.args["hours"]),
        )
        workflow.log_step(self.s, actor, by, self._sr(act), step, act.at, self.timezone)

    def _collaborator(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        person = self.people[act.args["person"]]
        workflow.add_collaborator(
            self.s, actor, by, self._sr(act), person.id, person.name, act.args["scope"], act.at
        )

    def _reply(self, sc: Scenario, act: Action, internal: bool = False) -> None:
        actor, by = self._who(act)
        workflow.post_message(
            self.s, actor, by, self._sr(act), act.args["body"], act.at, internal=internal
        )

    def _note(self, sc: Scenario, act: Action) -> None:
        self._reply(sc, act, internal=True)

    def _record(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        workflow.update_record(
            self.s,
            actor,
            by,
            self._sr(act),
            act.at,
            self.timezone,
            problems=act.args.get("problems", ""),
            workaround=act.args.get("workaround", ""),
            final_result=act.args.get("final_result", ""),
        )

    def _ask(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        workflow.ask_customer(
            self.s, actor, by, self._sr(act), act.args["what"], act.args["needed_by"], act.at
        )

    def _answer(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        workflow.answer_customer(self.s, actor, by, self._sr(act), act.args["answer"], act.at)

    def _cancel(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        workflow.cancel(self.s, actor, by, self._sr(act), act.args["reason"], act.at)

    def _deliver(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        delivery_service.deliver(
            self.s,
            actor,
            by,
            self._sr(act),
            act.at,
            self.timezone,
            service_item=act.args["service_item"],
            items=list(act.args["items"]),
            criteria=list(act.args["criteria"]),
            folder=current_app.config["UPLOAD_FOLDER"],
            max_bytes=current_app.config["UPLOAD_MAX_BYTES"],
        )

    def _accept(self, sc: Scenario, act: Action) -> None:
        """The customer signs the delivery as passed, every criterion met."""
        actor, by = self._who(act)
        sr = self._sr(act)
        pending = delivery_service.latest(self.s, sr.id)
        met = set(
            self.s.scalars(
                select(DeliveryCriterion.id).where(DeliveryCriterion.delivery_id == pending.id)
            )
        )
        delivery_service.accept(
            self.s, actor, by, sr, act.at, result="pass", met_ids=met, typed_name=by.name
        )

    def _countersign(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        delivery_service.countersign(self.s, actor, by, self._sr(act), act.at, typed_name=by.name)

    def _feedback(self, sc: Scenario, act: Action) -> None:
        actor, by = self._who(act)
        response, effect, attitude = sc.scores or (0, 0, 0)
        feedback_service.give(
            self.s,
            actor,
            by,
            self._sr(act),
            act.at,
            self.timezone,
            scores={"response": response, "effect": effect, "attitude": attitude},
            suggestions=sc.suggestion,
        )

    def _measure(self, sc: Scenario, act: Action) -> None:
        """The supervisor draws an improvement measure from the feedback, owned by themself."""
        actor, by = self._who(act)
        fb = self.s.scalars(select(Feedback).where(Feedback.request_id == self._sr(act).id)).one()
        given = fb.created_at.astimezone(self.tz).date()
        feedback_service.add_measure(
            self.s,
            actor,
            by,
            fb,
            act.at,
            measure=sc.measure,
            owner_id=by.id,
            deadline=given + timedelta(days=texts.MEASURE_DAYS),
            today=act.at.astimezone(self.tz).date(),
        )


# --- the desk's lists, set up by an administrator through the services of the admin pages ------
# (reusing any entry already there: the demo may be seeded over a desk that has them)


def _department(session: Session, d: people.Department, at: datetime) -> Department:
    row = session.scalar(select(Department).where(Department.code == d.code))
    if row is None:
        row = catalogue.create_department(
            session, audit.SYSTEM, at, catalogue.Names(d.code, d.name_zh, d.name_en)
        )
    return row


def _category(session: Session, c: people.Category, at: datetime) -> None:
    exists = session.scalar(
        select(Category.id).where(
            Category.request_type == c.request_type.value, Category.code == c.code
        )
    )
    if exists is None:
        catalogue.create_category(
            session,
            audit.SYSTEM,
            at,
            c.request_type.value,
            catalogue.Names(c.code, c.name_zh, c.name_en),
        )


def _skill(session: Session, k: people.Skill, at: datetime) -> Skill:
    row = session.scalar(select(Skill).where(Skill.code == k.code))
    if row is None:
        row = catalogue.create_skill(
            session,
            audit.SYSTEM,
            at,
            catalogue.SkillInput(
                catalogue.Names(k.code, k.name_zh, k.name_en), k.request_type.value, k.category
            ),
        )
    return row


def _organisation(
    session: Session, o: people.Organisation, calendar_id: int, at: datetime
) -> Organisation:
    """The organisation as an admin creates it (portal.services.organisations, audited)."""
    return organisations.create(
        session,
        audit.SYSTEM,
        at,
        organisations.OrganisationSettings(
            code=o.code,
            name=o.name,
            colleagues_may_view=o.colleagues_may_view,
            colleagues_may_reply=False,
            calendar_id=calendar_id,
        ),
        created_at=at,
    )
