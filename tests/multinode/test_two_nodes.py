"""The desk on two machines (tests/multinode/cluster.py): a full lifecycle whose every step goes
to the other web node than the step before, with a worker killed midway and started again, ends
with each SLA event once, each mail once, and form numbers without a gap."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.db import db
from portal.models import (
    Delivery,
    EmailOutbox,
    Feedback,
    Notification,
    ServiceRequest,
    SlaEvent,
    utcnow,
)
from tests.delivery.helpers import PNG_DATA_URL, criteria_ids
from tests.factories import PASSWORD, Factory
from tests.mail_server import MailServer
from tests.multinode.cluster import Cluster

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
HTMX = {"HX-Request": "true"}
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Person:
    """One person's browser: cookies shared by both nodes, each request to the other node."""

    def __init__(self, nodes: list[str]) -> None:
        self.nodes = nodes
        self.turn = 0
        self.http = httpx.Client(follow_redirects=False, timeout=60)
        self.token = ""
        self.served_by: Counter = Counter()

    def _node(self) -> str:
        self.turn += 1
        node = self.nodes[self.turn % 2]
        self.served_by[node] += 1
        return node

    def login(self, email: str, staff: bool) -> None:
        path = "/staff/login" if staff else "/login"
        page = self.http.get(self._node() + path)
        self.token = unescape(_CSRF.search(page.text).group(1))
        resp = self.post(path, {"identifier": email, "password": PASSWORD})
        assert resp.status_code == 302, resp.text[:500]
        # a new session on login: its own CSRF token, read from the page it leads to
        home = self.http.get(self._node() + resp.headers["location"])
        self.token = unescape(_CSRF.search(home.text).group(1))

    def post(self, path: str, data: dict, *, htmx: bool = False, ok=(200, 302)) -> httpx.Response:
        headers = {"X-CSRFToken": self.token, **(HTMX if htmx else {})}
        resp = self.http.post(self._node() + path, data=data, headers=headers)
        assert resp.status_code in ok, f"{path}: {resp.status_code} {resp.text[:800]}"
        return resp


def _wait(predicate, seconds: float, what: str, cluster: Cluster):
    deadline = time.monotonic() + seconds  # a bound on a busy machine, not a budget
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{cluster.logs()}")
        time.sleep(0.25)


def _form(n: int, urgency: str = "P3") -> dict:
    return {
        "type": "fault",
        "urgency": urgency,
        "title": f"生产系统无法登录 {n}",
        "description": f"第 {n} 次:所有用户登录时提示数据库连接超时。",
        "contact_name": "李明",
        "contact_phone": "13812345678",
        "contact_email": "li.ming@multinode.example.com",
    }


@pytest.fixture
def cluster(database_url, redis_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL + Redis pass runs it (several processes, one database)")
    mail = MailServer().start()
    nodes = Cluster(database_url, redis_url, tmp_path, mail)
    nodes.mail = mail
    try:
        nodes.portal("db", "upgrade")
        yield nodes
    finally:
        nodes.close()
        mail.stop()


def test_a_lifecycle_across_two_web_nodes_and_two_workers(cluster):
    app = create_app(
        {
            "DATABASE_URL": cluster.database_url,
            "REDIS_URL": cluster.redis_url,
            "SECRET_KEY": cluster.env["SECRET_KEY"],
            "UPLOAD_FOLDER": cluster.env["UPLOAD_FOLDER"],
        }
    )
    with app.app_context():
        f = Factory(db.session, app)
        org = f.organisation(name="客户A")
        f.category("fault", "database", name_zh="数据库", name_en="Database")
        contact = f.customer(org, name="李明", email="li.ming@multinode.example.com")
        supervisor = f.staff("supervisor", name="赵静")
        dispatcher = f.staff("dispatcher", name="黄磊")
        handler = f.staff("engineer", name="张强")
        db.session.commit()
        emails = {k: a.email for k, a in (("c", contact), ("s", supervisor), ("d", dispatcher))}
        emails["e"], handler_id = handler.email, handler.id

    for i in (0, 1):
        cluster.start_web(i)
        cluster.start_worker(i)
    cluster.wait_ready()
    customer, boss, disp, eng = (Person(cluster.nodes) for _ in range(4))
    customer.login(emails["c"], staff=False)
    boss.login(emails["s"], staff=True)
    disp.login(emails["d"], staff=True)
    eng.login(emails["e"], staff=True)

    # six submissions, alternating nodes: numbered without a gap
    for n in range(1, 7):
        customer.post("/requests/new", _form(n, "P1" if n == 1 else "P3"), ok=(302,))
    with app.app_context():
        numbers = db.session.scalars(
            select(ServiceRequest.number).order_by(ServiceRequest.id)
        ).all()
    number, late_number = numbers[0], numbers[1]

    boss.post(
        f"/staff/requests/{number}/classify",
        {
            "classify-action": "classify",
            "classify-type": "fault",
            "classify-category": "database",
            "classify-impact_scope": "core",
            "classify-urgency": "high",
            "classify-business_importance": "high",
            "classify-priority": "P1",
            "classify-confirmed_details": "电话确认:全部用户无法登录,期望两小时内恢复。",
        },
        htmx=True,
    )
    disp.post(
        f"/staff/requests/{number}/assign",
        {"assign-action": "assign", "assign-handler_id": str(handler_id),
         "assign-reason": "数据库故障经验最丰富"},
        htmx=True,
    )  # fmt: skip

    # a worker crashes midway; the other carries on, and it comes back later
    cluster.kill_worker(0)
    eng.post(
        f"/staff/requests/{number}/ask", {"ask-what": "请提供数据库服务器的运维账号"}, htmx=True
    )
    customer.post(
        f"/requests/{number}/answer", {"answer-answer": "账号 ops_admin 已通过邮件发送"}, ok=(302,)
    )
    eng.post(
        f"/staff/requests/{number}/messages",
        {"msg-kind": "reply", "msg-body": "已重启数据库服务,请确认能否登录。"},
        htmx=True,
    )
    customer.post(f"/requests/{number}/reply", {"reply-body": "已可以登录,谢谢"})
    eng.post(
        f"/staff/requests/{number}/steps",
        {"step-occurred_at": datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M"), "step-operation": "系统恢复正常",
         "step-hours": "1.0", "step-visible_to_customer": "y"},
        htmx=True,
    )  # fmt: skip

    # a deadline passes while one worker is down: on another request, both timers due now
    with app.app_context():
        late = db.session.scalar(select(ServiceRequest).where(ServiceRequest.number == late_number))
        late.response_due_at = utcnow() - timedelta(minutes=2)
        late.resolution_due_at = utcnow() + timedelta(hours=8)
        db.session.commit()
        late_id = late.id
    cluster.start_worker(0)

    def deliver() -> Delivery:
        eng.post(
            f"/staff/requests/{number}/deliver",
            {"deliver-service_item": "生产系统故障修复",
             "deliver-items": "故障原因分析报告\n系统恢复操作记录\n后续维护建议",
             "deliver-criteria": "系统登录无异常\n故障报告内容完整", "deliver-demo_note": ""},
            htmx=True,
        )  # fmt: skip
        with app.app_context():
            return db.session.scalar(
                select(Delivery)
                .join(ServiceRequest, ServiceRequest.id == Delivery.request_id)
                .where(ServiceRequest.number == number)
                .order_by(Delivery.id.desc())
            )

    first = deliver()
    with app.app_context():
        first_ids = criteria_ids(db.session, first)
    customer.post(
        f"/requests/{number}/acceptance",
        {"accept-met": [str(first_ids[0])], "accept-result": "fail", "accept-typed_name": "李明",
         "accept-content_hash": first.content_hash, "accept-other_unmet": "报告缺少根因时间线",
         "accept-rectification": "补充数据库连接池耗尽的时间线"},
        ok=(302,),
    )  # fmt: skip
    second = deliver()
    with app.app_context():
        second_ids = criteria_ids(db.session, second)
    customer.post(
        f"/requests/{number}/acceptance",
        {"accept-met": [str(i) for i in second_ids], "accept-result": "pass",
         "accept-typed_name": "李明", "accept-signature": PNG_DATA_URL,
         "accept-content_hash": second.content_hash},
        ok=(302,),
    )  # fmt: skip
    eng.post(
        f"/staff/requests/{number}/countersign",
        {"countersign-typed_name": "张强", "countersign-signature": PNG_DATA_URL},
        htmx=True,
    )
    customer.post(
        f"/requests/{number}/feedback",
        {"rate-score_response": "5", "rate-score_effect": "4", "rate-score_attitude": "5",
         "rate-suggestions": "希望增加故障预警功能"},
        ok=(302,),
    )  # fmt: skip

    # every person was served by both nodes
    for person in (customer, boss, disp, eng):
        assert set(person.served_by) == set(cluster.nodes), person.served_by

    with app.app_context():
        s = db.session

        def settled():
            s.expire_all()
            fired = s.scalars(select(SlaEvent.kind).where(SlaEvent.request_id == late_id)).all()
            pending = s.scalar(
                select(func.count()).select_from(EmailOutbox).where(EmailOutbox.status != "sent")
            )
            return "response_breach" in fired and pending == 0

        _wait(settled, 120, "the breach and every mail", cluster)
        sr = s.scalar(select(ServiceRequest).where(ServiceRequest.number == number))
        assert sr.status == "closed"

        # each SLA event once
        events = s.execute(select(SlaEvent.request_id, SlaEvent.kind, SlaEvent.due_at)).all()
        assert events and max(Counter(events).values()) == 1
        # each notification once per person and event
        told = s.execute(
            select(Notification.recipient_id, Notification.kind, Notification.request_id)
        ).all()
        breach_told = [t for t in told if t[1] == "response_breach" and t[2] == late_id]
        assert breach_told and max(Counter(breach_told).values()) == 1

        # each mail once: as many mails arrived as the outbox sent, none twice
        rows = s.scalars(select(EmailOutbox).where(EmailOutbox.channel == "email")).all()
        _wait(lambda: len(cluster.mail.messages) >= len(rows), 60, "the mails to arrive", cluster)
        ids = [m["Message-ID"] for m in cluster.mail.messages]
        assert len(ids) == len(rows) == len(set(ids)), (len(ids), len(rows))

        # numbers without a gap, per form
        feedback = s.scalars(select(Feedback.number)).all()
        deliveries = s.scalars(select(Delivery.number).order_by(Delivery.id)).all()
        for series in (numbers, deliveries, feedback):
            serials = [int(x.rsplit("-", 1)[1]) for x in series]
            assert serials == list(range(1, len(series) + 1)), series
    app.extensions["portal_db"].engine.dispose()
