"""Recurring terms in what customers wrote (suggestions, unmet acceptance items, rectification
requests), for the monthly report's common problems. Pure: the Chinese segmentation is passed
in as a function (``portal.services.reports.terms`` gives jieba's); English words are split
here. Stop words, punctuation, numbers and one-character Chinese words are dropped; a term
counts once per text, so one long complaint does not outweigh many short ones."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

_HAN = re.compile(r"[\u3400-\u9fff]+")
_LATIN = re.compile(r"[A-Za-z][A-Za-z'-]+")

STOP_ZH = frozenset(
    "希望 增加 建议 可以 能够 能否 是否 请 我们 你们 他们 这个 那个 这些 一些 一下 非常 比较 "
    "还是 还有 以及 或者 因为 所以 但是 如果 然后 已经 没有 不是 就是 需要 进行 问题 情况 "
    "时候 现在 目前 今后 以后 之前 希望能 谢谢 感谢 一直 仍然 还 也 都 很 太 的 了 和 与 "
    "在 是 有 被 把 对 给 让 及 等 再 更 又 才 就".split()
)
STOP_EN = frozenset(
    "a an the and or but if then so to of in on at for with from by as is are was were be been "
    "being it its this that these those we you they he she i me my our your their please would "
    "could should can will may might must do does did not no yes very more most some any all "
    "also too than there here what when which who how why about into over after before again "
    "still just only thanks thank hope like want need get got have has had".split()
)


def terms_of(text: str, segment: Callable[[str], Iterable[str]]) -> set[str]:
    """The distinct terms of one text: Chinese runs segmented by ``segment``, English words
    lower-cased; stop words and one-character Chinese words left out."""
    found: set[str] = set()
    for run in _HAN.findall(text or ""):
        for word in segment(run):
            word = word.strip()
            if len(word) >= 2 and _HAN.fullmatch(word) and word not in STOP_ZH:
                found.add(word)
    for word in _LATIN.findall(text or ""):
        word = word.lower().strip("'-")
        if len(word) >= 3 and word not in STOP_EN:
            found.add(word)
    return found


def recurring_terms(
    texts: Iterable[str], segment: Callable[[str], Iterable[str]], top: int = 10
) -> list[tuple[str, int]]:
    """The ``top`` terms found in the most texts, with how many texts hold each; ties by term."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(terms_of(text, segment))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:top]
