"""One page of a list: every list fetches one row more than it shows instead of counting (no COUNT(*))."""
from ..extensions import db

PAGE_SIZE = 50


def fetch_page(query, page, page_size=PAGE_SIZE, *, rows=False):
    """(items, has_next) for page `page` (1-based) of `query`; `rows=True` keeps whole result rows
    (several columns) instead of the first column's objects."""
    page = max(page or 1, 1)
    query = query.offset((page - 1) * page_size).limit(page_size + 1)
    result = db.session.execute(query).all() if rows else db.session.scalars(query).all()
    items = [tuple(r) for r in result] if rows else list(result)
    return items[:page_size], len(items) > page_size
