"""Drill: the upload volume fills up, then turns read-only, during intake with attachments.

    .venv/bin/python bench/faults/upload_dir.py

GAOXIN_DATA_DIR is a small tmpfs of the drill's own (mount needs root; without it the folder is replaced by a
file for the read-only phase and the full phase is left out, which the output says). The app runs under
gunicorn as run.sh starts it, on an SQLite file, with 6 intake desks recording appeals with a 40 KB PDF each.
Phases: normal, full (a filler file takes the rest of the volume), read-only (remounted ro), normal again;
each request counts in the phase it was sent in, and between phases 8 s are left for those in flight.

Promises checked: while the volume is full or read-only every intake answers the form again (422) with the
Chinese message by the upload field and the typed content kept, nothing else (no 500); no appeal is recorded
without its file; no attachment row (pending ones included) lacks its file; intake works again afterwards.
"""
import argparse
import hashlib
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import drill

MESSAGE = "未能保存：附件存储空间已满或暂时无法写入"
#: Seconds between phases with no request counted: those in flight finish (p99 was 5 s at load average 19).
SETTLE = 8


def desk(log, port, cookies, fx, stop, rng, phase, seen):
    client = drill.Client(port)
    client.cookies = dict(cookies)
    while not stop.is_set():
        status, page, _ = log.request(client, "intake form", "GET", "/appeals/new")
        if status != 200:
            stop.wait(1)
            continue
        fields, marker = drill.intake_fields(page, fx, rng)
        content = fields["content"]
        pdf = drill.PDF + marker.encode() * 3000  # ~40 KB, different every time
        body, content_type = drill.multipart(fields, [("files", "材料.pdf", pdf)])
        at = phase[0]
        status, answer, headers = log.request(client, "intake POST", "POST", "/appeals/new", body,
                                              {"Content-Type": content_type})
        kept = content in answer.replace("&#34;", '"')
        with log.lock:
            seen.append((at, status, MESSAGE in answer, kept))
        if status == 303:
            path = re.sub(r"^https?://[^/]+", "", headers["Location"])
            _, shown, _ = log.request(client, "appeal page", "GET", path)
            found = re.search(r"SQ\d{15}", shown)
            if found:
                with log.lock:
                    log.receipts.setdefault(found.group(0), []).append(fields["submission_token"])
        stop.wait(0.5)


def fill(path):
    """Write zeros until the volume is full."""
    with open(path, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass


def mount(*args):
    return subprocess.run(["mount", *args], capture_output=True, text=True).returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase", type=float, default=15, help="seconds per phase")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gaoxin-upload-drill-"))
    database = f"sqlite:///{work / 'gaoxin.sqlite'}"
    files = work / "files"
    files.mkdir()
    mounted = mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(files))
    print(f"upload volume: {'a 4 MB tmpfs' if mounted else 'a plain folder (mount not allowed here)'} at {files}")
    phase, seen = ["normal"], []
    site = drill.Site(database, files)
    try:
        port, fx = site.port, site.fx
        log, stop = drill.Log(), threading.Event()
        sessions = drill.log_in_all(port, ("clerk_station", "clerk_point"))
        threads = []
        for n in range(6):
            thread = threading.Thread(target=drill.guarded, args=(
                log, desk, port, sessions["clerk_station" if n % 2 else "clerk_point"], fx, stop,
                random.Random(n), phase, seen), daemon=True)
            thread.start()
            threads.append(thread)

        def change(to, how):
            """Between phases the requests in flight finish (their phase is the one they started in)."""
            phase[0] = "transition"
            time.sleep(SETTLE)
            how()
            phase[0] = to
            print(f"t={time.monotonic() - log.started:5.1f} s  {to}")

        time.sleep(args.phase)
        if mounted:
            change("full", lambda: fill(files / "filler"))
            time.sleep(args.phase)
            change("read-only", lambda: ((files / "filler").unlink(), mount("-o", "remount,ro", str(files))))
            time.sleep(args.phase)
            change("normal again", lambda: mount("-o", "remount,rw", str(files)))
        else:
            moved = work / "files.away"
            change("read-only", lambda: (files.rename(moved), files.write_text("not a folder")))
            time.sleep(args.phase)
            change("normal again", lambda: (files.unlink(), moved.rename(files)))
        time.sleep(args.phase)
        site.stop(stop, threads)
        log.report(ok=(200, 303, 422))
        by_phase = {}
        for name, status, message, kept in seen:
            entry = by_phase.setdefault(name, {"recorded": 0, "refused with the message, content kept": 0, "other": 0})
            if status == 303:
                entry["recorded"] += 1
            elif status == 422 and message and kept:
                entry["refused with the message, content kept"] += 1
            else:
                entry["other"] += 1
        for name, entry in by_phase.items():
            print(f"  {name:13} " + ", ".join(f"{k} {v}" for k, v in entry.items()))
        problems, figures = site.reconcile(log)
        conn = drill.connect(database)
        rows = conn.execute("SELECT sha256 FROM attachments").fetchall()
        conn.close()
        without_file = [sha for (sha,) in rows if not (files / sha[:2] / sha[2:4] / sha).exists()
                        or hashlib.sha256((files / sha[:2] / sha[2:4] / sha).read_bytes()).hexdigest() != sha]
        print(f"attachment rows without their file: {len(without_file)}")
        bad = [n for n in by_phase if n in ("full", "read-only")]
        drill.verdict([
            ("intake worked before", by_phase.get("normal", {}).get("recorded", 0) > 0),
            ("while full or read-only: nothing recorded, every answer the form with the message and the content",
             bool(bad) and all(by_phase[n]["recorded"] == 0 and by_phase[n]["other"] == 0
                               and by_phase[n]["refused with the message, content kept"] > 0 for n in bad)),
            ("intake worked again afterwards", by_phase.get("normal again", {}).get("recorded", 0) > 0),
            ("every appeal whole; no attachment row without its file", not problems and not without_file),
            ("no client thread died", not log.died),
        ])
    finally:
        site.cleanup()
        if mounted:
            subprocess.run(["umount", str(files)])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
