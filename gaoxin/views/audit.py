"""The audit log, read-only, for the auditor."""
from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
