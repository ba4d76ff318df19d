"""Personal data in free text (docs/product.md §5): detection and redaction, pure Python.

Detected: mainland mobile numbers (1[3-9] + 9 digits, optionally +86 and separators),
landlines (0 + 2–3 digit area code, optional dash, 7–8 digits), e-mail addresses, 18-digit
resident ID numbers whose ISO 7064 MOD 11-2 check character is right, and bank card numbers
(13–19 digits, optionally grouped by spaces or dashes) that pass the Luhn check.

Redaction keeps what the masks keep: the last four digits (****5678) and, for an e-mail, the
first character and the domain (l***@example.com). Numbers that fail their checksum are left
alone: an order number or a timestamp is not a person's data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.domain.masking import mask_email

# The kinds, in the order they win when two matches overlap.
RESIDENT_ID = "resident_id"
BANK_CARD = "bank_card"
EMAIL = "email"
MOBILE = "mobile"
LANDLINE = "landline"

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

_RESIDENT_ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_CARD_RE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_MOBILE_RE = re.compile(r"(?<![\d+])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")
_LANDLINE_RE = re.compile(r"(?<![\d-])0\d{2,3}-?\d{7,8}(?![\d])")


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    value: str


def resident_id_valid(value: str) -> bool:
    """An 18-character resident ID number with a correct ISO 7064 MOD 11-2 check character."""
    value = value.strip().upper()
    if len(value) != 18 or not value[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def luhn_valid(digits: str) -> bool:
    """The Luhn check over a string of digits (separators removed by the caller)."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def find(text: str | None) -> list[Finding]:
    """Every piece of personal data in ``text``, in order, without overlaps."""
    if not text:
        return []
    candidates: list[Finding] = []
    for m in _RESIDENT_ID_RE.finditer(text):
        if resident_id_valid(m.group()):
            candidates.append(Finding(RESIDENT_ID, m.start(), m.end(), m.group()))
    for m in _CARD_RE.finditer(text):
        digits = _digits(m.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            candidates.append(Finding(BANK_CARD, m.start(), m.end(), m.group()))
    for m in _EMAIL_RE.finditer(text):
        candidates.append(Finding(EMAIL, m.start(), m.end(), m.group()))
    for m in _MOBILE_RE.finditer(text):
        candidates.append(Finding(MOBILE, m.start(), m.end(), m.group()))
    for m in _LANDLINE_RE.finditer(text):
        candidates.append(Finding(LANDLINE, m.start(), m.end(), m.group()))
    # earlier kinds win an overlap (a valid ID number is not also a card or a phone)
    chosen: list[Finding] = []
    for f in candidates:
        if all(f.end <= c.start or f.start >= c.end for c in chosen):
            chosen.append(f)
    return sorted(chosen, key=lambda f: f.start)


def mask_value(kind: str, value: str) -> str:
    """The mask of one finding: the last four digits, or l***@domain for an e-mail."""
    if kind == EMAIL:
        return mask_email(value)
    digits = value.strip()
    if kind == RESIDENT_ID:
        return "****" + digits[-4:].upper()
    return "****" + _digits(value)[-4:]


def redact(text: str | None) -> str:
    """``text`` with every finding replaced by its mask."""
    if not text:
        return text or ""
    findings = find(text)
    if not findings:
        return text
    out: list[str] = []
    pos = 0
    for f in findings:
        out.append(text[pos : f.start])
        out.append(mask_value(f.kind, f.value))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def contains_pii(text: str | None) -> bool:
    return bool(find(text))


def redact_data(value):
    """``redact`` applied to every string inside nested dicts and lists (JSON-like data)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value
