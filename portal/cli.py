"""The `portal` command: a Flask CLI group installed as a console script."""

from __future__ import annotations

import errno
import logging
import os

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, pass_script_info, with_appcontext


def _create_app(*_args) -> Flask:
    from portal import create_app

    return create_app()


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
def main() -> None:
    """Service desk portal."""


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(users_group)
    from portal.audit_cli import audit_group

    app.cli.add_command(audit_group)
    from portal.mail_cli import mail_group

    app.cli.add_command(mail_group)
    from portal.backup_cli import backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations to DATABASE_URL (or the embedded SQLite file); the first
    run also creates the default SLA policies and calendar (in PORTAL_TIMEZONE)."""
    from portal.migrate import upgrade

    url = current_app.config["DATABASE_URL"]
    upgrade(url, revision, timezone=current_app.config["PORTAL_TIMEZONE"])
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
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(["agent", "supervisor", "dispatcher", "engineer", "admin"]),
)
@click.password_option()
@with_appcontext
def users_create(
    kind, email, name, phone, organisation_code, org_admin, department_code, roles, password
) -> None:
    """Create a customer or staff account. On a fresh install: the first admin,
    `portal users create --kind staff --role admin --email … --name …`; then log in at
    /staff/login and go on in Administration (/staff/admin)."""
    from flask_babel import force_locale
    from sqlalchemy import func, select

    from portal.db import db
    from portal.models import Account, Department, Organisation
    from portal.presentation.password_text import problem_messages
    from portal.services.accounts import (
        AccountError,
        PasswordRefused,
        check_new_password,
        create_account,
    )

    session = db.session
    org_id = dept_id = None
    create_org_first = (
        "create the organisation first in Administration → Organisations (/staff/admin), "
        "or pass --organisation CODE of an existing one"
    )
    if kind == "customer" and not organisation_code:
        codes = session.scalars(select(Organisation.code).order_by(Organisation.code).limit(5))
        known = ", ".join(codes)
        raise click.UsageError(
            "a customer contact belongs to an organisation: "
            + create_org_first
            + (f" (e.g. {known})" if known else " (there is none yet)")
        )
    if organisation_code:
        org = session.scalar(select(Organisation).where(Organisation.code == organisation_code))
        if org is None:
            raise click.UsageError(
                f"no organisation with code {organisation_code}: {create_org_first}"
            )
        org_id = org.id
    if department_code:
        dept = session.scalar(select(Department).where(Department.code == department_code))
        if dept is None:
            raise click.UsageError(f"no department with code {department_code}")
        dept_id = dept.id
    try:
        check_new_password(password, name=name, email=email)
    except PasswordRefused as exc:
        with force_locale("en"):
            reasons = " ".join(problem_messages(exc.problems))
        raise click.UsageError(f"the password is refused: {reasons}") from exc
    if session.scalar(select(Account.id).where(func.lower(Account.email) == email.strip().lower())):
        raise click.UsageError(f"an account with the e-mail {email.strip().lower()} exists already")
    try:
        account = create_account(
            session,
            kind=kind,
            email=email,
            name=name,
            password=password,
            phone=phone,
            organisation_id=org_id,
            is_org_admin=org_admin,
            department_id=dept_id,
            roles=roles,
        )
    except AccountError as exc:
        raise click.UsageError(str(exc)) from exc
    session.commit()
    click.echo(f"created {kind} account {account.email} (id {account.id})")


# --- the runtimes (README: Settings and Production) ------------------------------------------------------------------
# `run`, `worker` and `demo` belong to the group itself, not to app.cli: Flask pushes an app
# context around app.cli commands, and RQ's forked work horses must not inherit one (they would
# reuse the web's database connections instead of opening their own).


def _logging() -> None:
    """One line per event: text on a terminal, JSON otherwise or with LOG_FORMAT=json."""
    from portal.log_format import configure

    configure(logging.INFO)


def _say_serving(url: str) -> None:
    click.echo(f"Serving on {url}/ (press Ctrl-C to stop)")


@main.command("run", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.option(
    "--redis-port",
    default=0,
    type=int,
    help="embedded runtime: loopback port of the Redis stand-in (default: any free port), "
    "e.g. to look at the queue with `rq info -u redis://127.0.0.1:PORT`",
)
@pass_script_info
def run_command(info: ScriptInfo, host: str, port: int, redis_port: int) -> None:
    """Serve the portal. Without REDIS_URL: the embedded runtime (web, an in-process Redis
    stand-in, the worker and its scheduler). With REDIS_URL: only the web (werkzeug, for
    development; in production use `gunicorn -w 2 wsgi:app` and `portal worker`)."""

    _serve(info.load_app(), host, port, redis_port)


def _serve(app: Flask, host: str, port: int, redis_port: int = 0) -> None:
    from portal import runtime

    _logging()
    try:
        if app.config["REDIS_URL"]:
            click.echo("REDIS_URL is set: serving the web only; run `portal worker` for the jobs.")
            click.echo("(werkzeug is for development: in production, `gunicorn -w 2 wsgi:app`)")
            runtime.serve_web(app, host, port, on_ready=_say_serving)
        else:
            click.echo("Embedded runtime: web, in-process Redis stand-in, worker and scheduler.")
            runtime.run_embedded(app, host, port, redis_port=redis_port, on_ready=_say_serving)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise click.ClickException(
            f"cannot listen on {host}:{port} (or the Redis stand-in's port): address already "
            "in use. Choose another with --port."
        ) from exc
    click.echo("Stopped.")


@main.command("worker", with_appcontext=False)
@click.option("--queue", "queues", multiple=True, help="queue to serve (repeatable)")
@click.option("--burst", is_flag=True, help="run the queued jobs, then stop")
@pass_script_info
def worker_command(info: ScriptInfo, queues: tuple[str, ...], burst: bool) -> None:
    """An RQ worker with its scheduler (`rq worker --with-scheduler`) on REDIS_URL."""
    from portal import runtime

    app = info.load_app()
    url = app.config["REDIS_URL"]
    if not url:
        raise click.UsageError(
            "REDIS_URL is not set. A separate worker needs a shared Redis "
            "(e.g. REDIS_URL=redis://localhost:6379/0). Without one, use `portal run`, "
            "which embeds a Redis stand-in and runs the worker in the same process."
        )
    _logging()
    runtime.run_worker(url, queues or app.config["RQ_QUEUES"], burst=burst)


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.option("--no-serve", is_flag=True, help="create and seed only, do not serve")
@click.option(
    "--reset", is_flag=True, help="delete ALL data in the database first, then seed the demo again"
)
@pass_script_info
def demo_command(info: ScriptInfo, host: str, port: int, no_serve: bool, reset: bool) -> None:
    """Create the database (SQLite in instance/ unless DATABASE_URL), migrate, seed the demo once,
    print the demo logins and serve with the embedded runtime."""
    from portal import demo
    from portal.db import db
    from portal.migrate import upgrade
    from portal.models import utcnow

    app = info.load_app()
    url = app.config["DATABASE_URL"]
    if reset and not url.startswith("sqlite"):
        click.confirm(f"--reset deletes every row in {_shown_url(url)}. Continue?", abort=True)
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(os.path.abspath(url.removeprefix("sqlite:///"))), exist_ok=True)
    upgrade(url, timezone=app.config["PORTAL_TIMEZONE"])
    with app.app_context():
        result = demo.seed(db.session, utcnow(), app.config["PORTAL_TIMEZONE"], reset=reset)
        db.session.commit()
    db_shown = _shown_url(url)
    if result.created:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(result.by_status.items()))
        click.echo(f"Demo seeded in {db_shown}: {result.requests} requests ({statuses}).")
    else:
        click.echo(f"Demo already seeded in {db_shown} (use --reset to start again).")
    base = f"http://{host}:{port}"
    click.echo("")
    click.echo(f"Portal: {base}/")
    click.echo(demo.format_logins(base))
    if not no_serve:
        _serve(app, host, port)
