"""Administration: units and users (system admin), roles and locks (security admin)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
