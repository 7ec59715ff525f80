"""Template filters and globals: dates in China time, masked mobiles, the `can` question."""
from datetime import timedelta, timezone

from flask_login import current_user

from .permissions import can
from .registry_text import mask_mobile
from .services.files import formats_title
from .services.money import format_money

#: China Standard Time; staff read every timestamp in it.
CST = timezone(timedelta(hours=8))


def local_time(value, fmt="%Y-%m-%d %H:%M"):
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(CST).strftime(fmt)


def init_app(app):
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["mask_mobile"] = lambda v: mask_mobile(v) if v else ""
    app.jinja_env.globals["appeal_action_title"] = _appeal_action_title
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["formats_title"] = formats_title
    app.jinja_env.globals["can"] = lambda action, obj=None: can(current_user, action, obj)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _site():
        from flask import request

        from .navigation import nav_items

        items = nav_items(request.path) if current_user.is_authenticated else []
        return {"site_name": app.config["GAOXIN_SITE_NAME"], "nav": items}


def _appeal_action_title(action):
    from .workflow import APPEAL_ACTION_LABELS, AppealAction

    if action == "register":
        return "登记"
    try:
        return APPEAL_ACTION_LABELS[AppealAction(action)]
    except ValueError:
        return action
