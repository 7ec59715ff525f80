"""Template filters and globals: dates in China time, masked mobiles, money, the `can` question."""
from flask_login import current_user

from .localtime import local_time
from .permissions import can
from .registry_text import mask_mobile
from .services.files import formats_title
from .services.money import amount_in_words, format_money
from .workflow import AppealState, ApplicationOutcome, ApplicationState


def init_app(app):
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["mask_mobile"] = lambda v: mask_mobile(v) if v else ""
    app.jinja_env.globals["appeal_action_title"] = _appeal_action_title
    app.jinja_env.filters["format_money"] = format_money
    app.jinja_env.filters["amount_in_words"] = amount_in_words
    app.jinja_env.filters["formats_title"] = formats_title
    app.jinja_env.globals["can"] = lambda action, obj=None: can(current_user, action, obj)
    app.jinja_env.globals["public_url"] = public_url
    # The state enums, so that a template names a state (`a.state == AppealState.dispatched`), never spells it.
    app.jinja_env.globals.update(AppealState=AppealState, ApplicationState=ApplicationState,
                                 ApplicationOutcome=ApplicationOutcome)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _site():
        from flask import request

        from .navigation import nav_items

        # Worked out when the template shows the bar: an htmx fragment (a search result, a row) never does.
        items = _Lazy(lambda: nav_items(request.path) if current_user.is_authenticated else [])
        return {"site_name": app.config["GAOXIN_SITE_NAME"], "centre_name": app.config["GAOXIN_CENTRE_NAME"],
                "nav": items}


class _Lazy:
    """A list computed on first use (iteration, truth, length)."""

    def __init__(self, compute):
        self._compute, self._value = compute, None

    def _list(self):
        if self._value is None:
            self._value = self._compute()
        return self._value

    def __iter__(self):
        return iter(self._list())

    def __len__(self):
        return len(self._list())

    def __bool__(self):
        return bool(self._list())


def _appeal_action_title(action):
    from .workflow import AppealAction

    if action == "register":
        return "登记"
    if action == "due_recomputed":
        return "期限重新计算"
    try:
        return AppealAction(action).title
    except ValueError:
        return action


def public_url(endpoint="public.lookup", **values):
    """A public page's address as printed on paper: GAOXIN_PUBLIC_URL and the page's path, never the host
    the clerk's browser happened to use (an intranet address means nothing to an enterprise)."""
    from flask import current_app, url_for

    base = current_app.config.get("GAOXIN_PUBLIC_URL") or ""
    if not base:
        return url_for(endpoint, _external=True, **values)
    return base + url_for(endpoint, **values)
