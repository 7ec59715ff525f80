"""gunicorn settings for 高新通: `gunicorn -c gunicorn.conf.py app:app` (run.sh, deploy/systemd/gaoxin-web.service).

Not application code: the server reads it before the app exists, so it reads its own few environment keys
(listed in the README's configuration table); the app's settings stay in gaoxin/config.py. A command-line
option still wins over what is set here (`--bind`, `--workers` …).
"""
import ctypes
import gc
import os

#: Processes, each with its own threads: 2 × 4 is what one 2-core server measured best with (README,
#: "Performance at full size"); add workers, not threads, when a server has more cores.
workers = int(os.environ.get("GAOXIN_WEB_WORKERS", "2"))
threads = int(os.environ.get("GAOXIN_WEB_THREADS", "4"))
#: Threads need the threaded worker; a thread waiting for PostgreSQL frees the core for another request.
worker_class = "gthread"
#: At most two malloc arenas per process (glibc would make up to 8 × cores for the threads): a worker's memory
#: fragmented over one arena per thread held after the zone load ran (issue 9's ≤ 100 MB a worker). Set here,
#: in the master before any thread exists; the forked workers inherit it. Not glibc (e.g. musl): nothing to set.
try:
    ctypes.CDLL("libc.so.6").mallopt(-8, int(os.environ.get("GAOXIN_MALLOC_ARENAS", "2")))  # -8: M_ARENA_MAX
except (OSError, AttributeError):
    pass
#: Where nginx reaches this server. run.sh's PORT keeps working on a developer's machine.
bind = os.environ.get("GAOXIN_WEB_BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")

#: Load the app once in the master and fork the workers from it: a worker that dies (kill -9, max_requests)
#: is back in milliseconds instead of re-importing the app, and the loaded code is shared copy-on-write.
#: The price: `systemctl reload` (HUP) does not load new code; a release restarts the service.
preload_app = True

#: A worker whose main loop has not reported for this long is killed and replaced. With gthread this is
#: the worker's heartbeat, not a request limit: a long export in one thread does not trip it.
timeout = 60
#: On stop or restart, requests in flight get this long to finish before their worker is killed.
graceful_timeout = 30
#: Keep nginx's upstream connections open longer than nginx does (its keepalive_timeout is 60 s), so that
#: nginx never sends a request on a connection gunicorn is just closing.
keepalive = 75

#: A worker is replaced after this many requests (give or take the jitter, so that the workers do not
#: restart together): a slow leak in a library cannot grow for ten years. At the zone's full load (about 150
#: requests a second, mostly inbox polls) that is every 13 s or so per worker, which costs little since the
#: master has compiled the templates (pre_fork): the 15-minute zone load had lower tail latencies so than with
#: 20,000 (longer-lived workers, more for the garbage collector to walk), see bench/README.md.
max_requests = 2000
max_requests_jitter = 200

#: Only nginx's address may set X-Forwarded-Proto (gunicorn's own use of it for wsgi.url_scheme). The client
#: address itself is taken from X-Forwarded-For by the app's ProxyFix, trusting GAOXIN_PROXY_COUNT hops.
forwarded_allow_ips = os.environ.get("GAOXIN_FORWARDED_ALLOW_IPS", "127.0.0.1")

#: Access and error logs on stdout/stderr: journald (systemd) or the terminal (run.sh) keeps them.
accesslog = "-"
errorlog = "-"
#: The peer (nginx), the client chain nginx saw, nginx's request id (quoted on error pages and found in
#: nginx's own log), the request, status, bytes, microseconds, referrer and browser.
access_log_format = ('%(h)s xff="%({x-forwarded-for}i)s" rid=%({x-request-id}i)s "%(r)s" %(s)s %(b)s '
                     '%(D)sus "%(f)s" "%(a)s"')
proc_name = "gaoxin"
#: No gunicornc control socket: systemd drives the server with signals, and the socket's one default path
#: ($HOME/.gunicorn/gunicorn.ctl) would be fought over by two servers on one machine.
control_socket_disable = True


_templates_compiled = False


def pre_fork(server, worker):
    """Compile the templates once in the master, then freeze what it loaded before each fork (preload_app).

    A forked worker starts with every template compiled (0.44 s of CPU for all 82) instead of compiling each on
    the request that first shows it — the zone load's slowest appeal pages were new workers' first ones.

    The app's start-up objects (pypinyin's dictionaries alone are 200,000 lists) live as long as the
    process: in the garbage collector's permanent generation they are never scanned again (a full pass
    over them took 95 ms in the middle of requests) and never written to by a collection, so the forked
    workers keep sharing their memory pages. It belongs here, where the server process starts, and not in
    create_app() (the tests build many apps in one process) nor in app.py (which `flask` commands import too).
    """
    global _templates_compiled
    if server.cfg.preload_app and not _templates_compiled:
        _templates_compiled = True
        app = server.app.wsgi()
        if "sqlalchemy" in getattr(app, "extensions", {}):  # 高新通, not another app started from this folder
            for name in app.jinja_env.list_templates(filter_func=lambda name: name.endswith(".html")):
                app.jinja_env.get_template(name)
    gc.freeze()


def post_worker_init(worker):
    """Freeze again in the worker: without preload_app (e.g. `--no-preload`) the app was loaded only now."""
    gc.freeze()


def post_fork(server, worker):
    """Drop any database connection the master opened while loading the app: a socket shared by two
    processes mixes their conversations. close=False leaves the master's own connections alone."""
    if not server.cfg.preload_app:
        return
    app = server.app.wsgi()
    if "sqlalchemy" not in getattr(app, "extensions", {}):
        return  # not 高新通 (e.g. bench/reference_app.py started from this folder, where gunicorn reads this file)
    with app.app_context():
        from gaoxin.extensions import db

        for engine in db.engines.values():
            engine.dispose(close=False)
