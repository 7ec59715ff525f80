"""htmx helpers: tell a fragment request from a page request and render one block of a page."""
from flask import make_response, request
from jinja2_fragments.flask import render_block
from flask import render_template


def is_fragment_request():
    """True for an htmx request that wants a fragment (not a boosted link or a history restore)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(template, block=None, status=200, headers=None, **context):
    """Render `block` of `template` for an htmx fragment request, the whole page otherwise."""
    if block and is_fragment_request():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.headers["Vary"] = "HX-Request"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
