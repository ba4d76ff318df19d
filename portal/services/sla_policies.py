"""Named SLA policies (docs/product.md §4): which targets a request is measured against, and the
admins' use cases on them.

A policy (SlaPolicy: 标准, 金牌, …) has numbered versions (SlaPolicyVersion); each version holds
the targets of P1, P2 and P3 (SlaTarget). The highest number is the current version. An
organisation points at a policy (``Organisation.sla_policy_id``; NULL: the built-in one, the
template's defaults). A request is stamped at submission with the current version of its
organisation's policy (``ServiceRequest.sla_policy_version_id``) and is measured against that
version's targets for good, for whatever priority it has: a change of targets makes a new
version and applies to requests submitted afterwards.

Reads for the SLA clock (``current_version_id``, ``target``, ``targets_for_versions``) and the
admins' use cases (``create``, ``update_targets``, ``rename``, ``deactivate``, ``reactivate``,
``set_organisation_policy``), each audited; ``list_policies``, ``policy_page``, ``choices`` and
``open_requests_on_older_versions`` for the pages. The use cases flush; the caller commits.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask import current_app, has_request_context
from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain import sla as rules
from portal.domain.vocabulary import OPEN_STATUSES, Priority
from portal.models import Organisation, ServiceRequest, SlaPolicy, SlaPolicyVersion, SlaTarget
from portal.presentation import sla as words
from portal.services import audit, defaults

log = logging.getLogger(__name__)

PRIORITIES = tuple(p.value for p in Priority)
TARGET_FIELDS = (
    "respond_amount",
    "respond_unit",
    "resolve_amount",
    "resolve_unit",
    "warn_percent",
    "escalate_after_minutes",
)
NAME_MAX = 100
# the policy page lists this many of the organisations using the policy (and counts them all)
ORGANISATIONS_SHOWN = 100
_OPEN = tuple(s.value for s in OPEN_STATUSES)


class PolicyError(ValueError):
    """A refused change: ``field`` is the form field it concerns (``name``, ``P1-respond_amount``,
    ``policy``, ``sla_policy``), ``code`` what is wrong (duplicate, empty, too-long, positive,
    unit, percent, minutes, builtin, in-use, inactive)."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Targets:
    """One priority's targets as an admin sets them."""

    priority: str
    respond_amount: int
    respond_unit: str
    resolve_amount: int
    resolve_unit: str
    warn_percent: int
    escalate_after_minutes: int

    @classmethod
    def of(cls, row) -> Targets:
        return cls(row.priority, *(getattr(row, f) for f in TARGET_FIELDS))


# --- reading: what a request is measured against -----------------------------------------------


def builtin_policy(session: Session) -> SlaPolicy | None:
    return session.scalar(
        select(SlaPolicy).where(SlaPolicy.builtin.is_(True)).order_by(SlaPolicy.id).limit(1)
    )


def builtin_id(session: Session) -> int | None:
    """The built-in policy's id (what an organisation without a policy of its own is on)."""
    return session.scalar(select(SlaPolicy.id).where(SlaPolicy.builtin.is_(True)).limit(1))


def organisation_policy_name(session: Session, organisation: Organisation):
    """The name, as shown, of the policy ``organisation`` is on."""
    policy = (
        session.get(SlaPolicy, organisation.sla_policy_id)
        if organisation.sla_policy_id is not None
        else None
    ) or builtin_policy(session)
    return words.policy_name(policy.name, policy.builtin) if policy else words.BUILTIN_NAME


def current_version(session: Session, policy_id: int) -> SlaPolicyVersion | None:
    return session.scalar(
        select(SlaPolicyVersion)
        .where(SlaPolicyVersion.policy_id == policy_id)
        .order_by(SlaPolicyVersion.number.desc())
        .limit(1)
    )


def current_version_id(session: Session, organisation_id: int | None) -> int | None:
    """The current version of the organisation's policy (the built-in one when it names none,
    or for no organisation), in one query; None when there is no policy at all."""
    builtin = (
        select(SlaPolicy.id)
        .where(SlaPolicy.builtin.is_(True))
        .order_by(SlaPolicy.id)
        .limit(1)
        .scalar_subquery()
    )
    policy = builtin
    if organisation_id is not None:
        own = (
            select(Organisation.sla_policy_id)
            .where(Organisation.id == organisation_id)
            .scalar_subquery()
        )
        policy = func.coalesce(own, builtin)
    return session.scalar(
        select(SlaPolicyVersion.id)
        .where(SlaPolicyVersion.policy_id == policy)
        .order_by(SlaPolicyVersion.number.desc())
        .limit(1)
    )


def template_target(priority: str) -> SlaTarget:
    """The template's targets of ``priority`` in memory (never added to the session)."""
    return SlaTarget(version_id=None, **defaults.target_values(priority))


def target(session: Session, version_id: int | None, priority: str) -> SlaTarget:
    """The targets of ``priority`` in version ``version_id``; if it has none (or there is no
    version), those of the built-in policy's current version; if there is no built-in policy,
    the template's values, without writing them."""
    if version_id is not None:
        row = session.scalar(
            select(SlaTarget).where(
                SlaTarget.version_id == version_id, SlaTarget.priority == priority
            )
        )
        if row is not None:
            return row
    fallback = current_version_id(session, None)
    if fallback is not None and fallback != version_id:
        row = session.scalar(
            select(SlaTarget).where(
                SlaTarget.version_id == fallback, SlaTarget.priority == priority
            )
        )
        if row is not None:
            return row
    _warn_missing(priority)
    return template_target(priority)


@lru_cache(maxsize=8)
def _warn_missing(priority: str) -> None:
    log.warning(
        "no SLA targets for %s in the database: using the template's; "
        "`portal db upgrade` creates the built-in policy",
        priority,
    )


def targets_for_versions(
    session: Session, version_ids: set[int]
) -> dict[tuple[int, str], SlaTarget]:
    """(version id, priority) → targets, for these versions, in one query."""
    if not version_ids:
        return {}
    return {
        (t.version_id, t.priority): t
        for t in session.scalars(select(SlaTarget).where(SlaTarget.version_id.in_(version_ids)))
    }


@dataclass(frozen=True)
class VersionInfo:
    """Which policy and version a request is measured against, for its SLA panel."""

    policy_id: int | None
    name: object  # as shown: the built-in one in the reader's language (lazy)
    number: int | None  # None: the template's values, no policy in the database


def version_info(session: Session, version_id: int | None) -> VersionInfo:
    row = None
    if version_id is not None:
        row = session.execute(
            select(SlaPolicy.id, SlaPolicy.name, SlaPolicy.builtin, SlaPolicyVersion.number)
            .join(SlaPolicyVersion, SlaPolicyVersion.policy_id == SlaPolicy.id)
            .where(SlaPolicyVersion.id == version_id)
        ).first()
    if row is None:
        return VersionInfo(None, words.policy_name(defaults.BUILTIN_POLICY_NAME, True), None)
    return VersionInfo(row.id, words.policy_name(row.name, row.builtin), row.number)


# --- the pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyRow:
    policy: SlaPolicy
    name: object  # as shown (lazy for the built-in one)
    version: int  # the current version's number (0: none)
    version_id: int | None
    organisations: int  # active organisations that use it
    targets: list[SlaTarget]  # of the current version, P1 to P3


def _current_versions(session: Session) -> dict[int, tuple[int, int]]:
    """policy id → (current version id, number), in one query."""
    newest = (
        select(SlaPolicyVersion.policy_id, func.max(SlaPolicyVersion.number).label("number"))
        .group_by(SlaPolicyVersion.policy_id)
        .subquery()
    )
    rows = session.execute(
        select(SlaPolicyVersion.policy_id, SlaPolicyVersion.id, SlaPolicyVersion.number).join(
            newest,
            (newest.c.policy_id == SlaPolicyVersion.policy_id)
            & (newest.c.number == SlaPolicyVersion.number),
        )
    ).all()
    return {r.policy_id: (r.id, r.number) for r in rows}


def _organisation_counts(session: Session, builtin_id: int | None) -> dict[int, int]:
    """policy id → how many active organisations use it (NULL counts for the built-in)."""
    counts: dict[int, int] = {}
    for policy_id, n in session.execute(
        select(Organisation.sla_policy_id, func.count())
        .where(Organisation.active.is_(True))
        .group_by(Organisation.sla_policy_id)
    ):
        key = builtin_id if policy_id is None else policy_id
        if key is not None:
            counts[key] = counts.get(key, 0) + n
    return counts


def list_policies(session: Session) -> list[PolicyRow]:
    """Every policy, the built-in one first, then active ones by name, then inactive ones; with
    its current version, its targets and how many organisations use it. Four queries, whatever
    the number of policies and versions (a small table: one policy per service level)."""
    policies = list(
        session.scalars(
            select(SlaPolicy).order_by(
                SlaPolicy.builtin.desc(), SlaPolicy.active.desc(), SlaPolicy.name
            )
        )
    )
    current = _current_versions(session)
    targets = targets_for_versions(session, {v for v, _n in current.values()})
    builtin_id = next((p.id for p in policies if p.builtin), None)
    counts = _organisation_counts(session, builtin_id)
    rows = []
    for p in policies:
        version_id, number = current.get(p.id, (None, 0))
        rows.append(
            PolicyRow(
                policy=p,
                name=words.policy_name(p.name, p.builtin),
                version=number,
                version_id=version_id,
                organisations=counts.get(p.id, 0),
                targets=[
                    targets[(version_id, pr)] for pr in PRIORITIES if (version_id, pr) in targets
                ],
            )
        )
    return rows


@dataclass(frozen=True)
class PolicyPage:
    row: PolicyRow
    organisations: list[Organisation]  # the first ORGANISATIONS_SHOWN active ones on it, by name
    older_open: int  # open requests measured against an older version


def policy_page(session: Session, policy: SlaPolicy) -> PolicyPage:
    """What the policy's page shows, in a fixed number of queries."""
    current = current_version(session, policy.id)
    targets = targets_for_versions(session, {current.id} if current else set())
    count = organisations_on(session, policy)
    organisations = list(
        session.scalars(
            select(Organisation)
            .where(Organisation.active.is_(True), _uses(policy))
            .order_by(Organisation.name)
            .limit(ORGANISATIONS_SHOWN)
        )
    )
    row = PolicyRow(
        policy=policy,
        name=words.policy_name(policy.name, policy.builtin),
        version=current.number if current else 0,
        version_id=current.id if current else None,
        organisations=count,
        targets=[
            targets[(current.id, p)] for p in PRIORITIES if current and (current.id, p) in targets
        ],
    )
    return PolicyPage(row, organisations, open_requests_on_older_versions(session, policy))


def _uses(policy: SlaPolicy):
    """Organisations on ``policy`` (those naming none are on the built-in one)."""
    if policy.builtin:
        return (Organisation.sla_policy_id == policy.id) | Organisation.sla_policy_id.is_(None)
    return Organisation.sla_policy_id == policy.id


def open_requests_on_older_versions(session: Session, policy: SlaPolicy) -> int:
    """How many open requests are measured against a version of ``policy`` older than its
    current one (they keep those targets). An index range per older version
    (ix_sr_sla_version_status)."""
    current = current_version(session, policy.id)
    if current is None:
        return 0
    older = select(SlaPolicyVersion.id).where(
        SlaPolicyVersion.policy_id == policy.id, SlaPolicyVersion.number < current.number
    )
    return (
        session.scalar(
            select(func.count())
            .select_from(ServiceRequest)
            .where(
                ServiceRequest.sla_policy_version_id.in_(older),
                ServiceRequest.status.in_(_OPEN),
            )
        )
        or 0
    )


def open_requests_on_version(session: Session, version_id: int | None) -> int:
    """How many open requests are measured against version ``version_id`` (an index range)."""
    if version_id is None:
        return 0
    return (
        session.scalar(
            select(func.count())
            .select_from(ServiceRequest)
            .where(
                ServiceRequest.sla_policy_version_id == version_id,
                ServiceRequest.status.in_(_OPEN),
            )
        )
        or 0
    )


def choices(session: Session) -> list[tuple[int, str]]:
    """(policy id, name as shown) of the active policies, the built-in one first: for the
    organisation form's select."""
    return [
        (p.id, words.policy_name(p.name, p.builtin))
        for p in session.scalars(
            select(SlaPolicy)
            .where(SlaPolicy.active.is_(True))
            .order_by(SlaPolicy.builtin.desc(), SlaPolicy.name)
        )
    ]


# --- the admins' changes --------------------------------------------------------------------


def _reader_language():
    """The language of the audit entry's display values: the admin's on a page; the desk's
    default language in a job, the demo or a script."""
    if has_request_context():
        return nullcontext()
    return force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN"))


def _check_name(session: Session, name: str, policy_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise PolicyError({"name": "empty"})
    if len(name) > NAME_MAX:
        raise PolicyError({"name": "too-long"})
    builtin_names = {defaults.BUILTIN_POLICY_NAME.casefold(), "standard"}
    clash = session.scalar(
        select(SlaPolicy.id).where(
            func.lower(SlaPolicy.name) == name.lower(), SlaPolicy.id != (policy_id or 0)
        )
    )
    if clash is not None or name.casefold() in builtin_names:
        raise PolicyError({"name": "duplicate"})
    return name


def check_targets(values: list[Targets]) -> None:
    """Raise PolicyError naming every bad field (``P1-respond_amount``: ``positive``, …)."""
    problems: dict[str, str] = {}
    given = {v.priority for v in values}
    for v in values:
        for field, code in rules.target_problems(*(getattr(v, f) for f in TARGET_FIELDS)).items():
            problems[f"{v.priority}-{field}"] = code
    for p in PRIORITIES:
        if p not in given:
            problems[f"{p}-respond_amount"] = "positive"
    if problems:
        raise PolicyError(problems)


def _add_version(
    session: Session, actor: audit.Actor, now: datetime, policy: SlaPolicy, number: int, values
) -> SlaPolicyVersion:
    version = SlaPolicyVersion(
        policy_id=policy.id, number=number, created_at=now, created_by_id=actor.account_id
    )
    session.add(version)
    session.flush()
    for v in values:
        session.add(
            SlaTarget(
                version_id=version.id,
                priority=v.priority,
                **{f: getattr(v, f) for f in TARGET_FIELDS},
            )
        )
    session.flush()
    return version


def current_targets(session: Session, policy: SlaPolicy) -> list[Targets]:
    """The targets of the policy's current version, P1 to P3 (the template's for a priority it
    lacks)."""
    current = current_version(session, policy.id)
    have = targets_for_versions(session, {current.id} if current else set())
    return [
        Targets.of(have.get((current.id if current else 0, p)) or template_target(p))
        for p in PRIORITIES
    ]


def create(
    session: Session, actor: audit.Actor, now: datetime, name: str, copy_from: SlaPolicy | None
) -> SlaPolicy:
    """A new policy, its version 1 a copy of the current targets of ``copy_from`` (the built-in
    one when None). Audited ``sla_policy.created``."""
    name = _check_name(session, name)
    source = copy_from or builtin_policy(session)
    values = (
        current_targets(session, source)
        if source is not None
        else [Targets.of(template_target(p)) for p in PRIORITIES]
    )
    policy = SlaPolicy(name=name, builtin=False, active=True, created_at=now)
    session.add(policy)
    session.flush()
    _add_version(session, actor, now, policy, 1, values)
    after = {"name": name, "version": 1}
    if source is not None:
        after["copied_from"] = source.name
    audit.record(session, actor, now, "sla_policy.created", "sla_policy", policy.id, after=after)
    return policy


def update_targets(
    session: Session, actor: audit.Actor, now: datetime, policy: SlaPolicy, values: list[Targets]
) -> SlaPolicyVersion | None:
    """New targets: a new version of the policy (requests submitted from now on are measured
    against it; the others keep theirs). None, and nothing written, when nothing changed.
    Audited ``sla_policy.updated`` with the changed targets as display values, before and after
    ("P1 response": "2 h" → "1 h"), and a line of them (``changes``)."""
    check_targets(values)
    # two admins saving at once: the second waits, then numbers its version after the first's
    session.execute(select(SlaPolicy.id).where(SlaPolicy.id == policy.id).with_for_update())
    by_priority = {v.priority: v for v in values}
    old = {t.priority: t for t in current_targets(session, policy)}
    new = [by_priority[p] for p in PRIORITIES]
    if all(old[v.priority] == v for v in new):
        return None
    current = current_version(session, policy.id)
    number = (current.number if current else 0) + 1
    version = _add_version(session, actor, now, policy, number, new)
    before: dict[str, object] = {"version": number - 1}
    after: dict[str, object] = {"version": number}
    changes = []
    with _reader_language():
        fields = [(words.target_fields(old[v.priority]), words.target_fields(v)) for v in new]
    for was, now_ in fields:
        for key in was:
            if was[key] != now_[key]:
                before[key], after[key] = was[key], now_[key]
                changes.append(f"{key} {was[key]} → {now_[key]}")
    after["changes"] = "; ".join(changes)
    audit.record(
        session,
        actor,
        now,
        "sla_policy.updated",
        "sla_policy",
        policy.id,
        before={"name": policy.name, **before},
        after={"name": policy.name, **after},
    )
    return version


def rename(
    session: Session, actor: audit.Actor, now: datetime, policy: SlaPolicy, name: str
) -> bool:
    """Rename a policy (not the built-in one, whose name is the reader's word for it). False
    when the name is the same."""
    if policy.builtin:
        raise PolicyError({"name": "builtin"})
    name = _check_name(session, name, policy.id)
    if name == policy.name:
        return False
    before = policy.name
    policy.name = name
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "sla_policy.renamed",
        "sla_policy",
        policy.id,
        before={"name": before},
        after={"name": name},
    )
    return True


def organisations_on(session: Session, policy: SlaPolicy) -> int:
    """Active organisations that use ``policy``."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Organisation)
            .where(Organisation.active.is_(True), _uses(policy))
        )
        or 0
    )


def deactivate(session: Session, actor: audit.Actor, now: datetime, policy: SlaPolicy) -> None:
    """Take a policy out of the choices. Refused for the built-in one and for one an active
    organisation uses; requests already on it keep their targets."""
    if policy.builtin:
        raise PolicyError({"policy": "builtin"})
    if organisations_on(session, policy):
        raise PolicyError({"policy": "in-use"})
    if not policy.active:
        return
    policy.active = False
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "sla_policy.deactivated",
        "sla_policy",
        policy.id,
        before={"name": policy.name, "active": True},
        after={"name": policy.name, "active": False},
    )


def reactivate(session: Session, actor: audit.Actor, now: datetime, policy: SlaPolicy) -> None:
    if policy.active:
        return
    policy.active = True
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "sla_policy.reactivated",
        "sla_policy",
        policy.id,
        before={"name": policy.name, "active": False},
        after={"name": policy.name, "active": True},
    )


def set_organisation_policy(
    session: Session,
    actor: audit.Actor,
    now: datetime,
    organisation: Organisation,
    policy: SlaPolicy | None,
) -> bool:
    """Put ``organisation`` on ``policy`` (None or the built-in one: the built-in one, stored as
    NULL). Its requests submitted from now on are measured against the policy's current
    version; those already submitted keep theirs. Refused for an inactive policy. Audited
    ``organisation.updated`` with the policies' names; False when nothing changed."""
    if policy is not None and not policy.active:
        raise PolicyError({"sla_policy": "inactive"})
    new_id = None if policy is None or policy.builtin else policy.id
    if organisation.sla_policy_id == new_id:
        return False
    old = (
        session.get(SlaPolicy, organisation.sla_policy_id)
        if organisation.sla_policy_id is not None
        else None
    ) or builtin_policy(session)
    new = policy if new_id is not None else builtin_policy(session)
    organisation.sla_policy_id = new_id
    session.flush()
    audit.record(
        session,
        actor,
        now,
        "organisation.updated",
        "organisation",
        organisation.id,
        before={"sla_policy": old.name if old else defaults.BUILTIN_POLICY_NAME},
        after={"sla_policy": new.name if new else defaults.BUILTIN_POLICY_NAME},
    )
    return True
