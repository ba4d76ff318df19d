"""Group bots at ``/staff/admin/bots`` (docs/product.md "Group bots"): WeCom, DingTalk and
Feishu group webhooks that SLA warnings, escalations and new P1 requests are told to. Admins
only (a webhook address is a credential). The secret is never echoed back: an empty secret
field keeps the stored one. "Send a test message" goes through the outbox and says what came
of its first attempt (portal.services.group_bots)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import Length

from portal.db import db
from portal.domain import group_bots as rules
from portal.models import GroupBot, utcnow
from portal.presentation.labels import BOT_EVENT_LABELS, BOT_LANGUAGE_LABELS, BOT_PLATFORM_LABELS
from portal.services import group_bots, outbox
from portal.staff.admin import bp, require_admin
from portal.staff.admin.staff_members import CheckboxesField
from portal.web.auth import actor
from portal.web.forms import TOO_LONG, PortalForm

ERRORS = {
    ("name", "empty"): _l("Give the bot a name."),
    ("name", "too-long"): _l("At most %(max)d characters.", max=group_bots.NAME_MAX),
    ("name", "duplicate"): _l("A group bot of this name exists already."),
    ("platform", "unknown"): _l("Choose WeCom, DingTalk or Feishu."),
    ("webhook_url", "https"): _l("The webhook address must start with https://."),
    ("webhook_url", "host"): _l(
        "This is not a webhook address: copy it from the group's bot settings."
    ),
    ("webhook_url", "long"): _l("At most %(max)d characters.", max=rules.URL_MAX),
    ("events", "unknown"): _l("Choose among the events listed."),
    ("language", "unknown"): _l("Choose Chinese or English."),
    ("secret", "too-long"): _l("At most %(max)d characters.", max=rules.SECRET_MAX),
}


class BotForm(PortalForm):
    name = StringField(_l("Name"), validators=[Length(max=group_bots.NAME_MAX, message=TOO_LONG)])
    platform = SelectField(
        _l("Platform"), choices=[SelectChoice(k, v) for k, v in BOT_PLATFORM_LABELS.items()]
    )
    webhook_url = StringField(
        _l("Webhook address"),
        description=_l("The https address the group's bot settings show, with its key or token."),
        validators=[Length(max=rules.URL_MAX, message=TOO_LONG)],
    )
    secret = PasswordField(
        _l("Signing secret"),
        description=_l(
            "DingTalk 加签 or Feishu 签名校验 (SEC…); WeCom signs nothing. Leave empty to keep the "
            "stored one."
        ),
        validators=[Length(max=rules.SECRET_MAX, message=TOO_LONG)],
    )
    clear_secret = BooleanField(_l("Remove the stored secret"))
    events = CheckboxesField(
        _l("Events"), choices=[SelectChoice(k, v) for k, v in BOT_EVENT_LABELS.items()]
    )
    language = SelectField(
        _l("Language"), choices=[SelectChoice(k, v) for k, v in BOT_LANGUAGE_LABELS.items()]
    )

    def data_in(self) -> group_bots.BotInput:
        return group_bots.BotInput(
            name=self.name.data or "",
            platform=self.platform.data or "",
            webhook_url=self.webhook_url.data or "",
            secret=self.secret.data or None,
            events=list(self.events.data or []),
            language=self.language.data or "",
            clear_secret=bool(self.clear_secret.data),
        )

    def refused(self, exc: group_bots.BotError) -> None:
        getattr(self, exc.field).errors = [ERRORS[(exc.field, exc.code)]]


def _bot(bot_id: int) -> GroupBot:
    bot = db.session.get(GroupBot, bot_id)
    if bot is None:
        abort(404)
    return bot


def _form_of(bot: GroupBot) -> BotForm:
    return BotForm(
        formdata=None,
        name=bot.name,
        platform=bot.platform,
        webhook_url=bot.webhook_url,
        events=list(bot.events or []),
        language=bot.language,
    )


def _list(form: BotForm | None = None, status: int = 200):
    return render_template(
        "staff/admin/group_bots.html",
        bots=group_bots.all_bots(db.session),
        form=form or BotForm(formdata=None, language="zh_CN"),
        platforms=BOT_PLATFORM_LABELS,
        events=BOT_EVENT_LABELS,
        languages=BOT_LANGUAGE_LABELS,
    ), status


def _edit(bot: GroupBot, form: BotForm | None = None, status: int = 200):
    return render_template(
        "staff/admin/group_bot.html",
        bot=bot,
        form=form or _form_of(bot),
        platforms=BOT_PLATFORM_LABELS,
    ), status


@bp.get("/bots", endpoint="bots")
def admin_bots():
    require_admin()
    return _list()


@bp.post("/bots", endpoint="bot_create")
def admin_bot_create():
    require_admin()
    form = BotForm()
    if not form.validate_on_submit():
        return _list(form, 422)
    try:
        bot = group_bots.create(db.session, actor(), utcnow(), form.data_in())
    except group_bots.BotError as exc:
        db.session.rollback()
        form.refused(exc)
        return _list(form, 422)
    db.session.commit()
    flash(_("Group bot “%(name)s” added.", name=bot.name), "success")
    return redirect(url_for("staff.admin.bots"))


@bp.get("/bots/<int:bot_id>", endpoint="bot")
def admin_bot(bot_id: int):
    require_admin()
    return _edit(_bot(bot_id))


@bp.post("/bots/<int:bot_id>", endpoint="bot_update")
def admin_bot_update(bot_id: int):
    require_admin()
    bot = _bot(bot_id)
    form = BotForm()
    if not form.validate_on_submit():
        return _edit(bot, form, 422)
    try:
        changed = group_bots.update(db.session, actor(), utcnow(), bot, form.data_in())
    except group_bots.BotError as exc:
        db.session.rollback()
        form.refused(exc)
        return _edit(db.session.get(GroupBot, bot_id), form, 422)
    db.session.commit()
    flash(_("Saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("staff.admin.bot", bot_id=bot.id))


@bp.post("/bots/<int:bot_id>/active", endpoint="bot_active")
def admin_bot_active(bot_id: int):
    require_admin()
    bot = _bot(bot_id)
    active = request.form.get("active") == "1"
    group_bots.set_active(db.session, actor(), utcnow(), bot, active)
    db.session.commit()
    if active:
        flash(_("Group bot “%(name)s” reactivated.", name=bot.name), "success")
    else:
        flash(
            _("Group bot “%(name)s” deactivated: it gets no more messages.", name=bot.name),
            "success",
        )
    return redirect(url_for("staff.admin.bots"))


@bp.post("/bots/<int:bot_id>/test", endpoint="bot_test")
def admin_bot_test(bot_id: int):
    require_admin()
    bot = _bot(bot_id)
    if not bot.active:
        flash(_("Reactivate the bot before testing it."), "error")
        return redirect(url_for("staff.admin.bot", bot_id=bot.id))
    settings = outbox.MailSettings.from_config(current_app.config)
    result = group_bots.send_test(db.session, actor(), utcnow(), bot, settings)
    if result.outcome == "sent":
        flash(_("The test message was delivered to “%(name)s”.", name=bot.name), "success")
    elif result.outcome == "failed":
        flash(
            _("The test message was not delivered: %(error)s.", error=result.error or "—"), "error"
        )
    else:
        flash(
            _(
                "The test message was not delivered: %(error)s. The outbox retries it.",
                error=result.error or "—",
            ),
            "error",
        )
    return redirect(url_for("staff.admin.bot", bot_id=bot.id))
