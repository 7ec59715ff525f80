"""Check that PostgreSQL answers, or (re)create a test database with UTF-8 and C.UTF-8 collation."""
import sys

import psycopg


def main():
    mode, host, port, user = sys.argv[1:5]
    conninfo = f"host={host} port={port} user={user} dbname=postgres connect_timeout=3"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if mode == "--check":
            conn.execute("SELECT 1")
            return
        name = sys.argv[5]
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # LC_CTYPE C.UTF-8: under plain C, pg_trgm and lower() treat Chinese as non-letters.
        conn.execute(
            f"""CREATE DATABASE "{name}" ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0"""
        )
    print(f"postgresql+psycopg://{user}@{host}:{port}/{name}")


if __name__ == "__main__":
    main()
