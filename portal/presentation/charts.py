"""The reports' charts, rendered on the server as SVG with pygal (docs/product.md §9).

No JavaScript and nothing fetched: pygal's script tags are switched off (``js=()``), the SVG is
inlined into the page, and each chart sits beside a table of the same figures for screen readers
and for copying. Labels are the reader's language; control characters are removed and pygal
escapes the rest as XML text. The style is black on white with a large font, legible on paper.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pygal
from markupsafe import Markup
from pygal.style import Style

from portal.domain.characters import without_control_characters as strip_control

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S | re.I)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="[^"]*"')

PRINT_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#000000",
    foreground_subtle="#555555",
    colors=("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000"),
    font_family="sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    legend_font_size=13,
    title_font_size=15,
)

_CONFIG = dict(
    style=PRINT_STYLE,
    js=(),  # no script, no CDN
    disable_xml_declaration=True,
    explicit_size=False,
    width=720,
    height=320,
    show_legend=True,
    legend_at_bottom=True,
    print_values=False,
    margin=16,
)


def _text(value: object) -> str:
    return strip_control(str(value))[:80]


def _svg(chart, title: str) -> Markup:
    chart.title = _text(title)
    svg = chart.render(is_unicode=True)
    # pygal writes its configuration as an inline script for its tooltips even without them:
    # the page runs no chart script at all
    svg = _SCRIPT.sub("", svg)
    # no style attribute under the strict CSP (portal/web/headers.py): the one pygal writes hides
    # its tooltip, which reports.css hides instead; its <style> gets the page's nonce (|nonced)
    svg = _STYLE_ATTRIBUTE.sub("", svg)
    # the chart is described by the table beside it: the SVG is an image with a name
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)
    # pygal escapes the labels and values it writes; the script is gone (above)
    return Markup(svg)  # nosec B704


def _attr(text: str) -> str:
    return (
        _text(text)
        .replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def bar(
    title: str,
    labels: Sequence[object],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    maximum: float | None = None,
) -> Markup:
    chart = pygal.Bar(**_CONFIG, range=(0, maximum) if maximum else None)
    chart.x_labels = [_text(label) for label in labels]
    for name, values in series:
        chart.add(_text(name), [None if v is None else float(v) for v in values])
    return _svg(chart, title)


def line(
    title: str,
    labels: Sequence[object],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    maximum: float | None = None,
) -> Markup:
    chart = pygal.Line(**_CONFIG, range=(0, maximum) if maximum else None, allow_interruptions=True)
    chart.x_labels = [_text(label) for label in labels]
    for name, values in series:
        chart.add(_text(name), [None if v is None else float(v) for v in values])
    return _svg(chart, title)
