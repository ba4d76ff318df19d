"""The demo seed of `portal demo`: two customer organisations, one staff account per role and
about thirty requests over every status, submitted over the last ten days.

The data is plain (portal.demo.people, portal.demo.scenarios); portal.demo.builder walks every
request through the same services the pages use, each action at its own time, so the requests,
their numbers, audit trail, notifications and SLA clocks are what ten days of real use would have
left. Seeding runs once: a database that already holds the demo organisations is left alone
unless reset.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import security
from portal.demo.people import CUSTOMERS, DEPARTMENTS, MARKER_ORG, ORGANISATIONS, STAFF
from portal.models import Base, Organisation, ServiceRequest

# the policy's (portal/domain/password_policy.py): checked against every demo person at seeding;
# printed for the newcomer
DEMO_PASSWORD = "Lantern-Harbour-2026"  # nosec B105

__all__ = ["DEMO_PASSWORD", "SeedResult", "format_logins", "is_seeded", "logins", "seed", "wipe"]


@dataclass
class SeedResult:
    created: bool
    requests: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def is_seeded(session: Session) -> bool:
    return (
        session.scalar(select(Organisation.id).where(Organisation.code == MARKER_ORG)) is not None
    )


def wipe(session: Session) -> None:
    """Delete every row of every table (the schema stays)."""
    from portal.services import audit

    with audit.unguarded(session):  # the append-only audit log goes with everything else
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        session.flush()


def seed(session: Session, now: datetime, timezone: str, *, reset: bool = False) -> SeedResult:
    """Seed the demo once, as it stands at ``now``; the caller commits. Runs in an app context
    (the services read its settings)."""
    from portal.demo.builder import Builder
    from portal.demo.scenarios import SCENARIOS

    if reset:
        wipe(session)
    elif is_seeded(session):
        return SeedResult(created=False)
    # the same password for every demo account, as the policy allows it for each of them:
    # hash it once, not once per account
    from portal.services.accounts import check_new_password

    for person in (*CUSTOMERS, *STAFF):
        check_new_password(DEMO_PASSWORD, name=person.name, email=person.email)
    password_hash = security.hash_password(DEMO_PASSWORD)
    Builder(session, now, timezone, password_hash).build(SCENARIOS)
    counts = dict(
        session.execute(
            select(ServiceRequest.status, func.count()).group_by(ServiceRequest.status)
        ).all()
    )
    return SeedResult(created=True, requests=sum(counts.values()), by_status=counts)


def logins() -> list[dict]:
    """The demo accounts to print: side, role, name, organisation, e-mail."""
    org_names = {o.code: o.name for o in ORGANISATIONS}
    departments = {d.code: d.name_en for d in DEPARTMENTS}
    rows = []
    for c in CUSTOMERS:
        rows.append(
            {
                "side": "customer",
                "role": "org admin" if c.org_admin else "contact",
                "name": c.name,
                "where": f"{org_names[c.organisation]} ({c.organisation})",
                "email": c.email,
            }
        )
    for m in STAFF:
        rows.append(
            {
                "side": "staff",
                "role": m.title,
                "name": m.name,
                "where": departments[m.department],
                "email": m.email,
            }
        )
    return rows


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _display_width(text))


def format_logins(base_url: str) -> str:
    """The table `portal demo` prints (CJK-aware column widths)."""
    base = base_url.rstrip("/")
    rows = logins()
    lines = [f"Password for every demo account: {DEMO_PASSWORD}", ""]
    for side, path, label in (
        ("customer", "/login", "Customer side"),
        ("staff", "/staff/login", "Staff side"),
    ):
        part = [r for r in rows if r["side"] == side]
        cols = ("role", "name", "where", "email")
        heads = {
            "role": "role",
            "name": "name",
            "where": "organisation" if side == "customer" else "department",
            "email": "login (e-mail)",
        }
        widths = {
            c: max(_display_width(heads[c]), *(_display_width(r[c]) for r in part)) for c in cols
        }
        lines.append(f"{label}: {base}{path}")
        lines.append("  " + "  ".join(_pad(heads[c], widths[c]) for c in cols).rstrip())
        for r in part:
            lines.append("  " + "  ".join(_pad(r[c], widths[c]) for c in cols).rstrip())
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
