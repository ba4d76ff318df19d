"""Staff administration at /staff/admin/staff: invite (a taken e-mail refused at its field, what
was typed kept, nothing saved), edit roles and details (audited with display values), the last
active admin stays, deactivating ends the sessions, a leave or a deactivation lists the open
requests for reassigning and the board shows them, the desk setting of who takes requests
changes the candidates, supervisors read-only, others refused, both languages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.domain import availability
from portal.models import (
    Account,
    AuditEvent,
    EmailOutbox,
    LoginSession,
    Skill,
    StaffSkill,
    utcnow,
)
from portal.services import availability as availability_sql
from portal.services import board as board_service
from portal.services import desk_settings, staff_admin, workflow
from portal.services.audit import SYSTEM, Actor

URL = "/staff/admin/staff"
TZ = "Asia/Shanghai"


@pytest.fixture
def admin(factory):
    return factory.staff("admin", name="孙浩")


@pytest.fixture
def admin_client(make_client, admin):
    client = make_client()
    client.login(admin)
    return client


def _audits(db_session, action: str) -> list[AuditEvent]:
    return list(
        db_session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _error_of(body: str, field: str) -> str | None:
    found = re.search(rf'id="{field}-error">([^<]*)<', body)
    return found.group(1) if found else None


def _invite_form(**overrides) -> dict:
    data = {
        "name": "周婷",
        "email": "Zhou.Ting@Desk.example.com",
        "roles": ["engineer", "dispatcher"],
        "department_id": "",
        "level": "2",
        "locale": "zh_CN",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _today():
    return availability_sql.desk_today(utcnow(), TZ)


# --- the availability rule ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "available, until, expected",
    [
        (True, None, True),
        (False, None, False),  # on leave until marked back
        (False, date(2026, 5, 10), False),  # the last day of leave
        (False, date(2026, 5, 9), True),  # the leave is over: on duty by itself
        (False, date(2026, 5, 11), False),
        (True, date(2026, 5, 1), True),
    ],
)
def test_availability_and_its_sql_say_the_same(factory, db_session, available, until, expected):
    today = date(2026, 5, 10)
    assert availability.is_available(available, until, today) is expected
    person = factory.staff("engineer")
    person.available, person.on_leave_until = available, until
    db_session.flush()
    on_leave = db_session.scalar(
        select(func.count())
        .select_from(Account)
        .where(Account.id == person.id, availability_sql.on_leave_clause(Account, today))
    )
    assert bool(on_leave) is (not expected)


# --- invite -------------------------------------------------------------------------------------


def test_an_admin_invites_a_staff_member(admin_client, db_session, factory, admin):
    dept = factory.department()
    resp = admin_client.post(URL, data=_invite_form(department_id=str(dept.id)))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    account = db_session.scalar(
        select(Account).where(Account.email == "zhou.ting@desk.example.com")
    )
    assert account is not None and account.kind == "staff" and account.invited_at is not None
    assert account.role_names == {"engineer", "dispatcher"}
    assert (account.department_id, account.staff_level, account.locale) == (dept.id, 2, "zh_CN")
    assert resp.headers["Location"].endswith(f"{URL}/{account.id}")
    [created] = _audits(db_session, "staff.created")
    assert created.actor_id == admin.id and created.object_id == str(account.id)
    assert created.after["roles"] == ["dispatcher", "engineer"]
    assert created.after["department"] == dept.name_zh and created.after["level"] == 2
    assert len(_audits(db_session, "staff.invited")) == 1
    # the invitation mail with its link, and no password works meanwhile
    mails = db_session.scalars(
        select(EmailOutbox).where(EmailOutbox.to_address == account.email)
    ).all()
    assert len(mails) == 1
    page = admin_client.get(f"{URL}?q=zhou").get_data(as_text=True)
    assert f'data-staff="{account.id}"' in page and "Invited" in page


def test_a_taken_email_any_capitals_is_refused_at_its_field(admin_client, db_session, factory):
    factory.staff("engineer", email="taken@desk.example.com")
    before = db_session.scalar(select(func.count()).select_from(Account))
    audits = db_session.scalar(select(func.count()).select_from(AuditEvent))
    resp = admin_client.post(URL, data=_invite_form(name="王五", email="TAKEN@desk.example.com"))
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert _error_of(body, "email") == "An account with this e-mail address exists already."
    assert 'value="王五"' in body and 'value="TAKEN@desk.example.com"' in body
    assert re.search(r'<input checked[^>]*value="engineer"', body)
    assert not re.search(r'<input checked[^>]*value="agent"', body)
    assert db_session.scalar(select(func.count()).select_from(Account)) == before
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == audits


def test_an_invitation_without_role_or_with_a_bad_level_is_refused(admin_client, db_session):
    resp = admin_client.post(URL, data=_invite_form(roles=None))
    assert resp.status_code == 422
    assert _error_of(resp.get_data(as_text=True), "roles")
    resp = admin_client.post(URL, data=_invite_form(level="7"))
    assert resp.status_code == 422
    resp = admin_client.post(URL, data=_invite_form(name="x" * 101))
    assert resp.status_code == 422 and _error_of(resp.get_data(as_text=True), "name")
    assert (
        db_session.scalar(select(Account.id).where(Account.email == "zhou.ting@desk.example.com"))
        is None
    )


# --- edit ---------------------------------------------------------------------------------------


def test_an_edit_audits_roles_and_details_apart_with_display_values(
    admin_client, db_session, factory
):
    old, new = factory.department(), factory.department()
    person = factory.staff("engineer", name="张强", department=old)
    resp = admin_client.post(
        f"{URL}/{person.id}",
        data={
            "name": "张强",
            "roles": ["engineer", "supervisor"],
            "department_id": str(new.id),
            "level": "3",
            "locale": "en",
        },
    )
    assert resp.status_code == 302
    db_session.refresh(person)
    assert person.role_names == {"engineer", "supervisor"} and person.staff_level == 3
    [roles] = _audits(db_session, "staff.roles_changed")
    assert roles.before == {"roles": ["engineer"]}
    assert roles.after == {"roles": ["supervisor", "engineer"]}
    [updated] = _audits(db_session, "staff.updated")
    assert updated.before == {"department": old.name_zh, "level": None}
    assert updated.after == {"department": new.name_zh, "level": 3}
    # the same values again: nothing more in the log
    admin_client.post(
        f"{URL}/{person.id}",
        data={
            "name": "张强",
            "roles": ["engineer", "supervisor"],
            "department_id": str(new.id),
            "level": "3",
            "locale": "en",
        },
    )
    assert len(_audits(db_session, "staff.updated")) == 1
    assert len(_audits(db_session, "staff.roles_changed")) == 1


# --- the last admin ----------------------------------------------------------------------------


def test_the_last_active_admin_cannot_be_deactivated_nor_lose_the_role(
    admin_client, db_session, admin, factory
):
    resp = admin_client.post(f"{URL}/{admin.id}/deactivate")
    assert resp.status_code == 422
    assert "last active administrator" in resp.get_data(as_text=True)
    db_session.refresh(admin)
    assert admin.active
    resp = admin_client.post(
        f"{URL}/{admin.id}",
        data={
            "name": admin.name,
            "roles": ["engineer"],
            "department_id": "",
            "level": "",
            "locale": "",
        },
    )
    assert resp.status_code == 422
    assert "last active administrator" in (_error_of(resp.get_data(as_text=True), "roles") or "")
    db_session.refresh(admin)
    assert admin.has_role("admin")
    assert not _audits(db_session, "staff.deactivated")
    assert not _audits(db_session, "staff.roles_changed")

    # with a second admin, either may go (an inactive admin does not count)
    gone = factory.staff("admin")
    gone.active = False
    db_session.flush()
    with pytest.raises(staff_admin.StaffError):
        staff_admin.deactivate(db_session, SYSTEM, utcnow(), admin)
    other = factory.staff("admin")
    assert staff_admin.deactivate(db_session, SYSTEM, utcnow(), admin) == []
    with pytest.raises(staff_admin.StaffError):
        staff_admin.update(
            db_session,
            SYSTEM,
            utcnow(),
            other,
            staff_admin.StaffChanges(other.name, ["engineer"], None, None, "en"),
        )


def test_deactivating_ends_the_sessions_at_once(admin_client, make_client, db_session, factory):
    person = factory.staff("engineer")
    theirs = make_client()
    theirs.login(person)
    assert theirs.get("/staff/queue").status_code == 200
    resp = admin_client.post(f"{URL}/{person.id}/deactivate")
    assert resp.status_code == 302
    assert theirs.get("/staff/queue").status_code == 302  # to the login page
    open_sessions = db_session.scalar(
        select(func.count())
        .select_from(LoginSession)
        .where(LoginSession.account_id == person.id, LoginSession.revoked_at.is_(None))
    )
    assert open_sessions == 0
    [event] = _audits(db_session, "staff.deactivated")
    assert event.after == {"active": False}
    # reactivated: they log in again
    assert admin_client.post(f"{URL}/{person.id}/reactivate").status_code == 302
    theirs.login(person)


# --- nothing silently orphaned -----------------------------------------------------------------


def _handled_by(factory, db_session, handler, n=2):
    contact = factory.customer()
    rows = []
    for _ in range(n):
        sr = factory.request(contact)
        sr.status, sr.handler_id, sr.priority = "in_progress", handler.id, "P1"
        rows.append(sr)
    done = factory.request(contact)
    done.status, done.handler_id = "closed", handler.id
    db_session.flush()
    return rows, done


def test_a_leave_lists_the_open_requests_to_reassign_and_the_board_shows_them(
    admin_client, make_client, db_session, factory
):
    person = factory.staff("engineer", name="王涛")
    rows, done = _handled_by(factory, db_session, person)
    until = _today() + timedelta(days=5)
    resp = admin_client.post(
        f"{URL}/{person.id}/availability",
        data={"state": "on_leave", "until": until.isoformat()},
        follow_redirects=True,
    )
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    section = re.search(r"data-orphaned>.*?</section>", body, re.S).group(0)
    for sr in rows:
        assert f'data-number="{sr.number}"' in section
        assert f"/staff/requests/{sr.number}#panel-assign" in section
    assert done.number not in section
    assert f"On leave until {until.isoformat()}" in body
    [event] = _audits(db_session, "staff.on_leave")
    assert event.after == {"on_leave_until": until.isoformat()}

    dispatcher = make_client()
    dispatcher.login(factory.staff("dispatcher"))
    board = dispatcher.get("/staff/board").get_data(as_text=True)
    block = re.search(r'class="board-section board-handler-unavailable".*?</section>', board, re.S)
    assert sorted(re.findall(r'data-number="([^"]+)"', block.group(0))) == sorted(
        sr.number for sr in rows
    )

    # back on duty: off the board, and no list on the page
    admin_client.post(f"{URL}/{person.id}/availability", data={"state": "on_duty"})
    assert _audits(db_session, "staff.back_on_duty")
    data = board_service.board(db_session, utcnow(), TZ)
    assert data.handler_unavailable == []
    page = admin_client.get(f"{URL}/{person.id}").get_data(as_text=True)
    assert "data-orphaned" not in page


def test_a_leave_that_has_ended_counts_as_on_duty(db_session, factory):
    person = factory.staff("engineer")
    rows, _done = _handled_by(factory, db_session, person, n=1)
    person.available, person.on_leave_until = False, _today() - timedelta(days=1)
    db_session.flush()
    assert board_service.board(db_session, utcnow(), TZ).handler_unavailable == []
    page = staff_admin.member_page(db_session, person, _today())
    assert page.row.available and page.orphaned == []


def test_deactivating_a_handler_lists_their_requests_and_the_board_too(
    admin_client, db_session, factory
):
    person = factory.staff("engineer")
    rows, _done = _handled_by(factory, db_session, person)
    resp = admin_client.post(f"{URL}/{person.id}/deactivate", follow_redirects=True)
    body = resp.get_data(as_text=True)
    assert "data-orphaned" in body and all(sr.number in body for sr in rows)
    numbers = [r.number for r in board_service.board(db_session, utcnow(), TZ).handler_unavailable]
    assert sorted(numbers) == sorted(sr.number for sr in rows)


def test_a_leave_in_the_past_is_refused_at_its_field(admin_client, db_session, factory):
    person = factory.staff("engineer")
    resp = admin_client.post(
        f"{URL}/{person.id}/availability",
        data={"state": "on_leave", "until": (_today() - timedelta(days=2)).isoformat()},
    )
    assert resp.status_code == 422
    assert _error_of(resp.get_data(as_text=True), "until")
    resp = admin_client.post(f"{URL}/{person.id}/availability", data={"state": "on_leave"})
    assert resp.status_code == 422 and _error_of(resp.get_data(as_text=True), "until")
    db_session.refresh(person)
    assert person.available and not _audits(db_session, "staff.on_leave")


# --- who takes requests -------------------------------------------------------------------------


@pytest.fixture
def demo_like(factory, db_session):
    """The demo's people for a P1 database fault: the supervisor 赵静 in the skill matrix and
    idle, two engineers with the skill and some load."""
    skill = Skill(
        code="fault-database-t",
        name_zh="数据库故障",
        name_en="Database faults",
        request_type="fault",
        category="database",
    )
    db_session.add(skill)
    supervisor = factory.staff("supervisor", name="赵静")
    zhang = factory.staff("engineer", name="张强")
    wang = factory.staff("engineer", name="王涛")
    db_session.flush()
    for person, level in ((supervisor, 4), (zhang, 4), (wang, 4)):
        db_session.add(StaffSkill(account_id=person.id, skill_id=skill.id, level=level))
    contact = factory.customer()
    for handler in (zhang, wang, wang):
        other = factory.request(contact)
        other.status, other.handler_id = "in_progress", handler.id
    sr = factory.request(contact, urgency="P1")
    sr.status, sr.type, sr.category, sr.priority = "pending_assignment", "fault", "database", "P1"
    db_session.flush()
    return {"sr": sr, "supervisor": supervisor, "zhang": zhang, "wang": wang}


def test_an_available_engineer_with_the_skill_ranks_first_not_the_supervisor(db_session, demo_like):
    ranked = workflow.candidates(db_session, demo_like["sr"])
    names = [r.candidate.name for r in ranked]
    assert names[0] == "张强" and ranked[0].match == 2 and ranked[0].candidate.available
    assert "赵静" not in names


def test_on_leave_ranks_last_and_the_setting_changes_the_candidates(
    admin_client, db_session, demo_like
):
    zhang = demo_like["zhang"]
    staff_admin.set_on_leave(
        db_session, SYSTEM, utcnow(), zhang, _today() + timedelta(days=1), _today()
    )
    names = [r.candidate.name for r in workflow.candidates(db_session, demo_like["sr"])]
    assert names == ["王涛", "张强"]

    resp = admin_client.post(
        "/staff/admin/settings", data={"assignable_roles": ["engineer", "supervisor"]}
    )
    assert resp.status_code == 302
    assert desk_settings.assignable_roles(db_session) == ("supervisor", "engineer")
    names = [r.candidate.name for r in workflow.candidates(db_session, demo_like["sr"])]
    assert names[0] == "赵静" and names[-1] == "张强"
    [event] = _audits(db_session, "desk_setting.updated")
    assert event.before == {"roles": ["engineer"]}
    assert event.after == {"roles": ["supervisor", "engineer"]}

    resp = admin_client.post("/staff/admin/settings", data={})
    assert resp.status_code == 422
    assert desk_settings.assignable_roles(db_session) == ("supervisor", "engineer")


def test_on_the_demo_an_engineer_ranks_first_for_faults_not_the_supervisor(app, db_session):
    from portal import demo
    from portal.models import ServiceRequest

    demo.seed(db_session, utcnow(), app.config["PORTAL_TIMEZONE"])
    supervisor = db_session.scalar(
        select(Account).where(Account.email == "supervisor@desk.example.com")
    )
    assert supervisor.has_role("supervisor") and not supervisor.has_role("engineer")
    assert db_session.scalar(  # 赵静 is in the skill matrix: only her role keeps her out
        select(func.count()).select_from(StaffSkill).where(StaffSkill.account_id == supervisor.id)
    )
    faults = db_session.scalars(select(ServiceRequest).where(ServiceRequest.type == "fault")).all()
    assert faults
    for sr in faults:
        ranked = workflow.candidates(db_session, sr)
        assert ranked[0].candidate.name != "赵静", sr.number
        assert supervisor.id not in [r.candidate.account_id for r in ranked]
        first = db_session.get(Account, ranked[0].candidate.account_id)
        assert first.has_role("engineer") and ranked[0].candidate.available
    # the demo's staff were created through the staff service, audited, without invitations
    assert len(_audits(db_session, "staff.created")) == len(demo.people.STAFF)
    assert not _audits(db_session, "staff.invited")


# --- who may -------------------------------------------------------------------------------------


def test_a_supervisor_reads_and_cannot_change(make_client, db_session, factory, admin):
    person = factory.staff("engineer", name="刘洋")
    client = make_client()
    client.login(factory.staff("supervisor"))
    page = client.get(URL)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert f'data-staff="{person.id}"' in body and "staff_invite" not in body
    assert 'method="post" action="/staff/admin/staff"' not in body
    member = client.get(f"{URL}/{person.id}").get_data(as_text=True)
    assert "刘洋" in member and "/deactivate" not in member
    assert client.get("/staff/admin/settings").status_code == 200
    for url, data in (
        (URL, _invite_form()),
        (f"{URL}/{person.id}", {"name": "x", "roles": ["engineer"]}),
        (f"{URL}/{person.id}/deactivate", {}),
        (f"{URL}/{person.id}/availability", {"state": "on_duty"}),
        ("/staff/admin/settings", {"assignable_roles": ["admin"]}),
    ):
        assert client.post(url, data=data).status_code == 403, url
    db_session.refresh(person)
    assert person.active and person.name == "刘洋"


@pytest.mark.parametrize("role", ["engineer", "dispatcher", "agent"])
def test_other_staff_are_refused(make_client, factory, role):
    client = make_client()
    person = factory.staff(role)
    client.login(person)
    assert client.get(URL).status_code == 403
    assert client.post(URL, data=_invite_form()).status_code == 403
    assert client.post(f"{URL}/{person.id}/deactivate").status_code == 403


# --- the list ------------------------------------------------------------------------------------


def test_the_list_filters_and_pages_at_a_constant_cost(
    admin_client, db_session, factory, count_queries
):
    dept = factory.department()
    for n in range(3):
        factory.staff("engineer", name=f"甲{n}", department=dept)
    factory.staff("dispatcher", name="乙").active = False
    db_session.flush()
    today = _today()
    with count_queries() as few:
        staff_admin.search(db_session, today, role="engineer", page_size=2)
    for n in range(6):
        factory.staff("engineer", name=f"丙{n}")
    with count_queries() as many:
        result = staff_admin.search(db_session, today, role="engineer", page_size=2)
    assert len(few) == len(many) == 4
    assert len(result.rows) == 2 and result.pages >= 5
    page = admin_client.get(f"{URL}?department={dept.id}").get_data(as_text=True)
    assert page.count('data-staff="') == 3
    page = admin_client.get(f"{URL}?active=inactive&q=乙").get_data(as_text=True)
    assert page.count('data-staff="') == 1
    page = admin_client.get(f"{URL}?role=admin").get_data(as_text=True)
    assert page.count('data-staff="') == 1  # the admin


def test_the_pages_in_chinese(make_client, db_session, factory):
    admin = factory.staff("admin", locale="zh_CN")
    person = factory.staff("engineer", name="刘洋")
    staff_admin.set_on_leave(
        db_session, Actor(admin.id), utcnow(), person, _today() + timedelta(days=2), _today()
    )
    client = make_client()
    client.login(admin)
    body = client.get(URL).get_data(as_text=True)
    assert "邀请员工" in body and "休假至" in body and "服务执行工程师" in body
    body = client.get(f"{URL}/{person.id}").get_data(as_text=True)
    assert "在岗状态" in body and "停用该员工" in body
    body = client.get("/staff/admin/settings").get_data(as_text=True)
    assert "可承接请求的角色" in body
    index = client.get("/staff/admin/").get_data(as_text=True)
    assert "/staff/admin/staff" in index and "/staff/admin/settings" in index


def test_an_address_taken_at_the_same_moment_is_the_same_refusal(
    db_session, factory, app, monkeypatch
):
    factory.staff("engineer", email="race@desk.example.com")
    monkeypatch.setattr(staff_admin, "email_taken", lambda *a, **k: False)  # checked too early
    with pytest.raises(staff_admin.StaffError) as refused:
        staff_admin.invite(
            db_session,
            SYSTEM,
            utcnow(),
            staff_admin.StaffInput("王五", "race@desk.example.com", ["engineer"]),
        )
    assert refused.value.field == "email"
    # the transaction goes on: nothing of the refused one was kept
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.email == "race@desk.example.com")
        )
        == 1
    )
