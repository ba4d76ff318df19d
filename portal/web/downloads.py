"""The response that carries a request's file, the same for both sides: always an attachment,
never sniffed, framed or cached; a redacted copy is generated on the fly."""

from __future__ import annotations

from flask import Response, g, render_template, send_file

from portal.services import privacy
from portal.services.downloads import Download


def send(download: Download):
    attachment = download.attachment
    if download.withheld:
        # the name and size, and why the file is not sent (docs/product.md §11, Uploads)
        page = render_template(
            "errors/file_withheld.html", code=403, attachment=attachment, ref=g.get("request_id")
        )
        return page, 403, {"Cache-Control": "private, no-store"}
    if download.redacted:
        # text/plain: Werkzeug adds "; charset=utf-8" itself
        response = Response(
            privacy.redacted_lines(download.path), mimetype="text/plain", direct_passthrough=True
        )
        response.headers.set("Content-Disposition", "attachment", filename=attachment.original_name)
        response.headers["X-Redacted"] = "1"
    else:
        response = send_file(
            download.path,
            mimetype=attachment.content_type,  # text/* gets "; charset=utf-8" added
            as_attachment=True,
            download_name=attachment.original_name,
            etag=attachment.sha256,
            max_age=0,
        )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response
