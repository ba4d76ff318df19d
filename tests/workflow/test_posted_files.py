"""Text posted with files — a customer's reply, a staff reply or note, a handling step — is one
transaction with its files (portal/web/uploads.py, as for a new request): when one file is
refused, nothing is saved and the files already written for that post leave storage too; when
the post goes through, its files are stored and download."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.models import Attachment, utcnow
from portal.services import workflow
from portal.services.audit import Actor
from portal.web.uploads import PostedFiles

from .helpers import HTMX

TZ = "Asia/Shanghai"
# an HTML page named as an image: refused after the first (good) file is already written
DISGUISED = b"<!doctype html><html><script>alert(1)</script></html>"


def _stored(app) -> set[str]:
    folder = app.config["UPLOAD_FOLDER"]
    return set(os.listdir(folder)) if os.path.isdir(folder) else set()


def _working(factory, db_session, desk):
    now = utcnow()
    sr = factory.request(desk["contact"], now=now - timedelta(hours=1))
    sup, disp = desk["supervisor"], desk["dispatcher"]
    answers = workflow.ClassificationInput("fault", "database", "core", "high", "high", "电话确认")
    workflow.classify(db_session, Actor(sup.id), sup, sr, answers, now - timedelta(minutes=50))
    workflow.assign(
        db_session, Actor(disp.id), disp, sr, desk["eng_db"].id, now - timedelta(minutes=40), TZ
    )
    db_session.commit()
    return sr


def _local_now() -> str:
    return (utcnow() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")  # Asia/Shanghai


POSTS = {
    "customer reply": (
        "contact",
        "/requests/{number}/reply",
        lambda files: {"reply-body": "日志在附件里", "reply-attachments": files},
    ),
    "staff reply": (
        "eng_db",
        "/staff/requests/{number}/messages",
        lambda files: {"msg-kind": "reply", "msg-body": "补丁已安装", "msg-attachments": files},
    ),
    "staff note": (
        "eng_db",
        "/staff/requests/{number}/messages",
        lambda files: {"msg-kind": "note", "msg-body": "内部排查", "msg-attachments": files},
    ),
    "handling step": (
        "eng_db",
        "/staff/requests/{number}/steps",
        lambda files: {
            "step-occurred_at": _local_now(),
            "step-operation": "导出慢查询日志",
            "step-hours": "0.5",
            "step-attachments": files,
        },
    ),
}


@pytest.mark.parametrize("post", POSTS)
def test_a_refused_file_leaves_nothing_behind_and_a_good_post_keeps_its_files(
    post, make_client, factory, desk, db_session, app
):
    who, url, data = POSTS[post]
    sr = _working(factory, db_session, desk)
    client = make_client()
    client.login(desk[who])
    url = url.format(number=sr.number)
    before = _stored(app)

    refused = client.post(
        url,
        data=data(
            [(io.BytesIO(b"first file\n"), "first.log"), (io.BytesIO(DISGUISED), "second.png")]
        ),
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert refused.status_code == 422
    assert "second.png was refused" in refused.get_data(as_text=True)
    assert db_session.scalar(select(Attachment.id).where(Attachment.request_id == sr.id)) is None
    assert _stored(app) == before

    kept = client.post(
        url,
        data=data([(io.BytesIO(b"first file\n"), "first.log")]),
        content_type="multipart/form-data",
        headers=HTMX,
    )
    assert kept.status_code in (200, 302)
    row = db_session.scalars(select(Attachment).where(Attachment.request_id == sr.id)).one()
    assert _stored(app) == before | {row.stored_name}
    side = "" if who == "contact" else "/staff"
    download = client.get(f"{side}/requests/{sr.number}/files/{row.id}")
    assert download.status_code == 200 and download.get_data() == b"first file\n"


def test_posted_files_are_removed_unless_the_session_commits_after_them(
    app, db_session, factory, desk
):
    from werkzeug.datastructures import FileStorage

    sr = factory.request(desk["contact"])
    db_session.commit()
    who = Actor(desk["contact"].id)
    before = _stored(app)

    def upload(name: str) -> FileStorage:
        return FileStorage(io.BytesIO(b"content\n"), filename=name)

    with pytest.raises(RuntimeError), PostedFiles([upload("lost.txt")]) as files:
        files.save(db_session, who, utcnow(), request_id=sr.id)
        raise RuntimeError("the post failed after the file was written")
    db_session.rollback()
    assert _stored(app) == before

    with PostedFiles([upload("rolled-back.txt")]) as files:
        files.save(db_session, who, utcnow(), request_id=sr.id)
        db_session.rollback()
    assert _stored(app) == before

    with PostedFiles([upload("kept.txt")]) as files:
        (saved,) = files.save(db_session, who, utcnow(), request_id=sr.id)
        db_session.commit()
    assert _stored(app) == before | {saved.stored_name}
