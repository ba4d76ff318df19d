"""The `portal` command: a Flask CLI group installed as a console script."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext


def _create_app(*_args) -> Flask:
    from portal import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False)
def main() -> None:
    """Service desk portal."""


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(users_group)


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations to DATABASE_URL (or the embedded SQLite file)."""
    from portal.migrate import upgrade

    url = current_app.config["DATABASE_URL"]
    upgrade(url, revision)
    click.echo(f"database at revision {revision}")


@click.group("users")
def users_group() -> None:
    """Accounts."""


@users_group.command("create")
@click.option("--kind", type=click.Choice(["customer", "staff"]), required=True)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--phone")
@click.option("--organisation", "organisation_code", help="organisation code (customers)")
@click.option("--org-admin", is_flag=True, help="organisation admin (customers)")
@click.option("--department", "department_code", help="department code (staff)")
@click.option("--role", "roles", multiple=True,
              type=click.Choice(["agent", "supervisor", "dispatcher", "engineer", "admin"]))
@click.password_option()
@with_appcontext
def users_create(kind, email, name, phone, organisation_code, org_admin, department_code, roles,
                 password) -> None:
    """Create a customer or staff account."""
    from sqlalchemy import select

    from portal.db import db
    from portal.models import Department, Organisation
    from portal.services.accounts import AccountError, create_account

    session = db.session
    org_id = dept_id = None
    if organisation_code:
        org = session.scalar(select(Organisation).where(Organisation.code == organisation_code))
        if org is None:
            raise click.UsageError(f"no organisation with code {organisation_code}")
        org_id = org.id
    if department_code:
        dept = session.scalar(select(Department).where(Department.code == department_code))
        if dept is None:
            raise click.UsageError(f"no department with code {department_code}")
        dept_id = dept.id
    try:
        account = create_account(
            session, kind=kind, email=email, name=name, password=password, phone=phone,
            organisation_id=org_id, is_org_admin=org_admin, department_id=dept_id, roles=roles,
        )
    except AccountError as exc:
        raise click.UsageError(str(exc)) from exc
    session.commit()
    click.echo(f"created {kind} account {account.email} (id {account.id})")
