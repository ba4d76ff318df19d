"""Masks for contact data (docs/product.md §5): name 李*, phone ****5678, e-mail l***@example.com."""

from __future__ import annotations


def mask_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*"


def mask_phone(phone: str | None) -> str:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if not digits:
        return ""
    return "****" + digits[-4:] if len(digits) > 4 else "****"


def mask_email(email: str | None) -> str:
    email = (email or "").strip()
    if "@" not in email:
        return "***" if email else ""
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"
