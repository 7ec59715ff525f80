"""The enterprise registry: create, bulk upsert with search grams, and search by name, code or initials."""
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from sqlalchemy import Integer, String, bindparam, delete, func, select, union_all, update
from sqlalchemy.orm import lazyload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import registry_text
from ..database import CUSTOM_PLAN
from ..extensions import db
from ..models import Building, Contact, Enterprise, EnterpriseGram, utcnow
from ..models.enterprise import is_terminated_status
from ..registry_text import classify_query, pinyin_initials, search_key, to_half_width

#: Bigrams that occur in nearly every name index nothing useful; a query of only these scans instead.
STOP_GRAMS = frozenset({"有限", "限公", "公司", "股份", "份有", "责任", "任公", "限责", "科技", "技有", "成都", "四川"})
#: Initials trigrams are stored with this prefix so they never collide with Chinese bigrams.
INITIALS_MARK = "#"
#: The initials of the legal-form suffixes (有限公司, 股份有限公司, 有限责任公司, 科技有限): in nearly every name.
INITIALS_STOP_GRAMS = frozenset(
    INITIALS_MARK + g for g in ("yxg", "xgs", "gfy", "fyx", "yxz", "xzr", "zrg", "rgs", "kjy", "jyx")
)
SEARCH_LIMIT = 20
#: Shorter queries are not run: one character matches a large part of the registry.
MIN_QUERY_LENGTH = 2


def name_grams(key):
    """The distinct 2-character grams of a name key (2-character fragments are found through these)."""
    return {key[i:i + 2] for i in range(len(key) - 1)} - STOP_GRAMS


def initials_grams(initials):
    """The distinct 3-letter grams of the pinyin initials, marked."""
    return {INITIALS_MARK + initials[i:i + 3] for i in range(len(initials) - 2)} - INITIALS_STOP_GRAMS


def grams_for(name_key, initials):
    """Every gram stored for a name: its name-key bigrams and its marked initials trigrams."""
    return name_grams(name_key) | initials_grams(initials)


def derived_fields(name):
    """name_key and initials for a name: what search matches against."""
    return {"name_key": _name_key(name), "initials": pinyin_initials(name)}


def _name_key(name):
    """search_key(name), skipping OpenCC for a name it cannot change (nearly all: the registry is Simplified).

    OpenCC's pure-Python conversion was a tenth of a 220,000-row import.
    """
    text = _WHITESPACE.sub("", to_half_width(name or ""))
    convertible = _t2s_characters()
    if convertible is None or not convertible.isdisjoint(text):
        return search_key(name)
    return text.lower()


_WHITESPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s_characters():
    """The characters OpenCC's t2s dictionaries change (None if its internals are not as expected).

    A key maps to its value's first alternative; where key and value have the same length only the
    differing positions can change text, otherwise any character of the key can.
    """
    try:
        converter = registry_text._t2s()
        converter.convert("")
        changing = set()
        for chain in converter._dict_chain_data:
            for _, _, mapping in chain:
                for key, value in mapping.items():
                    value = value.split(" ")[0]
                    if len(key) != len(value):
                        changing.update(key)
                    else:
                        changing.update(k for k, v in zip(key, value) if k != v)
        return frozenset(changing)
    except (AttributeError, TypeError, ValueError):
        return None


def write_grams(enterprise_ids_and_keys, *, replace=True):
    """(Re)write the search grams of the given (id, name_key, initials) triples."""
    triples = list(enterprise_ids_and_keys)
    if not triples:
        return
    if replace:
        ids = [t[0] for t in triples]
        for i in range(0, len(ids), 900):
            db.session.execute(delete(EnterpriseGram).where(EnterpriseGram.enterprise_id.in_(ids[i:i + 900])))
    rows = sorted((g, eid) for eid, key, ini in triples for g in grams_for(key, ini))
    _insert_many(EnterpriseGram.__table__, ("gram", "enterprise_id"), rows)


def _insert_many(table, columns, rows):
    """Insert tuples through the driver — COPY on PostgreSQL, executemany elsewhere: at millions of grams
    SQLAlchemy's per-row work costs more than the insert itself."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    for i in range(0, len(rows), 50000):
        connection.exec_driver_sql(sql, rows[i:i + 50000])


ENTERPRISE_FIELDS = ("name", "legal_rep", "address", "industry", "size", "building_id", "status", "founded_on",
                     "business_scope")
#: Chinese names of the enterprise fields, for audit details.
FIELD_LABELS = {
    "name": "企业名称", "credit_code": "统一社会信用代码", "legal_rep": "法定代表人", "address": "住所",
    "industry": "行业门类", "size": "企业规模", "building_id": "所在楼宇", "status": "登记状态",
    "founded_on": "成立日期", "business_scope": "经营范围",
}


def upsert_rows(rows, *, batch_size=5000, progress=None):
    """Insert or update enterprises keyed on credit_code from validated dicts; returns (created, updated).

    Each dict has credit_code, name and optionally the other ENTERPRISE_FIELDS plus contact_name and
    contact_mobile. Idempotent: running the same rows twice changes nothing the second time.
    """
    created = updated = 0
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            c, u = _upsert_batch(batch)
            created, updated = created + c, updated + u
            batch = []
            if progress:
                progress(created + updated)
    if batch:
        c, u = _upsert_batch(batch)
        created, updated = created + c, updated + u
        if progress:
            progress(created + updated)
    return created, updated


def _upsert_batch(batch):
    """Upsert one batch of rows; returns (created, updated)."""
    # Last row wins when a file repeats a code.
    by_code = {r["credit_code"]: r for r in batch}
    existing = {}
    codes = list(by_code)
    for i in range(0, len(codes), 900):
        for eid, code, *values in db.session.execute(
            select(Enterprise.id, Enterprise.credit_code, *[getattr(Enterprise, f) for f in ENTERPRISE_FIELDS])
            .where(Enterprise.credit_code.in_(codes[i:i + 900]))
        ):
            existing[code] = (eid, dict(zip(ENTERPRISE_FIELDS, values)))

    new_rows, changed, regram = [], [], []
    for code, row in by_code.items():
        values = {f: row.get(f) for f in ENTERPRISE_FIELDS}
        if code in existing:
            eid, old = existing[code]
            # Only overwrite what the file actually provides; never blank out known data.
            diff = {f: v for f, v in values.items() if v not in (None, "") and old.get(f) != v}
            if diff:
                if "name" in diff:
                    diff.update(derived_fields(diff["name"]))
                    regram.append((eid, diff["name_key"], diff["initials"]))
                changed.append({"id": eid, **diff})
        else:
            new_rows.append({"credit_code": code, **values, **derived_fields(row["name"])})

    if new_rows:
        # Through the driver's executemany (see _insert_many), then the new ids by code.
        table = Enterprise.__table__
        now = _bound(table.c.created_at, utcnow())
        # executemany bypasses SQLAlchemy's types: a date goes to SQLite as the ISO text SQLAlchemy stores.
        day = table.c.founded_on.type.bind_processor(db.session.get_bind().dialect) or (lambda v: v)
        for r in new_rows:
            r["founded_on"] = day(r["founded_on"])
        _insert_many(table, NEW_ENTERPRISE_COLUMNS + ("created_at", "updated_at", "version"),
                     [tuple(r[c] for c in NEW_ENTERPRISE_COLUMNS) + (now, now, 1) for r in new_rows])
        ids = _ids_for([r["credit_code"] for r in new_rows])
        write_grams(((ids[r["credit_code"]], r["name_key"], r["initials"]) for r in new_rows), replace=False)
        contacts = [
            (ids[r["credit_code"]], by_code[r["credit_code"]]["contact_name"],
             by_code[r["credit_code"]].get("contact_mobile"), now)
            for r in new_rows if by_code[r["credit_code"]].get("contact_name")
        ]
        _insert_many(Contact.__table__, ("enterprise_id", "name", "mobile", "created_at"), contacts)
    for values in changed:
        eid = values.pop("id")
        db.session.execute(
            update(Enterprise).where(Enterprise.id == eid)
            .values(**values, version=Enterprise.version + 1, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
    write_grams(regram)
    return len(new_rows), len(changed)


#: The columns of a new enterprise that come from the row (and derived_fields).
NEW_ENTERPRISE_COLUMNS = ("credit_code",) + ENTERPRISE_FIELDS + ("name_key", "initials")


def _bound(column, value):
    """`value` as the driver receives it for `column` (executemany bypasses SQLAlchemy's type processing)."""
    processor = column.type.bind_processor(db.session.get_bind().dialect)
    return processor(value) if processor else value


def _ids_for(codes):
    """credit code → id for the given codes, looked up 900 at a time."""
    ids = {}
    for i in range(0, len(codes), 900):
        ids.update(db.session.execute(
            select(Enterprise.credit_code, Enterprise.id).where(Enterprise.credit_code.in_(codes[i:i + 900]))
        ).all())
    return ids


def load_demo_enterprises(count):
    """Bulk-load `count` generated enterprises (the article's four first); returns how many."""
    from ..demo_data import enterprise_rows

    created, updated = upsert_rows(enterprise_rows(count))
    db.session.flush()
    return created + updated


#: A gram's index entries are counted up to this many when picking the rarest gram of a query.
RAREST_COUNT_LIMIT = 5000


@lru_cache(maxsize=None)
def _rarest_gram(count):
    """A scalar subquery naming the gram, of the bound parameters gram_0 … gram_<count-1>, with the fewest
    enterprises (counted up to RAREST_COUNT_LIMIT; ties by the gram itself): the cheapest to walk.

    It is part of the search's one statement (on PostgreSQL an InitPlan run once before the walk, whose
    index scan on `gram = $0` still comes in enterprise order so that LIMIT stops early). Which gram is
    walked changes only the speed: every gram of the query is in every match. Built once per gram count,
    so that the statement's SQL is the same text for every query of that shape (and PostgreSQL's
    prepared statement is reused).
    """
    grams = [bindparam(f"gram_{i}", type_=String) for i in range(count)]
    counts = union_all(*(
        select(gram.label("gram"), func.count().label("n")).select_from(
            select(_GRAMS.c.enterprise_id).where(_GRAMS.c.gram == gram).limit(RAREST_COUNT_LIMIT).subquery()
        )
        for gram in grams
    )).subquery()
    return select(counts.c.gram).order_by(counts.c.n, counts.c.gram).limit(1).scalar_subquery()


_TABLE = Enterprise.__table__
_GRAMS = EnterpriseGram.__table__


def _shape_and_params(kind, value):
    """What a classified query's statement looks like — ("code",), or (kind, number of grams, whether the
    fragment is checked with LIKE) — and the values it binds; None for a query that matches nothing."""
    if kind == "empty":
        return None
    if kind == "code":
        return ("code",), {"code_from": value, "code_to": value + "\uffff"}
    grams, width = (initials_grams(value), 3) if kind == "initials" else (name_grams(value), 2)
    params = {f"gram_{i}": gram for i, gram in enumerate(sorted(grams))}
    # A query that is its own gram matches every enterprise holding the gram: no LIKE (and none for
    # PostgreSQL to misjudge: it guessed 9 rows for a LIKE that matched 5,790).
    like = not grams or len(value) != width
    if like:
        params["pattern"] = f"%{_escape_like(value)}%"
    return (kind, len(grams), like), params


def _matching(query, shape):
    """`query` (a select from enterprises) narrowed to the matches of a query of this shape, ordered so
    that a LIMIT stops early; the values are bound parameters (see _shape_and_params).

    Code prefixes walk the unique index on the code; names and initials walk the rarest gram's index
    entries (primary key (gram, enterprise_id)) in enterprise order, or the table in id order when every
    gram of the query is a stop gram. The full fragment is checked with LIKE only when it is longer than
    one gram.
    """
    if shape == ("code",):
        # A range instead of LIKE 'x%' so that both SQLite and PostgreSQL use the unique index.
        return query.where(_TABLE.c.credit_code >= bindparam("code_from", type_=String),
                           _TABLE.c.credit_code < bindparam("code_to", type_=String)).order_by(_TABLE.c.credit_code)
    kind, grams, like = shape
    if grams:
        walked = bindparam("gram_0", type_=String) if grams == 1 else _rarest_gram(grams)
        query = query.join(_GRAMS, _GRAMS.c.enterprise_id == _TABLE.c.id).where(_GRAMS.c.gram == walked) \
            .order_by(_GRAMS.c.enterprise_id)
    else:
        query = query.order_by(_TABLE.c.id)
    if like:
        column = _TABLE.c.initials if kind == "initials" else _TABLE.c.name_key
        query = query.where(column.like(bindparam("pattern", type_=String), escape="\\"))
    return query


def search_query(q):
    """A select() of enterprises matching `q` (a name fragment, a credit-code prefix or pinyin initials).

    Returns (kind, query) where kind is 'empty', 'code', 'initials' or 'name'; one statement whatever the
    query (see _matching for the order, which lets a LIMIT stop early). Callers add LIMIT/OFFSET.
    """
    kind, value = classify_query(q or "")
    planned = _shape_and_params(kind, value)
    if planned is None:
        return kind, select(Enterprise).where(False)
    shape, params = planned
    # Planned for its values every time: a generic plan for the name LIKE was 5x slower.
    return kind, _matching(select(Enterprise).execution_options(**CUSTOM_PLAN), shape).params(params)


def _escape_like(value):
    """`value` with LIKE's wildcards escaped (the escape character is a backslash)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(slots=True)
class EnterpriseRow:
    """What a search result row and a typeahead option show of an enterprise (read without the ORM)."""

    id: int
    name: str
    name_key: str
    credit_code: str
    legal_rep: str | None
    status: str | None
    founded_on: date | None
    industry: str | None
    building_name: str | None

    @property
    def is_terminated(self):
        return is_terminated_status(self.status)


#: EnterpriseRow's columns; the building's name is a correlated subquery, evaluated for the returned rows only.
_ROW_COLUMNS = (
    _TABLE.c.id, _TABLE.c.name, _TABLE.c.name_key, _TABLE.c.credit_code, _TABLE.c.legal_rep, _TABLE.c.status,
    _TABLE.c.founded_on, _TABLE.c.industry,
    select(Building.__table__.c.name).where(Building.__table__.c.id == _TABLE.c.building_id)
    .correlate(_TABLE).scalar_subquery(),
)


@lru_cache(maxsize=None)
def _row_statement(shape):
    """The rows' statement for a query of this shape, LIMIT and OFFSET bound too: built once per shape (a
    dozen or so), so that a search only binds its values.

    Prepared like any other statement (no CUSTOM_PLAN): the gram it walks is chosen inside the statement, so
    a custom plan cannot know it either, and for every shape a generic plan was as fast as a custom one or
    faster (EXPLAIN ANALYZE EXECUTE over 400 fragments at 220,000 enterprises, bench/README.md) while
    planning each execution cost 0.2-0.6 ms of the server's CPU.
    """
    return _matching(select(*_ROW_COLUMNS), shape) \
        .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))


def _search_rows(kind, value, limit, offset=0):
    """Up to `limit` EnterpriseRows matching a classified query from `offset` on, in one statement."""
    planned = _shape_and_params(kind, value)
    if planned is None:
        return []
    shape, params = planned
    rows = db.session.execute(_row_statement(shape), {**params, "limit": limit, "offset": offset}).all()
    return [EnterpriseRow(*row) for row in rows]


@dataclass
class SearchPage:
    """One page of registry search results: what kind of query it was and whether another page follows."""

    kind: str
    items: list
    has_next: bool
    too_short: bool = False


def search_page(q, page=1, per_page=SEARCH_LIMIT):
    """Page `page` of the enterprises matching `q` (EnterpriseRows), fetching one extra row instead of
    counting all matches."""
    kind, value = classify_query(q or "")
    if kind == "empty":
        return SearchPage(kind, [], False)
    if len(value) < MIN_QUERY_LENGTH:
        return SearchPage(kind, [], False, too_short=True)
    page = max(page or 1, 1)
    items = _search_rows(kind, value, per_page + 1, (page - 1) * per_page)
    return SearchPage(kind, items[:per_page], len(items) > per_page)


def _closest_first(kind, value, found):
    """Typeahead order: for a name (`value` is its search key), names starting with it first, then shorter names."""
    if kind == "name":
        found.sort(key=lambda e: (not e.name_key.startswith(value), len(e.name_key)))
    return found


def suggest_rows(q, limit=SEARCH_LIMIT):
    """Up to `limit` EnterpriseRows for a typeahead, closest names first (what search() finds, without the ORM)."""
    kind, value = classify_query(q or "")
    return _closest_first(kind, value, _search_rows(kind, value, limit))


def _loading(query):
    """The query with its building loaded apart: a joined load would join every match before the LIMIT."""
    return query.options(lazyload(Enterprise.contacts), selectinload(Enterprise.building))


def search(q, limit=SEARCH_LIMIT):
    """Up to `limit` Enterprise objects for a typeahead, closest names first (intake and salons pick from these)."""
    kind, query = search_query(q)
    return _closest_first(kind, classify_query(q or "")[1], list(db.session.scalars(_loading(query).limit(limit))))


class StaleEnterpriseError(Exception):
    """The enterprise changed since the user loaded the form: their edit must not overwrite it."""

    def __init__(self):
        super().__init__("该企业信息已被他人修改，请刷新后重试")


def find_by_credit_code(code):
    """The enterprise registered under a normalised credit code, or None."""
    return db.session.scalar(select(Enterprise).where(Enterprise.credit_code == code))


def create_enterprise(data, contact_name=None, contact_mobile=None):
    """Register one enterprise typed in by hand (and its first contact); flushes and audits, never commits."""
    from .audit import record

    enterprise = Enterprise(**data, **derived_fields(data["name"]))
    if contact_name:
        enterprise.contacts.append(Contact(name=contact_name, mobile=contact_mobile))
    db.session.add(enterprise)
    db.session.flush()
    write_grams([(enterprise.id, enterprise.name_key, enterprise.initials)], replace=False)
    record("enterprise_created", enterprise, detail=f"{enterprise.credit_code} {enterprise.name}")
    return enterprise


def update_enterprise(enterprise, data, seen_version):
    """Apply an edit made on version `seen_version`; raises StaleEnterpriseError if someone saved in between."""
    from .audit import record

    if seen_version != enterprise.version:
        raise StaleEnterpriseError()
    changed = [f for f, v in data.items() if getattr(enterprise, f) != v]
    if not changed:
        return []
    for field, value in data.items():
        setattr(enterprise, field, value)
    if "name" in changed:
        for field, value in derived_fields(enterprise.name).items():
            setattr(enterprise, field, value)
    try:
        # The version column makes this UPDATE … WHERE version = seen: a concurrent save loses here.
        db.session.flush()
    except StaleDataError as exc:
        raise StaleEnterpriseError() from exc
    if "name" in changed:
        write_grams([(enterprise.id, enterprise.name_key, enterprise.initials)])
    record("enterprise_updated", enterprise, detail="修改：" + "、".join(FIELD_LABELS.get(f, f) for f in changed))
    return changed


# --------------------------------------------------------------------------- what the enterprise page reads


def case_sections(user, enterprise, limit=20):
    """The enterprise's latest appeals and policy applications that `user` may see, for its file."""
    from ..models import Appeal, Application
    from ..permissions import visible_appeals, visible_applications

    appeals = list(db.session.scalars(
        visible_appeals(user).where(Appeal.enterprise_id == enterprise.id)
        .order_by(Appeal.created_at.desc(), Appeal.id.desc()).limit(limit + 1)))
    applications = list(db.session.scalars(
        visible_applications(user).where(Application.enterprise_id == enterprise.id)
        .order_by(Application.created_at.desc(), Application.id.desc()).limit(limit + 1)))
    return {"appeals": appeals[:limit], "more_appeals": len(appeals) > limit,
            "applications": applications[:limit], "more_applications": len(applications) > limit}


def contact_of(enterprise, contact_id):
    """One contact of this enterprise, or None."""
    return db.session.scalar(select(Contact).where(Contact.id == contact_id, Contact.enterprise_id == enterprise.id))


def buildings():
    """Every building, by name (the enterprise form's select)."""
    from ..models import Building

    return list(db.session.scalars(select(Building).order_by(Building.name)))
