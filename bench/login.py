"""Log in through the real login page and print the session cookie (for wrk's Cookie header).

python bench/login.py http://127.0.0.1:8765 /staff/login staff1@bench.example bench-password
"""

import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(base: str, path: str, identifier: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    page = opener.open(base + path).read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrf_token": token, "identifier": identifier, "password": password}
    ).encode()
    try:
        opener.open(base + path, data=body)
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise SystemExit(f"login failed: {exc.code}") from exc
    return next(c.value for c in jar if c.name == "session")


if __name__ == "__main__":
    print(login(*sys.argv[1:5]))
