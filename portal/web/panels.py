"""The request pages are made of panels owned by different parts of the portal (workflow,
delivery, SLA, privacy). Each part registers a provider that adds its data to the page's
context; the page template includes each part's partial in a fixed slot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

Provider = Callable[[Session, object, object, datetime], dict]
_providers: dict[str, list[Provider]] = {"staff": [], "customer": []}


def provider(side: str):
    """Register ``fn(session, sr, viewer, now) -> dict`` for the ``side``'s request page."""

    def register(fn: Provider) -> Provider:
        _providers[side].append(fn)
        return fn

    return register


def context(side: str, session: Session, sr, viewer, now: datetime) -> dict:
    merged: dict = {}
    for fn in _providers[side]:
        merged.update(fn(session, sr, viewer, now))
    return merged
