"""No vague records (避免模糊表述, docs/product.md §6): a step, a final result or a deliverable that says
only "已处理", "done", "fixed" and the like, or too little to reproduce, is refused.

The phrase list is configuration: the defaults below, plus the admin's rows (VaguePhrase), merged
by portal.services.record_quality. Pure: no database, no Flask."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_PHRASES: dict[str, tuple[str, ...]] = {
    "zh": (
        "已处理",
        "已解决",
        "处理完成",
        "处理完毕",
        "搞定",
        "完成",
        "好了",
        "已完成",
        "已修复",
        "修复了",
        "解决了",
        "处理了",
        "处理好了",
        "已经处理",
        "已经解决",
        "没问题",
        "正常了",
        "可以了",
        "已跟进",
        "已排查",
        "已恢复",
        "已搞定",
        "已ok",
    ),
    "en": (
        "ok",
        "okay",
        "done",
        "fixed",
        "resolved",
        "handled",
        "solved",
        "completed",
        "complete",
        "finished",
        "sorted",
        "sorted out",
        "all good",
        "works now",
        "working now",
        "it works",
        "no problem",
        "taken care of",
        "dealt with",
        "checked",
        "closed",
        "fine",
    ),
}

# words that carry nothing concrete: a record made only of them and vague phrases is vague
FILLERS: dict[str, tuple[str, ...]] = {
    "zh": ("问题", "已经", "现在", "目前", "全部", "都", "已", "了", "的", "该", "此", "这个", "均", "啦", "吧"),
    "en": (
        "the", "a", "an", "issue", "issues", "problem", "problems", "it", "is", "was", "has",
        "have", "been", "all", "now", "this", "that", "request", "ticket", "everything", "and",
        "we", "i", "just", "already", "be", "should", "are", "thing", "things", "task", "job",
    ),
}  # fmt: skip

MIN_CJK_CHARS = 6  # "系统恢复正常" (the template's own step) is the shortest concrete record
MIN_WORDS = 3  # "Restarted nginx" is not enough; "Restarted the nginx service" is

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _is_cjk(ch: str) -> bool:
    return bool(_CJK.match(ch))


def normalise(text: str) -> str:
    """Lower case, full-width folded, punctuation and spaces to single spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        out.append(" " if cat[0] in "PSZC" else ch)
    return " ".join("".join(out).split())


@dataclass(frozen=True)
class Problem:
    code: str  # empty / vague / too-short
    phrase: str | None = None  # the vague phrase found, for the message


def _remove(text: str, phrase: str) -> str:
    if not phrase:
        return text
    if any(_is_cjk(ch) for ch in phrase):
        return text.replace(phrase, " ")
    # latin phrases are whole words: "ok" must not eat the "ok" of "token" (but may sit next
    # to Chinese: "ok了")
    return re.sub(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", " ", text)


def measure(text: str) -> tuple[int, int]:
    """(CJK characters, latin/digit words) of a text."""
    norm = normalise(text)
    cjk = sum(1 for ch in norm if _is_cjk(ch))
    return cjk, len(_WORD.findall(_CJK.sub(" ", norm)))


def check(text: str | None, phrases: Iterable[str]) -> Problem | None:
    """None when the text is a concrete record; else why not."""
    norm = normalise(text or "")
    if not norm:
        return Problem("empty")
    vocabulary = sorted({normalise(p) for p in phrases if normalise(p)}, key=len, reverse=True)
    rest = norm
    found = None
    for phrase in vocabulary:
        reduced = _remove(rest, phrase)
        if reduced != rest and found is None:
            found = phrase
        rest = reduced
    for filler in sorted(FILLERS["zh"] + FILLERS["en"], key=len, reverse=True):
        rest = _remove(rest, filler)
    if not rest.strip():
        return Problem("vague", found)
    cjk, words = measure(norm)
    if cjk:
        if cjk + words < MIN_CJK_CHARS:
            return Problem("too-short")
    elif words < MIN_WORDS:
        return Problem("too-short")
    return None
