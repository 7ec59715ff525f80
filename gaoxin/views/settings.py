"""Settings (system admin): appeal categories and routing rules, working-day overrides."""
from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/settings")
