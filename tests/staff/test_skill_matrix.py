"""The skill matrix as one grid: constant queries at 60 people × 30 skills, only the cells
changed are written, one audit event per person changed, bad levels refused with the grid kept
as typed; and a request's category (chosen from its type's list) ranks the engineer with the
matching skill first."""

from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import func, select

from portal.models import Account, AccountRole, AuditEvent, Skill, StaffSkill, utcnow
from portal.services import skill_matrix, workflow
from portal.services.audit import Actor

URL = "/staff/admin/skills/matrix"
_seq = itertools.count(1)


@pytest.fixture
def admin(make_client, factory):
    client = make_client()
    client.login(factory.staff("admin"))
    return client


def _skill(session, code, request_type="fault", category=None, **kw) -> Skill:
    row = Skill(
        code=code,
        name_zh=kw.get("name_zh", f"技能{code}"),
        name_en=kw.get("name_en", f"Skill {code}"),
        request_type=request_type,
        category=category,
    )
    session.add(row)
    session.flush()
    return row


def _grid_fields(page: str) -> dict[str, str]:
    """What the browser would post: every level input and the hidden fields, as shown."""
    fields = dict(re.findall(r'name="(level-\d+-\d+)"[^>]*value="([^"]*)"', page))
    fields["shown"] = re.search(r'name="shown" type="hidden" value="([^"]*)"', page).group(1)
    return fields


def _many(factory, session, people: int, skills: int):
    accounts = []
    for i in range(people):
        a = Account(
            kind="staff",
            email=f"m{next(_seq)}@desk.example.com",
            name=f"工程师{i:02d}",
            password_hash="-",
        )
        a.roles.append(AccountRole(role="engineer"))
        accounts.append(a)
    session.add_all(accounts)
    rows = [
        _skill(session, f"s{next(_seq)}", ("fault", "consultation", None)[i % 3])
        for i in range(skills)
    ]
    session.flush()
    session.add_all(
        StaffSkill(account_id=a.id, skill_id=s.id, level=(i + j) % 6)
        for i, a in enumerate(accounts)
        for j, s in enumerate(rows)
        if (i + j) % 6
    )
    session.flush()
    return accounts, rows


def test_the_page_costs_the_same_at_60_people_and_30_skills(
    admin, factory, db_session, count_queries
):
    _many(factory, db_session, 2, 2)
    admin.get(URL)  # warm
    with count_queries() as small:
        assert admin.get(URL).status_code == 200
    _many(factory, db_session, 60, 30)
    with count_queries() as big:
        resp = admin.get(URL)
    assert resp.status_code == 200
    assert len(big) == len(small)
    assert resp.get_data(as_text=True).count('type="number"') >= 60 * 30


def test_changing_three_cells_writes_only_them_with_one_event_per_person(
    admin, factory, db_session
):
    a = factory.staff("engineer", name="张强")
    b = factory.staff("engineer", name="王涛")
    c = factory.staff("engineer", name="刘洋")
    db_ = _skill(db_session, "db", category="database", name_zh="数据库故障")
    net = _skill(db_session, "net", category="network", name_zh="网络故障")
    db_session.add_all(
        [
            StaffSkill(account_id=a.id, skill_id=db_.id, level=4),
            StaffSkill(account_id=b.id, skill_id=db_.id, level=2),
            StaffSkill(account_id=c.id, skill_id=net.id, level=3),
        ]
    )
    db_session.flush()
    fields = _grid_fields(admin.get(URL).get_data(as_text=True))
    assert fields[f"level-{a.id}-{db_.id}"] == "4" and fields[f"level-{a.id}-{net.id}"] == "0"
    untouched = {
        (r.account_id, r.skill_id): (r.id, r.level) for r in db_session.scalars(select(StaffSkill))
    }

    # 张强: database 4 → 5 and network 0 → 2 (an insert); 王涛: database 2 → 0 (a delete)
    fields[f"level-{a.id}-{db_.id}"] = "5"
    fields[f"level-{a.id}-{net.id}"] = "2"
    fields[f"level-{b.id}-{db_.id}"] = "0"
    resp = admin.post(URL, data=fields)
    assert resp.status_code == 302
    cells = {
        (r.account_id, r.skill_id): (r.id, r.level) for r in db_session.scalars(select(StaffSkill))
    }
    assert cells[(a.id, db_.id)] == (untouched[(a.id, db_.id)][0], 5)  # updated in place
    assert cells[(a.id, net.id)][1] == 2
    assert (b.id, db_.id) not in cells
    assert cells[(c.id, net.id)] == untouched[(c.id, net.id)]  # not touched
    events = list(
        db_session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "staff.skills_changed")
            .order_by(AuditEvent.id)
        )
    )
    assert {e.object_id: (e.before, e.after) for e in events} == {
        str(a.id): ({"数据库故障": 4, "网络故障": 0}, {"数据库故障": 5, "网络故障": 2}),
        str(b.id): ({"数据库故障": 2}, {"数据库故障": 0}),
    }


def test_a_cell_changed_meanwhile_elsewhere_is_left_alone(admin, factory, db_session):
    a = factory.staff("engineer", name="张强")
    s1 = _skill(db_session, "s1")
    s2 = _skill(db_session, "s2")
    fields = _grid_fields(admin.get(URL).get_data(as_text=True))
    # another admin sets s2 to 3 after this page was shown
    skill_matrix.change(db_session, Actor(None), utcnow(), {(a.id, s2.id): 3})
    fields[f"level-{a.id}-{s1.id}"] = "1"
    assert admin.post(URL, data=fields).status_code == 302
    levels = dict(
        db_session.execute(
            select(StaffSkill.skill_id, StaffSkill.level).where(StaffSkill.account_id == a.id)
        ).all()
    )
    assert levels == {s1.id: 1, s2.id: 3}


@pytest.mark.parametrize("bad", ["6", "-1", "2.5", "abc", "3\x1b"])
def test_a_bad_level_keeps_the_grid_as_typed_and_saves_nothing(admin, factory, db_session, bad):
    a = factory.staff("engineer", name="张强")
    s1 = _skill(db_session, "s1")
    s2 = _skill(db_session, "s2")
    fields = _grid_fields(admin.get(URL).get_data(as_text=True))
    fields[f"level-{a.id}-{s1.id}"] = "4"  # a good change beside the bad one
    fields[f"level-{a.id}-{s2.id}"] = bad
    events = db_session.scalar(select(func.count()).select_from(AuditEvent))
    resp = admin.post(URL, data=fields)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    control = "Invisible control characters were taken out"
    assert ("A level is a whole number from 0 to 5." in page) != (control in page)
    assert (control in page) == ("\x1b" in bad)
    assert f'id="level-{a.id}-{s1.id}"\n                   value="4"' in page or re.search(
        rf'name="level-{a.id}-{s1.id}"[^>]*value="4"', page
    )
    shown = bad.replace("\x1b", "")
    assert re.search(
        rf'name="level-{a.id}-{s2.id}"[^>]*value="{re.escape(shown)}"[^>]*aria-invalid="true"', page
    )
    assert db_session.scalar(select(func.count()).select_from(StaffSkill)) == 0
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_supervisors_see_the_matrix_but_cannot_post_it(make_client, factory, db_session):
    a = factory.staff("engineer", name="张强")
    s = _skill(db_session, "s1", name_en="Database faults")
    db_session.add(StaffSkill(account_id=a.id, skill_id=s.id, level=4))
    db_session.flush()
    client = make_client()
    client.login(factory.staff("supervisor"))
    page = client.get(URL).get_data(as_text=True)
    assert "Database faults" in page and "张强" in page and 'type="number"' not in page
    assert client.post(URL, data={f"level-{a.id}-{s.id}": "1"}).status_code == 403


def test_the_matrix_in_chinese(make_client, factory, db_session):
    factory.staff("engineer", name="张强")
    _skill(db_session, "s1", name_zh="数据库故障")
    client = make_client()
    client.login(factory.staff("admin", locale="zh_CN"))
    page = client.get(URL).get_data(as_text=True)
    assert "技能矩阵" in page and "数据库故障" in page and "故障类" in page


def test_a_request_classified_in_a_category_ranks_its_skilled_engineer_first(
    make_client, factory, db_session
):
    """Through the pages: the category chosen from the list on the classify panel, the level
    set on the matrix, the ranking of the real candidates function."""
    factory.category("fault", "database", name_zh="数据库", name_en="Database")
    factory.category("fault", "network", name_zh="网络", name_en="Network")
    factory.category("optimisation", "database", name_zh="数据库优化", name_en="DB tuning")
    net_eng = factory.staff("engineer", name="An Network")
    db_eng = factory.staff("engineer", name="Zed Database")
    db_skill = _skill(db_session, "db", category="database")
    net_skill = _skill(db_session, "net", category="network")
    admin = make_client()
    admin.login(factory.staff("admin"))
    fields = _grid_fields(admin.get(URL).get_data(as_text=True))
    fields[f"level-{db_eng.id}-{db_skill.id}"] = "3"
    fields[f"level-{net_eng.id}-{net_skill.id}"] = "5"
    assert admin.post(URL, data=fields).status_code == 302

    org = factory.organisation()
    sr = factory.request(factory.customer(org))
    boss = make_client()
    boss.login(factory.staff("supervisor"))
    page = boss.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    assert '<optgroup label="Fault"><option value="fault:database">Database</option>' in page
    data = {
        "classify-action": "classify",
        "classify-type": "fault",
        "classify-impact_scope": "partial",
        "classify-urgency": "medium",
        "classify-business_importance": "medium",
        "classify-confirmed_details": "电话确认:报表导出失败,数据库连接超时。",
    }
    # a category of another type is refused at the field, nothing saved
    resp = boss.post(
        f"/staff/requests/{sr.number}/classify",
        data=dict(data, **{"classify-category": "optimisation:database"}),
    )
    assert resp.status_code == 422
    assert "Choose a category of the type Fault." in resp.get_data(as_text=True)
    db_session.refresh(sr)
    assert (sr.status, sr.category) == ("submitted", None)

    resp = boss.post(
        f"/staff/requests/{sr.number}/classify",
        data=dict(data, **{"classify-category": "fault:database"}),
    )
    assert resp.status_code == 302
    db_session.refresh(sr)
    assert (sr.status, sr.category) == ("pending_assignment", "database")
    ranked = workflow.candidates(db_session, sr)
    assert ranked[0].candidate.account_id == db_eng.id  # level 3 in the category beats 5 in another
    # the request page names the category in the reader's language
    page = boss.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    assert "Fault · Database" in page


def test_a_customer_chooses_a_category_of_the_type(make_client, factory, db_session):
    factory.category("fault", "login", name_zh="登录与认证", name_en="Login")
    factory.category("consultation", "usage", name_zh="产品使用", name_en="Product usage")
    contact = factory.customer(factory.organisation(), locale="zh_CN")
    client = make_client()
    client.login(contact)
    page = client.get("/requests/new").get_data(as_text=True)
    assert '<optgroup label="故障类"><option value="fault:login">登录与认证</option>' in page
    data = {
        "type": "fault",
        "urgency": "P2",
        "title": "无法登录",
        "description": "登录页面提示密码错误,已重置仍无效。",
        "contact_name": contact.name,
        "contact_email": contact.email,
        "category": "consultation:usage",
    }
    resp = client.post("/requests/new", data=data)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'id="category-error"' in page and 'value="无法登录"' in page
    resp = client.post("/requests/new", data=dict(data, category="fault:login"))
    assert resp.status_code == 302
    number = resp.location.rsplit("/", 1)[-1]
    page = client.get(f"/requests/{number}").get_data(as_text=True)
    assert "故障类 · 登录与认证" in page


def test_a_legacy_category_is_shown_as_it_is_and_may_be_kept(make_client, factory, db_session):
    """A request filed under a code the list does not hold (from before the list) shows the
    code, and its reclassification may keep it; another unknown code is refused."""
    factory.category("fault", "database", name_zh="数据库", name_en="Database")
    sr = factory.request(factory.customer(factory.organisation()))
    sr.category = "mainframe"
    db_session.flush()
    boss = make_client()
    boss.login(factory.staff("supervisor"))
    page = boss.get(f"/staff/requests/{sr.number}").get_data(as_text=True)
    assert "Fault · mainframe" in page
    assert '<option selected value="fault:mainframe">mainframe</option>' in page
    data = {
        "classify-action": "classify",
        "classify-type": "fault",
        "classify-impact_scope": "partial",
        "classify-urgency": "medium",
        "classify-business_importance": "medium",
        "classify-confirmed_details": "电话确认:主机批处理作业失败。",
    }
    url = f"/staff/requests/{sr.number}/classify"
    resp = boss.post(url, data=dict(data, **{"classify-category": "fault:mainframe-2"}))
    assert resp.status_code == 422
    resp = boss.post(url, data=dict(data, **{"classify-category": "fault:mainframe"}))
    assert resp.status_code == 302
    db_session.refresh(sr)
    assert (sr.status, sr.category) == ("pending_assignment", "mainframe")
