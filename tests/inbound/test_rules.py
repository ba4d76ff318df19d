"""The pure rules of inbound mail: machine mail, authentication verdicts, numbers, titles."""

from __future__ import annotations

import pytest

from portal.domain.inbound_rules import auth_problem, ignore_reason, number_in_subject, title_from

OWN = "servicedesk@desk.example"


def h(**headers):
    base = {"from": ["Li <li@customer.example>"], "message-id": ["<1@customer.example>"]}
    base.update({k.replace("_", "-").lower(): [v] for k, v in headers.items()})
    return base


def test_a_person_s_mail_is_not_ignored():
    assert ignore_reason(h(), OWN) is None
    assert ignore_reason(h(auto_submitted="no"), OWN) is None


@pytest.mark.parametrize(
    "headers",
    [
        {"auto_submitted": "auto-replied"},
        {"auto_submitted": "auto-generated"},
        {"precedence": "bulk"},
        {"precedence": "junk"},
        {"precedence": "list"},
        {"precedence": "auto_reply"},
        {"x_autoreply": "yes"},
        {"x_autorespond": "vacation"},
        {"x_auto_response_suppress": "OOF, DR"},
        {"x_auto_response_suppress": "All"},
        {"content_type": "multipart/report; report-type=delivery-status"},
        {"from": "Mail Delivery System <MAILER-DAEMON@mx.customer.example>"},
        {"from": "postmaster@customer.example"},
        {"return_path": "<>"},
        {"message_id": "<SR-20261201-001.42@desk.example>"},
        {"from": "Service Desk <servicedesk@desk.example>"},
    ],
)
def test_machine_mail_is_ignored_with_a_reason(headers):
    assert ignore_reason(h(**headers), OWN)


def _auth(value):
    return {"authentication-results": [value]}


def test_header_mode_counts_only_our_own_server_s_failures():
    fail = _auth("mx.desk.example; spf=pass smtp.mailfrom=x; dkim=none; dmarc=fail header.from=x")
    assert auth_problem(fail, "header", "mx.desk.example") == "authentication failed: dmarc=fail"
    both = _auth("mx.desk.example 1; spf=fail; dkim=fail")
    assert auth_problem(both, "header", "mx.desk.example")
    one = _auth("mx.desk.example; spf=fail; dkim=pass; dmarc=pass")
    assert auth_problem(one, "header", "mx.desk.example") is None
    forged = _auth("mx.attacker.example; dmarc=fail")
    assert auth_problem(forged, "header", "mx.desk.example") is None
    assert auth_problem(fail, "header", None) is None
    assert auth_problem(fail, "off", "mx.desk.example") is None


def test_require_mode_wants_a_pass_from_our_own_server():
    good = _auth("mx.desk.example; dkim=pass header.d=customer.example; dmarc=pass")
    assert auth_problem(good, "require", "mx.desk.example") is None
    spf_only = _auth("mx.desk.example; spf=pass; dkim=none")  # dmarc not evaluated
    assert auth_problem(spf_only, "require", "mx.desk.example") is None
    assert auth_problem(
        _auth("mx.desk.example; dkim=pass; dmarc=fail"), "require", "mx.desk.example"
    )
    # a pass written by someone else's server (or by the sender) is worth nothing
    assert auth_problem(_auth("evil.example; dkim=pass; dmarc=pass"), "require", "mx.desk.example")
    assert auth_problem({}, "require", "mx.desk.example")


def test_the_number_in_a_subject_and_the_title_it_makes():
    assert number_in_subject("Re: [SR-20261201-007] printer") == "SR-20261201-007"
    assert number_in_subject("回复：sr-20261201-007 打印机") == "SR-20261201-007"
    assert number_in_subject("Order XSR-20261201-007") is None
    assert title_from("Re: Fwd: 回复： Printer   offline", "", 200) == "Printer offline"
    assert title_from("", "\n  first line here \nsecond", 200) == "first line here"
    assert len(title_from("x" * 500, "", 200)) == 200
