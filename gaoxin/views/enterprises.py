"""The enterprise registry (一企一档): search, the enterprise page, create, import."""
from flask import Blueprint

bp = Blueprint("enterprises", __name__, url_prefix="/enterprises")
