"""Security headers on every response (README, "Security headers").

- A strict Content-Security-Policy on every page: scripts and styles from the portal itself
  only (no ``unsafe-inline``, no ``unsafe-eval``; htmx runs with ``allowEval: false``), or an
  element carrying this response's nonce (``csp_nonce()`` in templates); no framing
  (``frame-ancestors 'none'``), no plugins, forms post only to the portal.
- ``Cache-Control: no-store`` on everything but the static files: pages and fragments carry
  contact data, and a shared or back-button cache must not keep them.
- ``Permissions-Policy``: no camera, microphone, geolocation, payment or USB for any page.
- Behind HTTPS (``SESSION_COOKIE_SECURE=1``): HSTS, and the session cookie named ``__Host-…``
  (secure, host-only, path /), which a sibling subdomain cannot set or overwrite.
"""

from __future__ import annotations

import re
import secrets

from flask import Flask, g, request
from markupsafe import Markup

PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


_STYLE_ELEMENT = re.compile(r"<style(?=[\s>])")


def nonced(markup) -> Markup:
    """Markup made on the server (a pygal chart) with this response's nonce on its <style>
    elements, so that the CSP lets them apply: ``{{ charts.trend|nonced }}``."""
    if not markup:
        return Markup("")
    return Markup(_STYLE_ELEMENT.sub(f'<style nonce="{csp_nonce()}"', str(markup)))  # nosec B704


def policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",  # the signature pad's drawing, shown back as a data: URL
            "font-src 'self'",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        )
    )


def init_app(app: Flask) -> None:
    if app.config.get("SESSION_COOKIE_SECURE"):
        # host-only and secure: no sibling subdomain can plant or shadow the session cookie
        app.config.setdefault("SESSION_COOKIE_NAME_SECURE", "__Host-session")
        app.config["SESSION_COOKIE_NAME"] = app.config["SESSION_COOKIE_NAME_SECURE"]
        app.config["SESSION_COOKIE_DOMAIN"] = None
        app.config["SESSION_COOKIE_PATH"] = "/"

    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.add_template_filter(nonced, "nonced")

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        if request.endpoint != "static" and "no-store" not in headers.get("Cache-Control", ""):
            headers["Cache-Control"] = "no-store"
            headers.pop("Expires", None)
        if response.mimetype == "text/html":
            headers["Content-Security-Policy"] = policy(csp_nonce())
        headers.setdefault("Permissions-Policy", PERMISSIONS)
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
