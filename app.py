"""WSGI entry point: `gunicorn app:app` or `flask --app app run`."""
import gc

from gaoxin import create_app

app = create_app()
# What start-up loaded lives as long as the process (pypinyin's dictionaries alone are 200,000 lists):
# keep it out of the garbage collector, whose full passes over it took 95 ms in the middle of requests.
# Here, where the server process starts, and not in create_app(): the tests build many apps in one process.
gc.freeze()
