"""The portal's Message-IDs are found again in replies, and a mail is taken once per mailbox."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.domain.mail_ids import message_id, ours, referenced_number, sender_domain
from portal.models import InboundMail, utcnow
from portal.services.inbound import receive


def test_a_request_mail_id_names_its_number_and_is_found_in_a_reply():
    mid = message_id(42, "SR-20261201-001", sender_domain("Desk <servicedesk@desk.example>"))
    assert mid == "<SR-20261201-001.42@desk.example>"
    refs = f"<abc@client.example> {mid} <other@elsewhere.example>"
    assert ours(refs, "desk.example") == [("SR-20261201-001", 42)]
    assert referenced_number([None, refs], "desk.example") == "SR-20261201-001"


def test_ids_of_another_domain_or_shape_are_not_ours():
    assert ours("<SR-20261201-001.42@evil.example>", "desk.example") == []
    assert ours("<SR-20261201-001@desk.example>", "desk.example") == []
    assert referenced_number(["<portal.7@desk.example>"], "desk.example") is None
    assert message_id(7, "not a number", "desk.example") == "<portal.7@desk.example>"


RAW = b"Message-ID: <m1@client.example>\r\nFrom: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n"


def test_a_mail_is_taken_once_per_mailbox(db_session):
    now = utcnow()
    first, created = receive(db_session, RAW, "support", now)
    again, created_again = receive(db_session, RAW, "support", now)
    other, created_other = receive(db_session, RAW, "sales", now)
    db_session.flush()
    assert (created, created_again, created_other) == (True, False, True)
    assert again.id == first.id and other.id != first.id
    assert first.message_id == "<m1@client.example>"
    count = db_session.scalar(select(func.count()).select_from(InboundMail))
    assert count == 2


def test_a_mail_without_message_id_is_keyed_by_its_bytes(db_session):
    now = utcnow()
    a, _ = receive(db_session, b"Subject: x\r\n\r\none\r\n", "support", now)
    b, _ = receive(db_session, b"Subject: x\r\n\r\ntwo\r\n", "support", now)
    c, created = receive(db_session, b"Subject: x\r\n\r\none\r\n", "support", now)
    assert a.id != b.id and c.id == a.id and not created and a.message_id is None
