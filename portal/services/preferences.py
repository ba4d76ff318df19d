"""Notification e-mail preferences: per person and category, instant, daily digest or off
(docs/product.md §9). No row means instant. Security mail (invitation, password reset) is not a
notification and is always sent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.notice_kinds import CATEGORIES, MODES, category_of
from portal.models import NotificationPreference

DEFAULT_MODE = "instant"


class PreferenceError(ValueError):
    """An unknown category or mode; ``field`` names it (the category, or ``None``)."""

    def __init__(self, code: str, category: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.category = category


def modes_for(session: Session, account_id: int) -> dict[str, str]:
    """Every category's mode for this person, the default where they chose none."""
    chosen = dict(
        session.execute(
            select(NotificationPreference.category, NotificationPreference.mode).where(
                NotificationPreference.account_id == account_id
            )
        ).all()
    )
    return {c: chosen.get(c) if chosen.get(c) in MODES else DEFAULT_MODE for c in CATEGORIES}


def mode_for_kind(session: Session, account_id: int, kind: str) -> str:
    """The mode that applies to a notification of ``kind`` for this person."""
    mode = session.scalar(
        select(NotificationPreference.mode).where(
            NotificationPreference.account_id == account_id,
            NotificationPreference.category == category_of(kind),
        )
    )
    return mode if mode in MODES else DEFAULT_MODE


def validate(choices: Mapping[str, str]) -> dict[str, str]:
    """The choices as {category: mode}; PreferenceError for an unknown category or mode."""
    clean = {}
    for category, mode in choices.items():
        if category not in CATEGORIES:
            raise PreferenceError("unknown-category", category)
        if mode not in MODES:
            raise PreferenceError("unknown-mode", category)
        clean[category] = mode
    return clean


def save(session: Session, account_id: int, choices: Mapping[str, str], now: datetime) -> int:
    """Store the choices (all checked first: nothing is written when one is wrong); returns
    how many categories changed."""
    clean = validate(choices)
    rows = {
        row.category: row
        for row in session.scalars(
            select(NotificationPreference).where(NotificationPreference.account_id == account_id)
        )
    }
    changed = 0
    for category, mode in clean.items():
        row = rows.get(category)
        if row is None:
            if mode == DEFAULT_MODE:
                continue
            session.add(
                NotificationPreference(
                    account_id=account_id, category=category, mode=mode, updated_at=now
                )
            )
            changed += 1
        elif row.mode != mode:
            row.mode = mode
            row.updated_at = now
            changed += 1
    session.flush()
    return changed
