"""The enterprise registry: create, bulk upsert with search grams, and search by name, code or initials."""
from sqlalchemy import delete, func, insert, select, update

from ..extensions import db
from ..models import Contact, Enterprise, EnterpriseGram
from ..registry_text import classify_query, pinyin_initials, search_key

#: Bigrams that occur in nearly every name index nothing useful; a query of only these scans instead.
STOP_GRAMS = frozenset({"有限", "限公", "公司", "股份", "份有", "责任", "任公", "限责", "科技", "技有", "成都"})
#: Initials trigrams are stored with this prefix so they never collide with Chinese bigrams.
INITIALS_MARK = "#"
SEARCH_LIMIT = 20


def name_grams(key):
    """The distinct 2-character grams of a name key (2-character fragments are found through these)."""
    return {key[i:i + 2] for i in range(len(key) - 1)} - STOP_GRAMS


def initials_grams(initials):
    """The distinct 3-letter grams of the pinyin initials, marked."""
    return {INITIALS_MARK + initials[i:i + 3] for i in range(len(initials) - 2)}


def grams_for(name_key, initials):
    return name_grams(name_key) | initials_grams(initials)


def derived_fields(name):
    """name_key and initials for a name: what search matches against."""
    key = search_key(name)
    return {"name_key": key, "initials": pinyin_initials(name)}


def write_grams(enterprise_ids_and_keys, *, replace=True):
    """(Re)write the search grams of the given (id, name_key, initials) triples."""
    triples = list(enterprise_ids_and_keys)
    if not triples:
        return
    if replace:
        ids = [t[0] for t in triples]
        for i in range(0, len(ids), 900):
            db.session.execute(delete(EnterpriseGram).where(EnterpriseGram.enterprise_id.in_(ids[i:i + 900])))
    rows = [{"gram": g, "enterprise_id": eid} for eid, key, ini in triples for g in grams_for(key, ini)]
    for i in range(0, len(rows), 20000):
        db.session.execute(insert(EnterpriseGram), rows[i:i + 20000])


ENTERPRISE_FIELDS = ("name", "legal_rep", "address", "industry", "size", "building_id")


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
    # Last row wins when a file repeats a code.
    by_code = {r["credit_code"]: r for r in batch}
    existing = {}
    codes = list(by_code)
    for i in range(0, len(codes), 900):
        for eid, code, name, legal_rep, address, industry, size, building_id in db.session.execute(
            select(Enterprise.id, Enterprise.credit_code, *[getattr(Enterprise, f) for f in ENTERPRISE_FIELDS])
            .where(Enterprise.credit_code.in_(codes[i:i + 900]))
        ):
            existing[code] = (eid, dict(zip(ENTERPRISE_FIELDS, (name, legal_rep, address, industry, size, building_id))))

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
        db.session.execute(insert(Enterprise), new_rows)
        ids = dict(db.session.execute(
            select(Enterprise.credit_code, Enterprise.id).where(Enterprise.credit_code.in_([r["credit_code"] for r in new_rows]))
        ).all()) if len(new_rows) <= 900 else _ids_for([r["credit_code"] for r in new_rows])
        write_grams(((ids[r["credit_code"]], r["name_key"], r["initials"]) for r in new_rows), replace=False)
        contacts = [
            {"enterprise_id": ids[r["credit_code"]], "name": by_code[r["credit_code"]]["contact_name"],
             "mobile": by_code[r["credit_code"]].get("contact_mobile")}
            for r in new_rows if by_code[r["credit_code"]].get("contact_name")
        ]
        if contacts:
            db.session.execute(insert(Contact), contacts)
    for values in changed:
        eid = values.pop("id")
        db.session.execute(
            update(Enterprise).where(Enterprise.id == eid)
            .values(**values, version=Enterprise.version + 1, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
    write_grams(regram)
    return len(new_rows), len(changed)


def _ids_for(codes):
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


def _rarest(grams, limit=2000):
    """The gram with the fewest enterprises (counted up to `limit`): the cheapest to start from."""
    best, best_count = None, None
    for gram in grams:
        count = db.session.scalar(
            select(func.count()).select_from(
                select(EnterpriseGram.enterprise_id).where(EnterpriseGram.gram == gram).limit(limit).subquery()
            )
        )
        if best_count is None or count < best_count:
            best, best_count = gram, count
            if count == 0:
                break
    return best


def search_query(q):
    """A select() of enterprises matching `q` (a name fragment, a credit-code prefix or pinyin initials).

    Returns (kind, query) where kind is 'empty', 'code', 'initials' or 'name'. The query is ordered
    by id; callers add LIMIT or paginate.
    """
    kind, value = classify_query(q or "")
    query = select(Enterprise)
    if kind == "empty":
        return kind, query.where(False)
    if kind == "code":
        # A range instead of LIKE 'x%' so that both SQLite and PostgreSQL use the unique index.
        return kind, query.where(Enterprise.credit_code >= value, Enterprise.credit_code < value + "\uffff")
    if kind == "initials":
        grams = initials_grams(value)
        pattern = f"%{_escape_like(value)}%"
        if grams:
            gram = _rarest(grams)
            query = query.where(Enterprise.id.in_(select(EnterpriseGram.enterprise_id).where(EnterpriseGram.gram == gram)))
        return kind, query.where(Enterprise.initials.like(pattern, escape="\\"))
    grams = name_grams(value)
    pattern = f"%{_escape_like(value)}%"
    if grams:
        gram = _rarest(grams)
        query = query.where(Enterprise.id.in_(select(EnterpriseGram.enterprise_id).where(EnterpriseGram.gram == gram)))
    return kind, query.where(Enterprise.name_key.like(pattern, escape="\\"))


def _escape_like(value):
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(q, limit=SEARCH_LIMIT):
    """Up to `limit` enterprises for a typeahead, closest names first."""
    kind, query = search_query(q)
    found = list(db.session.scalars(query.order_by(Enterprise.id).limit(limit)))
    if kind == "name":
        key = search_key(q)
        found.sort(key=lambda e: (not e.name_key.startswith(key), len(e.name_key)))
    return found
