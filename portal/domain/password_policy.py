"""The password policy (docs/product.md §1, Passwords): one rule for every way a password is
set, and the strength the meter beside the field shows.

A password is refused when it is shorter than MIN_LENGTH or longer than MAX_LENGTH, when it is
one of the common passwords of the list shipped with zxcvbn (its ranked "passwords" frequency
list, 30,000 entries from leaked password sets, MIT licence, offline), when zxcvbn guesses it
in under a million tries (a common word with digits, a keyboard run, a repeat or a sequence),
or when it contains the person's name or the local part of their e-mail address.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 200
# zxcvbn scores 0-4; below this the password is refused ("guessable")
MIN_SCORE = 2
# zxcvbn refuses longer input (and its time grows with the length): it scores the beginning
SCORED_LENGTH = 72
# a part of a name or address shorter than this is too common a syllable to refuse ("li")
MIN_PART = 3

TOO_SHORT = "too-short"
TOO_LONG = "too-long"
COMMON = "common"
GUESSABLE = "guessable"
CONTAINS_NAME = "contains-name"
CONTAINS_EMAIL = "contains-email"


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def _fold(text: str) -> str:
    """Lower case, letters and digits only (so that "Li-Ming" and "liming" are the same)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _parts(text: str) -> set[str]:
    """The parts of a name or of an address's local part that a password must not contain: each
    word, and the whole run together ("Li Ming" → "liming", "ming")."""
    words = [_fold(w) for w in re.split(r"[\s.\-_+']+", text or "")]
    whole = "".join(words)
    parts = {w for w in words if len(w) >= MIN_PART}
    # a Chinese name of two characters is still a name
    if len(whole) >= MIN_PART or (len(whole) >= 2 and not whole.isascii()):
        parts.add(whole)
    return parts


def _local_part(email: str | None) -> str:
    return (email or "").partition("@")[0]


@dataclass(frozen=True)
class Strength:
    """What the meter shows: zxcvbn's score 0-4 and whether the policy accepts it."""

    score: int
    problems: tuple[str, ...]

    @property
    def acceptable(self) -> bool:
        return not self.problems


def score(password: str, name: str | None = None, email: str | None = None) -> int:
    inputs = [p for p in _parts(name or "") | _parts(_local_part(email)) if p]
    return int(zxcvbn(password[:SCORED_LENGTH], user_inputs=inputs)["score"])


def problems(password: str, *, name: str | None = None, email: str | None = None) -> list[str]:
    """Why the policy refuses ``password`` for the person with this name and e-mail address,
    in the order they are shown; empty when it is accepted."""
    found: list[str] = []
    if len(password) < MIN_LENGTH:
        found.append(TOO_SHORT)
    if len(password) > MAX_LENGTH:
        found.append(TOO_LONG)
    folded = _fold(password)
    if password.casefold() in _common() or folded in _common():
        found.append(COMMON)
    elif password and score(password, name, email) < MIN_SCORE:
        found.append(GUESSABLE)
    if any(part in folded for part in _parts(name or "")):
        found.append(CONTAINS_NAME)
    if any(part in folded for part in _parts(_local_part(email))):
        found.append(CONTAINS_EMAIL)
    return found


def strength(password: str, *, name: str | None = None, email: str | None = None) -> Strength:
    return Strength(
        score=score(password, name, email) if password else 0,
        problems=tuple(problems(password, name=name, email=email)),
    )
