"""nginx from deploy/nginx/gaoxin.conf in front of two gunicorn servers (gunicorn.conf.py) on this machine.

Used by tests/browser/test_nginx_two_servers.py and bench/bench_nginx.py. The site's config is the repository's
template changed only where a local run must: TLS off, local ports, the upstream pointing at the two servers
started here, the static folder of this checkout, and two more listeners with the same rules whose upstream
is one server each (so that a client can be kept on A or on B). nginx runs with its own prefix, pid and logs:
the system's nginx and port 80 are never touched.
"""
import copy
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import crossplane

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "gaoxin.conf"
#: Seconds a server or nginx gets to answer after its start.
START_SECONDS = 30


def nginx_path():
    """Debian's nginx binary, or None when it is not installed."""
    path = shutil.which("nginx") or "/usr/sbin/nginx"
    return path if os.path.exists(path) else None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_config(app_ports, listen):
    """The template's http-context directives for a local run; `listen` is {port: upstream name}, where the
    upstream is the template's (both servers) or gaoxin_0 / gaoxin_1 (one server each)."""
    parsed = crossplane.parse(str(TEMPLATE), check_ctx=False, single=True, comments=False)
    if parsed["errors"]:
        raise ValueError(f"{TEMPLATE}: {parsed['errors']}")
    out, upstream, site = [], None, None
    for directive in parsed["config"][0]["parsed"]:
        if directive["directive"] == "upstream":
            upstream = directive
        elif directive["directive"] == "server" and any(d["directive"] == "return" for d in directive["block"]):
            continue  # the plain-HTTP redirect to HTTPS
        elif directive["directive"] == "server":
            site = directive
        else:
            out.append(directive)
    options = [d for d in upstream["block"] if d["directive"] != "server"]
    server_args = next(d for d in upstream["block"] if d["directive"] == "server")["args"][1:]

    def local_upstream(name, ports):
        servers = [{"directive": "server", "args": [f"127.0.0.1:{port}", *server_args]} for port in ports]
        return {"directive": "upstream", "args": [name], "block": servers + copy.deepcopy(options)}

    out.append(local_upstream(upstream["args"][0], app_ports))
    out += [local_upstream(f"gaoxin_{i}", [port]) for i, port in enumerate(app_ports)]
    body = [d for d in site["block"] if d["directive"] != "listen" and not d["directive"].startswith("ssl_")]
    for port, name in listen.items():
        server = copy.deepcopy(body)
        _rewrite(server, name)
        out.append({"directive": "server", "args": [],
                    "block": [{"directive": "listen", "args": [f"127.0.0.1:{port}"]}, *server]})
    return out


def _rewrite(block, upstream_name):
    """proxy_pass → the named upstream; the static aliases → this checkout's static and built folders."""
    for directive in block:
        if directive["directive"] == "proxy_pass":
            directive["args"] = [f"http://{upstream_name}"]
        elif directive["directive"] == "alias" and "$gaoxin_built" in directive["args"][0]:
            directive["args"] = [f"{ROOT / 'instance' / 'static-built'}/$gaoxin_built"]
        elif directive["directive"] == "alias":
            directive["args"] = [f"{ROOT / 'gaoxin' / 'static'}/"]
        _rewrite(directive.get("block", []), upstream_name)


def nginx_config(prefix, site):
    """A whole nginx.conf around the site: foreground, its own pid, logs and temp folders under `prefix`."""
    temp = {name: str(prefix / name) for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    http_block = [
        {"directive": "include", "args": ["/etc/nginx/mime.types"]},
        {"directive": "default_type", "args": ["application/octet-stream"]},
        {"directive": "access_log", "args": [str(prefix / "access.log")]},
        *({"directive": f"{name}_temp_path", "args": [path]} for name, path in temp.items()),
        *site,
    ]
    main = [
        {"directive": "daemon", "args": ["off"]},
        {"directive": "worker_processes", "args": ["1"]},
        {"directive": "pid", "args": [str(prefix / "nginx.pid")]},
        {"directive": "error_log", "args": [str(prefix / "error.log"), "warn"]},
        {"directive": "events", "args": [], "block": [{"directive": "worker_connections", "args": ["1024"]}]},
        {"directive": "http", "args": [], "block": http_block},
    ]
    if os.geteuid() == 0:
        # Workers as root: the temp folders may be under a private (0700) folder such as pytest's.
        main.insert(0, {"directive": "user", "args": ["root"]})
    return crossplane.build(main) + "\n"


class TwoServers:
    """gunicorn A and B with the environment `env` (DATABASE_URL …), and nginx on three listeners:
    `balanced` (both servers, as deployed), `pinned[0]` (A only) and `pinned[1]` (B only)."""

    def __init__(self, folder, env):
        self.folder = Path(folder)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.app_ports = [free_port(), free_port()]
        self.balanced = free_port()
        self.pinned = [free_port(), free_port()]
        self.processes = []  # (Popen, log path)

    def url(self, port):
        return f"http://127.0.0.1:{port}"

    @property
    def server_logs(self):
        """The access logs (with stderr) of gunicorn A and B."""
        return [log for _, log in self.processes[:2]]

    def _start(self, name, command, extra_env=None):
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env={**self.env, **(extra_env or {})}, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append((process, log))

    def start(self, nginx):
        """Start everything at once (the servers do not touch the database before their first request)."""
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        for name, port in zip("ab", self.app_ports):
            self._start(f"gunicorn-{name}", [gunicorn, "-c", "gunicorn.conf.py", "app:app"],
                        {"GAOXIN_WEB_BIND": f"127.0.0.1:{port}"})
        listen = {self.balanced: "gaoxin_app", self.pinned[0]: "gaoxin_0", self.pinned[1]: "gaoxin_1"}
        conf = self.folder / "nginx.conf"
        conf.write_text(nginx_config(self.folder, site_config(self.app_ports, listen)))
        self._start("nginx", [nginx, "-p", str(self.folder), "-c", str(conf), "-e", str(self.folder / "error.log")])
        return self

    def wait(self):
        """Until every server and every nginx listener answers GET /login; RuntimeError with the log otherwise."""
        (server_a, server_b, proxy) = self.processes
        for port, (process, log) in [*zip(self.app_ports, (server_a, server_b)),
                                     *((port, proxy) for port in (self.balanced, *self.pinned))]:
            deadline = time.monotonic() + START_SECONDS
            while not self._answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"port {port} ({log.name}) is not answering:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)

    @staticmethod
    def _answers(port):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def stop(self):
        for process, _ in self.processes:
            process.terminate()
        for process, _ in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def pids(self):
        """{"gunicorn": [masters and workers], "nginx": [master and workers]}: for CPU time."""
        found = {"gunicorn": [], "nginx": []}
        for kind, (process, _) in zip(("gunicorn", "gunicorn", "nginx"), self.processes):
            found[kind] += [process.pid, *_children(process.pid)]
        return found


def _children(pid):
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
