"""The e-mail of a notification (docs/product.md §9): one mail per notification, to its
recipient, in the recipient's language, unless they have no address, are inactive, or chose the
digest or no mail for the kind's category. Wording in portal/templates/mail/notice.*.

Everything in it is what the recipient may see: they are on the request, so its title is shown
(PII redacted: a mail is read outside the portal), and the notification's parameters carry
masked names only; any phone number or address in them is redacted all the same."""

from __future__ import annotations

import hashlib

from flask import current_app
from sqlalchemy.orm import Session

from portal.domain import pii
from portal.domain.sla import family
from portal.domain.vocabulary import AccountKind
from portal.models import Account, EmailOutbox, Notification, ServiceRequest
from portal.presentation.notice_links import notice_link
from portal.presentation.notices import describe
from portal.services import outbox, preferences
from portal.services.invitations import base_url
from portal.services.mail import render_mail

KEY_MAX = 120  # EmailOutbox.dedupe_key


def mail_key(notification: Notification) -> str:
    """The outbox dedupe key of a notification's mail: a retried notify never mails twice."""
    if notification.dedupe_key is None:
        return f"notice:{notification.id}"
    key = f"notice:{notification.dedupe_key}"
    if len(key) > KEY_MAX:
        key = "notice:h:" + hashlib.sha256(notification.dedupe_key.encode()).hexdigest()
    return key


def is_staff(account: Account) -> bool:
    return account.kind == AccountKind.STAFF.value


def settings_link(account: Account) -> str:
    """The absolute address of the recipient's notification settings page."""
    side = "staff" if is_staff(account) else "customer"
    urls = current_app.url_map.bind("", script_name=current_app.config.get("APPLICATION_ROOT"))
    return base_url() + urls.build(f"{side}.notification_settings")


def mailable(account: Account | None) -> bool:
    return account is not None and bool(account.active) and bool(account.email)


def item(session: Session, account: Account, notification: Notification) -> dict:
    """What a mail says about one notification: the kind, the (redacted) parameters, the
    request's number and title, and the link to where the recipient acts."""
    sr = session.get(ServiceRequest, notification.request_id) if notification.request_id else None
    params = pii.redact_data(dict(notification.params or {}))
    number = params.get("number") or (sr.number if sr is not None else None)
    return {
        "kind": notification.kind,
        "family": family(notification.kind),
        "params": params,
        "number": number,
        "title": pii.redact(sr.title) if sr is not None and sr.title else "",
        "link": notice_link(
            notification.kind, number, staff=is_staff(account), base_url=base_url()
        ),
        "created_at": notification.created_at,
    }


def queue(
    session: Session, notification: Notification, *, enqueue: bool = True
) -> EmailOutbox | None:
    """Queue the notification's mail in the caller's transaction (sent after commit when
    ``enqueue``); None when nothing is to be sent now or it was queued already."""
    account = session.get(Account, notification.recipient_id)
    if not mailable(account):
        return None
    if preferences.mode_for_kind(session, account.id, notification.kind) != "instant":
        return None
    notice = item(session, account, notification)
    mail = render_mail(
        "notice",
        account.locale,
        describe=describe,
        notice=notice,
        settings_link=settings_link(account),
    )
    return outbox.add(
        session,
        to_address=account.email,
        subject=mail.subject,
        body_text=mail.text,
        body_html=mail.html,
        dedupe_key=mail_key(notification),
        meta={
            "number": notice["number"],
            "request_id": notification.request_id,
            "kind": notification.kind,
            "notification_id": notification.id,
        },
        enqueue=enqueue,
    )
