"""named, versioned SLA policies: organisations point at one, requests keep the version they were
submitted under

Until now ``sla_policies`` held one row per (organisation or NULL for the desk, priority). It
becomes three tables: ``sla_policies`` (a named policy; the built-in one holds the template's
defaults), ``sla_policy_versions`` (numbered from 1; a change of targets makes a new one) and
``sla_targets`` (per version and priority). ``organisations.sla_policy_id`` names an
organisation's policy (NULL: the built-in one); ``service_requests.sla_policy_version_id`` is
the version a request was submitted under, so a change applies to requests submitted afterwards.

The data: the desk's rows (no organisation) become the built-in policy "标准", version 1; each
organisation with rows of its own gets a policy named after its code, version 1, its missing
priorities taken from the built-in one, and points at it; every existing request is stamped
with the version 1 of its organisation's policy. Then ``ensure_defaults`` fills in whatever is
still missing (portal/services/defaults.py).

Downgrade is lossy: each policy's current version goes back into the old rows (the built-in one
as the desk's, the others as their organisations'); older versions and the names are lost.

SQLite: the two new columns are added with ALTER TABLE ... ADD COLUMN ... REFERENCES (and
dropped with ALTER TABLE ... DROP COLUMN), not by copying the tables: with foreign keys on,
dropping a table that other rows refer to fails.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import context, op

from portal.config import desk_timezone
from portal.migrate import TIMEZONE_ATTRIBUTE
from portal.models import utcnow
from portal.services.defaults import BUILTIN_POLICY_NAME, ensure_defaults, target_values

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PRIORITIES = ("P1", "P2", "P3")
TARGET_COLUMNS = (
    "respond_amount",
    "respond_unit",
    "resolve_amount",
    "resolve_unit",
    "warn_percent",
    "escalate_after_minutes",
)
ORG_FK = "fk_organisations_sla_policy_id_sla_policies"
SR_FK = "fk_service_requests_sla_policy_version_id_sla_policy_versions"
SR_INDEX = "ix_sr_sla_version_status"


def _old_table():
    return sa.table(
        "sla_policies",
        sa.column("id", sa.Integer),
        sa.column("organisation_id", sa.Integer),
        sa.column("priority", sa.String),
        *(
            sa.column(c, sa.Integer if c.endswith(("amount", "percent", "minutes")) else sa.String)
            for c in TARGET_COLUMNS
        ),
    )


policies = sa.table(
    "sla_policies",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("builtin", sa.Boolean),
    sa.column("active", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
versions = sa.table(
    "sla_policy_versions",
    sa.column("id", sa.Integer),
    sa.column("policy_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("created_by_id", sa.Integer),
)
targets = sa.table(
    "sla_targets",
    sa.column("version_id", sa.Integer),
    sa.column("priority", sa.String),
    *(
        sa.column(c, sa.Integer if c.endswith(("amount", "percent", "minutes")) else sa.String)
        for c in TARGET_COLUMNS
    ),
)
organisations = sa.table(
    "organisations",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("sla_policy_id", sa.Integer),
)
requests = sa.table(
    "service_requests",
    sa.column("organisation_id", sa.Integer),
    sa.column("sla_policy_version_id", sa.Integer),
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _add_reference(table: str, column: str, referred: str, name: str) -> None:
    if _sqlite():
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} INTEGER "
            f"CONSTRAINT {name} REFERENCES {referred} (id)"
        )
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, referred, [column], ["id"])


def _drop_reference(table: str, column: str, name: str) -> None:
    if not _sqlite():
        op.drop_constraint(name, table, type_="foreignkey")
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def _insert_policy(bind, name: str, builtin: bool, now, rows: dict[str, dict]) -> tuple[int, int]:
    """A policy with its version 1 holding ``rows`` (priority → targets); (policy, version)."""
    policy_id = bind.execute(
        sa.insert(policies)
        .values(name=name, builtin=builtin, active=True, created_at=now)
        .returning(policies.c.id)
    ).scalar_one()
    version_id = bind.execute(
        sa.insert(versions)
        .values(policy_id=policy_id, number=1, created_at=now, created_by_id=None)
        .returning(versions.c.id)
    ).scalar_one()
    bind.execute(
        sa.insert(targets),
        [{"version_id": version_id, "priority": p, **rows[p]} for p in PRIORITIES],
    )
    return policy_id, version_id


def upgrade() -> None:
    bind = op.get_bind()
    old = _old_table()
    desk: dict[str, dict] = {}
    own: dict[int, dict[str, dict]] = {}
    for row in bind.execute(sa.select(old).order_by(old.c.id)).mappings():
        values = {c: row[c] for c in TARGET_COLUMNS}
        if row["organisation_id"] is None:
            desk.setdefault(row["priority"], values)  # the first row, as the old reader took
        else:
            own.setdefault(row["organisation_id"], {}).setdefault(row["priority"], values)

    op.drop_table("sla_policies")
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_sla_policies_name")),
    )
    op.create_table(
        "sla_policy_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["accounts.id"],
            name=op.f("fk_sla_policy_versions_created_by_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_policy_versions_policy_id_sla_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy_versions")),
        sa.UniqueConstraint(
            "policy_id", "number", name=op.f("uq_sla_policy_versions_policy_id_number")
        ),
    )
    op.create_table(
        "sla_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("respond_amount", sa.Integer(), nullable=False),
        sa.Column("respond_unit", sa.String(length=16), nullable=False),
        sa.Column("resolve_amount", sa.Integer(), nullable=False),
        sa.Column("resolve_unit", sa.String(length=16), nullable=False),
        sa.Column("warn_percent", sa.Integer(), nullable=False),
        sa.Column("escalate_after_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["sla_policy_versions.id"],
            name=op.f("fk_sla_targets_version_id_sla_policy_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_targets")),
        sa.UniqueConstraint(
            "version_id", "priority", name=op.f("uq_sla_targets_version_id_priority")
        ),
    )
    _add_reference("organisations", "sla_policy_id", "sla_policies", ORG_FK)
    _add_reference("service_requests", "sla_policy_version_id", "sla_policy_versions", SR_FK)
    op.create_index(SR_INDEX, "service_requests", ["sla_policy_version_id", "status"])

    now = utcnow()
    builtin = {p: desk.get(p) or _template(p) for p in PRIORITIES}
    _policy, builtin_version = _insert_policy(bind, BUILTIN_POLICY_NAME, True, now, builtin)
    codes = dict(bind.execute(sa.select(organisations.c.id, organisations.c.code)).all())
    taken = {BUILTIN_POLICY_NAME}
    for org_id in sorted(own):
        name = _free(str(codes.get(org_id) or org_id)[:100], taken)
        rows = {p: own[org_id].get(p) or builtin[p] for p in PRIORITIES}
        policy_id, version_id = _insert_policy(bind, name, False, now, rows)
        bind.execute(
            sa.update(organisations)
            .where(organisations.c.id == org_id)
            .values(sla_policy_id=policy_id)
        )
        bind.execute(
            sa.update(requests)
            .where(requests.c.organisation_id == org_id)
            .values(sla_policy_version_id=version_id)
        )
    bind.execute(
        sa.update(requests)
        .where(requests.c.sla_policy_version_id.is_(None))
        .values(sla_policy_version_id=builtin_version)
    )
    timezone = context.config.attributes.get(TIMEZONE_ATTRIBUTE) or desk_timezone()
    ensure_defaults(bind, timezone)


def _template(priority: str) -> dict:
    values = target_values(priority)
    return {c: values[c] for c in TARGET_COLUMNS}


def _free(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name[:90]} {n}"
    taken.add(candidate)
    return candidate


def downgrade() -> None:
    bind = op.get_bind()
    current = (
        sa.select(versions.c.policy_id, sa.func.max(versions.c.number).label("number"))
        .group_by(versions.c.policy_id)
        .subquery()
    )
    rows = (
        bind.execute(
            sa.select(policies.c.id, policies.c.builtin, targets)
            .join(versions, versions.c.policy_id == policies.c.id)
            .join(
                current,
                sa.and_(
                    current.c.policy_id == versions.c.policy_id,
                    current.c.number == versions.c.number,
                ),
            )
            .join(targets, targets.c.version_id == versions.c.id)
            .order_by(policies.c.builtin.desc(), policies.c.id)
        )
        .mappings()
        .all()
    )
    by_policy: dict[int, list[dict]] = {}
    desk: list[dict] = []
    for row in rows:
        values = {"priority": row["priority"], **{c: row[c] for c in TARGET_COLUMNS}}
        if row["builtin"]:
            if not desk or all(d["priority"] != row["priority"] for d in desk):
                desk.append({"organisation_id": None, **values})
        else:
            by_policy.setdefault(row["id"], []).append(values)
    pointing = bind.execute(
        sa.select(organisations.c.id, organisations.c.sla_policy_id).where(
            organisations.c.sla_policy_id.is_not(None)
        )
    ).all()

    op.drop_index(SR_INDEX, table_name="service_requests")
    _drop_reference("service_requests", "sla_policy_version_id", SR_FK)
    _drop_reference("organisations", "sla_policy_id", ORG_FK)
    op.drop_table("sla_targets")
    op.drop_table("sla_policy_versions")
    op.drop_table("sla_policies")
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("respond_amount", sa.Integer(), nullable=False),
        sa.Column("respond_unit", sa.String(length=16), nullable=False),
        sa.Column("resolve_amount", sa.Integer(), nullable=False),
        sa.Column("resolve_unit", sa.String(length=16), nullable=False),
        sa.Column("warn_percent", sa.Integer(), nullable=False),
        sa.Column("escalate_after_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_sla_policies_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint(
            "organisation_id", "priority", name=op.f("uq_sla_policies_organisation_id_priority")
        ),
    )
    old = _old_table()
    out = list(desk)
    for org_id, policy_id in pointing:
        out.extend({"organisation_id": org_id, **v} for v in by_policy.get(policy_id, []))
    if out:
        bind.execute(sa.insert(old), out)
