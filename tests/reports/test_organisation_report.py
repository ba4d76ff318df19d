"""An organisation admin's monthly service report: their organisation's figures only, never
another's, never an engineer's name or figures, whatever the URL."""

from __future__ import annotations

import re
from datetime import date

import pytest

from portal.domain.report_stats import Month
from portal.models import Feedback, ImprovementMeasure
from portal.services.reports.organisation import organisation_report
from tests.reports.seed import NOW, TZ, seed


@pytest.fixture
def month(factory, db_session):
    data = seed(factory, db_session)
    fb = db_session.query(Feedback).filter_by(request_id=data["b"].id).one()
    db_session.add(
        ImprovementMeasure(
            feedback_id=fb.id,
            measure="上线故障预警短信",
            owner_id=data["e1"].id,
            deadline=date(2026, 11, 30),
        )
    )
    db_session.flush()
    return data


def _text(resp) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", resp.get_data(as_text=True)))


def test_the_figures_are_the_organisations_own(db_session, factory, month):
    admin = factory.customer(month["east"], admin=True)
    report = organisation_report(db_session, admin, Month(2026, 10), TZ, NOW)
    assert report.total.requests == 2  # A and B; E was submitted in September
    assert report.total.response_met == 1 and report.total.response_missed == 1
    assert str(report.satisfaction.mean) == "3.8"
    assert [m.measure for m in report.measures] == ["上线故障预警短信"]
    other = factory.customer(month["south"], admin=True)
    theirs = organisation_report(db_session, other, Month(2026, 10), TZ, NOW)
    assert theirs.total.requests == 2 and theirs.measures == []  # C and D


def test_only_an_org_admin_and_only_their_organisation_by_any_url(make_client, factory, month):
    contact = make_client()
    contact.login(month["li"])
    assert contact.get("/service-report").status_code == 403
    south_admin = factory.customer(month["south"], admin=True)
    client = make_client()
    client.login(south_admin)
    east = month["east"].id
    for query in ("", f"?org_id={east}", f"?organisation={east}"):
        text = _text(
            client.get("/service-report" + query + ("&" if query else "?") + "month=2026-10")
        )
        assert "上线故障预警短信" not in text
        assert "张强" not in text and "陈静" not in text  # no engineer's name
    staff_page = client.get("/staff/reports")
    assert staff_page.status_code in (302, 403)
    assert client.get("/service-report?month=2026-13").status_code == 422
