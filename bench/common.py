"""What every benchmark shares: where generated files go, the one percentile function, and the check that a
measured page really rendered rows (an empty page is fast and proves nothing)."""
import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
#: Generated databases and files (gitignored). GAOXIN_BENCH_OUT moves them, e.g. for a smoke run at a tiny
#: size that must not overwrite a full-size database someone built.
OUT = Path(os.environ.get("GAOXIN_BENCH_OUT") or ROOT / "bench" / "out")


def percentile(values, p):
    """The p-th percentile of `values` by nearest rank: the smallest value with at least p % of them at or
    below it (p50 of 1..100 is 50, p95 is 95); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(p * len(ordered) / 100))
    return ordered[min(rank, len(ordered)) - 1]


def check_rows(body, marker, what, minimum=1):
    """Raise AssertionError unless `body` holds `marker` (a string in every row's HTML) at least `minimum`
    times; returns the count. `what` names the request in the message."""
    count = body.count(marker)
    if count < minimum:
        raise AssertionError(f"{what}: expected at least {minimum} row(s) marked {marker!r}, found {count}")
    return count
