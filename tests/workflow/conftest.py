import pytest

from portal.models import Department, Skill, StaffSkill


@pytest.fixture
def desk(factory, db_session):
    """An organisation with a contact and an admin; a supervisor, a dispatcher and three
    engineers in the skill matrix (database level 4 and 5, login level 5)."""
    org = factory.organisation()
    ops = factory.department()
    factory.category("fault", "database", name_zh="数据库", name_en="Database")
    factory.category("fault", "login", name_zh="登录与认证", name_en="Login")
    db_skill = Skill(
        code=f"db-{org.id}",
        name_zh="数据库故障",
        name_en="Database faults",
        request_type="fault",
        category="database",
    )
    login_skill = Skill(
        code=f"login-{org.id}",
        name_zh="登录故障",
        name_en="Login faults",
        request_type="fault",
        category="login",
    )
    db_session.add_all([db_skill, login_skill])
    people = {
        "org": org,
        "contact": factory.customer(org, name="李明"),
        "org_admin": factory.customer(org, admin=True, name="陈建国"),
        "supervisor": factory.staff("supervisor", name="赵静"),
        "dispatcher": factory.staff("dispatcher", name="黄磊"),
        "eng_db": factory.staff("engineer", name="张强"),
        "eng_db5": factory.staff("engineer", name="王涛", department=ops),
        "eng_login": factory.staff("engineer", name="刘洋"),
        "ops": ops,
    }
    db_session.flush()
    db_session.add_all(
        [
            StaffSkill(account_id=people["eng_db"].id, skill_id=db_skill.id, level=4),
            StaffSkill(account_id=people["eng_db5"].id, skill_id=db_skill.id, level=5),
            StaffSkill(account_id=people["eng_login"].id, skill_id=login_skill.id, level=5),
        ]
    )
    db_session.flush()
    assert isinstance(ops, Department)
    return people
