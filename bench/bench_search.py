"""Benchmark: registry search at 220,000 enterprises on SQLite and PostgreSQL, through the real views.

    .venv/bin/python bench/bench_search.py                 # both databases (PostgreSQL if it answers)
    .venv/bin/python bench/bench_search.py --db sqlite --queries 1000 --rebuild

Builds the registry once the way `flask gaoxin demo --enterprises 220000` does (SQLite in
bench/out/search.sqlite, PostgreSQL in the gaoxin_bench database) and reuses it afterwards. Then
sends 1,000 mixed queries — 2–4 character fragments of real names, their Traditional spelling,
3–5 letters of pinyin initials, credit-code prefixes and queries that match nothing — through the
Flask test client to GET /enterprises?q=… (the results block, as htmx asks for it while typing) and
GET /enterprises/suggest?q=…, timing each request around get() (routing, queries, rendering; no
network). Prints p50/p95/max per database, endpoint and query kind. Target: p95 ≤ 25 ms.
"""
import argparse
import json
import os
import random
import time

from common import check_rows, percentile
from registry_db import BENCH_PASSWORD, OUT, ensure_user, make_app, postgres_available, postgres_url, sqlite_url

TARGET_MS = 25
#: Query kind → share of the mix.
MIX = {"name": 0.35, "traditional": 0.15, "initials": 0.20, "code": 0.15, "none": 0.15}
#: Characters no demo name uses, for queries that must find nothing.
RARE = "鲸鳄麒麟饕餮貔貅獬豸鸾鹓鶵鹔鹴"


def build(app, count, rebuild):
    """Load units, users and `count` enterprises as the demo command does, unless they are there already."""
    from sqlalchemy import func, select

    from gaoxin.extensions import db
    from gaoxin.models import Enterprise
    from gaoxin.services import demo
    from gaoxin.services.enterprises import load_demo_enterprises

    with app.app_context():
        if rebuild:
            db.drop_all()
        db.create_all()
        have = db.session.scalar(select(func.count(Enterprise.id)))
        if have == count:
            print(f"  reusing the registry of {have} enterprises")
            return
        if have:
            db.drop_all()
            db.create_all()
        started = time.perf_counter()
        demo.create_units()
        demo.create_users()
        db.session.commit()
        load_demo_enterprises(count)
        db.session.commit()
        built = time.perf_counter() - started
        print(f"  built the registry of {count} enterprises in {built:.1f} s (as `flask gaoxin demo --enterprises {count}`)")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        vacuum_analyze()


def vacuum_analyze():
    """What autovacuum does soon after a bulk load: statistics for the planner, the visibility map for index-only scans."""
    import psycopg

    from registry_db import PG_DATABASE, PG_SERVER

    with psycopg.connect(f"{PG_SERVER} dbname={PG_DATABASE}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def queries(app, n, seed=2026):
    """n (kind, query) pairs in the MIX proportions, taken from the registry itself."""
    from opencc import OpenCC
    from sqlalchemy import select

    from gaoxin.extensions import db
    from gaoxin.models import Enterprise

    rng = random.Random(seed)
    s2t = OpenCC("s2t")
    with app.app_context():
        sample = db.session.execute(select(Enterprise.name_key, Enterprise.initials, Enterprise.credit_code)
                                    .order_by(Enterprise.id).limit(220_000)).all()
    picked = [rng.choice(sample) for _ in range(n * 2)]

    def fragment(key):
        length = rng.randint(2, 4)
        start = rng.randrange(0, max(1, len(key) - length + 1))
        return key[start:start + length]

    made = []
    kinds = rng.choices(list(MIX), weights=list(MIX.values()), k=n)
    for kind, (key, initials, code) in zip(kinds, picked):
        if kind == "name":
            q = fragment(key)
        elif kind == "traditional":
            q = s2t.convert(fragment(key))
            for _ in range(20):  # prefer a fragment whose Traditional spelling differs
                if q != s2t.convert(q) or any(ord(c) > 0x4E00 and s2t.convert(c) != c for c in q):
                    break
                q = s2t.convert(fragment(key))
        elif kind == "initials":
            length = rng.randint(3, 5)
            start = rng.randrange(0, max(1, len(initials) - length + 1))
            q = initials[start:start + length]
        elif kind == "code":
            q = code[:rng.randint(4, 10)]
        else:
            q = "".join(rng.choice(RARE) for _ in range(rng.randint(2, 4))) if rng.random() < 0.7 else \
                "".join(rng.choice("qvz") for _ in range(rng.randint(3, 5)))
        made.append((kind, q))
    return made


def run(app, label, pairs, warmup=30, repeat=1):
    """Time every query on both endpoints (the fastest of `repeat` tries); returns {(endpoint, kind): [ms, …]}."""
    with app.app_context():
        user = ensure_user("bench_clerk", "clerk")
        username = user.username
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    endpoints = {
        "search": lambda q: client.get("/enterprises", query_string={"q": q}, headers={"HX-Request": "true"}),
        "suggest": lambda q: client.get("/enterprises/suggest", query_string={"q": q}),
    }
    #: What each endpoint writes in every result row.
    markers = {"search": '<th scope="row"><a href="/enterprises/', "suggest": 'href="/enterprises/'}
    for _, q in pairs[:warmup]:
        for get in endpoints.values():
            get(q)
    timings = {}
    for kind, q in pairs:
        for name, get in endpoints.items():
            best = None
            for _ in range(repeat):
                started = time.perf_counter()
                response = get(q)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (q, response.status_code)
                # Every query is taken from the registry, so it finds rows; only the "none" kind finds nothing.
                body = response.get_data(as_text=True)
                if kind == "none":
                    assert markers[name] not in body, f"{name} {q!r}: a query meant to match nothing found rows"
                else:
                    check_rows(body, markers[name], f"{name} {q!r} ({kind})")
                best = elapsed if best is None else min(best, elapsed)
            timings.setdefault((name, kind), []).append(best)
    return timings


def report(label, timings):
    """Print p50/p95/max per endpoint (all kinds) and per kind; return the summary."""
    summary = {}
    print(f"\n{label}: {sum(len(v) for v in timings.values())} requests")
    print(f"  {'endpoint':<8} {'kind':<12} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for endpoint in ("search", "suggest"):
        rows = [("all", [t for (e, _), ts in timings.items() if e == endpoint for t in ts])]
        rows += [(kind, timings.get((endpoint, kind), [])) for kind in MIX]
        for kind, values in rows:
            if not values:
                continue
            p50, p95, worst = percentile(values, 50), percentile(values, 95), max(values)
            flag = "" if p95 <= TARGET_MS else "  > target"
            print(f"  {endpoint:<8} {kind:<12} {len(values):>5} {p50:>8.1f} {p95:>8.1f} {worst:>8.1f}{flag}")
            summary[f"{endpoint}/{kind}"] = {"n": len(values), "p50": round(p50, 1), "p95": round(p95, 1), "max": round(worst, 1)}
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--enterprises", type=int, default=220_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the registry first")
    parser.add_argument("--repeat", type=int, default=1,
                        help="send each query this many times and keep the fastest (on a busy machine)")
    args = parser.parse_args()

    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = {}
    for name in databases:
        if name == "postgresql" and not postgres_available():
            print("PostgreSQL does not answer at 127.0.0.1:5432: skipped.")
            continue
        url = postgres_url() if name == "postgresql" else sqlite_url("search.sqlite")
        print(f"{name}: {url.split('@')[-1]}")
        app = make_app(url)
        build(app, args.enterprises, args.rebuild)
        pairs = queries(app, args.queries)
        load = os.getloadavg()[0]
        timings = run(app, name, pairs, repeat=args.repeat)
        label = f"{name} (load average {load:.1f} → {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs" + \
            (f", fastest of {args.repeat}" if args.repeat > 1 else "") + ")"
        results[name] = report(label, timings)
    path = OUT / "bench_search.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**saved, **results}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
