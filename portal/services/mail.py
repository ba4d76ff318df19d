"""Mail wording from templates (portal/templates/mail/): ``render_mail`` renders one mail's
subject, plain text and HTML in the recipient's language, whoever triggers it."""

from __future__ import annotations

from dataclasses import dataclass

import css_inline
from flask import current_app, render_template
from flask_babel import force_locale

# our own stylesheet only: never fetch one from the network while rendering a mail
INLINER = css_inline.CSSInliner(load_remote_stylesheets=False)

# the desk's language when the recipient chose none (docs/product.md: Chinese first)
DEFAULT_LOCALE = "zh_CN"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str | None


def recipient_locale(locale: str | None) -> str:
    """The recipient's language if the desk speaks it, else the desk's default."""
    languages = current_app.config.get("LANGUAGES", [DEFAULT_LOCALE])
    if locale in languages:
        return locale
    return current_app.config.get("BABEL_DEFAULT_LOCALE") or DEFAULT_LOCALE


def render_mail(name: str, locale: str | None, /, **ctx) -> RenderedMail:
    """``mail/<name>.subject.txt``, ``mail/<name>.txt`` and ``mail/<name>.html`` rendered in
    ``locale`` (the recipient's, not the reader's of the current request), the HTML's CSS
    inlined."""
    with force_locale(recipient_locale(locale)):
        subject = render_template(f"mail/{name}.subject.txt", **ctx)
        text = render_template(f"mail/{name}.txt", **ctx)
        html = render_template(f"mail/{name}.html", **ctx)
    # mail clients drop <style>: its rules go into style attributes
    html = INLINER.inline(html)
    # one line: a header cannot carry a line break
    subject = " ".join(subject.split())
    return RenderedMail(subject=subject, text=text.strip() + "\n", html=html)
