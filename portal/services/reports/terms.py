"""Chinese word segmentation for the common-problem terms, with jieba (its dictionary is read
once per process, on first use)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from portal.domain.report_terms import recurring_terms

_lock = threading.Lock()
_ready = False


def segment(text: str) -> list[str]:
    global _ready
    import jieba

    if not _ready:
        with _lock:
            if not _ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _ready = True
    return list(jieba.cut(text))


def common_terms(texts: Iterable[str], top: int = 10) -> list[tuple[str, int]]:
    return recurring_terms(texts, segment, top)
