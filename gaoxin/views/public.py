"""The public progress lookup: receipt number + last 6 characters of the credit code; no login."""
from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/track")
