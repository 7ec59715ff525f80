"""The bare-Flask reference for bench/http_bench.py: the same rows from the same database, nothing else.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/gaoxin_bench_zone \
        .venv/bin/gunicorn --workers 2 --threads 4 --chdir bench reference_app:app

One SQLAlchemy Core engine (pooled, as the app's), one query per page with the columns a row shows, one
Jinja template with autoescaping. No login, no session, no CSRF, no permissions: what "bare Flask" costs
for the job, so that the app's figure divided by this one is what the app's own machinery costs.

    /rows?kind=inbox&unit=<id>   the department inbox's 待签收 tab: 50 rows, supervised first, by deadline
    /rows?kind=queue             the dispatcher's queue: 50 rows, oldest first
    /rows?kind=applications      the window's application list: 50 rows, newest first
    /hello                       204, hello world for the live check
"""
import os

from flask import Flask, render_template_string, request
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine(os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1),
                       pool_size=5, connect_args={"options": "-c jit=off"})

QUERIES = {
    "inbox": """
        SELECT a.id, a.receipt_no, e.name AS enterprise, c.name AS category, a.content, a.state, a.due_on,
               a.sign_due_on, a.supervised_at, u.name AS assignee, a.version
        FROM appeals a JOIN enterprises e ON e.id = a.enterprise_id JOIN appeal_categories c ON c.id = a.category_id
        LEFT JOIN users u ON u.id = a.assignee_id
        WHERE a.lead_unit_id = :unit AND a.state = 'dispatched'
        ORDER BY CASE WHEN a.supervised_at IS NOT NULL THEN 0 ELSE 1 END, a.due_on, a.id LIMIT 51""",
    "queue": """
        SELECT a.id, a.receipt_no, e.name AS enterprise, c.name AS category, a.content, a.state, a.due_on,
               a.sign_due_on, a.supervised_at, NULL AS assignee, a.version
        FROM appeals a JOIN enterprises e ON e.id = a.enterprise_id JOIN appeal_categories c ON c.id = a.category_id
        WHERE a.state = 'awaiting_dispatch' ORDER BY a.created_at, a.id LIMIT 51""",
    "applications": """
        SELECT a.id, a.receipt_no, e.name AS enterprise, p.title AS category, a.declared_amount AS content,
               a.state, a.review_due_on AS due_on, NULL AS sign_due_on, NULL AS supervised_at, u.name AS assignee,
               a.version
        FROM applications a JOIN enterprises e ON e.id = a.enterprise_id JOIN policies p ON p.id = a.policy_id
        LEFT JOIN units u ON u.id = a.department_id
        ORDER BY a.created_at DESC, a.id DESC LIMIT 51""",
}

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>列表</title><link rel="stylesheet" href="/static/app.css"></head>
<body><main><h1>列表</h1>
<table><thead><tr><th>回执号</th><th>企业</th><th>类别</th><th>内容</th><th>状态</th><th>期限</th><th>经办人</th><th>操作</th></tr></thead>
<tbody>
{% for r in rows %}<tr id="row-{{ r.id }}"{% if r.supervised_at %} class="supervised"{% endif %}>
<th scope="row"><a href="/appeals/{{ r.id }}">{{ r.receipt_no }}</a></th><td>{{ r.enterprise }}</td><td>{{ r.category }}</td>
<td>{{ r.content|truncate(60, true, '…', 0) }}</td><td><span class="status">{{ r.state }}</span></td>
<td>{{ r.due_on or '—' }}</td><td>{{ r.assignee or '—' }}</td>
<td><button form="f" formaction="/sign/{{ r.id }}" name="version" value="{{ r.version }}">签收</button></td></tr>
{% endfor %}</tbody></table>
<form id="f" method="post"><input type="hidden" name="csrf_token" value="x"></form>
{% if has_next %}<a href="?page=2">下一页</a>{% endif %}
</main></body></html>"""


@app.get("/rows")
def rows():
    """One page of 50 rows: one query, one template."""
    kind = request.args.get("kind", "inbox")
    with engine.connect() as conn:
        found = conn.execute(text(QUERIES[kind]), {"unit": request.args.get("unit", type=int)}).all()
    return render_template_string(PAGE, rows=found[:50], has_next=len(found) > 50)


@app.get("/hello")
def hello():
    """Nothing to say: what a live check that found no change could cost at best."""
    return "", 204
