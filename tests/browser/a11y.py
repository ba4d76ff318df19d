"""axe-core in the page: every page a journey visits is checked, and serious or critical
violations fail the test that visited it. Results are collected for the run's summary and written
to ``<artifacts>/axe-report.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

AXE_VERSION = "4.14.1"
AXE_SOURCE = (
    Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
).read_text(encoding="utf-8")
FAILING_IMPACTS = ("serious", "critical")

# WCAG 2.1 A and AA plus axe's best practices (landmarks, headings, region, …)
RUN_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}


@dataclass
class PageResult:
    label: str
    url: str
    violations: list[dict]

    @property
    def failing(self) -> list[dict]:
        return [v for v in self.violations if v.get("impact") in FAILING_IMPACTS]


@dataclass
class AxeReport:
    pages: list[PageResult] = field(default_factory=list)

    def add(self, result: PageResult) -> None:
        self.pages.append(result)

    def summary(self) -> str:
        failing = sum(len(p.failing) for p in self.pages)
        minor = sum(len(p.violations) - len(p.failing) for p in self.pages)
        urls = {p.url.split("?")[0] for p in self.pages}
        return (
            f"axe-core {AXE_VERSION}: {len(self.pages)} checks on {len(urls)} distinct pages, "
            f"{failing} serious or critical violations, {minor} moderate or minor"
        )

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "axe_version": AXE_VERSION,
                    "summary": self.summary(),
                    "pages": [
                        {
                            "label": p.label,
                            "url": p.url,
                            "violations": [
                                {
                                    "id": v["id"],
                                    "impact": v.get("impact"),
                                    "help": v.get("help"),
                                    "nodes": [n.get("target") for n in v.get("nodes", [])][:10],
                                }
                                for v in p.violations
                            ],
                        }
                        for p in self.pages
                    ],
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )


def run_axe(page) -> list[dict]:
    """axe.run on the whole document as it is now (injected once per document)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(
        "(options) => axe.run(document, options).then(r => r.violations)", RUN_OPTIONS
    )


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"  [{v.get('impact')}] {v['id']}: {v.get('help')}")
        for node in v.get("nodes", [])[:5]:
            lines.append(
                f"      {node.get('target')}  {node.get('failureSummary', '').splitlines()[-1:]}"
            )
    return "\n".join(lines)
