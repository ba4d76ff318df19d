from __future__ import annotations

import pytest

from portal.models import utcnow
from portal.services import inbound


@pytest.fixture
def take(db_session):
    """receive + process one raw mail, as every way in does: (row, status)."""

    def _take(raw: bytes, mailbox: str = "test", now=None):
        now = now or utcnow()
        row, _new = inbound.receive(db_session, raw, mailbox, now)
        status = inbound.process(db_session, row, now)
        return row, status

    return _take


@pytest.fixture
def people(factory):
    org = factory.organisation()
    other = factory.organisation()
    return {
        "org": org,
        "contact": factory.customer(org, email="li.ming@customer.example", name="李明"),
        "other_org": other,
        "stranger": factory.customer(other, email="wang@other.example", name="王芳"),
        "engineer": factory.staff("engineer", name="张强"),
    }
