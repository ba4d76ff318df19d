"""The repository's semgrep rules (.semgrep/portal.yml) find what they name: each planted
mistake below is reported under its rule, and the portal's own code has none (scripts/test runs
the same scan over portal/)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEMGREP = shutil.which("semgrep") or str(Path(sys.executable).with_name("semgrep"))

PLANTED = {
    "no-render-template-string": "from flask import render_template_string\n"
    "def view(name):\n    return render_template_string('<p>' + name)\n",
    "no-markup-from-formatted-string": "from markupsafe import Markup\n"
    "def link(name):\n    return Markup(f'<b>{name}</b>')\n",
    "no-sql-text-from-formatted-string": "from sqlalchemy import text\n"
    "def find(session, q):\n    return session.execute(text(f\"SELECT * FROM t WHERE a = '{q}'\"))\n",
    "no-shell-subprocess": "import subprocess\n"
    "def run(cmd):\n    subprocess.run(cmd, shell=True)\n",
    "no-contact-data-in-logs": "import logging\nlog = logging.getLogger(__name__)\n"
    "def tell(account):\n    log.info('mail to %s', account.email)\n",
    "no-open-redirect": "from flask import redirect, request\n"
    "def back():\n    return redirect(request.args.get('next'))\n",
    "no-unsafe-yaml-or-pickle": "import pickle\ndef load(data):\n    return pickle.loads(data)\n",
}


def _scan(target: Path) -> list[dict]:
    done = subprocess.run(
        [SEMGREP, "scan", "--config", str(ROOT / ".semgrep"), "--json", "--metrics=off",
         "--disable-version-check", "-q", str(target)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return json.loads(done.stdout)["results"]


@pytest.mark.slow
def test_each_rule_finds_its_planted_mistake_and_the_portal_has_none(tmp_path):
    for rule, code in PLANTED.items():
        (tmp_path / f"{rule.replace('-', '_')}.py").write_text(code)
    (tmp_path / "page.html").write_text("<p>{{ note|safe }}</p>\n")
    found = {(Path(r["path"]).stem, r["check_id"].rsplit(".", 1)[-1]) for r in _scan(tmp_path)}
    expected = {(rule.replace("-", "_"), rule) for rule in PLANTED}
    expected.add(("page", "no-safe-filter-in-templates"))
    assert found == expected
    assert _scan(ROOT / "portal") == []
