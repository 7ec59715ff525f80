"""WSGI entry point: `gunicorn -c gunicorn.conf.py app:app` or `flask --app app run` (gc.freeze(): gunicorn.conf.py)."""
from gaoxin import create_app

app = create_app()
