"""Every notification also goes out by e-mail, to its recipient, in the recipient's language,
through the outbox and a real SMTP server (docs/product.md §9)."""

from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select

from portal import jobs_sla
from portal.domain.mail_ids import ours, sender_domain
from portal.models import EmailOutbox, Notification, utcnow
from portal.presentation.notices import describe
from portal.services import preferences
from portal.services.notifications import notify
from tests.mail_server import body_text
from tests.notifications.conftest import BASE_URL


def _mails_to(session, address: str) -> list[EmailOutbox]:
    return list(
        session.scalars(
            select(EmailOutbox).where(EmailOutbox.to_address == address).order_by(EmailOutbox.id)
        )
    )


def _send(session, address: str) -> list[int]:
    """Send the pending mails to ``address`` as the outbox job does; their ids."""
    ids = [m.id for m in _mails_to(session, address)]
    for mail_id in ids:
        assert jobs_sla.send_mail(mail_id) == "sent"
    return ids


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def _explanation(db_session, factory, locale: str):
    customer = factory.customer(locale=locale)
    sr = factory.request(customer, title="生产系统无法登录")
    params = {"number": sr.number}
    assert notify(db_session, customer.id, "sla_explanation", sr.id, params, f"t:{sr.id}") == 1
    db_session.commit()
    return customer, sr, params


def test_a_notice_arrives_by_mail_in_english_with_number_id_style_and_link(
    db_session, factory, smtp, mail_config
):
    customer, sr, params = _explanation(db_session, factory, "en")
    _send(db_session, customer.email)
    message = smtp.wait_for(lambda m: m["To"] == customer.email, timeout=10)

    assert message["Subject"].startswith(f"[{sr.number}] ")
    assert ours(message["Message-ID"], sender_domain(mail_config["MAIL_FROM"])) == [
        (sr.number, _mails_to(db_session, customer.email)[0].id)
    ]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All"
    text = body_text(message)
    assert f"{sr.number}: the service desk explains a delay." in text
    assert "生产系统无法登录" in text  # the recipient is on the request: its title is shown
    link = f"{BASE_URL}/requests/{sr.number}#panel-sla"
    assert link in text
    assert f"{BASE_URL}/account/notifications" in text
    html = _html(message)
    assert f'href="{link}"' in html
    # the stylesheet went into style attributes: mail clients drop <style>
    assert "<style" not in html and 'class="button"' in html and "background: #1f5fbf" in html


def test_a_chinese_reader_gets_it_in_chinese_whoever_triggered_it(
    db_session, factory, smtp, mail_config
):
    customer, sr, params = _explanation(db_session, factory, "zh_CN")
    _send(db_session, customer.email)
    message = smtp.wait_for(lambda m: m["To"] == customer.email, timeout=10)
    with force_locale("zh_CN"):
        chinese = describe("sla_explanation", params)
    with force_locale("en"):
        english = describe("sla_explanation", params)
    assert chinese != english
    text = body_text(message)
    assert chinese in text and english not in text
    assert "服务台" in text and "Service Desk" not in text
    assert "安全邮件(邀请、重置密码)总会发送。" in text and "Security mail" not in text
    assert message["Subject"].startswith(f"[{sr.number}] ")


def test_a_retried_notify_mails_once(db_session, factory):
    customer, sr, params = _explanation(db_session, factory, "en")
    assert notify(db_session, customer.id, "sla_explanation", sr.id, params, f"t:{sr.id}") == 0
    db_session.commit()
    assert len(_mails_to(db_session, customer.email)) == 1


def test_staff_get_the_staff_link_and_sla_subjects(db_session, factory, mail_config):
    engineer = factory.staff("engineer")
    customer = factory.customer()
    sr = factory.request(customer)
    params = {"number": sr.number, "due": "2026-12-01T08:00:00+00:00"}
    notify(db_session, engineer.id, "resolution_breach", sr.id, params, "t:breach")
    (mail,) = _mails_to(db_session, engineer.email)
    assert mail.subject == f"[{sr.number}] SLA breached: escalation level 1"
    assert f"{BASE_URL}/staff/requests/{sr.number}#panel-escalation" in mail.body_text
    assert f"{BASE_URL}/staff/account/notifications" in mail.body_text


def test_off_keeps_the_portal_notification_and_sends_no_mail(db_session, factory):
    customer = factory.customer()
    preferences.save(db_session, customer.id, {"sla": "off"}, utcnow())
    sr = factory.request(customer)
    notify(db_session, customer.id, "sla_explanation", sr.id, {"number": sr.number}, "t:off")
    db_session.commit()
    assert db_session.scalar(
        select(Notification.id).where(
            Notification.recipient_id == customer.id, Notification.kind == "sla_explanation"
        )
    )
    assert _mails_to(db_session, customer.email) == []
    # another category still mails at once
    notify(db_session, customer.id, "reply", sr.id, {"number": sr.number}, "t:reply")
    assert len(_mails_to(db_session, customer.email)) == 1


def test_no_mail_to_an_inactive_account(db_session, factory):
    customer = factory.customer()
    sr = factory.request(customer)
    customer.active = False
    db_session.flush()
    notify(db_session, customer.id, "reply", sr.id, {"number": sr.number}, "t:inactive")
    assert _mails_to(db_session, customer.email) == []


def test_a_notice_mail_holds_no_raw_contact_data(db_session, factory):
    contact = factory.customer(
        name="王小明", phone="13912345678", email="wang.xiaoming@customer.example"
    )
    engineer = factory.staff("engineer")
    sr = factory.request(contact, title="请回电 13912345678 或写信 wang.xiaoming@customer.example")
    # the params carry the masked name, as every caller of notify passes it
    params = {"number": sr.number, "who": "王**"}
    notify(db_session, engineer.id, "customer_reply", sr.id, params, "t:pii")
    (mail,) = _mails_to(db_session, engineer.email)
    everything = f"{mail.subject}\n{mail.body_text}\n{mail.body_html}"
    assert sr.number in everything
    for raw in ("王小明", "13912345678", "wang.xiaoming@customer.example"):
        assert raw not in everything
