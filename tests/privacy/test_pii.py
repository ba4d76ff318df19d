"""Detection and redaction of personal data in free text (portal/domain/pii.py)."""

import pytest

from portal.domain import pii

VALID_ID = "11010519491231002X"  # the checksum character is X
VALID_ID_DIGIT = "440524188001010014"
VALID_CARD = "6222021234567890128"  # 19 digits, Luhn-valid
VISA = "4111111111111111"


@pytest.mark.parametrize("value", [VALID_ID, VALID_ID.lower(), VALID_ID_DIGIT])
def test_resident_id_with_a_right_checksum_is_valid(value):
    assert pii.resident_id_valid(value)


@pytest.mark.parametrize(
    "value",
    ["110105194912310021", "440524188001010015", "11010519491231002", "1101051949123100XX"],
)
def test_resident_id_with_a_wrong_checksum_or_shape_is_not(value):
    assert not pii.resident_id_valid(value)


def test_luhn():
    assert pii.luhn_valid(VISA) and pii.luhn_valid(VALID_CARD)
    assert not pii.luhn_valid("4111111111111112")
    assert not pii.luhn_valid("6222021234567890127")


def test_everything_is_found_and_redacted_keeping_the_last_four():
    text = (
        f"请回电 13812345678 或 +86 139-1234-5678,座机 010-12345678 / 0755-1234567,"
        f"邮箱 wang.li@example.com,身份证 {VALID_ID},卡号 {VISA[:4]} {VISA[4:8]} {VISA[8:12]} "
        f"{VISA[12:]},另一张 {VALID_CARD}。"
    )
    kinds = [f.kind for f in pii.find(text)]
    assert kinds == [
        pii.MOBILE,
        pii.MOBILE,
        pii.LANDLINE,
        pii.LANDLINE,
        pii.EMAIL,
        pii.RESIDENT_ID,
        pii.BANK_CARD,
        pii.BANK_CARD,
    ]
    out = pii.redact(text)
    for raw in ("13812345678", "139-1234-5678", "12345678", "1234567", "wang.li@example.com"):
        assert raw not in out
    assert VALID_ID not in out and VISA[:4] + " " not in out and VALID_CARD not in out
    assert "****5678" in out and "w***@example.com" in out and "****002X" in out
    assert "****1111" in out and "****0128" in out


def test_numbers_failing_their_checksum_are_left_alone():
    text = "工单 110105194912310021 与订单 4111111111111112,版本 2024112600001234"
    assert pii.find(text) == []
    assert pii.redact(text) == text


def test_not_a_phone_number():
    # 12 digits starting with 1, a second digit 2, a short number
    for text in ("138123456789", "12812345678", "12345", "1234-5678"):
        assert [f for f in pii.find(text) if f.kind == pii.MOBILE] == [], text
    # but a number written straight after Chinese text is found
    assert pii.redact("电话13812345678请回电") == "电话****5678请回电"


def test_redact_data_walks_nested_json():
    data = {"a": ["x 13812345678", {"b": VALID_ID}], "n": 3}
    assert pii.redact_data(data) == {"a": ["x ****5678", {"b": "****002X"}], "n": 3}
