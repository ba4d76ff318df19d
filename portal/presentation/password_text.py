"""The password policy's reasons and the strength meter's words, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.domain import password_policy as policy

PROBLEM_TEXT = {
    policy.TOO_SHORT: _l("Use at least %(min)d characters.", min=policy.MIN_LENGTH),
    policy.TOO_LONG: _l("At most %(max)d characters.", max=policy.MAX_LENGTH),
    policy.COMMON: _l("This is one of the most common passwords. Choose another one."),
    policy.GUESSABLE: _l(
        "This password is easy to guess (a common word, a sequence or a repeat). "
        "Add more words or characters."
    ),
    policy.CONTAINS_NAME: _l("The password must not contain your name."),
    policy.CONTAINS_EMAIL: _l("The password must not contain your e-mail address."),
}

# zxcvbn's score 0-4, said in words (the meter is never colour alone)
SCORE_TEXT = {
    0: _l("Very weak"),
    1: _l("Weak"),
    2: _l("Fair"),
    3: _l("Strong"),
    4: _l("Very strong"),
}


def problem_messages(problems) -> list[str]:
    return [str(PROBLEM_TEXT[p]) for p in problems]
