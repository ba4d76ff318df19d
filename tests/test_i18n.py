"""Both languages from the first line: nothing left untranslated, pages render in Chinese."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "portal" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
# the same as babel.cfg: Python, the HTML templates and the plain-text (mail) templates
METHOD_MAP = [
    ("portal/**.py", "python"),
    ("portal/**/templates/**.html", "jinja2"),
    ("portal/**/templates/**.txt", "jinja2"),
]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT),
        METHOD_MAP,
        keywords={**KEYWORDS},
        options_map={"portal/**/templates/**.html": {}, "portal/**/templates/**.txt": {}},
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalogue(lang: str):
    with (CATALOGUES / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang.split("_")[0])


def test_every_message_in_the_source_has_a_chinese_translation():
    catalogue = _catalogue("zh_Hans_CN")
    missing = []
    for msgid in sorted(_source_messages()):
        msg = catalogue.get(msgid)
        text = msg.string if msg else ""
        if isinstance(text, tuple):
            text = text[0]
        if not msg or not text or msg.fuzzy:
            missing.append(msgid)
    assert not missing, (
        f"{len(missing)} messages untranslated in zh_CN (run scripts/i18n): {missing[:20]}"
    )


def test_translations_keep_their_placeholders():
    for lang in ("zh_Hans_CN", "en"):
        for msg in _catalogue(lang):
            if not msg.id or not msg.string:
                continue
            ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
            strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
            wanted = set(PLACEHOLDER.findall(ids[0]))
            for s in strings:
                assert set(PLACEHOLDER.findall(s)) == wanted, (lang, msg.id, s)


def test_english_catalogue_is_complete():
    catalogue = _catalogue("en")
    assert all(msg.string for msg in catalogue if msg.id)
    assert _source_messages() <= {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue}


def test_page_requested_in_chinese_renders_chinese(client):
    html = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(
        as_text=True
    )
    assert 'lang="zh-CN"' in html
    assert "登录" in html and "Log in" not in html


def test_page_requested_in_english_renders_english(client):
    html = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(
        as_text=True
    )
    assert 'lang="en"' in html
    assert "Log in" in html and "登录" not in html


def test_language_switch_overrides_the_browser(client):
    client.post("/language", data={"locale": "en", "next": "/login"})
    html = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Log in" in html


def test_logged_in_users_choice_wins(client, factory):
    user = factory.customer(locale="en")
    client.login(user)
    html = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'lang="en"' in html
