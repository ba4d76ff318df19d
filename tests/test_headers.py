"""Security headers (portal/web/headers.py): every page and fragment carries a strict CSP and
no-store, and its markup needs nothing the CSP forbids (no inline handler, style attribute, or
script and style element without the response's nonce); HSTS and the __Host- cookie behind HTTPS.
The browser journeys fail on any CSP violation Chromium reports (tests/browser/conftest.py)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from portal import create_app
from tests.conftest import CHEAP_HASH, PortalClient
from tests.privacy.conftest import build_scene
from tests.privacy.test_crawl import Values


class _Inline(HTMLParser):
    """What a strict CSP would block in a page: inline handlers, style attributes, and script
    or style elements without the nonce (a script with src from the portal is fine)."""

    def __init__(self, nonce: str) -> None:
        super().__init__()
        self.nonce = nonce
        self.blocked: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name, _value in attrs:
            if name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=…>")
            if name == "style":
                self.blocked.append(f"<{tag} style=…>")
        if tag == "style" and a.get("nonce") != self.nonce:
            self.blocked.append("<style> without the nonce")
        if tag == "script" and not a.get("src") and a.get("nonce") != self.nonce:
            self.blocked.append("<script> inline without the nonce")
        if tag == "a" and (a.get("href") or "").lower().startswith("javascript:"):
            self.blocked.append("<a href=javascript:…>")


def _pages(app, db_session, scene):
    values = Values(scene, db_session)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        side = "staff" if rule.endpoint.startswith("staff.") else "customer"
        for url in values.urls(rule)[:1]:
            yield side, url


def test_every_page_and_fragment_has_the_csp_no_store_and_nothing_inline(
    app, make_client, factory, db_session
):
    scene = build_scene(factory, db_session, app)
    people = {"staff": make_client(), "customer": make_client()}
    people["staff"].login(scene.outsider)
    people["customer"].login(scene.contact)
    html_seen, problems = 0, []
    for side, url in _pages(app, db_session, scene):
        for headers in ({}, {"HX-Request": "true"}):
            resp = people[side].get(url, headers=headers)
            assert "no-store" in resp.headers.get("Cache-Control", ""), url
            assert resp.headers.get("Permissions-Policy", "").startswith("camera=()"), url
            if resp.mimetype != "text/html":
                continue
            html_seen += 1
            csp = resp.headers.get("Content-Security-Policy", "")
            nonce = re.search(r"'nonce-([^']+)'", csp)
            assert nonce and "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
            assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, url
            parser = _Inline(nonce.group(1))
            parser.feed(resp.get_data(as_text=True))
            if parser.blocked:
                problems.append((url, sorted(set(parser.blocked))))
    assert html_seen > 100
    assert problems == []


def test_each_response_has_its_own_nonce(client):
    first = client.get("/login").headers["Content-Security-Policy"]
    second = client.get("/login").headers["Content-Security-Policy"]
    assert first != second


def test_static_files_may_be_cached(client):
    resp = client.get("/static/css/portal.css")
    assert resp.status_code == 200 and resp.headers.get("Cache-Control") != "no-store"


def test_behind_https_hsts_and_a_host_only_session_cookie(database_url, redis_url):
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "h",
            "PASSWORD_HASH": CHEAP_HASH,
            "SESSION_COOKIE_SECURE": True,
        }
    )
    client = PortalClient(app)
    resp = client.get("/login", base_url="https://desk.example.com")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = resp.headers.get("Set-Cookie", "")
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "Domain" not in cookie
    assert "Path=/" in cookie


def test_plain_http_has_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
