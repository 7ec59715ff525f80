"""The home page for each role (a to-do list)."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required

from ..services import todo
from ..permissions import can
from ..services.calendar import today, working_calendar
from ..services.figures import key_figures

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home():
    """The role's start page: what waits for it (counts and the oldest items, each linking to its list) and
    the tasks it starts."""
    return render_template("main/home.html", user=current_user,
                           todo=todo.sections(current_user, today(), working_calendar()),
                           shortcuts=todo.shortcuts(current_user),
                           figures=key_figures(current_user) if can(current_user, "figures.view") else None)

