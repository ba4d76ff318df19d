"""Running Alembic from the portal: `portal db upgrade`, the demo and the tests use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent
# the Alembic config attribute that tells the data migrations the desk's time zone
TIMEZONE_ATTRIBUTE = "portal_timezone"


def alembic_config(url: str, timezone: str | None = None) -> Config:
    """``timezone``: the desk's (the app's PORTAL_TIMEZONE); else read from the environment
    as the app reads it."""
    from portal.config import desk_timezone

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes[TIMEZONE_ATTRIBUTE] = timezone or desk_timezone()
    return cfg


def upgrade(url: str, revision: str = "head", timezone: str | None = None) -> None:
    command.upgrade(alembic_config(url, timezone), revision)
