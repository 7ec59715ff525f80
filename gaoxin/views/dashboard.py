"""The dashboard (数据看板): the three rates per department over a period, cuts, trend, applications per policy."""
from flask import Blueprint, request
from flask_login import current_user, login_required

from ..forms.dashboard import PeriodForm
from ..htmx import render
from ..permissions import require
from ..services import figures

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("/")
@login_required
def index():
    """The figures of a period (this month by default) as the user may see them; a bad range is reported
    beside the fields and the page keeps showing this month."""
    require("figures.view")
    form = PeriodForm(request.args)
    valid = form.validate() if request.args else True
    if valid and request.args:
        period = figures.period_for(form.period.data, form.start.data, form.end.data)
    else:
        period = figures.period_for("month")
    dash = figures.dashboard(current_user, period)
    query = {k: v for k, v in request.args.items() if k in ("period", "start", "end")} if valid else {}
    return render("dashboard/index.html", form=form, dash=dash, rates=figures.RATES, query=query,
                  status=200 if valid else 422)
