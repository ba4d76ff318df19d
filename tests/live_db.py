"""A PostgreSQL database of its own beside the test database, for tests whose processes must see
each other's commits (the rolled-back test transaction cannot show them)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url

from portal.db import make_engine


def empty_postgres_database(base_url: str, suffix: str) -> str:
    """The database ``<name>_<suffix>`` on the server of ``base_url``: created when missing, its
    schema emptied. Returns its URL."""
    parsed = make_url(base_url)
    name = f"{parsed.database}_{suffix}"
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = parsed.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url
