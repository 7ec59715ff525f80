"""The dispatch centre (调度中心): the queue, returned cases, extension requests, the overdue list."""
from flask import Blueprint

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")
