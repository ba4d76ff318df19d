"""Delivery and acceptance (服务交付验收单, SD): the rules, with no database and no Flask.

- The content hash: SHA-256 over a canonical JSON of what was delivered (service item, the
  deliverables and the acceptance criteria in their order, the demo note, the files' digests).
  Each signature keeps the hash it signed, so any later change of the content is detectable.
- The drawn signature: a PNG data URL of bounded size, checked before it is stored.
- The customer's decision: pass needs every criterion met; fail needs the unmet items and the
  rectification asked for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

# an acceptance result, not a password:
PASS = "pass"  # nosec B105
FAIL = "fail"
RESULTS = (PASS, FAIL)

CUSTOMER = "customer"
HANDLER = "handler"

PNG_DATA_URL_PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# a drawn signature is a few KB to a few tens of KB; anything larger is not a signature
MAX_SIGNATURE_BYTES = 200 * 1024
MAX_TYPED_NAME = 100


def content_hash(
    service_item: str,
    items: Sequence[str],
    criteria: Sequence[str],
    demo_note: str = "",
    files: Sequence[str] = (),
) -> str:
    """SHA-256 (hex) over the canonical content of a delivery. ``items`` and ``criteria`` are
    texts in their order; ``files`` the SHA-256 digests of the delivery's files in their order.
    Canonical JSON: sorted keys, no insignificant whitespace, UTF-8."""
    canonical = json.dumps(
        {
            "service_item": service_item,
            "items": list(items),
            "criteria": list(criteria),
            "demo_note": demo_note or "",
            "files": list(files),
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Integrity:
    """What a recomputation of the hash says about a delivery."""

    current_hash: str  # recomputed from the content as it is now
    stored_hash: str  # the hash taken at delivery
    signed_hashes: dict[str, str]  # party → the hash that party signed

    @property
    def changed_since_delivery(self) -> bool:
        return self.current_hash != self.stored_hash

    @property
    def changed_after_signing(self) -> bool:
        return any(h != self.current_hash for h in self.signed_hashes.values())

    @property
    def intact(self) -> bool:
        return not self.changed_since_delivery and not self.changed_after_signing

    def signature_matches(self, party: str) -> bool:
        return self.signed_hashes.get(party) == self.current_hash


def verify(current_hash: str, stored_hash: str, signed_hashes: dict[str, str]) -> Integrity:
    return Integrity(current_hash, stored_hash, dict(signed_hashes))


class SignatureImageError(ValueError):
    """A drawn signature that is not a PNG data URL of acceptable size. ``code``: format / size."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def check_signature_image(data_url: str | None) -> str | None:
    """The data URL to store, None when nothing was drawn, or SignatureImageError."""
    value = (data_url or "").strip()
    if not value:
        return None
    # base64 inflates by 4/3: bound the text before decoding anything
    if len(value) > len(PNG_DATA_URL_PREFIX) + (MAX_SIGNATURE_BYTES * 4) // 3 + 4:
        raise SignatureImageError("size")
    if not value.startswith(PNG_DATA_URL_PREFIX):
        raise SignatureImageError("format")
    try:
        raw = base64.b64decode(value[len(PNG_DATA_URL_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureImageError("format") from None
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise SignatureImageError("size")
    if not raw.startswith(PNG_MAGIC):
        raise SignatureImageError("format")
    return value


def clean_typed_name(name: str | None) -> str:
    """The typed name that signs: trimmed, inner whitespace collapsed."""
    return " ".join((name or "").split())[:MAX_TYPED_NAME]


def split_lines(text: str | None) -> list[str]:
    """One entry per non-empty line; a leading "1." / "1、" / "-" numbering is dropped, since
    the form numbers the list itself."""
    out = []
    for line in (text or "").splitlines():
        line = line.strip()
        stripped = line.lstrip("-*•·").strip()
        head = ""
        for ch in stripped:
            if ch.isdigit():
                head += ch
            else:
                break
        if head and stripped[len(head) : len(head) + 1] in {".", "、", ")", "．", "。"}:
            stripped = stripped[len(head) + 1 :].strip()
        if stripped:
            out.append(stripped)
    return out


@dataclass(frozen=True)
class Decision:
    """The customer's acceptance decision, checked."""

    result: str
    met: dict[int, bool]  # criterion id → met
    unmet_items: str
    rectification: str


class DecisionError(ValueError):
    """``problems`` maps a field (result, criteria, unmet_items, rectification) to a code."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def decide(
    result: str | None,
    criteria: Sequence[tuple[int, str]],
    met_ids: set[int],
    other_unmet: str | None,
    rectification: str | None,
) -> Decision:
    """Check the customer's decision. ``criteria`` is (id, text) in order; ``met_ids`` the ids
    checked as met. Pass needs every criterion met; fail needs at least one unmet item (an
    unchecked criterion or one written in) and the rectification asked for."""
    problems: dict[str, str] = {}
    if result not in RESULTS:
        problems["result"] = "missing"
    known = {cid for cid, _text in criteria}
    met = {cid: cid in met_ids for cid in known}
    unmet_texts = [text for cid, text in criteria if not met[cid]]
    other = (other_unmet or "").strip()
    rect = (rectification or "").strip()
    if result == PASS:
        if unmet_texts:
            problems["criteria"] = "unmet-on-pass"
    elif result == FAIL:
        if not unmet_texts and not other:
            problems["unmet_items"] = "missing"
        if not rect:
            problems["rectification"] = "missing"
    if problems:
        raise DecisionError(problems)
    if result == PASS:
        return Decision(PASS, met, "", "")
    lines = [f"{i}. {text}" for i, text in enumerate(unmet_texts, 1)]
    if other:
        lines.append(other)
    return Decision(FAIL, met, "\n".join(lines), rect)
