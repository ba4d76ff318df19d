"""Reading one raw inbound mail (docs/product.md §9): the headers, the sender, the subject, the
text (from text/plain, else from the HTML), the HTML sanitised to a safe subset, the quoted
history and signature trimmed off, and the attachments.

A mail over ``INBOUND_MAX_BYTES`` raises ``Unusable("refused", …)``; one whose MIME structure or
text cannot be read raises ``Unusable("unreadable", …)``. Nothing here touches the database."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from functools import cached_property

import nh3
from mailparser_reply import EmailReplyParser

# the languages the portal speaks; the reply parser knows both (its Chinese patterns are few,
# so the delimiters below catch what it misses)
REPLY_LANGUAGES = ["en", "zh"]
_REPLY_PARSER = EmailReplyParser(languages=REPLY_LANGUAGES)

# where a reply's own text ends, line by line: the RFC 3676 signature delimiter, the
# "On … wrote:" / "在 …写道：" header of a quote, the separators of Outlook and others
_CUT_LINE = re.compile(
    r"^(?:-- ?$"
    r"|-{2,}\s*(?:Original Message|原始邮件|原始郵件)\s*-{2,}"
    r"|_{10,}\s*$"
    r"|On .{4,200} wrote:\s*$"
    r"|在.{2,200}写道[：:]\s*$"
    r")",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"^\s*>")

# the safe subset of HTML kept for a person to read (no script, style, forms, frames or
# handlers: nh3's defaults, links without a referrer)
SAFE_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i",
    "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "u", "ul",
}  # fmt: skip
HTML_KEEP = 100_000  # characters of safe HTML kept in the row's detail
_BLOCK_END = re.compile(r"<\s*(?:br\s*/?|/p|/div|/li|/tr|/h\d|/blockquote|/pre)\s*>", re.I)


class Unusable(Exception):  # noqa: N818 - a verdict, not an error of the code
    """The mail cannot be taken in: ``status`` (refused, unreadable) and a short reason."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes


@dataclass
class ParsedMail:
    message: EmailMessage
    sender: str | None
    subject: str
    text: str
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        value = self.message.get(name)
        return None if value is None else str(value)

    def headers(self, name: str) -> list[str]:
        return [str(v) for v in self.message.get_all(name) or []]

    @cached_property
    def header_map(self) -> dict[str, list[str]]:
        """Every header, by its lower-case name, as raw unfolded text (what
        portal.domain.inbound_rules reads: names and tokens, no encoded words needed)."""
        found: dict[str, list[str]] = {}
        for name, value in self.message.raw_items():
            found.setdefault(name.lower(), []).append(" ".join(str(value).split()))
        return found


def sanitise_html(markup: str) -> str:
    """HTML reduced to a safe subset: no script or style (their content dropped too), no
    event handlers, no javascript: links."""
    return nh3.clean(markup, tags=SAFE_TAGS, link_rel="noopener noreferrer nofollow")


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body: quoted history (blockquote), scripts and styles
    dropped, block ends as line breaks."""
    markup = _BLOCK_END.sub("\n", markup)
    text = nh3.clean(
        markup,
        tags=set(),
        attributes={},
        clean_content_tags={"script", "style", "blockquote", "head", "title"},
    )
    text = html.unescape(text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def trim_reply(text: str) -> str:
    """The reply's own words: the quoted history and the signature cut off (the reply parser
    first, then the delimiters it does not know); the whole text when nothing is left."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return ""
    try:
        parsed = _REPLY_PARSER.parse_reply(text) or ""
    except Exception:  # noqa: BLE001 - a parser hiccup keeps the untrimmed text
        parsed = text
    kept: list[str] = []
    for line in (parsed or text).split("\n"):
        if _CUT_LINE.match(line.strip()) or _QUOTED.match(line):
            break
        kept.append(line.rstrip())
    result = "\n".join(kept).strip()
    return result or text


def _sender(message: EmailMessage) -> str | None:
    addresses = [a for _n, a in getaddresses([str(v) for v in message.get_all("From") or []])]
    addresses = [a.strip().lower() for a in addresses if a and "@" in a]
    return addresses[0][:254] if addresses else None


def _text_of(part) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError) as exc:
        raise Unusable("unreadable", f"undecodable text ({type(exc).__name__})") from exc
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return content


def parse(raw: bytes, max_bytes: int) -> ParsedMail:
    """Read ``raw``; raises ``Unusable`` when it is too large or cannot be read."""
    if len(raw) > max_bytes:
        raise Unusable("refused", "too large")
    try:
        message = message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # noqa: BLE001 - the parser's own failure: a mail we cannot read
        raise Unusable("unreadable", f"malformed MIME ({type(exc).__name__})") from exc
    defects = [d for d in message.defects if _fatal(d)]
    if defects or not message.keys():
        name = type(defects[0]).__name__ if defects else "no headers"
        raise Unusable("unreadable", f"malformed MIME ({name})")
    try:
        subject = " ".join(str(message.get("Subject") or "").split())
    except Exception as exc:  # noqa: BLE001 - an undecodable encoded word
        raise Unusable("unreadable", f"undecodable subject ({type(exc).__name__})") from exc
    try:
        plain = message.get_body(preferencelist=("plain",))
        rich = message.get_body(preferencelist=("html",))
        parts = list(message.iter_attachments()) if message.is_multipart() else []
    except Exception as exc:  # noqa: BLE001
        raise Unusable("unreadable", f"malformed MIME ({type(exc).__name__})") from exc
    safe_html = None
    if rich is not None:
        markup = _text_of(rich)
        # cut, then sanitised: the sanitiser closes what the cut left open
        safe_html = sanitise_html(markup[:HTML_KEEP])
    if plain is not None:
        text = _text_of(plain)
    elif rich is not None:
        text = html_to_text(markup)
    else:
        text = ""
    attachments = []
    for part in parts:
        try:
            content = part.get_payload(decode=True) or b""
        except Exception as exc:  # noqa: BLE001
            raise Unusable("unreadable", f"undecodable attachment ({type(exc).__name__})") from exc
        attachments.append(Attachment(part.get_filename() or "file", content))
    return ParsedMail(
        message=message,
        sender=_sender(message),
        subject=subject[:300],
        text=trim_reply(text),
        html=safe_html,
        attachments=attachments,
    )


def _fatal(defect) -> bool:
    """A structural defect that leaves the body unknown (a boundary never found, a multipart
    that is not one); minor header defects are tolerated like every mail client does."""
    from email import errors

    return isinstance(
        defect,
        errors.StartBoundaryNotFoundDefect
        | errors.MultipartInvariantViolationDefect
        | errors.NoBoundaryInMultipartDefect,
    )
