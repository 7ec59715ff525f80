"""Blueprints, one module per area: parse the request, call a service, commit, render."""
