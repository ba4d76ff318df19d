"""The managed lists' pages: departments, request categories and skills. Admins add, rename,
reorder and deactivate, each change audited with only what changed; bad input comes back with
422, the error at its field, what was typed kept and nothing saved; supervisors read."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Category, Department, Skill


@pytest.fixture
def admin(make_client, factory):
    client = make_client()
    client.login(factory.staff("admin"))
    return client


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _events(session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def test_an_admin_adds_renames_and_deactivates_a_department(admin, db_session):
    resp = admin.post(
        "/staff/admin/departments/new",
        data={"new-code": "qa", "new-name_zh": "质量部", "new-name_en": "Quality"},
    )
    assert resp.status_code == 302
    row = db_session.scalar(select(Department).where(Department.code == "qa"))
    assert (row.name_zh, row.name_en, row.active) == ("质量部", "Quality", True)
    (created,) = _events(db_session, "department.created")
    assert created.after == {"code": "qa", "name_zh": "质量部", "name_en": "Quality"}

    page = admin.get("/staff/admin/departments").get_data(as_text=True)
    assert 'data-code="qa"' in page and 'value="质量部"' in page

    resp = admin.post(
        f"/staff/admin/departments/{row.id}",
        data={f"d{row.id}-name_zh": "质量保障部", f"d{row.id}-name_en": "Quality"},
    )
    assert resp.status_code == 302
    db_session.refresh(row)
    assert row.name_zh == "质量保障部"
    (updated,) = _events(db_session, "department.updated")
    # only the field that changed
    assert (updated.before, updated.after) == ({"name_zh": "质量部"}, {"name_zh": "质量保障部"})

    assert (
        admin.post(f"/staff/admin/departments/{row.id}/active", data={"active": "0"}).status_code
        == 302
    )
    db_session.refresh(row)
    assert row.active is False
    assert [e.after for e in _events(db_session, "department.deactivated")] == [{"active": False}]


@pytest.mark.parametrize(
    "data, field, message",
    [
        (
            {"new-code": "dup", "new-name_zh": "重复", "new-name_en": "Dup"},
            "code",
            "Another department has the code dup.",
        ),
        ({"new-code": "x1", "new-name_zh": "", "new-name_en": "Empty"}, "name_zh", "Give a name."),
        (
            {"new-code": "x2", "new-name_zh": "长" * 101, "new-name_en": "Long"},
            "name_zh",
            "At most 100 characters.",
        ),
        (
            {"new-code": "x3", "new-name_zh": "控制\x1b字符", "new-name_en": "Ctl"},
            "name_zh",
            "Invisible control characters",
        ),
        (
            {"new-code": "Bad Code", "new-name_zh": "坏", "new-name_en": "Bad"},
            "code",
            "Use lower-case letters",
        ),
    ],
)
def test_bad_department_input_is_refused_at_its_field_and_kept(
    admin, factory, db_session, data, field, message
):
    factory.department("dup")
    before = _count(db_session, Department), _count(db_session, AuditEvent)
    resp = admin.post("/staff/admin/departments/new", data=data)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert message in page
    assert f'id="new-{field}-error"' in page
    # what was typed is kept (less control characters)
    kept = data["new-name_en"]
    assert f'value="{kept}"' in page
    assert (_count(db_session, Department), _count(db_session, AuditEvent)) == before


def test_categories_are_unique_per_type_and_reordered(admin, factory, db_session):
    factory.category("fault", "database", name_zh="数据库", name_en="Database", position=10)
    # the same code in another type is another category
    resp = admin.post(
        "/staff/admin/categories/new",
        data={
            "new-request_type": "optimisation",
            "new-code": "database",
            "new-name_zh": "数据库优化",
            "new-name_en": "Database tuning",
            "new-position": "",
        },
    )
    assert resp.status_code == 302
    # but not twice in one type
    resp = admin.post(
        "/staff/admin/categories/new",
        data={
            "new-request_type": "fault",
            "new-code": "database",
            "new-name_zh": "数据库二",
            "new-name_en": "Database again",
        },
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Fault already has a category with the code database." in page
    assert 'value="Database again"' in page
    assert _count(db_session, Category) == 2

    first = factory.category("fault", "login", name_zh="登录", name_en="Login", position=20)
    resp = admin.post(
        f"/staff/admin/categories/{first.id}",
        data={
            f"c{first.id}-name_zh": "登录",
            f"c{first.id}-name_en": "Login",
            f"c{first.id}-position": "5",
        },
    )
    assert resp.status_code == 302
    (event,) = _events(db_session, "category.updated")
    assert (event.before, event.after) == ({"position": 20}, {"position": 5})
    page = admin.get("/staff/admin/categories").get_data(as_text=True)
    assert page.index('data-code="fault:login"') < page.index('data-code="fault:database"')


def test_a_category_name_too_long_is_refused_and_kept(admin, factory, db_session):
    row = factory.category("fault", "network", name_zh="网络", name_en="Network")
    resp = admin.post(
        f"/staff/admin/categories/{row.id}",
        data={
            f"c{row.id}-name_zh": "网络",
            f"c{row.id}-name_en": "N" * 101,
            f"c{row.id}-position": "0",
        },
    )
    assert resp.status_code == 422
    assert f'value="{"N" * 101}"' in resp.get_data(as_text=True)
    db_session.refresh(row)
    assert row.name_en == "Network"


def test_a_skills_category_is_chosen_from_its_types_list(admin, factory, db_session):
    factory.category("fault", "database", name_zh="数据库", name_en="Database")
    factory.category("consultation", "usage", name_zh="产品使用", name_en="Product usage")
    page = admin.get("/staff/admin/skills").get_data(as_text=True)
    assert '<optgroup label="Fault"><option value="fault:database">Database</option>' in page

    data = {
        "new-code": "db-faults",
        "new-name_zh": "数据库故障",
        "new-name_en": "Database faults",
        "new-request_type": "fault",
        "new-category": "consultation:usage",
    }
    resp = admin.post("/staff/admin/skills/new", data=data)
    assert resp.status_code == 422
    assert "Choose a category of the type Fault." in resp.get_data(as_text=True)
    assert _count(db_session, Skill) == 0

    resp = admin.post(
        "/staff/admin/skills/new", data=dict(data, **{"new-category": "fault:database"})
    )
    assert resp.status_code == 302
    skill = db_session.scalar(select(Skill).where(Skill.code == "db-faults"))
    assert (skill.request_type, skill.category) == ("fault", "database")
    (event,) = _events(db_session, "skill.created")
    assert event.after["category"] == "database" and event.after["request_type"] == "fault"

    resp = admin.post(f"/staff/admin/skills/{skill.id}/active", data={"active": "0"})
    assert resp.status_code == 302
    assert len(_events(db_session, "skill.deactivated")) == 1
    # a duplicate code is refused, whatever its names
    resp = admin.post("/staff/admin/skills/new", data=dict(data, **{"new-category": ""}))
    assert resp.status_code == 422
    assert "Another skill has the code db-faults." in resp.get_data(as_text=True)


def test_supervisors_read_the_lists_and_change_nothing(make_client, factory, db_session):
    dept = factory.department("ops")
    client = make_client()
    client.login(factory.staff("supervisor"))
    for url in (
        "/staff/admin/departments",
        "/staff/admin/categories",
        "/staff/admin/skills",
        "/staff/admin/skills/matrix",
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert "read-only" in resp.get_data(as_text=True)
    page = client.get("/staff/admin/departments").get_data(as_text=True)
    assert 'action="/staff/admin/departments/new"' not in page and "Deactivate" not in page
    assert (
        client.post(
            "/staff/admin/departments/new",
            data={"new-code": "x", "new-name_zh": "x", "new-name_en": "x"},
        ).status_code
        == 403
    )
    assert (
        client.post(f"/staff/admin/departments/{dept.id}/active", data={"active": "0"}).status_code
        == 403
    )
    for roles in (("agent",), ("engineer", "dispatcher")):
        other = make_client()
        other.login(factory.staff(*roles))
        assert other.get("/staff/admin/departments").status_code == 403


def test_the_pages_speak_chinese(make_client, factory):
    factory.category("fault", "database", name_zh="数据库", name_en="Database")
    client = make_client()
    client.login(factory.staff("admin", locale="zh_CN"))
    page = client.get("/staff/admin/categories").get_data(as_text=True)
    assert "请求分类" in page and "故障类" in page
    page = client.get("/staff/admin/skills").get_data(as_text=True)
    assert '<option value="fault:database">数据库</option>' in page
