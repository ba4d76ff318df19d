"""The reasons and outcomes of inbound mail (docs/product.md §9) as sentences in the reader's
language. The services record short English keys ("unknown sender", "precedence: bulk",
"malformed MIME (…)"); a page shows the sentence, never the key."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# exact keys (portal/services/inbound/handle.py, portal/domain/inbound_rules.py, parse.py)
_EXACT = {
    "unknown sender": _l("The sender is not a known contact."),
    "contact deactivated": _l("The sender's contact has been deactivated."),
    "organisation deactivated": _l("The sender's organisation has been deactivated."),
    "the request belongs to another organisation": _l(
        "The request named in it belongs to another organisation."
    ),
    "the sender may not reply on this request": _l("The sender may not reply on this request."),
    "too large": _l("The mail is larger than the limit."),
    "x-autoreply": _l("An automatic reply."),
    "x-autorespond": _l("An automatic reply."),
    "x-auto-response-suppress": _l("An automatic reply."),
    "delivery report": _l("A delivery report (bounce)."),
    "from a mail system": _l("A message from a mail system (bounce)."),
    "empty return path": _l("A message from a mail system (bounce)."),
    "our own message (loop)": _l("One of the portal's own mails came back (loop)."),
    "from the portal's own address (loop)": _l("Sent from the portal's own address (loop)."),
    "not authenticated (INBOUND_AUTH=require)": _l(
        "The sender's domain did not authenticate the mail (SPF/DKIM)."
    ),
}
# keys that begin so (the rest is a detail: a header's value, an exception's class)
_PREFIXES = (
    ("auto-submitted:", _l("An automatic reply.")),
    ("precedence:", _l("Bulk or list mail (an automatic message).")),
    ("authentication failed", _l("The sender's authentication failed (SPF/DKIM/DMARC).")),
    ("reply not accepted on a request that is", _l(
        "A reply to a request that no longer takes replies (closed or cancelled)."
    )),
    ("malformed mime", _l("Its MIME structure is broken.")),
    ("undecodable text", _l("Its text could not be decoded.")),
    ("undecodable subject", _l("Its subject could not be decoded.")),
    ("undecodable attachment", _l("An attachment could not be decoded.")),
)  # fmt: skip
_EXACT = {key.lower(): sentence for key, sentence in _EXACT.items()}
_UNKNOWN = _l("It could not be processed (a fault in the portal).")

# what became of a mail, by its status (portal/models/inbound.py)
OUTCOMES = {
    "received": _l("Not processed yet"),
    "message": _l("Added to its request"),
    "request": _l("Became a request"),
    "triage": _l("Waiting for a decision"),
    "ignored": _l("Ignored (automatic mail)"),
    "refused": _l("Refused"),
    "unreadable": _l("Could not be read"),
    "discarded": _l("Discarded"),
}


def reason_sentence(reason: str | None):
    """The sentence for a recorded reason (lazy); empty when there is none. A key this module
    does not know (an unexpected failure: an exception's class) reads as a fault."""
    if not reason:
        return ""
    key = reason.strip().lower()
    if key in _EXACT:
        return _EXACT[key]
    for prefix, sentence in _PREFIXES:
        if key.startswith(prefix):
            return sentence
    return _UNKNOWN


REFUSED_FILE = _l("Refused by the upload rules (type, size or number of files).")


def outcome(status: str):
    return OUTCOMES.get(status, status)
