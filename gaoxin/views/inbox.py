"""The department inbox (部门收件箱): tabs with counts, filters, sign-for in place, live counts."""
from flask import Blueprint

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
